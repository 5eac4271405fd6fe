#!/usr/bin/env bash
# The layering rules `scripts/test.sh` enforces:
#  1. ferrio-protocol stays sans-I/O: no tokio, hyper, http, tower or axum in its dependencies.
#  2. The Engine.IO layer (server/src/engine/) uses nothing of the Socket.IO layer at the crate
#     root: its paths name `crate::engine::…` only, and no `super::` climbs out of engine/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

status=0

if cargo tree -p ferrio-protocol -e normal --prefix none |
  grep -iE '^(tokio|hyper|http|http-body|tower|tower-service|axum) '; then
  echo "ferrio-protocol depends on an I/O crate (listed above)"
  status=1
else
  echo "ferrio-protocol: no tokio/hyper/http/tower/axum in its dependency tree"
fi

engine=server/src/engine
found=0
while IFS= read -r file; do
  rel=${file#"$engine"/}
  # How many modules below `engine` this file is: engine/a/b.rs is engine::a::b (2),
  # engine/a/mod.rs is engine::a (1), engine/mod.rs is engine (0).
  depth=$(awk -F/ '{ n = NF; if ($NF == "mod.rs") n--; print n }' <<<"$rel")
  awk -v file="$file" -v depth="$depth" '
    {
      line = $0
      # crate::<name> where <name> is not engine
      rest = line
      while (match(rest, /(^|[^A-Za-z0-9_$])crate::[A-Za-z_][A-Za-z0-9_]*/)) {
        hit = substr(rest, RSTART, RLENGTH)
        sub(/^[^c]*crate::/, "", hit)
        if (hit != "engine") { printf "%s:%d: uses crate::%s (Socket.IO layer)\n", file, NR, hit; bad = 1 }
        rest = substr(rest, RSTART + RLENGTH)
      }
      # super::super::… climbing above engine/
      rest = line
      while (match(rest, /(super::)+/)) {
        n = RLENGTH / 7
        if (n > depth) { printf "%s:%d: super:: climbs out of engine/\n", file, NR; bad = 1 }
        rest = substr(rest, RSTART + RLENGTH)
      }
    }
    END { exit bad }
  ' "$file" || found=1
done < <(find "$engine" -name '*.rs' | sort)
if [ "$found" -ne 0 ]; then
  echo "server/src/engine/ must not use the Socket.IO layer (lines above)"
  status=1
else
  echo "server/src/engine/: uses nothing of the Socket.IO layer"
fi
exit "$status"
