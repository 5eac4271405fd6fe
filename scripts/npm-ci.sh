#!/usr/bin/env bash
# Installs the npm packages of each folder given (`npm ci`) when they are missing or were
# installed from another package-lock.json than the folder's current one, so a change of
# dependencies on a kept checkout is picked up as on a fresh clone.
set -euo pipefail
for dir in "$@"; do
  stamp="$dir/node_modules/.ferrio-installed-lock"
  if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
    (cd "$dir" && timeout 600 npm ci --no-audit --no-fund)
    cp "$dir/package-lock.json" "$stamp"
  fi
done
