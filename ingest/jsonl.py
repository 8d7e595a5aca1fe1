"""The project's own backup format: `techgiants export jsonl` output, read back exactly.

One JSON object per line: {"kind": "node", "label", "id", ...properties} or
{"kind": "rel", "type", "src", "src_label", "dst", "dst_label", "id", ...properties}.
"""
from __future__ import annotations

import json
from typing import Iterator

from ingest.records import Node, Rejected, Rel


def parse(path: str, as_of: str | None = None) -> Iterator:
    with open(path, encoding="utf-8", errors="strict") as f:
        lineno = 0
        while True:
            try:
                line = f.readline()
            except UnicodeDecodeError as e:
                yield Rejected(path, f"line {lineno + 1}", None, f"not UTF-8: {e.reason}")
                return
            if not line:
                return
            lineno += 1
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ValueError("not a JSON object")
            except ValueError as e:
                yield Rejected(path, f"line {lineno}", None, f"invalid JSON: {e}", raw=line[:500])
                continue
            kind = obj.pop("kind", None)
            if kind == "node":
                label = obj.pop("label", None)
                if not label:
                    yield Rejected(path, f"line {lineno}", "label", "node without a label", raw=obj)
                    continue
                yield Node(label, obj)
            elif kind == "rel":
                try:
                    rtype, src, dst = obj.pop("type"), obj.pop("src"), obj.pop("dst")
                    sl, dl = obj.pop("src_label", None), obj.pop("dst_label", None)
                except KeyError as e:
                    yield Rejected(path, f"line {lineno}", str(e.args[0]), "relationship without this field", raw=obj)
                    continue
                yield Rel(rtype, src, sl or "", dst, dl or "", obj)
            else:
                yield Rejected(path, f"line {lineno}", "kind", f"kind must be node or rel, not {kind!r}", raw=obj)
