"""The project's own backup format: `techgiants export jsonl` output, read back exactly.

One JSON object per line: {"node": label, "props": {...}} or
{"rel": type, "src", "src_label", "dst", "dst_label", "props": {...}}.
"""
from __future__ import annotations

import json
from typing import Iterator

from ingest.records import Node, Rejected, Rel


def parse(path: str, as_of: str | None = None) -> Iterator:
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            where = f"line {lineno}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                yield Rejected(path, where, None, f"not UTF-8: {e.reason}")
                continue
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except (ValueError, RecursionError) as e:  # RecursionError: nested too deeply
                yield Rejected(path, where, None, f"invalid JSON: {e}", raw=line[:500])
                continue
            if not isinstance(obj, dict) or not isinstance(obj.get("props"), dict):
                yield Rejected(path, where, "props", "expected an object with a props object", raw=line[:500])
                continue
            if "node" in obj:
                yield Node(str(obj["node"]), obj["props"], origin=where)
            elif "rel" in obj:
                missing = [k for k in ("src", "dst") if not obj.get(k)]
                if missing:
                    yield Rejected(path, where, missing[0], "relationship without this field", raw=obj)
                    continue
                wrong = [k for k in ("src", "dst") if not isinstance(obj[k], str)]
                if wrong:  # ids are strings; a number or a list here is not an id
                    yield Rejected(path, where, wrong[0], f"{wrong[0]} is not a string id: {obj[wrong[0]]!r}"[:300], raw=obj)
                    continue
                yield Rel(str(obj["rel"]), obj["src"], str(obj.get("src_label") or ""), obj["dst"],
                          str(obj.get("dst_label") or ""), dict(obj["props"]), origin=where)
            else:
                yield Rejected(path, where, "node", "neither a node nor a rel record", raw=obj)
