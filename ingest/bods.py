"""Beneficial Ownership Data Standard (BODS) statements -> techgiants records.

Input: a JSON array of statements (or JSON lines, one statement a line) in
BODS 0.4 (`recordType` entity / person / relationship, `recordId`,
`recordStatus` new / updated / closed, `recordDetails`) or BODS 0.2/0.3
(`statementType` entityStatement / personStatement /
ownershipOrControlStatement, `statementID`, `replacesStatements`).

Nodes (id `bods:<recordId>`; 0.2/0.3 have no record id, so a statement and the
statements that replace it share the id of the latest one):
- entity -> Company; entityType `state` / `stateBody` -> GovernmentBody
  (subtype governmentDepartment -> kind ministry, stateAgency -> agency);
  `arrangement` (trusts) -> Company kind other; anonymous / unknown entities ->
  a placeholder Company named after the stated reason.
- person -> Person (anonymous persons likewise get a placeholder name).
- identifiers `scheme:id` with the scheme lower-cased (`gb-coh:03209885`),
  `XI-LEI` -> `lei:`, securities listings -> `isin:`, `cusip:`, `ticker:`.
  A record stated several times is one node: the latest statement wins.

Relationships (interestedParty -> subject), one per interest:
- shareholding -> OWNS. BODS shares are percentages: exact -> share; minimum /
  exclusiveMinimum -> share_min; maximum / exclusiveMaximum -> share_max, as
  fractions. directOrIndirect (0.3: interestLevel) direct -> direct true,
  indirect -> false, unknown -> null.
- votingRights is dropped when the same statement has a shareholding (it
  restates the shares); otherwise it is treated like the control interests:
- any other interest (boardMember, settlor, otherInfluenceOrControl, ...; a
  missing type counts as unknownInterest): person -> OFFICER_OF role = the
  interest type; entity -> subject PART_OF interested party, kind = the type.
- Dates: startDate / endDate. Successive statements of one record form a
  history per (interest type, direct/indirect): a changed interest ends the
  previous one at its new startDate, or at the statementDate when the
  startDate did not move; an interest missing from a later statement ends at
  that statementDate; a closed record ends its open interests at their
  endDate or the statementDate. Restating the same interest changes nothing.
- An unspecified interested party (inline `{reason, description}`) becomes a
  placeholder node `bods:<relationship recordId>:interestedParty` when the
  relationship has interests; with no interests (a listed company exempt from
  disclosure) the reason goes into the subject's description instead.

Rejected (file, "statement N", field): unreadable statements, a subject or
interested party that names a record not in the file, a share that is not a
number or outside 0-100 (field `share`), a date that is not ISO (field
`startDate` / `endDate`; partial dates such as "1965-11" are dropped, and kept
in a person's description), and anything the graph schema refuses.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

from graph.ids import slug
from ingest import textutil
from ingest.records import Node, Rejected, Rel
from ingest.textutil import clean, country_code, identifier, source

# 0.2/0.3 interest codes whose camelCase form is not the 0.4 code.
OLD_INTERESTS = {"influence-or-control": "otherInfluenceOrControl", "settlor-of-trust": "settlor",
                 "trustee-of-trust": "trustee", "protector-of-trust": "protector",
                 "beneficiary-of-trust": "beneficiaryOfLegalArrangement",
                 "other-influence-or-control-of-trust": "otherInfluenceOrControl",
                 "rights-to-surplus-assets": "rightsToSurplusAssetsOnDissolution"}
# Interests only a natural person can hold: a placeholder party holding one is a Person.
PERSON_INTERESTS = {"seniorManagingOfficial", "boardMember", "boardChair", "settlor", "trustee", "protector",
                    "beneficiaryOfLegalArrangement", "nominee", "nominator"}
ID_SCHEMES = {"XI-LEI": "lei"}
_SHARE_KEYS = (("exact", "share"), ("minimum", "share_min"), ("exclusiveMinimum", "share_min"),
               ("maximum", "share_max"), ("exclusiveMaximum", "share_max"))


_Bad = textutil.BadValue



check = textutil.check  # validates a row's records together and sets their origin

def _date(value: Any, field: str) -> str | None:
    """Full ISO date (timestamps keep the date), None for empty or partial; _Bad otherwise."""
    text = str(value or "").strip()
    if not text or re.fullmatch(r"\d{4}(?:-\d{2})?", text):
        return None
    return textutil.timestamp_date(text, field)


def _pct(value: Any) -> float:
    if isinstance(value, bool):
        raise _Bad("share", f"share is not a number: {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise _Bad("share", f"share is not a number: {value!r}") from None
    if not 0 <= v <= 100 or v != v:
        raise _Bad("share", f"share {value!r} % outside 0-100")
    return round(v / 100, 10)


def _interest_type(value: Any) -> str:
    t = clean(value) or "unknownInterest"
    if "-" in t:  # 0.2/0.3 codes: voting-rights -> votingRights
        t = OLD_INTERESTS.get(t) or re.sub(r"-(\w)", lambda m: m.group(1).upper(), t)
    return t


# ---------------------------------------------------------------- reading

def _load(path: Path) -> list:
    text = path.read_text(encoding="utf-8-sig")
    if text.lstrip().startswith("["):
        return json.loads(text)
    out = []  # JSON lines; a bad line becomes a marker the caller rejects
    for line in text.splitlines():
        if line.strip():
            try:
                out.append(json.loads(line))
            except (ValueError, RecursionError) as e:  # RecursionError: nested too deeply
                out.append(_Bad("json", f"invalid JSON: {e}"))
    return out


def _normalise(st: dict, n: int) -> dict:
    """One statement as {kind, sid, rid, status, date, d (details), old}; _Bad if unusable."""
    if not isinstance(st, dict):
        raise _Bad("statement", "statement is not a JSON object")
    if "recordType" in st:  # 0.4
        kind = st.get("recordType")
        d = st.get("recordDetails") or {}
        sid, rid = st.get("statementId"), st.get("recordId") or st.get("statementId")
        status, old = st.get("recordStatus") or "new", False
    elif "statementType" in st:  # 0.2 / 0.3
        kind = {"entityStatement": "entity", "personStatement": "person",
                "ownershipOrControlStatement": "relationship"}.get(st.get("statementType"))
        d, sid = st, st.get("statementID") or st.get("statementId")
        rid, status, old = sid, "new", True
    else:
        raise _Bad("recordType", "statement has neither recordType (0.4) nor statementType (0.2/0.3)")
    if kind not in ("entity", "person", "relationship"):
        raise _Bad("recordType", f"unknown record type {st.get('recordType') or st.get('statementType')!r}")
    if not rid:
        raise _Bad("recordId", "statement has no recordId / statementID")
    if not isinstance(d, dict):
        raise _Bad("recordDetails", "recordDetails is not an object")
    date = str(st.get("statementDate") or "")[:10]
    return {"n": n, "kind": kind, "sid": sid, "rid": str(rid), "status": status, "date": date, "d": d,
            "old": old, "replaces": st.get("replacesStatements") or [], "raw": st}


def _ref(party: Any, old: bool) -> tuple[str | None, dict | None]:
    """(record id, None) or (None, unspecified {reason, description}) for a subject / interested party."""
    if isinstance(party, str):
        return party, None
    if not isinstance(party, dict):
        return None, {"reason": "unknown"}
    if old:
        for k in ("describedByEntityStatement", "describedByPersonStatement"):
            if party.get(k):
                return str(party[k]), None
        return None, party.get("unspecified") or {"reason": "unknown"}
    return None, party


# ---------------------------------------------------------------- parse

def parse(path: str | Path, as_of: str | None = None) -> Iterator[Node | Rel | Rejected]:
    path = Path(path)
    if path.is_dir():
        for f in sorted(path.iterdir()):
            if f.is_file() and f.suffix.lower() in (".json", ".jsonl"):
                yield from parse(f, as_of=as_of)
        return
    file = str(path)
    try:
        raw = _load(path)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        yield Rejected(file, "file", "json", f"not a BODS JSON file: {e}")
        return
    if isinstance(raw, dict):
        raw = raw.get("statements") or [raw]
    if not isinstance(raw, list):
        yield Rejected(file, "file", "json", "not a BODS file: expected a list of statements")
        return
    stmts: list[dict] = []
    pub: dict = {}
    bad: list[Rejected] = []
    for n, st in enumerate(raw, 1):
        try:
            if isinstance(st, _Bad):
                raise st
            stmts.append(_normalise(st, n))
        except _Bad as e:
            bad.append(Rejected(file, f"statement {n}", e.field, str(e), st if isinstance(st, dict) else None))
            continue
        except Exception as e:  # wrong types (a list as statementType...): reject the statement, keep the file
            bad.append(Rejected(file, f"statement {n}", "statement", f"unreadable statement: {type(e).__name__}: {e}",
                                st if isinstance(st, dict) else None))
            continue
        p = st.get("publicationDetails")
        if isinstance(p, dict) and str(p.get("publicationDate", "")) >= str(pub.get("publicationDate", "")):
            pub = p
    src_id = f"src:bods:{slug(path.name)}"
    publisher = pub.get("publisher") if isinstance(pub.get("publisher"), dict) else {}
    try:
        date = _date(as_of, "as_of") if as_of else _safe_date(pub.get("publicationDate"))
    except _Bad as e:
        yield Rejected(file, "file", e.field, str(e), as_of)
        return
    yield source(src_id, f"BODS statements: {path.name}", kind="dataset", publisher=clean(publisher.get("name")),
                 url=clean(publisher.get("url")), date=date, locator=path.name)
    yield from bad

    # 0.2/0.3: a statement that replaces others continues their record.
    alias: dict[str, str] = {}
    for s in stmts:
        for old_id in s["replaces"]:
            alias[str(old_id)] = s["rid"]

    def final(rid: str) -> str:
        seen = set()
        while rid in alias and rid not in seen:
            seen.add(rid)
            rid = alias[rid]
        return rid

    records: dict[str, list[dict]] = {}
    for s in stmts:
        s["rid"] = final(s["rid"])
        records.setdefault(s["rid"], []).append(s)
    for versions in records.values():
        versions.sort(key=lambda s: (s["date"], s["n"]))  # stable: file order within a date

    # Nodes: the latest statement of each entity / person record.
    labels: dict[str, str] = {}
    nodes: dict[str, Node] = {}
    for rid, versions in records.items():
        s = versions[-1]
        if s["kind"] == "relationship":
            continue
        try:
            out = check([_entity(s, src_id) if s["kind"] == "entity" else _person(s, src_id)],
                        file, f"statement {s['n']}", s["raw"])
        except Exception as e:  # never let one odd statement stop the file
            out = [Rejected(file, f"statement {s['n']}", "recordDetails", f"unreadable: {type(e).__name__}: {e}",
                            s["raw"])]
        if isinstance(out[0], Node):
            labels[rid] = out[0].label
            nodes[rid] = out[0]
        else:
            yield out[0]

    rels: list = []
    for rid, versions in records.items():
        if versions[0]["kind"] == "relationship":
            try:
                rels.extend(_relationships(rid, versions, labels, nodes, src_id, file, final))
            except Exception as e:  # never let one odd statement stop the file
                rels.append(Rejected(file, f"statement {versions[-1]['n']}", "recordDetails",
                                     f"unreadable: {type(e).__name__}: {e}", versions[-1]["raw"]))
    yield from nodes.values()
    yield from rels


def _safe_date(value: Any) -> str | None:
    try:
        return _date(value, "publicationDate")
    except _Bad:
        return None


# ---------------------------------------------------------------- nodes

def _identifiers(d: dict) -> list[str]:
    out = []
    for i in d.get("identifiers") or []:
        if not isinstance(i, dict) or not clean(i.get("id")):
            continue
        scheme = clean(i.get("scheme"))
        scheme = ID_SCHEMES.get(scheme or "") or (scheme.lower() if scheme else slug(i.get("schemeName") or "id"))
        out.append(identifier(scheme, i["id"]))
    listing = d.get("publicListing") or {}
    for sl in listing.get("securitiesListings") or []:
        sec = sl.get("security") or {}
        if sec.get("idScheme") and sec.get("id"):
            out.append(identifier(slug(sec["idScheme"]), sec["id"]))
        if sec.get("ticker"):
            out.append(f"ticker:{sec['ticker']}")
            mic = sl.get("marketIdentifierCode")
            if mic:
                out.append(f"ticker:{mic}:{sec['ticker']}")
    return [i for i in dict.fromkeys(out) if i]


def _unspecified(details: Any, what: str) -> tuple[str, str | None]:
    details = details if isinstance(details, dict) else {}
    reason = clean(details.get("reason")) or "unknown"
    return f"{what} ({reason})", clean(details.get("description"))


def _entity(s: dict, src_id: str) -> Node:
    d, old = s["d"], s["old"]
    et = d.get("entityType")
    etype, subtype, etdetails = (et, None, None) if old or not isinstance(et, dict) else \
        (et.get("type"), et.get("subtype"), et.get("details"))
    if old and isinstance(d.get("entitySubtype"), dict):
        subtype = d["entitySubtype"].get("generalCategory")
    name, notes = clean(d.get("name")), []
    if etype in ("anonymousEntity", "unknownEntity") or not name:
        placeholder, why = _unspecified(d.get("unspecifiedEntityDetails"),
                                        "Anonymous entity" if etype == "anonymousEntity" else "Unknown entity")
        name = name or placeholder
        notes += [why] if why else []
    juris = d.get("jurisdiction") or d.get("incorporatedInJurisdiction") or {}
    props: dict[str, Any] = {"id": f"bods:{s['rid']}", "name": name, "sources": [src_id],
                             "aliases": [a for a in d.get("alternateNames") or [] if a != name],
                             "identifiers": _identifiers(d)}
    code = clean(juris.get("code")) if isinstance(juris, dict) else None
    if code:
        props["country"] = country_code(code[:2])
    if etype in ("state", "stateBody"):
        label = "GovernmentBody"
        props["kind"] = {"governmentDepartment": "ministry", "stateAgency": "agency"}.get(
            subtype, "government" if etype == "state" else "other")
        if etype == "state":
            props["level"] = "national"
    else:
        label = "Company"
        if etype == "arrangement":
            props["kind"] = "other"
            notes.insert(0, "arrangement" + (f": {subtype}" if subtype else "") + (f" ({etdetails})" if etdetails else ""))
        props["founded"] = _safe_date(d.get("foundingDate"))
        addr = [a.get("address") for a in d.get("addresses") or [] if isinstance(a, dict) and a.get("address")]
        if addr:
            props["address"] = clean(addr[0])
        listing = d.get("publicListing") or {}
        exchanges = [sl.get("stockExchangeName") for sl in listing.get("securitiesListings") or []]
        if any(exchanges):
            props["listed_exchange"] = "; ".join(dict.fromkeys(e for e in exchanges if e))
    if d.get("dissolutionDate"):
        notes.append(f"dissolved {d['dissolutionDate']}")
    if notes:
        props["description"] = "; ".join(notes)
    return Node(label, {k: v for k, v in props.items() if v not in (None, "", [])})


def _person(s: dict, src_id: str) -> Node:
    d = s["d"]
    ranked = []
    for nm in d.get("names") or []:
        if not isinstance(nm, dict):
            continue
        full = clean(nm.get("fullName")) or clean(" ".join(filter(None, [nm.get("givenName"), nm.get("familyName")])))
        if full:
            ranked.append((nm.get("type") != "legal", full))  # legal names first
    names = [n for _, n in sorted(ranked, key=lambda x: x[0])]
    notes = []
    if names:
        name = names[0]
    else:
        name, why = _unspecified(d.get("unspecifiedPersonDetails"),
                                 "Anonymous person" if d.get("personType") == "anonymousPerson" else "Unknown person")
        notes += [why] if why else []
    props: dict[str, Any] = {"id": f"bods:{s['rid']}", "name": name, "sources": [src_id],
                             "aliases": [n for n in dict.fromkeys(names) if n != name],
                             "identifiers": _identifiers(d)}
    birth = d.get("birthDate")
    props["birth_date"] = _safe_date(birth)
    if birth and not props["birth_date"]:
        notes.append(f"birth date {birth}")
    for nat in d.get("nationalities") or []:
        code = country_code((nat or {}).get("code")) if isinstance(nat, dict) else None
        if code:
            props["nationality"] = code
            break
    if notes:
        props["description"] = "; ".join(notes)
    return Node("Person", {k: v for k, v in props.items() if v not in (None, "", [])})


# ---------------------------------------------------------------- relationships

def _interests(s: dict, file: str) -> tuple[list[dict], list[Rejected]]:
    """The statement's interests as {type, direct, values, start, end}; bad ones rejected."""
    out, bad = [], []
    raw = s["d"].get("interests") or []
    types = [_interest_type(i.get("type")) for i in raw if isinstance(i, dict)]
    for j, i in enumerate(raw):
        if not isinstance(i, dict):
            bad.append(Rejected(file, f"statement {s['n']}", "interests", f"interest {j} is not an object", i))
            continue
        itype = _interest_type(i.get("type"))
        if itype == "votingRights" and "shareholding" in types:
            continue  # restates the shareholding
        level = i.get("directOrIndirect") or i.get("interestLevel")
        try:
            values: dict[str, float] = {}
            share = i.get("share")
            if itype == "shareholding" and share not in (None, {}):
                if not isinstance(share, dict):
                    raise _Bad("share", f"share is not an object: {share!r}")
                for k, ours in _SHARE_KEYS:
                    if share.get(k) is not None and ours not in values:
                        values[ours] = _pct(share[k])
                if "share" in values:  # an exact share makes the bounds redundant
                    values = {"share": values["share"]}
                if "share" not in values and values.get("share_min") is not None \
                        and values.get("share_min") == values.get("share_max"):
                    values = {"share": values["share_min"]}
            start, end = _date(i.get("startDate"), "startDate"), _date(i.get("endDate"), "endDate")
        except _Bad as e:
            bad.append(Rejected(file, f"statement {s['n']}", e.field, f"interest {j} ({itype}): {e}", i))
            continue
        out.append({"type": itype, "direct": {"direct": True, "indirect": False}.get(level),
                    "values": values, "start": start, "end": end})
    return out, bad


def _history(versions: list[dict], file: str) -> tuple[list[dict], list[Rejected]]:
    """The dated segments of one relationship record's interests, per (type, direct) (rules in the module doc)."""
    segments: list[dict] = []
    bad: list[Rejected] = []
    current: dict[tuple, dict] = {}
    for s in versions:
        got, rejected = _interests(s, file)
        bad.extend(rejected)
        when = _safe_date(s["date"])
        seen = set()
        for i in got:
            which = (i["type"], i["direct"])
            seen.add(which)
            cur = current.get(which)
            if cur and cur["values"] == i["values"] and i["start"] in (None, cur["start"]):
                cur["end"] = i["end"] or cur["end"]  # a restatement, perhaps now with its end
                cur["n"] = s["n"]
                continue
            if cur:  # changed: the old segment ends where the new one starts
                moved = i["start"] and (cur["start"] is None or i["start"] > cur["start"])
                boundary = i["start"] if moved else when
                cur["end"] = cur["end"] or boundary
                segments.append(current.pop(which))
                if not moved:
                    i = {**i, "start": boundary}
            current[which] = {**i, "n": s["n"]}
        for which in list(current):  # dropped from this statement, or the record is closed
            if which not in seen or s["status"] == "closed":
                current[which]["end"] = current[which]["end"] or when
                segments.append(current.pop(which))
    return segments + list(current.values()), bad


def _relationships(rid: str, versions: list[dict], labels: dict, nodes: dict, src_id: str, file: str,
                   final) -> list:
    segments, out = _history(versions, file)
    last = versions[-1]

    # Endpoints from the latest statement of the record.
    d = last["d"]
    rec = f"statement {last['n']}"
    subj, _ = _ref(d.get("subject"), last["old"])
    party, party_unspec = _ref(d.get("interestedParty"), last["old"])
    subj, party = subj and final(subj), party and final(party)  # 0.2/0.3: may name a replaced statement
    for role, ref in (("subject", subj), ("interestedParty", party)):
        if ref and ref not in labels:
            return out + [Rejected(file, rec, role, f"{role} references record {ref} which is not in this file",
                                   last["raw"])]
    if subj is None:
        return out + [Rejected(file, rec, "subject", "relationship has no subject entity", last["raw"])]
    if party is None:
        reason, why = _unspecified(party_unspec, "Unspecified interested party")
        if not segments:
            node = nodes[subj]
            note = f"Beneficial owners not disclosed: {why or reason}"
            desc = node.props.get("description")
            node.props["description"] = f"{desc}; {note}" if desc else note
            return out
        label = "Person" if any(seg["type"] in PERSON_INTERESTS for seg in segments) else "Company"
        party = f"{rid}:interestedParty"
        holder = {"id": f"bods:{party}", "name": reason, "sources": [src_id], "description": why,
                  "kind": "other" if label == "Company" else None}
        placeholder = check([Node(label, {k: v for k, v in holder.items() if v})], file, rec, last["raw"])
        out.extend(placeholder)
        if not isinstance(placeholder[0], Node):
            return out
        labels[party] = label
    s_id, s_label, p_id, p_label = f"bods:{subj}", labels[subj], f"bods:{party}", labels[party]
    for seg in segments:
        key = f"{rid}|{seg['type']}|{seg['direct']}|{seg['start'] or ''}"
        props: dict[str, Any] = {"sources": [src_id], "start": seg["start"], "end": seg["end"]}
        if seg["type"] == "shareholding":
            rel = Rel("OWNS", p_id, p_label, s_id, s_label, {**props, **seg["values"], "direct": seg["direct"]},
                      key=key)
        elif p_label == "Person":
            rel = Rel("OFFICER_OF", p_id, p_label, s_id, s_label, {**props, "role": seg["type"]}, key=key)
        else:
            rel = Rel("PART_OF", s_id, s_label, p_id, p_label, {**props, "kind": seg["type"]}, key=key)
        out.extend(check([rel], file, f"statement {seg['n']}", last["raw"]))
    return out

