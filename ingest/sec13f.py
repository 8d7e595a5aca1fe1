"""SEC Form 13F information tables -> manager Company, issuer Companies and HOLDS.

Input: the information table XML of a 13F-HR filing (namespace
http://www.sec.gov/edgar/document/thirteenf/informationtable, any prefix):
`infoTable` elements with nameOfIssuer, titleOfClass, cusip, figi, value,
shrsOrPrnAmt/{sshPrnamt, sshPrnamtType}, putCall, investmentDiscretion,
otherManager, votingAuthority/{Sole, Shared, None}. A folder (an EDGAR filing
folder) is read file by file. The XML is parsed with defusedxml and DTDs
are refused: a billion-laughs or external-entity file is one Rejected for the
file, never a crash and never a network or disk access.

The filer (an institutional investment manager) is a Company kind
asset_manager, id `manager:<slug of its name>` (the rule of ingest.holdings),
identifier `cik:<CIK without leading zeros>`. Its name, CIK and period come
from, first to last: the `filer_name=` / `cik=` / `as_of=` options, the
filing's `primary_doc.xml` in the same folder (filingManager/name, cik,
reportCalendarOrQuarter, signatureDate), the file name
(`<filer>-2024q2-infotable.xml`, `..._2024-06-30.xml`).

Issuers: Company `issuer:cusip:<CUSIP>` named nameOfIssuer, identifiers
`cusip:`, `cusip6:` (the issuer part of the CUSIP) and `figi:`.
HOLDS manager -> issuer with value_usd, shares (sshPrnamtType SH only; PRN is
a principal amount, not shares) and as_of = the period of report; key
`<as_of>|cusip:<CUSIP>`. Rows for one CUSIP (one per other manager or
discretion type) are added up. Put and call rows are options on the
security, not holdings of it, and are skipped.

`value`: thousands of dollars in filings made before 2023-01-03, whole dollars
from then on (SEC rule change). Decided by, first to last: the
`value_unit=` option ("thousands" / "dollars"); the filing date
(signatureDate in primary_doc.xml); the period of report (on or after
2022-12-31 -> dollars, every such report was filed after the change). With
none of these known, value_usd is left out and one Rejected (field `value`)
says so; shares are still recorded.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Iterator
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from graph.ids import slug
from ingest.holdings import check, issuer, manager_node
from ingest.records import Node, Rejected, Rel
from ingest.textutil import clean, source

DOLLARS_FROM_FILED = "2023-01-03"
DOLLARS_FROM_PERIOD = "2022-12-31"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(el: Element, *path: str) -> str | None:
    """Text of the first descendant chain with these local names, ignoring namespaces."""
    cur = [el]
    for name in path:
        cur = [c for e in cur for c in e.iter() if _local(c.tag) == name and c is not e]
        if not cur:
            return None
    return clean(cur[0].text)


def _us_date(value: str | None) -> str | None:
    """13F dates: MM-DD-YYYY (EDGAR) or ISO."""
    text = clean(value)
    if not text:
        return None
    m = re.fullmatch(r"(\d{2})[-/](\d{2})[-/](\d{4})", text)
    if m:
        text = f"{m.group(3)}-{m.group(1)}-{m.group(2)}"
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return None


def _load(path: Path) -> Element:
    # forbid_dtd: 13F documents never carry a DTD; refusing it stops entity expansion and XXE at the door.
    return DET.parse(str(path), forbid_dtd=True, forbid_entities=True, forbid_external=True).getroot()


def _from_name(path: Path) -> tuple[str | None, str | None]:
    """(filer name, period) guessed from a file name like acme-capital-2024q2-infotable.xml."""
    stem = path.stem
    period = None
    m = re.search(r"(\d{4})[-_]?q([1-4])", stem, re.I)
    if m:
        period = {"1": "03-31", "2": "06-30", "3": "09-30", "4": "12-31"}[m.group(2)]
        period = f"{m.group(1)}-{period}"
    else:
        m = re.search(r"(\d{4})-?(\d{2})-?(\d{2})", stem)
        if m:
            try:
                period = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
            except ValueError:
                m = None
    rest = stem[:m.start()] + stem[m.end():] if m else stem
    rest = re.sub(r"(?i)info_?table|information_?table|form_?13f|13f(?:-?hr)?", " ", rest)
    name = clean(re.sub(r"[-_.]+", " ", rest))
    return name, period


def parse(path: str | Path, as_of: str | None = None, filer_name: str | None = None, cik: str | None = None,
          value_unit: str | None = None) -> Iterator[Node | Rel | Rejected]:
    """Yield records for a 13F information table (or every information table in a folder)."""
    path = Path(path)
    if path.is_dir():
        for f in sorted(path.iterdir()):
            if f.suffix.lower() == ".xml" and f.name.lower() != "primary_doc.xml":
                yield from parse(f, as_of=as_of, filer_name=filer_name, cik=cik, value_unit=value_unit)
        return
    file = str(path)
    try:
        root = _load(path)
    except (DefusedXmlException, ParseError, OSError, LookupError, ValueError) as e:  # LookupError: unknown encoding
        yield Rejected(file, "file", "xml", f"unsafe or unreadable XML, not parsed: {type(e).__name__}: {e}")
        return
    rows = [e for e in root.iter() if _local(e.tag) == "infoTable"]
    if not rows:
        yield Rejected(file, "file", "infoTable", "no infoTable elements: not a 13F information table")
        return

    # Filer and dates: options, then primary_doc.xml, then the file name.
    primary = path.with_name("primary_doc.xml")
    doc_name = doc_cik = doc_period = filed = None
    if primary.exists() and primary != path:
        try:
            doc = _load(primary)
            doc_name = _find(doc, "filingManager", "name")
            doc_cik = _find(doc, "credentials", "cik") or _find(doc, "cik")
            doc_period = _us_date(_find(doc, "reportCalendarOrQuarter") or _find(doc, "periodOfReport"))
            filed = _us_date(_find(doc, "signatureDate"))
        except (DefusedXmlException, ParseError, OSError, LookupError, ValueError) as e:  # LookupError: unknown encoding
            yield Rejected(str(primary), "file", "xml", f"unsafe or unreadable primary_doc.xml: {e}")
    name_guess, period_guess = _from_name(path)
    name = clean(filer_name) or doc_name or name_guess
    if as_of is not None and _us_date(as_of) is None:
        yield Rejected(file, "file", "as_of", f"as_of must be an ISO date YYYY-MM-DD, got {as_of!r}")
        return
    period = _us_date(as_of) or doc_period or period_guess
    cik = re.sub(r"\D", "", str(cik or doc_cik or "")).lstrip("0") or None
    if not name:
        yield Rejected(file, "file", "filer_name", "no filer name: pass filer_name= or add primary_doc.xml")
        return

    unit = (clean(value_unit) or "").lower() or None
    if unit not in (None, "thousands", "dollars"):
        yield Rejected(file, "file", "value_unit", f"value_unit must be thousands or dollars, not {value_unit!r}")
        return
    if unit is None and (filed or period):
        unit = "dollars" if (filed and filed >= DOLLARS_FROM_FILED) or \
            (not filed and period >= DOLLARS_FROM_PERIOD) else "thousands"
    if unit is None:
        yield Rejected(file, "file", "value", "value unit unknown (thousands before 2023, dollars after): "
                                              "pass value_unit= or as_of=; value_usd left out")

    src_id = f"src:sec13f:{slug(cik or name)}:{period or slug(path.name)}"
    yield source(src_id, f"Form 13F information table: {name}" + (f", period {period}" if period else ""),
                 kind="filing", publisher="U.S. Securities and Exchange Commission", date=filed or period,
                 url=f"https://www.sec.gov/cgi-bin/browse-edgar?action=getcompany&CIK={cik}&type=13F" if cik else None,
                 locator=path.name)
    manager = manager_node(name, src_id, identifiers=[f"cik:{cik}"] if cik else None, us_based=None)
    out: list = check([manager], file, "file")
    if not isinstance(out[0], Node):
        yield from out
        return
    yield out[0]

    issuers: dict[str, Node] = {}
    holds: dict[str, Rel] = {}
    rejected: list[Rejected] = []
    for n, row in enumerate(rows, 1):
        rec = f"infoTable {n}"
        raw = {_local(c.tag): clean(c.text) for c in row.iter() if c is not row and clean(c.text)}
        if _find(row, "putCall"):
            continue  # an option on the security, not a holding of it
        cusip = (_find(row, "cusip") or "").upper()
        iname = _find(row, "nameOfIssuer")
        if not re.fullmatch(r"[0-9A-Z*@#]{9}", cusip):
            rejected.append(Rejected(file, rec, "cusip", f"not a CUSIP: {cusip!r}", raw))
            continue
        if not iname:
            rejected.append(Rejected(file, rec, "nameOfIssuer", "no issuer name", raw))
            continue
        try:
            value = _num(_find(row, "value"), "value")
            amount = _num(_find(row, "shrsOrPrnAmt", "sshPrnamt") or _find(row, "sshPrnamt"), "sshPrnamt")
        except ValueError as e:
            rejected.append(Rejected(file, rec, str(e).split(":")[0], str(e), raw))
            continue
        kind = (_find(row, "sshPrnamtType") or "SH").upper()
        iid, security, ids = issuer(iname, cusip=cusip)
        figi = _find(row, "figi")
        if figi:
            ids.append(f"figi:{figi}")
        title = _find(row, "titleOfClass")
        node = Node("Company", {"id": iid, "name": iname, "sources": [src_id], "identifiers": ids,
                                **({"description": f"13F title of class: {title}"} if title else {})}, origin=rec)
        props: dict[str, Any] = {"sources": [src_id], "as_of": period}
        if value is not None and unit:
            props["value_usd"] = value * 1000 if unit == "thousands" else value
        if amount is not None and kind == "SH":
            props["shares"] = amount
        rel = Rel("HOLDS", manager.id, "Company", iid, "Company", {k: v for k, v in props.items() if v is not None},
                  key=f"{period or ''}|{security}", origin=rec)
        checked = check([node, rel], file, rec, raw)
        if isinstance(checked[0], Rejected):
            rejected.append(checked[0])
            continue
        checked[0].origin = rec
        issuers.setdefault(iid, checked[0])
        have = holds.get(rel.id)
        if have is None:
            checked[1].origin = rec
            holds[rel.id] = checked[1]
        else:  # another line for the same security: add up
            for k in ("value_usd", "shares"):
                if checked[1].props.get(k) is not None:
                    have.props[k] = have.props.get(k, 0.0) + checked[1].props[k]
    yield from issuers.values()
    yield from holds.values()
    yield from rejected


def _num(value: str | None, field: str) -> float | None:
    if value is None:
        return None
    text = value.replace(",", "")
    if not re.fullmatch(r"-?\d+(?:\.\d+)?", text):
        raise ValueError(f"{field}: not a number: {value!r}")
    return float(text)
