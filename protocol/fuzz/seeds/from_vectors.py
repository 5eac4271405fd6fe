#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets from the golden wire vectors.

Usage: python3 protocol/fuzz/seeds/from_vectors.py   (from anywhere)

Each input of tests/vectors/{engine,socket,sse}.json becomes one file in
protocol/fuzz/seeds/<target>/, laid out the way that target reads its input
(see protocol/fuzz/src/lib.rs). The folders are rewritten whole; commit the
result. Both runners use them: the stable one mutates them, and
`cargo fuzz run <target> <corpus> protocol/fuzz/seeds/<target>` starts from them.
"""

import base64
import hashlib
import json
import pathlib
import shutil

HERE = pathlib.Path(__file__).resolve().parent
VECTORS = HERE.parents[2] / "tests" / "vectors"


def load(name):
    return json.loads((VECTORS / f"{name}.json").read_text())


def text_or_base64(entry, key):
    if key in entry:
        return entry[key].encode()
    if key + "Base64" in entry:
        return base64.b64decode(entry[key + "Base64"])
    return None


def payload_decode():
    doc = load("engine")
    for e in doc["packets"]:
        if "text" in e:
            yield e["text"].encode()
    for section in ("payloads", "decodeOnlyPayloads", "invalidPayloads"):
        for e in doc[section]:
            yield text_or_base64(e, "body")
    for e in doc["invalidTexts"]:
        yield e["text"].encode()


def sse_parser():
    doc = load("sse")
    # Byte 0: the event size limit / 4 (255 = 1020 bytes); byte 1: the chunk size.
    for i, e in enumerate(doc["events"]):
        yield bytes([255, i % 16]) + e["event"].encode()
    for section in ("streams", "invalid"):
        for i, e in enumerate(doc[section]):
            limit = min(255, e.get("maxEventLen", 65536) // 4)
            yield bytes([limit, (i * 5) % 16]) + text_or_base64(e, "stream")


def socket_decoder():
    doc = load("socket")

    def frames(entry):
        out = []
        if "text" in entry:
            out.append(entry["text"].encode())
        for attachment in entry.get("packet", {}).get("attachments", []):
            out.append(b"\xfe" + base64.b64decode(attachment))
        for frame in entry.get("frames", []):
            if "text" in frame:
                out.append(frame["text"].encode())
            else:
                out.append(b"\xfe" + base64.b64decode(frame["binary"]))
        return b"\xff".join(out)

    # Byte 0: max_attachments (mod 8); the vectors' default is 10, so 7 here.
    for section in ("packets", "decodeOnly", "invalid"):
        for e in doc[section]:
            limit = e.get("limits", {}).get("maxAttachments", 7)
            yield bytes([limit % 8]) + frames(e)


def main():
    for target in (payload_decode, sse_parser, socket_decoder):
        folder = HERE / target.__name__
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        seeds = {bytes(s) for s in target() if s is not None}
        for seed in sorted(seeds):
            (folder / hashlib.sha1(seed).hexdigest()[:16]).write_bytes(seed)
        print(f"{target.__name__}: {len(seeds)} seeds")


if __name__ == "__main__":
    main()
