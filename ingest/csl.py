"""trade.gov Consolidated Screening List (CSL): CSV (2019 and current layouts) and JSON.

One CSL row is one listing of one party on one of the eleven US lists the
CSL merges. Each row gives an entity (Company, Person, University or
GovernmentBody, guessed from `type` and the name) and a LISTED_ON
designation to the list named in `source`, mapped to the ids of
`ingest.lists`.

Layouts, told apart by the header:
- current CSV (2025): first column `_id` -> entity id `csl:<_id>`;
- 2019 CSV: no `_id` -> `csl:<source code>:<entity_number or slug of name>`;
- JSON (`{"results": [...]}`, the API and bulk download): `id`/`_id`,
  addresses, ids, alt_names as lists.

Designations carry the Federal Register citations normalised (`84 FR 54004
(2019-10-09)`), `since` from start_date (else the earliest citation date),
`until` from end_date, licence requirement and policy, and programmes plus
remarks as the reason. Parties on OFAC lists also get `ofac:<entity_number>`
so they meet the OFAC ingester's nodes.

A row that cannot be read (wrong column count, broken quoting, undecodable
bytes, a date that is not a date, a list we do not know) is Rejected and
the rest of the file goes on; a file without the `source` and `name`
columns, or JSON that does not parse, is one Rejected for the file.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Iterator

from graph.ids import slug
from ingest import lists
from ingest.records import Record, Rejected
from ingest.textutil import (Batch, address_country, check, clean, country_code, csv_records, entity, fr_citations,
                             guess_label, id_scheme, identifier, listed_on, notice_text, paren_aliases, parse_date,
                             read_text, single, source, split_list, undecodable)

# The code in parentheses of CSL `source` -> list id in ingest.lists.
SOURCE_LISTS = {
    "EL": "us-bis-entity-list", "MEU": "us-bis-meu", "UVL": "us-bis-uvl", "DPL": "us-bis-dpl",
    "SDN": "us-ofac-sdn", "CMIC": "us-ofac-ns-cmic", "NS-CMIC": "us-ofac-ns-cmic", "SSI": "us-ofac-ssi",
    "FSE": "us-ofac-fse", "PLC": "us-ofac-plc", "ISN": "us-state-isn", "DTC": "us-state-debarred",
    # No node of their own in ingest.lists yet: the other OFAC non-SDN lists.
    "CAP": "us-ofac-cons", "NS-MBS": "us-ofac-cons", "MBS": "us-ofac-cons",
}
OFAC_LISTS = {"us-ofac-sdn", "us-ofac-ns-cmic", "us-ofac-ssi", "us-ofac-fse", "us-ofac-plc", "us-ofac-cons"}
PERSON_LISTS = {"us-bis-dpl", "us-state-debarred"}  # mostly individuals, often without a type
REQUIRED = ("source", "name")
LIST_FIELDS = ("alt_names", "addresses", "ids", "programs", "dates_of_birth", "nationalities", "citizenships")


def list_for(source_text: str) -> str | None:
    """`Entity List (EL) - Bureau of Industry and Security` -> `us-bis-entity-list`."""
    m = re.search(r"\(([A-Z][A-Z\-]*)(?: List)?\)", source_text or "")
    if m and m.group(1) in SOURCE_LISTS:
        return SOURCE_LISTS[m.group(1)]
    if "treasury" in (source_text or "").lower():
        return "us-ofac-cons"  # a Treasury list we do not track separately: OFAC's other non-SDN lists
    return None


def parse(path: str | Path, as_of: str | None = None) -> Iterator[Record]:
    path = Path(path)
    file = str(path)
    if path.suffix.lower() == ".json":
        rows = _json_rows(path)
    else:
        rows = _csv_rows(path)
    batch = Batch()
    seen: Counter = Counter()  # (entity, list) -> listings so far, for 2019 rows without an id
    src_id = f"src:csl:{slug(path.stem)}"
    used_lists: list[str] = []
    for where, row in rows:
        if isinstance(row, Rejected):
            batch.add([row])
            continue
        try:
            records = _row_records(row, file, where, src_id, seen)
        except Exception as e:  # never let one odd row stop the file
            records = [Rejected(file, where, "row", f"unreadable row: {type(e).__name__}: {e}", raw=row)]
        batch.add(records)
        used_lists += [r.dst for r in records if getattr(r, "type", None) == "LISTED_ON"]
    if batch.nodes or batch.rels:
        yield source(src_id, "Consolidated Screening List (trade.gov)",
                     title="Consolidated Screening List", url="https://www.trade.gov/consolidated-screening-list",
                     publisher="U.S. Department of Commerce, International Trade Administration",
                     date=as_of, kind="list", locator=path.name)
        yield lists.source_node()
        for list_id in dict.fromkeys(used_lists):
            yield lists.list_node(list_id)
    yield from batch


# ---------------------------------------------------------------- readers


def _csv_rows(path: Path) -> Iterator[tuple[str, dict | Rejected]]:
    text, encoding = read_text(path)
    file = str(path)
    header, header_line = None, 0
    for line, fields, error in csv_records(text):
        if error or fields is None:
            yield f"line {line}", Rejected(file, f"line {line}", "header", f"unreadable header: {error}")
            return
        header = [clean(h.lstrip("\ufeff")) or "" for h in fields]
        header, header_line = [h.lower() for h in header], line
        break
    if header is None:
        yield "line 1", Rejected(file, "line 1", "header", "empty file")
        return
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        yield "line 1", Rejected(file, "line 1", ",".join(missing),
                                 f"missing required column(s): {', '.join(missing)} "
                                 f"(not a CSL file? header: {', '.join(header[:8])}...)")
        return
    for line, fields, error in csv_records(text, ncols=len(header)):
        where = f"line {line}"
        if line <= header_line:
            continue
        if error:
            field = "columns" if "columns" in error else "quoting"
            yield where, Rejected(file, where, field, error, raw=None)
            continue
        row = dict(zip(header, fields))
        bad = [k for k, v in row.items() if undecodable(v)]
        if bad:
            raw = {k: v.encode("utf-8", "surrogateescape").decode("latin-1") for k, v in row.items() if k in bad}
            yield where, Rejected(file, where, bad[0], f"bytes not valid in {encoding}", raw=raw)
            continue
        yield where, _from_csv(row)


def _from_csv(row: dict) -> dict:
    """A CSV row with list-valued columns split as in the JSON layout."""
    out = {k: clean(v) for k, v in row.items()}
    out["id"] = out.pop("_id", None)
    out["alt_names"] = split_list(row.get("alt_names"))
    out["addresses"] = [a for a in (clean(x) for x in (row.get("addresses") or "").split(";")) if a]
    out["programs"] = split_list(row.get("programs"))
    out["ids"] = [_csv_id(item) for item in (row.get("ids") or "").split(";") if clean(item)]
    for k in ("dates_of_birth", "nationalities", "citizenships"):
        out[k] = split_list(row.get(k))
    return out


def _csv_id(item: str) -> dict:
    """One CSV `ids` item. Current: `Passport, 836238033, KP`; 2019: `US, 80-0890696, Tax ID No.`."""
    parts = [p.strip() for p in item.split(",") if p.strip()]
    out = {"type": None, "number": None, "country": None}
    if not parts:
        return out
    if id_scheme(parts[0]) or (len(parts) >= 2 and not id_scheme(parts[-1])):
        out["type"], rest = parts[0], parts[1:]
    else:
        out["type"], rest = parts[-1], parts[:-1]
    if len(rest) > 1 and re.fullmatch(r"[A-Z]{2}", rest[-1]):
        out["country"] = rest.pop()
    elif len(rest) > 1 and re.fullmatch(r"[A-Z]{2}", rest[0]):
        out["country"] = rest.pop(0)
    out["number"] = ", ".join(rest) or None
    return out


def _json_rows(path: Path) -> Iterator[tuple[str, dict | Rejected]]:
    file = str(path)
    text, _ = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        yield "file", Rejected(file, f"line {e.lineno} col {e.colno}", "json", f"not valid JSON (truncated?): {e.msg}")
        return
    except RecursionError:
        yield "file", Rejected(file, "file", "json", "JSON nested too deeply to read")
        return
    results = data.get("results") if isinstance(data, dict) else data
    if not isinstance(results, list):
        yield "file", Rejected(file, "file", "results", "no `results` list in the JSON")
        return
    for i, item in enumerate(results, 1):
        where = f"entry {i}"
        if not isinstance(item, dict):
            yield where, Rejected(file, where, "entry", "entry is not an object", raw=item)
            continue
        missing = [c for c in REQUIRED if not item.get(c)]
        if missing:
            yield where, Rejected(file, where, missing[0], f"missing {', '.join(missing)}", raw=item)
            continue
        try:
            row = _from_json(item)
        except Exception as e:  # wrong types in an entry: reject it, keep the file going
            yield where, Rejected(file, where, "entry", f"unreadable entry: {type(e).__name__}: {e}", raw=item)
            continue
        yield where, row


def _from_json(item: dict) -> dict:
    out = {k: (clean(v) if not isinstance(v, (list, dict)) else v) for k, v in item.items()}
    out["id"] = clean(item.get("id") or item.get("_id"))
    addresses = []
    for a in _as_list(item.get("addresses")):
        if isinstance(a, dict):
            parts = [clean(a.get(k)) for k in ("address", "city", "state", "postal_code", "country")]
            a = ", ".join(p for p in parts if p)
        if clean(a):
            addresses.append(clean(a))
    out["addresses"] = addresses
    out["ids"] = [i for i in _as_list(item.get("ids")) if isinstance(i, dict)]
    for k in ("alt_names", "programs", "dates_of_birth", "nationalities", "citizenships"):
        v = item.get(k)
        out[k] = split_list(v if isinstance(v, list) else str(v or "").split(";"))
    return out


def _as_list(v) -> list:
    """A JSON field that should be a list: one value becomes a list of one."""
    return v if isinstance(v, list) else [] if v in (None, "") else [v]


# ---------------------------------------------------------------- rows -> records


def _row_records(row: dict, file: str, where: str, src_id: str, seen: Counter) -> list:
    raw = {k: v for k, v in row.items() if v not in (None, "", [])}
    list_id = list_for(row.get("source") or "")
    if list_id is None:
        return [Rejected(file, where, "source", f"unknown CSL source list {row.get('source')!r}", raw=raw)]
    entry_name = clean(row.get("name"))
    if not entry_name:
        return [Rejected(file, where, "name", "no name", raw=raw)]
    # "X; and any successor, sub-unit, or subsidiary thereof" (State ISN): the party is X.
    name = re.split(r";\s*and any successor", entry_name, flags=re.I)[0].strip()
    try:
        since = parse_date(row.get("start_date"))
    except ValueError as e:
        return [Rejected(file, where, "start_date", str(e), raw=raw)]
    try:
        until = parse_date(row.get("end_date"))
    except ValueError as e:
        return [Rejected(file, where, "end_date", str(e), raw=raw)]
    citations = fr_citations(row.get("federal_register_notice"))
    if since is None:
        since = min((d for _, d in citations if d), default=None)

    label, kind = guess_label(name, row.get("type"), person_hint=list_id in PERSON_LISTS)
    code = re.search(r"\(([A-Z][A-Z\-]*)", row.get("source") or "")
    if row.get("id"):
        entity_id = f"csl:{row['id']}"
    else:  # 2019 layout: no row id; the list's own number, else the name, within the list
        entity_id = f"csl:{(code.group(1) if code else list_id).lower()}:{row.get('entity_number') or slug(name)}"
    identifiers = [f"csl:{row['id']}"] if row.get("id") else []
    if list_id in OFAC_LISTS and row.get("entity_number"):
        identifiers.append(f"ofac:{row['entity_number']}")
    for item in row.get("ids") or []:
        scheme = id_scheme(item.get("type"))
        ident = identifier(scheme, item.get("number")) if scheme else None
        if ident:
            identifiers.append(ident)
    addresses = row.get("addresses") or []
    dobs = [d for d in row.get("dates_of_birth") or [] if re.fullmatch(r"\d{4}-\d{2}-\d{2}", d)]
    nationality = single(country_code(n) for n in (row.get("nationalities") or row.get("citizenships") or []))
    node = entity(label, kind, id=entity_id, name=name,
                  aliases=[a for a in [*row.get("alt_names", []), *paren_aliases(name)] if a != name],
                  country=single(address_country(a) for a in addresses),
                  identifiers=identifiers, address="; ".join(addresses) or None,
                  description=clean(row.get("title")),
                  birth_date=dobs[0] if len(dobs) == 1 else None, nationality=nationality,
                  sources=[src_id])
    reason = "; ".join(x for x in [*(row.get("programs") or []), clean(row.get("remarks"))] if x) or None
    # One designation per row: the current layout's _id is per row; in 2019 a
    # party listed twice on one list (once per country) gets a counter.
    key = f"{list_id}:{entity_id}"
    if not row.get("id"):
        seen[key] += 1
        key += f"#{seen[key]}" if seen[key] > 1 else ""
    rel = listed_on(node, list_id, [src_id], key, since=since, until=until, notice=notice_text(citations),
                    reason=reason, entry_name=entry_name, license_requirement=clean(row.get("license_requirement")),
                    license_policy=clean(row.get("license_policy")))
    return check([node, rel], file, where, raw)
