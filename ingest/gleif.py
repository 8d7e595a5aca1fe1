"""GLEIF Level 2 relationship records (who owns whom) and Level 1 LEI records -> techgiants records.

Input, detected from the content:
- Relationship records, golden-copy CSV: `Relationship.StartNode.NodeID`,
  `Relationship.EndNode.NodeID`, `Relationship.RelationshipType`,
  `Relationship.RelationshipStatus`, `Relationship.Period.<n>.startDate /
  endDate / periodType`, `Registration.RegistrationStatus`, ...
- Relationship records, API JSON: `data[].attributes.relationship` with
  `startNode.id`, `endNode.id`, `type`, `status`, `periods[{startDate, endDate,
  type}]` (the spellings `relationshipType`, `relationshipStatus`,
  `relationshipPeriods[{periodType}]` are read too) and `attributes.registration.status`.
- LEI (Level 1) records, golden-copy CSV (`LEI`, `Entity.LegalName`, ...) or
  API JSON (`data[]` / `included[]` of type `lei-records`): they name the nodes.

Mapping
- Every LEI is a node `lei:<LEI>` with identifier `lei:<LEI>`. Its name is the
  legal name when a Level 1 record for it is in the same file, in the file
  given as `names=`, or (reading a folder) in a Level 1 file of that folder;
  otherwise the LEI itself. Such placeholders would overwrite a real name
  already in the graph (the store keeps the newest scalar), so pass
  `placeholders=False` when the entities are loaded already: then only named
  LEIs become nodes and relationships point at the existing ones. Label
  Company; Level 1 category FUND -> Fund, RESIDENT_GOVERNMENT_ENTITY -> GovernmentBody.
- IS_DIRECTLY_CONSOLIDATED_BY: parent (end node) -OWNS-> child (start node),
  direct true; IS_ULTIMATELY_CONSOLIDATED_BY: the same with direct false.
  share stays null: accounting consolidation says control, not a percentage.
  start / end come from the RELATIONSHIP_PERIOD (timestamps keep their date).
- IS_INTERNATIONAL_BRANCH_OF: branch -PART_OF-> head office, kind `international_branch`.

Decisions
- Status INACTIVE with a RELATIONSHIP_PERIOD end date: kept, with that end.
  INACTIVE without an end date: rejected (field Relationship.RelationshipStatus)
  — OWNS has no status, and an open-ended edge would read as still in force.
- Registration status ANNULLED or DUPLICATE: rejected (GLEIF withdrew the record).
- Bad LEIs (check digits), unknown relationship types and non-ISO dates are
  rejected per row, naming the column. Missing required columns: one Rejected
  for the file naming them.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

from graph.ids import slug
from ingest import textutil
from ingest.records import Node, Rejected, Rel
from ingest.textutil import clean, country_code, csv_records, identifier, read_text, source

RR_REQUIRED = ("Relationship.StartNode.NodeID", "Relationship.EndNode.NodeID", "Relationship.RelationshipType")
L1_REQUIRED = ("LEI", "Entity.LegalName")
PARENT_TYPES = {"IS_DIRECTLY_CONSOLIDATED_BY": True, "IS_ULTIMATELY_CONSOLIDATED_BY": False}
BRANCH_TYPE = "IS_INTERNATIONAL_BRANCH_OF"
WITHDRAWN = {"ANNULLED", "DUPLICATE"}
CATEGORY_LABELS = {"FUND": "Fund", "RESIDENT_GOVERNMENT_ENTITY": "GovernmentBody"}


_Bad = textutil.BadValue



check = textutil.check  # validates a row's records together and sets their origin

def _date(value: Any, field: str) -> str | None:
    """ISO date from a date or timestamp ("2012-06-06T15:53:00.000Z"); _Bad otherwise."""
    text = clean(value)
    if not text:
        return None
    return textutil.timestamp_date(text, field)


def _lei(value: Any, field: str) -> str:
    ident = identifier("lei", value)
    if not ident:
        raise _Bad(field, f"not a valid LEI: {value!r}")
    return ident.split(":", 1)[1]


# ---------------------------------------------------------------- reading both layouts

def _rows(path: Path) -> tuple[str, list[tuple[str, dict]] | None, tuple[str | None, str] | None]:
    """('rr'|'l1'|'json', [(record label, row dict)], (field, error) or None). JSON rows are the API items."""
    text, _ = read_text(path)
    if path.suffix.lower() == ".json" or text.lstrip()[:1] in ("{", "["):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as e:  # RecursionError: nested too deeply
            return "json", None, ("json", f"invalid JSON: {e}")
        items = data.get("data", []) if isinstance(data, dict) else data
        items = [items] if isinstance(items, dict) else items or []
        included = (data.get("included") or []) if isinstance(data, dict) else []
        if not isinstance(items, list) or not isinstance(included, list):  # `"data": 5`
            return "json", None, ("data", "not GLEIF API JSON: data and included must be lists of records")
        out = [(f"data[{i}]", it) for i, it in enumerate(items)]
        out += [(f"included[{i}]", it) for i, it in enumerate(included)]
        return "json", out, None
    records = csv_records(text)
    header = None
    out = []
    for line, fields, err in records:
        if header is None:
            if err:
                return "csv", None, ("header", f"unreadable header: {err}")
            header = [h.strip() for h in fields]
            continue
        if err:
            out.append((f"line {line}", {"_error": err}))
        elif len(fields) != len(header):
            out.append((f"line {line}", {"_error": f"expected {len(header)} columns, found {len(fields)}"}))
        elif any(textutil.undecodable(f) for f in fields):
            out.append((f"line {line}", {"_error": "bytes that do not decode as text"}))
        else:
            out.append((f"line {line}", dict(zip(header, fields))))
    header = header or []
    if all(c in header for c in RR_REQUIRED):
        return "rr", out, None
    if all(c in header for c in L1_REQUIRED):
        return "l1", out, None
    level1 = "LEI" in header or any(h.startswith("Entity.") for h in header)
    required = L1_REQUIRED if level1 else RR_REQUIRED
    missing = ", ".join(c for c in required if c not in header)
    what = "LEI-record" if level1 else "relationship-record"
    return "csv", None, (missing, f"missing columns {missing} (a GLEIF {what} CSV)")


def _l1_csv(row: dict) -> dict:
    return {"lei": row.get("LEI"), "name": row.get("Entity.LegalName"),
            "other": [v for k, v in sorted(row.items()) if clean(v) and
                      re.fullmatch(r"Entity\.(?:Transliterated)?OtherEntityNames\.\w+\.\d+", k)],
            "country": row.get("Entity.LegalAddress.Country") or row.get("Entity.LegalJurisdiction"),
            "category": row.get("Entity.EntityCategory"), "created": row.get("Entity.EntityCreationDate"),
            "status": row.get("Registration.RegistrationStatus")}


def _l1_json(item: dict) -> dict:
    a = item.get("attributes") or {}
    e = a.get("entity") or {}
    return {"lei": a.get("lei") or item.get("id"), "name": (e.get("legalName") or {}).get("name"),
            "other": [o.get("name") for o in e.get("otherNames") or [] if isinstance(o, dict)],
            "country": (e.get("legalAddress") or {}).get("country") or e.get("jurisdiction"),
            "category": e.get("category"), "created": e.get("creationDate"),
            "status": (a.get("registration") or {}).get("status")}


def _rr_csv(row: dict) -> dict:
    periods = []
    for k in sorted(row):
        m = re.fullmatch(r"Relationship\.Period\.(\d+)\.periodType", k)
        if m:
            p = f"Relationship.Period.{m.group(1)}"
            periods.append({"type": row[k], "startDate": row.get(f"{p}.startDate"), "endDate": row.get(f"{p}.endDate"),
                            "_col": p})
    return {"start": row.get("Relationship.StartNode.NodeID"), "end": row.get("Relationship.EndNode.NodeID"),
            "type": row.get("Relationship.RelationshipType"), "status": row.get("Relationship.RelationshipStatus"),
            "periods": periods, "registration": row.get("Registration.RegistrationStatus"),
            "_cols": ("Relationship.StartNode.NodeID", "Relationship.EndNode.NodeID",
                      "Relationship.RelationshipType", "Relationship.RelationshipStatus")}


def _rr_json(item: dict) -> dict:
    a = item.get("attributes") or {}
    r = a.get("relationship") or {}
    periods = [{"type": p.get("type") or p.get("periodType"), "startDate": p.get("startDate"),
                "endDate": p.get("endDate"), "_col": f"relationship.periods[{i}]"}
               for i, p in enumerate(r.get("periods") or r.get("relationshipPeriods") or []) if isinstance(p, dict)]
    return {"start": (r.get("startNode") or {}).get("id"), "end": (r.get("endNode") or {}).get("id"),
            "type": r.get("type") or r.get("relationshipType"), "status": r.get("status") or r.get("relationshipStatus"),
            "periods": periods, "registration": (a.get("registration") or {}).get("status"),
            "_cols": ("startNode.id", "endNode.id", "relationship.type", "relationship.status")}


def _names(path: str | Path | None) -> dict[str, dict]:
    """LEI -> Level 1 record from a names file (CSV or JSON); unreadable rows are skipped."""
    if not path:
        return {}
    kind, rows, err = _rows(Path(path))
    out = {}
    for _, row in rows or []:
        try:
            if kind == "l1" and "_error" not in row:
                rec = _l1_csv(row)
            elif kind == "json" and isinstance(row, dict) and row.get("type") == "lei-records":
                rec = _l1_json(row)
            else:
                continue
            lei = identifier("lei", rec["lei"])
        except Exception:  # an unreadable names row just names nothing
            continue
        if lei and clean(rec["name"]):
            out[lei.split(":", 1)[1]] = rec
    return out


# ---------------------------------------------------------------- parse

def parse(path: str | Path, as_of: str | None = None, names: str | Path | None = None,
          placeholders: bool = True) -> Iterator[Node | Rel | Rejected]:
    """Yield records for a GLEIF relationship-record or LEI-record file, or every .csv/.json in a folder.

    `names`: an optional Level 1 file (CSV or JSON) whose legal names label the LEIs of a
    relationship file; in a folder, the Level 1 files found there are used too.
    `placeholders=False`: yield no node for an LEI without a Level 1 record (use it when the
    graph already has those entities: a placeholder named by its LEI would replace their names).
    """
    path = Path(path)
    level1 = _names(names)
    if path.is_dir():
        files = sorted(f for f in path.iterdir() if f.is_file() and f.suffix.lower() in (".csv", ".json"))
        for f in files:
            level1 = {**_names(f), **level1}
        for f in files:
            yield from _parse_file(f, as_of, level1, placeholders)
        return
    yield from _parse_file(path, as_of, level1, placeholders)


def _parse_file(path: Path, as_of: str | None, level1: dict, placeholders: bool) -> Iterator:
    file = str(path)
    level1 = dict(level1)
    src_id = f"src:gleif:{slug(path.name)}"
    kind, rows, err = _rows(path)
    if err:
        yield Rejected(file, "file", err[0], err[1])
        return
    try:
        as_of = _date(as_of, "as_of")
    except _Bad as e:
        yield Rejected(file, "file", e.field, str(e), as_of)
        return
    yield source(src_id, f"GLEIF: {path.name}", kind="registry", publisher="Global Legal Entity Identifier Foundation",
                 url="https://www.gleif.org/en/lei-data/gleif-golden-copy", date=as_of, locator=path.name)

    rr_rows: list[tuple[str, dict]] = []
    l1_rows: list[tuple[str, dict]] = []
    for rec, row in rows:
        try:
            if not isinstance(row, dict):
                yield Rejected(file, rec, "type", f"not a GLEIF record: {str(row)[:80]}", row)
            elif "_error" in row:
                yield Rejected(file, rec, "csv", row["_error"])
            elif kind == "rr":
                rr_rows.append((rec, _rr_csv(row)))
            elif kind == "l1":
                l1_rows.append((rec, _l1_csv(row)))
            elif row.get("type") == "lei-records":
                l1_rows.append((rec, _l1_json(row)))
            elif row.get("type") == "relationship-records" or "relationship" in (row.get("attributes") or {}):
                rr_rows.append((rec, _rr_json(row)))
            else:
                yield Rejected(file, rec, "type", f"not a GLEIF relationship or LEI record: {str(row)[:80]}", row)
        except Exception as e:  # never let one odd record stop the file
            yield Rejected(file, rec, "record", f"unreadable: {type(e).__name__}: {e}", row)

    emitted: dict[str, str] = {}  # LEI -> label of the node already yielded
    for rec, r in l1_rows:
        try:
            lei = _lei(r["lei"], "LEI")
        except _Bad as e:
            yield Rejected(file, rec, e.field, str(e), r)
            continue
        level1.setdefault(lei, r)
        try:
            out = _node(lei, r, src_id, file, rec)
        except Exception as e:  # never let one odd record stop the file
            out = [Rejected(file, rec, "record", f"unreadable: {type(e).__name__}: {e}", r)]
        if isinstance(out[0], Node):
            emitted[lei] = out[0].label
        yield from out

    for rec, r in rr_rows:
        try:
            yield from _relationship(r, level1, emitted, src_id, file, rec, placeholders)
        except Exception as e:  # never let one odd record stop the file
            yield Rejected(file, rec, "record", f"unreadable: {type(e).__name__}: {e}")


def _node(lei: str, l1: dict | None, src_id: str, file: str, rec: str) -> list:
    l1 = l1 or {}
    name = clean(l1.get("name")) or lei
    props: dict[str, Any] = {"id": f"lei:{lei}", "name": name, "sources": [src_id], "identifiers": [f"lei:{lei}"]}
    other = [clean(o) for o in l1.get("other") or []]
    props["aliases"] = [o for o in dict.fromkeys(other) if o and o != name]
    zh = [n for n in [name, *props["aliases"]] if re.search(r"[\u4e00-\u9fff]", n)]
    if zh:
        props["name_zh"] = zh[0]
    country = l1.get("country")
    props["country"] = country_code(str(country)[:2]) if clean(country) else None
    label = CATEGORY_LABELS.get(clean(l1.get("category")) or "", "Company")
    if label == "Company":
        try:
            props["founded"] = _date(l1.get("created"), "Entity.EntityCreationDate")
        except _Bad:
            pass  # a creation date is a nicety; the LEI record stays
    return check([Node(label, {k: v for k, v in props.items() if v not in (None, "", [])})], file, rec, l1 or None)


def _relationship(r: dict, level1: dict, emitted: dict, src_id: str, file: str, rec: str,
                  placeholders: bool = True) -> list:
    c_start, c_end, c_type, c_status = r["_cols"]
    try:
        child, parent = _lei(r["start"], c_start), _lei(r["end"], c_end)
        rtype = clean(r["type"]) or ""
        if rtype not in PARENT_TYPES and rtype != BRANCH_TYPE:
            raise _Bad(c_type, f"unknown relationship type {rtype!r}")
        reg = (clean(r["registration"]) or "").upper()
        if reg in WITHDRAWN:
            raise _Bad("Registration.RegistrationStatus", f"registration {reg}: GLEIF withdrew this record")
        period = next((p for p in r["periods"] if clean(p["type"]) == "RELATIONSHIP_PERIOD"), None)
        start = end = None
        if period:
            start = _date(period["startDate"], f"{period['_col']}.startDate")
            end = _date(period["endDate"], f"{period['_col']}.endDate")
        if (clean(r["status"]) or "").upper() == "INACTIVE" and not end:
            raise _Bad(c_status, "INACTIVE relationship without an end date: when it ended is unknown")
    except _Bad as e:
        return [Rejected(file, rec, e.field, str(e), {k: v for k, v in r.items() if not k.startswith("_")})]

    out: list = []
    for lei in (parent, child):
        if lei not in emitted and not placeholders and lei not in level1:
            emitted[lei] = "Company"  # not yielded; the pipeline takes the real label from the graph
            continue
        if lei not in emitted:
            nodes = _node(lei, level1.get(lei), src_id, file, rec)
            if not isinstance(nodes[0], Node):
                return nodes
            emitted[lei] = nodes[0].label
            out.extend(nodes)
    props = {"sources": [src_id], "start": start, "end": end}
    if rtype in PARENT_TYPES:
        direct = PARENT_TYPES[rtype]
        rel = Rel("OWNS", f"lei:{parent}", emitted[parent], f"lei:{child}", emitted[child],
                  {**props, "direct": direct}, key=f"{'direct' if direct else 'ultimate'}|{start or ''}")
    else:
        rel = Rel("PART_OF", f"lei:{child}", emitted[child], f"lei:{parent}", emitted[parent],
                  {**props, "kind": "international_branch"}, key=f"branch|{start or ''}")
    return out + check([rel], file, rec, {k: v for k, v in r.items() if not k.startswith("_")})
