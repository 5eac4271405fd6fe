#!/usr/bin/env python3
"""Runs the RFC 6455 framing suite (Autobahn|Testsuite cases, through kosoku) against a
WebSocket echo URL and checks every outcome.

    python3 tests/autobahn/run.py ws://127.0.0.1:PORT/autobahn --results OUT.md

A case passes when its outcome is OK/OK (behavior / closing behavior, as Autobahn names them)
or when a rule of tests/autobahn/allowed.json names the case and its outcome (and close code).
Exits 1 when any case does neither, or when the run does not finish in --timeout seconds.
Writes the summary (counts, and every case not OK with the reason) to --results; the copy
committed as tests/autobahn/results.md is written the same way (scripts/autobahn.sh --record).
Needs kosoku on the import path (scripts/autobahn.sh installs it).
"""

import argparse
import asyncio
import collections
import fnmatch
import json
import pathlib
import sys
import time

import kosoku

HERE = pathlib.Path(__file__).resolve().parent

CATEGORIES = {
    "1": "Framing",
    "2": "Pings/Pongs",
    "3": "Reserved Bits",
    "4": "Opcodes",
    "5": "Fragmentation",
    "6": "UTF-8 Handling",
    "7": "Close Handling",
    "9": "Limits/Performance",
    "10": "Misc",
    "12": "WebSocket Compression (different payloads)",
    "13": "WebSocket Compression (different parameters)",
}


def case_key(case_id):
    return [int(part) for part in case_id.split(".")]


def outcome(result):
    return f"{result.behavior.value}/{result.behavior_close.value}"


def matching_rule(result, rules):
    """The rule that allows this non-OK result, or None."""
    for rule in rules:
        if not any(fnmatch.fnmatchcase(result.case_id, p) for p in rule["cases"]):
            continue
        if outcome(result) not in rule["outcomes"]:
            continue
        code = rule.get("remoteCloseCode")
        if code is not None and result.remote_close_code != code:
            continue
        return rule
    return None


async def run_suite(url, timeout):
    try:
        return await asyncio.wait_for(kosoku.run_fuzzingclient(url, None, None, concurrency=1), timeout)
    except kosoku.FailureError as failure:
        # Raised when any case is not OK; it carries every result all the same.
        return failure.results


def first_sentence(text):
    text = " ".join(text.replace("<br>", " ").split())
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


def summary(results, rules, notes, allowed, unexpected, seconds):
    lines = []
    add = lines.append
    version = getattr(kosoku, "__version__", None) or "0.1.0"
    add("# RFC 6455 framing conformance (Autobahn|Testsuite cases)")
    add("")
    add(
        f"Written by `tests/autobahn/run.py`: kosoku {version} (PyPI), which runs the "
        "Autobahn|Testsuite's own case files in fuzzingclient mode, against `GET /autobahn` of "
        "the conformance server (`tests/src/conformance.rs`): a raw echo on the WebSocket stack "
        "and settings of ferrio's websocket transport (hyper upgrade, tokio-tungstenite, "
        "`max_payload` 1 000 000 bytes). The test command runs it (`scripts/autobahn.sh`, a step "
        "of `scripts/test.sh`) and fails on any outcome that is not OK and not explained in "
        "`tests/autobahn/allowed.json`; `bash scripts/autobahn.sh --record` rewrites this file."
    )
    add("")
    ok = sum(1 for r in results if outcome(r) == "OK/OK")
    add(
        f"Last recorded run: {time.strftime('%Y-%m-%d', time.gmtime())}, {len(results)} cases in "
        f"{seconds:.0f} s: **{ok} OK**, {len(allowed)} not OK but expected (below), "
        f"{len(unexpected)} unexpected."
    )
    add("")
    add("## Outcomes")
    add("")
    add("| behavior / close | cases |")
    add("|---|---:|")
    for name, count in sorted(collections.Counter(map(outcome, results)).items(), key=lambda kv: -kv[1]):
        add(f"| {name} | {count} |")
    add("")
    dropped = sum(
        1 for r in results if outcome(r) == "OK/OK" and not r.was_clean and not r.dropped_by_me
    )
    add(
        f"Of the OK cases, {dropped} end with the server dropping the connection without a close "
        "frame: the connection failed as the case requires, without the close frame RFC 6455 "
        "recommends (see the notes)."
    )
    add("")
    add("## By category")
    add("")
    add("| category | cases | OK | not OK |")
    add("|---|---:|---:|---:|")
    by_category = collections.defaultdict(list)
    for r in results:
        by_category[r.case_id.split(".")[0]].append(r)
    for category in sorted(by_category, key=int):
        rs = by_category[category]
        good = sum(1 for r in rs if outcome(r) == "OK/OK")
        add(f"| {category} {CATEGORIES.get(category, '')} | {len(rs)} | {good} | {len(rs) - good} |")
    add("")
    add("## Every case not OK, and why")
    add("")
    if unexpected:
        add("### Unexpected (the step fails)")
        add("")
        add("| case | outcome | close code | description | result |")
        add("|---|---|---|---|---|")
        for r in unexpected:
            add(
                f"| {r.case_id} | {outcome(r)} | {r.remote_close_code} | "
                f"{first_sentence(r.description)} | {r.result} {r.result_close} |"
            )
        add("")
    for index, rule in enumerate(rules):
        covered = [r for r, i in allowed if i == index]
        if not covered:
            continue
        add(f"### {', '.join(rule['cases'])}: {', '.join(sorted(set(map(outcome, covered))))}")
        add("")
        add(rule["reason"])
        add("")
        if len(covered) > 60:
            add(
                f"{len(covered)} cases, {covered[0].case_id} to {covered[-1].case_id}, e.g. "
                f"{covered[0].case_id}: {first_sentence(covered[0].description)}"
            )
            add("")
            continue
        add("| case | outcome | server's close code | description |")
        add("|---|---|---|---|")
        for r in covered:
            add(f"| {r.case_id} | {outcome(r)} | {r.remote_close_code} | {first_sentence(r.description)} |")
        add("")
    if notes:
        add("## Notes")
        add("")
        for note in notes:
            add(f"- {note}")
        add("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the echo endpoint, e.g. ws://127.0.0.1:3000/autobahn")
    parser.add_argument("--results", required=True, help="where to write the summary (markdown)")
    parser.add_argument("--allowed", default=str(HERE / "allowed.json"))
    parser.add_argument("--timeout", type=float, default=240, help="seconds for the whole suite")
    args = parser.parse_args()

    allowed_doc = json.loads(pathlib.Path(args.allowed).read_text())
    rules, notes = allowed_doc["rules"], allowed_doc.get("notes", [])
    start = time.monotonic()
    try:
        results = asyncio.run(run_suite(args.url, args.timeout))
    except asyncio.TimeoutError:
        print(f"autobahn: the suite did not finish within {args.timeout:.0f} s", file=sys.stderr)
        return 1
    seconds = time.monotonic() - start
    results = sorted(results, key=lambda r: case_key(r.case_id))
    if not results:
        print("autobahn: no case ran", file=sys.stderr)
        return 1

    allowed, unexpected = [], []
    for r in results:
        if outcome(r) == "OK/OK":
            continue
        rule = matching_rule(r, rules)
        if rule is None:
            unexpected.append(r)
        else:
            allowed.append((r, rules.index(rule)))

    pathlib.Path(args.results).write_text(summary(results, rules, notes, allowed, unexpected, seconds) + "\n")

    counts = collections.Counter(map(outcome, results))
    print(f"autobahn: {len(results)} cases in {seconds:.1f} s: " + ", ".join(f"{n} {k}" for k, n in counts.most_common()))
    for index, rule in enumerate(rules):
        n = sum(1 for _, i in allowed if i == index)
        print(f"  allowed by rule {', '.join(rule['cases'])}: {n} cases")
        if n == 0:
            print("    (this rule matched no case: the outcome changed; update allowed.json and results.md)")
    for r in unexpected:
        print(
            f"  UNEXPECTED {r.case_id}: {outcome(r)}, server close code {r.remote_close_code}: "
            f"{first_sentence(r.description)} -> {r.result} / {r.result_close}"
        )
    ok = len(results) - len(allowed) - len(unexpected)
    print(
        f"autobahn: {ok} OK, {len(allowed)} not OK but explained in allowed.json, "
        f"{len(unexpected)} unexpected"
    )
    print(f"summary written to {args.results}")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
