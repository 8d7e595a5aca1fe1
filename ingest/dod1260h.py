"""Every edition of the DoD Section 1260H list, from OpenSanctions' hand-kept history CSV.

Columns: Name, Clean Name, Alias, Previous Name, Parent Name, Note, Start date, End date,
Source Url. Each row is one designation: LISTED_ON us-dod-1260h with `since` (the
edition that added it) and `until` (the edition that dropped it). A stated parent becomes
an OWNS edge with an unknown share (the list names subsidiaries, not stakes), or PART_OF
when the listed party is an institute rather than a company.

Ids follow ingest/uslists.py (`us-dod-1260h:<slug of the name>`), so the history lands
on the same nodes as the bundled 2026 edition. The file is CC BY-NC 4.0 (OpenSanctions):
load it yourself; it is not part of the bundled data.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from graph.ids import slug
from ingest import lists, textutil
from ingest.records import Node, Rejected, Rel

LIST_ID = "us-dod-1260h"
SOURCE_ID = "src:opensanctions:us-dod-1260h-history"
REQUIRED = ["Name", "Clean Name", "Parent Name", "Start date", "End date"]


def _node(name: str, sources: list[str]) -> Node:
    label, kind = textutil.guess_label(name)
    if label == "Person":  # the list names organisations only
        label, kind = "Company", None
    return textutil.entity(label, kind, id=f"{LIST_ID}:{slug(name)}", name=name, country="CN", sources=sources)


def parse(path: str | Path, as_of: str | None = None) -> Iterator:
    path = str(path)
    text, _ = textutil.read_text(path)
    # textutil.csv_records, not csv.DictReader: a broken quote or an oversized cell costs its line
    # (DictReader raised csv.Error out of the parser, or silently ran rows together)
    lines = textutil.csv_records(text)
    first = next(lines, None)
    header = [h.strip().lstrip("\ufeff") for h in (first[1] or [])] if first else []
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        yield Rejected(path, "header", missing[0], f"missing column(s): {', '.join(missing)}")
        return
    yield lists.list_node(LIST_ID)
    yield lists.source_node()
    yield textutil.source(SOURCE_ID, "OpenSanctions: US DoD Chinese military companies (Section 1260H), every edition",
                          publisher="OpenSanctions (CC BY-NC 4.0)", kind="dataset",
                          url="https://www.opensanctions.org/datasets/us_dod_chinese_milcorps/")
    src = [SOURCE_ID]
    for n, fields, error in lines:
        where = f"line {n}"
        if error or len(fields) != len(header):
            yield Rejected(path, where, "csv", error or f"expected {len(header)} columns, found {len(fields)}")
            continue
        row = dict(zip(header, fields))
        bad = [k for k, v in row.items() if textutil.undecodable(v)]
        if bad:
            yield Rejected(path, where, bad[0], "bytes that are not text in the file's encoding", raw=row)
            continue
        name = textutil.clean(row.get("Clean Name")) or textutil.clean(row.get("Name"))
        if not name:
            yield Rejected(path, where, "Name", "no name", raw=row)
            continue
        try:
            since = textutil.parse_date(row.get("Start date"))
        except ValueError as e:
            yield Rejected(path, where, "Start date", str(e), raw=row)
            continue
        try:
            until = textutil.parse_date(row.get("End date"))
        except ValueError as e:
            yield Rejected(path, where, "End date", str(e), raw=row)
            continue
        ent = _node(name, src)
        aliases = [a for a in (textutil.clean(row.get("Alias")), textutil.clean(row.get("Previous Name")),
                               textutil.clean(row.get("Name"))) if a and a != name]
        if aliases:
            ent.props["aliases"] = aliases
        recs: list = [ent, textutil.listed_on(ent, LIST_ID, src, key=f"{LIST_ID}:{since}", since=since, until=until,
                                              entry_name=textutil.clean(row.get("Name")),
                                              reason=textutil.clean(row.get("Note")))]
        parent_name = textutil.clean(row.get("Parent Name"))
        if parent_name and parent_name != name:
            parent = _node(parent_name, src)
            recs.append(parent)
            if ent.label in ("Company", "Fund"):
                recs.append(Rel("OWNS", parent.id, parent.label, ent.id, ent.label, {"sources": src}))
            else:
                recs.append(Rel("PART_OF", ent.id, ent.label, parent.id, parent.label,
                                {"kind": "subsidiary", "sources": src}))
        yield from textutil.check(recs, path, where, raw=row)
