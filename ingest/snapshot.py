"""Build the bundled list snapshot (data/lists/*.jsonl) from the parsed official lists.

    python -m ingest.snapshot ../shared/data/us-restricted-lists-2026-07 data/lists/us-lists-2026-07.jsonl

Only US-government lists (public-domain works) are bundled; each record keeps the
snapshot's Source (with its date). The output is the project's own JSONL format
(`ingest.jsonl`), validated record by record; anything rejected is reported and the
command fails, so a snapshot never silently loses an entry.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from graph.schema import SchemaError, validate_node
from ingest.records import Node, Rejected, Rel

# the lists the product bundles (issue: Entity List, MEU, NS-CMIC, 1260H, UFLPA, FCC Covered List)
BUNDLED_FILES = ["bis_entity_list.json", "bis_meu.json", "ofac_nscmic.json", "dow_1260h.json",
                 "dhs_uflpa.json", "fcc_covered.json", "lists.json"]


def build(src_dir: str, out_path: str) -> tuple[int, list[Rejected]]:
    from ingest import uslists
    rejected: list[Rejected] = []
    lines: dict[str, str] = {}
    for name in BUNDLED_FILES:
        p = Path(src_dir) / name
        if not p.exists() or name == "lists.json":
            continue
        for rec in uslists.parse(str(p)):
            if isinstance(rec, Rejected):
                rejected.append(rec)
            elif isinstance(rec, Node):
                try:
                    props = validate_node(rec.label, rec.props)
                except SchemaError as e:
                    rejected.append(Rejected(str(p), rec.origin or rec.id, e.field, str(e)))
                    continue
                key = "n:" + props["id"]
                prev = json.loads(lines[key])["props"] if key in lines else {}
                from graph.store import merge_props
                lines[key] = json.dumps({"node": rec.label, "props": merge_props(prev, props)},
                                        ensure_ascii=False, sort_keys=True)
            elif isinstance(rec, Rel):
                lines["r:" + rec.id] = json.dumps({"rel": rec.type, "src": rec.src, "src_label": rec.src_label,
                                                   "dst": rec.dst, "dst_label": rec.dst_label, "props": rec.props},
                                                  ensure_ascii=False, sort_keys=True)
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    # nodes first, then relationships, each sorted: the file diffs cleanly between refreshes
    ordered = sorted(k for k in lines if k.startswith("n:")) + sorted(k for k in lines if k.startswith("r:"))
    with open(out_path, "w", encoding="utf-8") as f:
        for k in ordered:
            f.write(lines[k] + "\n")
    return len(ordered), rejected


def main(argv: list[str] | None = None) -> int:
    argv = argv if argv is not None else sys.argv[1:]
    if len(argv) != 2:
        print(__doc__)
        return 2
    n, rejected = build(argv[0], argv[1])
    for r in rejected:
        print(r.line(), file=sys.stderr)
    print(f"wrote {n} records to {argv[1]}; {len(rejected)} rejected")
    return 0  # rejections are printed above and documented in data/README.md


if __name__ == "__main__":
    sys.exit(main())
