"""FollowTheMoney (FtM) entities and ADD/MOD/DEL delta files -> techgiants records.

Input: JSON lines, one FtM entity per line (`{"id", "schema", "properties",
"datasets", "referents", ...}`), or OpenSanctions delta lines
(`{"op": "ADD"|"MOD"|"DEL", "entity": {...}}`). Entities are read through the
`followthemoney` model, so an unknown schema or a property the schema does not
have never reaches the graph.

Mapping
- Company / Organization / LegalEntity -> Company; PublicBody -> GovernmentBody;
  Person -> Person. Node id `ftm:<entity id>`.
- Ownership (owner -> asset) -> OWNS: `percentage` "50", "50%", "25-50" -> share
  or share_min/share_max as fractions; startDate/endDate -> start/end.
- Directorship (director -> organization) -> OFFICER_OF, role = `role` or "director".
- Sanction (entity) -> LISTED_ON a list: the US lists of `ingest.lists` when the
  authority / program / dataset names one, otherwise a SanctionsList of our own,
  `ftm-list:<slug of dataset, authority or program>` (EU, UK, ... lists).
  An entity tagged with topic `sanction` also gets LISTED_ON for each source
  dataset it comes from (`datasets`), unless a Sanction entity already says so.
- Security: its isin/ticker/figi become identifiers of its issuer; Address:
  its full text becomes the `address` of the entities pointing at it. Neither
  becomes a node.
- Relationship ids are `ftm:<id of the Ownership/Directorship/Sanction entity>`
  (not the usual hash) so that a DEL line, which carries nothing but the id,
  names the relationship to delete as well as a node.
- DEL lines yield `Delete(label_hint, id)`; the pipeline removes that id.

Rules
- Dates: full ISO dates (a timestamp keeps its date part) go into date
  properties. Partial dates ("2019", "2019-10") are dropped from date
  properties; on nodes they are kept in `description` ("birth date 1971").
  Anything else ("10/9/19": 9 October or 10 September?) rejects the record,
  naming the property.
- A share that is not a number (including "-") or is outside 0-100 % rejects
  the relationship (field `share`).
- Relationship endpoints must be in the same file (or in `known_labels`, which
  the pipeline can fill from the store); otherwise the relationship is rejected.
- Unknown or unsupported schemata are rejected ("unsupported FtM schema Vessel").
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from followthemoney import model
from followthemoney.exc import InvalidData

from graph.ids import slug
from ingest import lists, textutil
from ingest.records import Node, Rejected, Rel
from ingest.textutil import country_code, identifier, source

NODE_LABELS = {"Company": "Company", "Organization": "Company", "LegalEntity": "Company",
               "PublicBody": "GovernmentBody", "Person": "Person"}
REL_SCHEMATA = ("Ownership", "Directorship", "Sanction")

# FtM identifier properties -> our `scheme:` prefix.
ID_PROPS = {"leiCode": "lei", "innCode": "inn", "ogrnCode": "ogrn", "registrationNumber": "reg",
            "taxNumber": "tax", "swiftBic": "bic", "dunsCode": "duns", "uscCode": "uscc", "isinCode": "isin",
            "cikCode": "cik", "permId": "permid", "ricCode": "ric", "ticker": "ticker", "imoNumber": "imo",
            "vatCode": "vat", "okpoCode": "okpo", "uniqueEntityId": "uei", "cageCode": "cage",
            "wikidataId": "wikidata"}
NAME_PROPS = ("name", "alias", "previousName", "abbreviation", "weakAlias")

# OpenSanctions collections aggregate other datasets; they are not lists.
COLLECTIONS = {"default", "sanctions", "peps", "crime", "enrichers", "maritime", "debarment", "regulatory",
               "wanted", "special_interest", "securities", "opensanctions", "all"}

# Text in a Sanction's authority/program/programId/sourceUrl/datasets -> a list of ingest.lists.
# First match wins; the SDN/consolidated fallbacks come last.
US_LIST_RULES = [
    (r"ns-?cmic|non-sdn chinese military|chinese military-industrial", "us-ofac-ns-cmic"),
    (r"14032", "us-ofac-eo14032"),
    (r"1260h|chinese military compan|us_dod_chinese_milcorps", "us-dod-1260h"),
    (r"\bentity list\b|us_bis_entity|part 744.*supplement no\.? 4", "us-bis-entity-list"),
    (r"military end.?user|\bmeu\b", "us-bis-meu"),
    (r"unverified list|us_bis_uvl", "us-bis-uvl"),
    (r"denied persons|us_bis_denied", "us-bis-dpl"),
    (r"uflpa|us_dhs_uflpa", "us-dhs-uflpa"),
    (r"withhold release", "us-cbp-wro"),
    (r"fcc.*covered|covered list", "us-fcc-covered"),
    (r"sectoral sanctions|\bssi\b", "us-ofac-ssi"),
    (r"foreign sanctions evaders|\bfse\b", "us-ofac-fse"),
    (r"itar|ddtc|us_ddtc_debarred", "us-state-debarred"),
    (r"nonproliferation|us_state_isn", "us-state-isn"),
    (r"us_ofac_cons|consolidated sanctions list|non-sdn", "us-ofac-cons"),
    (r"us_ofac_sdn|specially designated|office of foreign assets control|\bofac\b", "us-ofac-sdn"),
]


@dataclass(frozen=True)
class Delete:
    """A DEL line of a delta file: remove the node or relationship with this id."""
    label_hint: str | None
    id: str

    @property
    def label(self) -> str | None:  # the name ingest.pipeline reads
        return self.label_hint


# ---------------------------------------------------------------- small helpers

check = textutil.check  # validates a row's records together and sets their origin


def _date(value: Any) -> tuple[str | None, str | None]:
    """(full ISO date, None) or (None, partial date); ValueError for anything else."""
    text = str(value or "").strip()
    if not text:
        return None, None
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})(?:[T ][\d:.]*(?:Z|[+-]\d{2}:?\d{2})?)?", text)
    if m:
        dt.date.fromisoformat(m.group(1))  # 2019-02-30 raises
        return m.group(1), None
    if re.fullmatch(r"\d{4}(?:-(?:0[1-9]|1[0-2]))?", text):
        return None, text
    raise ValueError(f"not an ISO date: {text!r}")


class _BadDate(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _dates(proxy, *names: str) -> dict[str, tuple[str | None, str | None]]:
    """First value of each FtM date property -> _date(); _BadDate names the property."""
    out = {}
    for p in names:
        try:
            out[p] = _date((proxy.get(p, quiet=True) or [None])[0])
        except ValueError as e:
            raise _BadDate(p, f"{p}: {e}") from None
    return out


def _share(text: Any) -> dict[str, float]:
    """"50", "50%", "50.5 %", "25-50%" -> share / share_min+share_max as fractions; ValueError otherwise."""
    t = str(text).strip().replace(",", ".")
    num = r"(\d+(?:\.\d+)?)"
    m = re.fullmatch(num + r"\s*%?", t)
    if m:
        vals = {"share": float(m.group(1))}
    else:
        m = re.fullmatch(num + r"\s*%?\s*[-–]\s*" + num + r"\s*%?", t)
        if not m:
            raise ValueError(f"share is not a number: {t!r}")
        vals = {"share_min": float(m.group(1)), "share_max": float(m.group(2))}
    for v in vals.values():
        if not 0 <= v <= 100:
            raise ValueError(f"share {t!r} outside 0-100 %")
    return {k: round(v / 100, 10) for k, v in vals.items()}


def _chinese(text: str) -> bool:
    """Han characters and no Japanese kana."""
    return bool(re.search(r"[\u4e00-\u9fff]", text)) and not re.search(r"[\u3040-\u30ff]", text)


def _lines(path: Path) -> Iterator[tuple[int, str | None, dict | None, tuple[str, str] | None]]:
    """(line number, op, entity dict, (field, error)) per non-blank line."""
    with path.open(encoding="utf-8-sig", errors="surrogateescape") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            if textutil.undecodable(line):  # a line with bytes that are not UTF-8: that line only
                yield n, None, None, ("json", "bytes that are not UTF-8")
                continue
            try:
                data = json.loads(line)
            except (ValueError, RecursionError) as e:  # RecursionError: nested too deeply
                yield n, None, None, ("json", f"invalid JSON: {e}")
                continue
            if not isinstance(data, dict):
                yield n, None, None, ("json", "line is not a JSON object")
                continue
            op = None
            if "op" in data:
                op = str(data.get("op") or "").upper()
                data = data.get("entity")
                if op not in ("ADD", "MOD", "DEL") or not isinstance(data, dict):
                    yield n, op, None, ("op", f"delta line needs op ADD/MOD/DEL and an entity, got op {op!r}")
                    continue
            if not data.get("id") or not isinstance(data["id"], str):
                yield n, op, None, ("id", "entity has no id")
                continue
            props = data.get("properties", {})
            if op != "DEL" and (not isinstance(props, dict) or not isinstance(data.get("schema"), str)
                                or not all(isinstance(v, list) and all(isinstance(x, str) for x in v)
                                           for v in props.values())
                                or not isinstance(data.get("datasets", []), list)
                                or not all(isinstance(x, str) for x in data.get("datasets", []))):
                yield n, op, None, ("properties", "not an FtM entity: needs a schema, and properties and datasets as lists of strings")
                continue
            yield n, op, data, None


def _list_for(texts: list[str]) -> str | None:
    blob = " | ".join(t for t in texts if t).lower()
    for rx, list_id in US_LIST_RULES:
        if re.search(rx, blob):
            return list_id
    return None


# ---------------------------------------------------------------- parse

def parse(path: str | Path, as_of: str | None = None,
          known_labels: Mapping[str, str] | None = None) -> Iterator[Node | Rel | Rejected | Delete]:
    """Yield records for an FtM JSON-lines or delta file. `known_labels`: graph id -> label
    for relationship endpoints that are not in this file (e.g. from the store)."""
    path = Path(path)
    if path.is_dir():  # a folder of entity / delta files, applied in name order (delta names are timestamps)
        for f in sorted(path.iterdir()):
            if f.is_file() and f.name.endswith((".json", ".jsonl", ".ndjson")) and "index" not in f.name:
                yield from parse(f, as_of=as_of, known_labels=known_labels)
        return
    file = str(path)
    src_id = f"src:ftm:{slug(path.name)}"
    try:
        yield source(src_id, f"FollowTheMoney entities: {path.name}", kind="dataset", date=_date(as_of)[0],
                     locator=path.name)
    except ValueError as e:
        yield Rejected(file, "file", "as_of", str(e), as_of)
        return

    # Pass 1: what relationships and node properties need from other lines.
    labels: dict[str, str] = {}          # ftm id -> our label
    addresses: dict[str, str] = {}       # Address id -> full text
    sec_ids: dict[str, list[str]] = {}   # issuer ftm id -> identifiers from its Securities
    rel_lines: list[tuple[int, dict]] = []
    sanctioned: set[tuple[str, str]] = set()  # (entity, list id / "dataset:<name>") from Sanction entities
    for n, op, data, err in _lines(path):
        if err or op == "DEL":
            continue
        schema = data.get("schema")
        props = data.get("properties") or {}
        if schema in NODE_LABELS:
            labels[data["id"]] = NODE_LABELS[schema]
        elif schema == "Address":
            full = props.get("full") or [", ".join(v[0] for k, v in sorted(props.items())
                                                   if k in ("street", "city", "postalCode") and v)]
            if full and full[0]:
                addresses[data["id"]] = full[0]
        elif schema == "Security":
            ids = [identifier(s, v) for s, p in (("isin", "isin"), ("ticker", "ticker"), ("figi", "figiCode"))
                   for v in props.get(p) or []]
            for issuer in props.get("issuer") or []:
                sec_ids.setdefault(issuer, []).extend(i for i in ids if i)
        elif schema in REL_SCHEMATA:
            rel_lines.append((n, data))
            if schema == "Sanction":
                lid = _sanction_list(data)[0]
                for ent in props.get("entity") or []:
                    sanctioned.add((ent, lid))
                    sanctioned.update((ent, f"dataset:{d}") for d in data.get("datasets") or [])

    # Pass 2: nodes in file order, deletions, rejects.
    derived: list[tuple[int, str, str, str]] = []  # (line, entity ftm id, label, dataset) for topic listings
    for n, op, data, err in _lines(path):
        rec = f"line {n}"
        if err:
            yield Rejected(file, rec, err[0], err[1])
            continue
        if op == "DEL":
            yield Delete(label_hint=labels.get(data["id"]), id=f"ftm:{data['id']}")
            continue
        schema = data.get("schema")
        if schema in REL_SCHEMATA or schema == "Address":
            continue
        if schema == "Security":
            issuers = (data.get("properties") or {}).get("issuer") or []
            if not any(i in labels for i in issuers):
                yield Rejected(file, rec, "issuer", f"Security issuer {issuers or 'missing'} is not in this file",
                               data)
            continue
        try:
            proxy = model.get_proxy(data, cleaned=True)
        except InvalidData:
            yield Rejected(file, rec, "schema", f"unknown FtM schema {schema!r}", data)
            continue
        except Exception as e:  # FtM refuses the shape
            yield Rejected(file, rec, "properties", f"not an FtM entity: {type(e).__name__}: {e}", data)
            continue
        if proxy.schema.name not in NODE_LABELS:
            yield Rejected(file, rec, "schema", f"unsupported FtM schema {proxy.schema.name}", data)
            continue
        try:
            out = _node(proxy, data, src_id, addresses, sec_ids.get(proxy.id, []), file, rec)
        except Exception as e:  # never let one odd record stop the file
            out = [Rejected(file, rec, "record", f"unreadable entity: {type(e).__name__}: {e}", data)]
        yield from out
        if isinstance(out[0], Node):
            if "sanction" in proxy.get("topics"):
                for ds in data.get("datasets") or []:
                    if ds not in COLLECTIONS:
                        derived.append((n, proxy.id, out[0].label, ds))

    # Relationships, once every node label is known.
    have_lists: set[str] = set()
    for n, data in rel_lines:
        try:
            rels = _rel(data, src_id, labels, known_labels or {}, file, f"line {n}")
        except Exception as e:  # never let one odd record stop the file
            rels = [Rejected(file, f"line {n}", "record", f"unreadable entity: {type(e).__name__}: {e}", data)]
        for r in rels:
            if isinstance(r, Rel) and r.dst_label == "SanctionsList":
                yield from _list_nodes(r.dst, data, src_id, have_lists)
            yield r
    for n, ent, label, ds in derived:
        lid, name, country = _dataset_list(ds)
        if (ent, lid) in sanctioned or (ent, f"dataset:{ds}") in sanctioned:
            continue  # a Sanction entity already states this listing, with its details
        yield from _list_nodes(lid, {"_name": name, "_country": country}, src_id, have_lists)
        rel = Rel("LISTED_ON", f"ftm:{ent}", label, lid, "SanctionsList",
                  {"sources": [src_id], "reason": f"topic sanction in dataset {ds}"}, key=f"dataset:{ds}")
        yield from check([rel], file, f"line {n}")


def _node(proxy, data: dict, src_id: str, addresses: dict, extra_ids: list[str], file: str, rec: str) -> list:
    label = NODE_LABELS[proxy.schema.name]
    names = [v for p in NAME_PROPS for v in proxy.get(p, quiet=True)]
    name = data.get("caption") or proxy.caption or (names[0] if names else None)
    if not name or name == proxy.schema.label:  # FtM falls back to the schema label
        return [Rejected(file, rec, "name", "entity has no name", data)]
    notes: list[str] = []
    props: dict[str, Any] = {"id": f"ftm:{proxy.id}", "name": name, "sources": [src_id]}

    # (FtM property, our property or None, words for a partial date in the description)
    wanted = [("birthDate", "birth_date", "birth date"), ("deathDate", None, "death date")] if label == "Person" \
        else [("incorporationDate", "founded" if label == "Company" else None, "founded"),
              ("dissolutionDate", None, "dissolved")]
    try:
        got = _dates(proxy, *(w[0] for w in wanted))
    except _BadDate as e:
        return [Rejected(file, rec, e.field, str(e), data)]
    for ftm_prop, ours, words in wanted:
        full, part = got[ftm_prop]
        if full and ours:
            props[ours] = full
        elif full or part:
            notes.append(f"{words} {full or part}")

    props["aliases"] = [n for n in dict.fromkeys(names) if n != name]
    zh = [n for n in [name, *names] if _chinese(n)]
    if zh:
        props["name_zh"] = zh[0]
    for p in ("country", "jurisdiction", "mainCountry"):
        codes = [country_code(v) for v in proxy.get(p, quiet=True)]
        codes = [c for c in codes if c]
        if codes:
            props["country"] = codes[0]
            break
    if label == "Person":
        nat = [c for c in (country_code(v) for v in proxy.get("nationality") + proxy.get("citizenship")) if c]
        if nat:
            props["nationality"] = nat[0]
        notes = proxy.get("position") + notes
    ids = []
    for p, scheme in ID_PROPS.items():
        for v in proxy.get(p, quiet=True):
            # Chinese registration numbers are usually unified social credit codes (check digit verified)
            ids.append((p == "registrationNumber" and identifier("uscc", v)) or identifier(scheme, v))
    refs = data.get("referents") if isinstance(data.get("referents"), list) else []
    for ref in [proxy.id, *(r for r in refs if isinstance(r, str))]:
        m = re.fullmatch(r"ofac-(\d+)", ref)
        if m:
            ids.append(f"ofac:{m.group(1)}")
        elif re.fullmatch(r"Q\d+", ref):
            ids.append(f"wikidata:{ref}")
    props["identifiers"] = [i for i in dict.fromkeys([*ids, *extra_ids]) if i]
    # Short: the first summary/description/note (sources repeat long notes in many languages),
    # then positions and partial dates.
    first = [*proxy.get("summary", quiet=True), *proxy.get("description", quiet=True), *proxy.get("notes")][:1]
    desc = "; ".join(dict.fromkeys([*first, *notes]))
    if desc:
        props["description"] = desc if len(desc) <= 500 else desc[:499] + "…"
    if label == "Company":
        addr = proxy.get("address") + [addresses[a] for a in proxy.get("addressEntity") if a in addresses]
        if addr:
            props["address"] = "; ".join(dict.fromkeys(addr))
        topics = proxy.get("topics")
        if "gov.soe" in topics:
            props["kind"] = "state_enterprise"
        elif "fin.bank" in topics:
            props["kind"] = "bank"
        if props.get("country"):
            props["us_based"] = props["country"] == "US"
    return check([Node(label, {k: v for k, v in props.items() if v not in (None, "", [])})], file, rec, data)


def _sanction_list(data: dict) -> tuple[str, str, str | None]:
    """(list id, list name, country) for a Sanction entity."""
    props = data.get("properties") or {}
    texts = [*props.get("authority", []), *props.get("program", []), *props.get("programId", []),
             *props.get("sourceUrl", []), *(data.get("datasets") or [])]
    lid = _list_for(texts)
    if lid:
        return lid, lists.LISTS[lid][0], "US"
    datasets = [d for d in data.get("datasets") or [] if d not in COLLECTIONS]
    if datasets:
        return _dataset_list(datasets[0])
    key = (props.get("authority") or props.get("program") or props.get("programId") or ["unknown"])[0]
    country = (props.get("country") or [None])[0]
    return f"ftm-list:{slug(key)}", key, country_code(country) if country else None


def _dataset_list(ds: str) -> tuple[str, str, str | None]:
    lid = _list_for([ds])
    if lid:
        return lid, lists.LISTS[lid][0], "US"
    prefix = ds.split("_")[0]
    country = "EU" if prefix == "eu" else country_code(prefix) if len(prefix) == 2 else None
    return f"ftm-list:{slug(ds)}", f"{ds} (OpenSanctions dataset)", country


def _list_nodes(list_id: str, data: dict, src_id: str, have: set[str]) -> list[Node]:
    """The SanctionsList node (and the lists Source) the first time a list is used."""
    if list_id in have:
        return []
    have.add(list_id)
    if list_id in lists.LISTS:
        out = [lists.list_node(list_id)]
        if lists.SOURCE_ID not in have:
            have.add(lists.SOURCE_ID)
            out.insert(0, lists.source_node())
        return out
    if "_name" in data:
        name, country = data["_name"], data["_country"]
    else:
        _, name, country = _sanction_list(data)
    props = {"id": list_id, "name": name, "country": country, "sources": [src_id]}
    auth = ((data.get("properties") or {}).get("authority") or [None])[0]
    if auth:
        props["authority"] = auth
    return [Node("SanctionsList", {k: v for k, v in props.items() if v})]


def _rel(data: dict, src_id: str, labels: dict, known: Mapping[str, str], file: str, rec: str) -> list:
    schema = data["schema"]
    try:
        proxy = model.get_proxy(data, cleaned=True)
    except InvalidData:
        return [Rejected(file, rec, "schema", f"unknown FtM schema {schema!r}", data)]
    ends = {"Ownership": ("owner", "asset"), "Directorship": ("director", "organization"),
            "Sanction": ("entity", None)}[schema]
    found = {}
    for role in ends:
        if role is None:
            continue
        vals = proxy.get(role)
        if not vals:
            return [Rejected(file, rec, role, f"{schema} has no {role}", data)]
        label = labels.get(vals[0]) or known.get(f"ftm:{vals[0]}")
        if not label:
            return [Rejected(file, rec, role, f"{role} {vals[0]} is not in this file", data)]
        found[role] = (f"ftm:{vals[0]}", label)
    props: dict[str, Any] = {"id": f"ftm:{proxy.id}", "sources": [src_id]}
    try:
        got = _dates(proxy, "startDate", "endDate", "listingDate")
    except _BadDate as e:
        return [Rejected(file, rec, e.field, str(e), data)]
    start, end = got["startDate"][0], got["endDate"][0]
    src, src_label = found[ends[0]]
    if schema == "Ownership":
        dst, dst_label = found["asset"]
        pct = proxy.get("percentage")
        if pct:
            try:
                props.update(_share(pct[0]))
            except ValueError as e:
                return [Rejected(file, rec, "share", str(e), data)]
        props.update(start=start, end=end)
        rel = Rel("OWNS", src, src_label, dst, dst_label, props)
    elif schema == "Directorship":
        dst, dst_label = found["organization"]
        props.update(role=(proxy.get("role") or ["director"])[0], start=start, end=end)
        rel = Rel("OFFICER_OF", src, src_label, dst, dst_label, props)
    else:
        list_id = _sanction_list(data)[0]
        since = got["listingDate"][0] or start
        reason = "; ".join(dict.fromkeys(proxy.get("reason") + proxy.get("program")))
        props.update(since=since, until=end, reason=reason or None,
                     notice="; ".join(proxy.get("provisions")) or None)
        rel = Rel("LISTED_ON", src, src_label, list_id, "SanctionsList", props)
    return check([rel], file, rec, data)


