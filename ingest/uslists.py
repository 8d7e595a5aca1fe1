"""US restriction lists parsed to JSON (the NSF "Restricted Entities" guide's `data/*.json`).

`parse(path)` takes the folder (every list file; `lists.json` gives the list
metadata) or one list file (its folder's `lists.json` is read when present).
Every file is `{list_id, source_file, extracted, count, entities: [{name,
aliases, country, address, status, effective_date, federal_register,
notes}]}`. The files have no entry ids, so an entity is
`<list id>:<slug of name>` with the project's list id (`us-bis-entity-list:
hangzhou-hikvision-digital-technology-co-ltd`); entries repeating a name in one
file (the Entity List lists a party once per country) are one node, and
each entry is one LISTED_ON (keyed by file list id, name and occurrence).

Per list:
- Entity List / MEU: `federal_register` holds every FR citation of the
  entry; notice = all of them (`84 FR 54004 (2019-10-09); 85 FR 34505
  (2020-06-05); ...`), since = the earliest citation date; notes are the
  licence requirement (the JSON dropped the licence policy). Rows that are
  "X subordinate institution: Y" (CETC 13) become entity Y with PART_OF
  {kind: "subordinate_institution"} to X, when X is an entry of the file.
- DoD 1260H: "Listed together with subsidiaries: A, B (B short), and C." is
  the list stating subsidiaries, so the parent OWNS each one (share and
  direct null: no stake is stated); a subsidiary that is not a Company
  (an academy, a research institute) is PART_OF {kind: "subsidiary"} of
  the parent instead, as OWNS only ends at companies and funds. Subsidiaries
  are designated too (they are on the list with their parent). The other
  "affiliated with / owned by SASAC" statements stay in the reason: they
  name no entity we can key.
- DPL: `Expires:` in notes -> until. State nonproliferation: every
  imposition's citation kept, since = the earliest date, until = the latest
  end when every imposition has expired, been lifted or terminated.
- FCC Covered List "Category listing (not a named company)" rows are
  Rejected: they name equipment, not a party.
- NS-CMIC: the `USCC:` in notes becomes an identifier; since = the
  `Listing Date (CMIC)` as for the OFAC files, else effective_date.

Source per list: `src:uslists-<YYYY-MM of lists.json generated>:<list id>`,
titled with the official name, dated with the snapshot date stated in
lists.json when it gives a day (e.g. "BIS export of April 14, 2026"), else
the "generated" date.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Iterator

from graph.ids import slug
from ingest import lists
from ingest.records import Node, Record, Rejected, Rel
from ingest.textutil import (Batch, check, clean, country_code, entity, fr_citations, guess_label, identifier,
                             listed_on, notice_text, paren_aliases, parse_date, read_text, source, split_list)

LIST_IDS = {
    "bis-entity-list": "us-bis-entity-list", "bis-meu": "us-bis-meu", "bis-dpl": "us-bis-dpl",
    "dow-1260h": "us-dod-1260h", "dow-1286": "us-dod-1286", "ofac-nscmic": "us-ofac-ns-cmic",
    "ofac-eo14032": "us-ofac-eo14032", "dhs-uflpa": "us-dhs-uflpa", "fcc-covered": "us-fcc-covered",
    "state-nonproliferation": "us-state-isn", "state-debarred-statutory": "us-state-debarred",
    "state-debarred-admin": "us-state-debarred", "cbp-wro": "us-cbp-wro",
}
PERSON_LISTS = {"bis-dpl", "state-debarred-statutory", "state-debarred-admin"}  # individuals, untyped
LICENCE_LISTS = {"bis-entity-list", "bis-meu"}  # notes = licence requirement
_ENDED = re.compile(r"(?:expired|lifted|terminated|waived)(?: on| as of)?\s+(\d{1,2}/\d{1,2}/\d{2,4})", re.I)


def parse(path: str | Path, as_of: str | None = None) -> Iterator[Record]:
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.glob("*.json") if p.name != "lists.json")
        meta_path = path / "lists.json"
    elif path.exists():
        files = [] if path.name == "lists.json" else [path]
        meta_path = path.with_name("lists.json")
    else:
        raise FileNotFoundError(path)
    meta, generated = _metadata(meta_path)
    # One batch for the folder: a party on two files of one list (the two
    # ITAR debarment files) is one node with both sources.
    batch = Batch()
    for f in files:
        batch.add(_parse_file(f, meta, generated, as_of))
    if batch.nodes:
        yield lists.source_node()
    yield from batch


def _metadata(p: Path) -> tuple[dict[str, dict], str | None]:
    """lists.json -> ({list id: metadata}, generated date); empty when absent or unreadable."""
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        return {m["id"]: m for m in data.get("lists", []) if isinstance(m, dict) and m.get("id")}, data.get("generated")
    except (OSError, ValueError, AttributeError, TypeError, RecursionError):
        return {}, None


def _snapshot_date(text: str | None) -> str | None:
    m = re.search(r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* \d{1,2}, \d{4}", text or "")
    try:
        return parse_date(m.group(0)) if m else None
    except ValueError:
        return None


def _parse_file(path: Path, meta: dict[str, dict], generated: str | None, as_of: str | None) -> Iterator[Record]:
    file = str(path)
    text, _ = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        yield Rejected(file, f"line {e.lineno} col {e.colno}", "json", f"not valid JSON (truncated?): {e.msg}")
        return
    except RecursionError:
        yield Rejected(file, "file", "json", "JSON nested too deeply to read")
        return
    if not isinstance(data, dict) or not isinstance(data.get("entities"), list):
        yield Rejected(file, "file", "entities", "no `entities` list")
        return
    jid = clean(data.get("list_id")) or ""
    list_id = LIST_IDS.get(jid)
    if list_id is None:
        yield Rejected(file, "file", "list_id", f"unknown list id {jid!r} (known: {', '.join(LIST_IDS)})")
        return
    m = meta.get(jid, {})
    name, url = lists.LISTS[list_id][0], lists.LISTS[list_id][2]
    month = (generated or clean(data.get("extracted")) or as_of or "undated")[:7]
    src = source(f"src:uslists-{month}:{jid}", clean(m.get("short_name")) or name,
                 title=clean(m.get("official_name")) or name, publisher=clean(m.get("agency")),
                 url=clean(m.get("official_url")) or url, kind="list", locator=clean(data.get("source_file")),
                 date=as_of or _snapshot_date(m.get("snapshot")) or parse_date(generated or data.get("extracted")))

    entries = data["entities"]
    # First pass: names in the file, for subordinate-institution links.
    names = {slug(clean(e.get("name")) or ""): clean(e.get("name")) for e in entries if isinstance(e, dict)}
    batch = Batch()
    seen: Counter = Counter()
    for i, e in enumerate(entries, 1):
        where = f"entry {i}"
        if not isinstance(e, dict):
            batch.add([Rejected(file, where, "entry", "entry is not an object", raw=e)])
            continue
        try:
            batch.add(_entry(e, jid, list_id, src.id, file, where, names, seen))
        except Exception as err:  # never let one odd entry stop the file
            batch.add([Rejected(file, where, "entry", f"unreadable entry: {type(err).__name__}: {err}", raw=e)])
    if batch.nodes:
        yield src
        yield lists.list_node(list_id)
    yield from batch


def _entry(e: dict, jid: str, list_id: str, src_id: str, file: str, where: str, names: dict, seen: Counter) -> list:
    raw = e
    if not isinstance(e.get("name"), (str, type(None))):
        return [Rejected(file, where, "name", f"name is not a string: {e.get('name')!r}"[:300], raw=raw)]
    entry_name = clean(e.get("name"))
    notes = clean(e.get("notes"))
    if not entry_name:
        return [Rejected(file, where, "name", "no name", raw=raw)]
    if jid == "fcc-covered" and (notes or "").startswith("Category listing"):
        return [Rejected(file, where, "name", "category listing (equipment), not a named party", raw=raw)]
    aliases = split_list(e.get("aliases") or [])
    name, parent, description = entry_name, None, None
    # "CETC 13 subordinate institution: Bowei" (a parse artefact of the eCFR layout)
    if m := re.match(r"^(.*?)\s+subordinate institution:\s*(.*)$", entry_name):
        parent, name = m.group(1), m.group(2) or (aliases[0] if aliases else "")
        description = f"Subordinate institution of {parent}"
    elif m := re.match(r"^(.*?)\s*\(a subordinate institute of ([^)]+)\)$", entry_name):
        name, description = m.group(1), f"A subordinate institute of {m.group(2)}"
    if not name:
        return [Rejected(file, where, "name", "subordinate institution without a name", raw=raw)]

    try:
        since = parse_date(e.get("effective_date"))
    except ValueError as err:
        return [Rejected(file, where, "effective_date", str(err), raw=raw)]
    citations = fr_citations(e.get("federal_register"))
    until, reason, license_req, identifiers = None, notes, None, []
    if jid in LICENCE_LISTS:
        license_req, reason = notes, None
    if jid == "state-nonproliferation":
        impositions = (notes or "").split(" | ")
        citations = list(dict.fromkeys(c for p in impositions for c in fr_citations(p, fallback=False)) or citations)
        imposed = [_date(x) for x in re.findall(r"imposed (\d{1,2}/\d{1,2}/\d{2,4})", notes or "")]
        since = min([d for d in [since, *imposed] if d], default=None)
        ends = [_ENDED.search(p) for p in impositions]
        if ends and all(ends):
            until = max((d for d in (_date(x.group(1)) for x in ends) if d), default=None)
        reason = "; ".join(dict.fromkeys(re.findall(r"Authority: ([^;]+)", notes or ""))) or notes
    if jid == "bis-dpl" and (m := re.search(r"Expires:\s*(\S+)", notes or "")):
        until = _date(m.group(1))
    if jid == "ofac-nscmic":
        if m := re.search(r"USCC:\s*([0-9A-Z]{18})", notes or ""):
            identifiers.append(identifier("uscc", m.group(1)))
        if m := re.search(r"Listing Date \([^)]*\):\s*(\d{1,2} \w{3} \d{4})", notes or ""):
            since = _date(m.group(1)) or since
    if jid == "cbp-wro" and clean(e.get("status")):
        reason = "; ".join(x for x in [f"Status: {clean(e['status'])}", notes] if x)
    if jid == "dow-1260h" and reason:  # the subsidiaries become entities; the reason is the stated basis
        reason = re.sub(r"^Listed together with subsidiaries:.*?(?:\s+\|\s+|$)", "", reason) or None
    if jid.startswith("state-debarred"):
        description, reason = notes, None
    if since is None:
        since = min((d for _, d in citations if d), default=None)

    country_text = clean(e.get("country"))
    label, kind = guess_label(name, "vessel" if country_text == "Fishing Vessels" else None,
                              person_hint=jid in PERSON_LISTS)
    entity_id = f"{list_id}:{slug(name)}"
    node = entity(label, kind, id=entity_id, name=name,
                  aliases=[a for a in [*aliases, *paren_aliases(name)] if a != name],
                  country=country_code(country_text), identifiers=[i for i in identifiers if i],
                  address=clean(e.get("address")), description=description, sources=[src_id])
    key = f"{jid}:{slug(entry_name)}"
    seen[key] += 1
    if seen[key] > 1:
        key += f"#{seen[key]}"
    common = dict(since=since, until=until, notice=notice_text(citations))
    records: list = [node, listed_on(node, list_id, [src_id], key, reason=reason, entry_name=entry_name,
                                     license_requirement=license_req, **common)]
    if parent and slug(parent) in names:
        p_label, _ = guess_label(parent)
        records.append(Rel("PART_OF", entity_id, label, f"{list_id}:{slug(parent)}", p_label,
                           {"kind": "subordinate_institution", "sources": [src_id]}, key="subordinate_institution"))
    if jid == "dow-1260h":
        records += _subsidiaries(node, notes, list_id, src_id, key, common)
    return check(records, file, where, raw)


def _date(text: str) -> str | None:
    """A date inside notes: a typo there ("imposed 12/11/201") costs the date, not the entry."""
    try:
        return parse_date(text)
    except ValueError:
        return None


def _subsidiaries(parent: Node, notes: str | None, list_id: str, src_id: str, key: str, common: dict) -> list:
    m = re.match(r"Listed together with subsidiaries:\s*(.*?)(?:\s+\|\s+|$)", notes or "")
    if not m:
        return []
    out: list = []
    for sub in split_enumeration(m.group(1)):
        name, inner = trailing_parenthesis(sub)
        aliases = [re.sub(r"^formerly\s+", "", inner)] if inner else []
        label, kind = guess_label(name)
        node = entity(label, kind, id=f"{list_id}:{slug(name)}", name=name, aliases=aliases,
                      country=parent.props.get("country"), sources=[src_id])
        out.append(node)
        if label in ("Company", "Fund"):
            out.append(Rel("OWNS", parent.id, parent.label, node.id, label,
                           {"share": None, "direct": None, "sources": [src_id]}, key="1260h-subsidiary"))
        else:
            out.append(Rel("PART_OF", node.id, label, parent.id, parent.label,
                           {"kind": "subsidiary", "sources": [src_id]}, key="1260h-subsidiary"))
        out.append(listed_on(node, list_id, [src_id], f"{key}:subsidiary:{slug(name)}", entry_name=sub,
                             reason=f"Listed together with its parent {parent.props['name']}", **common))
    return out


def split_enumeration(text: str) -> list[str]:
    """`A Co., Ltd., B Inc. (B), and C.` -> `["A Co., Ltd.", "B Inc. (B)", "C"]`.

    Commas inside parentheses do not split; a legal form (`Ltd.`, `Inc.`)
    belongs to the name before it, and so does one word after one word
    (`SMIC, Americas`).
    """
    text = re.sub(r"\s+\.\s+", ", ", text.strip().rstrip("."))  # "Group Co., Ltd. . Kiekert USA Inc."
    pieces, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            pieces.append(cur)
            cur = ""
        else:
            cur += ch
    pieces.append(cur)
    out: list[str] = []
    for p in (re.sub(r"^and\s+", "", x.strip()) for x in pieces):
        if p and out and _LEGAL_TAIL.match(p):
            out[-1] = f"{out[-1]}, {p}"
        elif p:
            out.append(p)
    merged: list[str] = []
    for p in out:
        if merged and len(p.split()) == 1 and len(merged[-1].split()) == 1:  # "SMIC, Americas"
            merged[-1] = f"{merged[-1]}, {p}"
        else:
            merged.append(p)
    return merged


_LEGAL_TAIL = re.compile(r"^(?:Ltd|Inc|LLC|Limited|Co|Corp|PLC|S\.A|GmbH|AG|Pty|S\.L\.U)\b\.?(?:\s*\(.*\))?$")


def trailing_parenthesis(text: str) -> tuple[str, str | None]:
    """`A Co. (formerly B (C))` -> (`A Co.`, `formerly B (C)`): the last balanced parenthesis, if it ends the text."""
    text = text.strip()
    if not text.endswith(")"):
        return text, None
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        depth += text[i] == ")"
        depth -= text[i] == "("
        if depth == 0:
            return text[:i].strip(), text[i + 1:-1].strip()
    return text, None
