"""Small helpers shared by the ingesters (written for `ingest.csl`, `ingest.ofac`, `ingest.uslists`).

Reading files whose encoding nobody declared, splitting CSV without losing the
rest of the file to one broken quote, dates in the half-dozen forms US lists
use, Federal Register citations, countries, identifiers, a label guess for
names without a type, and the validate-or-reject step every row goes through.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import unicodedata
from pathlib import Path
from typing import Any, Iterable, Iterator

import charset_normalizer
import pycountry
from normality import squash_spaces
from rigour.ids import ISIN, LEI, USCC
from rigour.names import extract_org_types
from rigour.territories import lookup_territory

from graph.schema import SCHEMA, SchemaError, validate_node, validate_rel
from ingest.records import Node, Rejected, Rel

# ---------------------------------------------------------------- reading


def read_text(path: str | Path) -> tuple[str, str]:
    """The file's text and the encoding used.

    UTF-8 (with or without BOM) first, because it is what most files are and a
    detector can mistake short UTF-8 for something else; otherwise
    charset-normalizer's best guess (GBK, cp1252, ...). Undecodable bytes are
    kept as lone surrogates (`surrogateescape`) so the rows holding them can
    be rejected one by one instead of failing the whole file.
    """
    data = Path(path).read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", "surrogateescape"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Valid multi-byte UTF-8 next to a few bad bytes: a UTF-8 file with stray
    # bytes, so only the rows holding them are bad. No valid multi-byte
    # sequence at all: a legacy encoding, which the detector names.
    text = data.decode("utf-8", "surrogateescape")
    bad = sum(1 for ch in text if "\udc80" <= ch <= "\udcff")
    good = sum(1 for ch in text if ord(ch) > 127 and not "\udc80" <= ch <= "\udcff")
    if good and bad <= max(3, good // 20):
        return text, "utf-8"
    best = charset_normalizer.from_bytes(data).best()
    enc = best.encoding if best else "cp1252"
    if best and "cp1252" in best.could_be_from_charset:
        enc = "cp1252"  # same text, and the code page US government files are written in
    return data.decode(enc, "surrogateescape"), enc


def undecodable(value: Any) -> bool:
    """True if a decoded string still holds bytes that did not decode."""
    return isinstance(value, str) and any("\udc80" <= ch <= "\udcff" for ch in value)


CSV_FIELD_LIMIT = 1_000_000  # characters; longer is not data (a 5 MB name cell is rejected with its row)


def csv_records(text: str, ncols: int | None = None, max_span: int = 30
                ) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """Yield (line number, fields, error) for each CSV record of `text`.

    A record may span lines (quoted newlines). A broken quote would make the
    csv module swallow the rest of the file into one field, so a record is
    grown line by line only while it parses and is still inside quotes; when
    that fails, the first line alone is reported and reading resumes on the
    next line. `ncols`, when given, is the expected number of fields.
    """
    lines = io.StringIO(text, newline="").readlines()
    i = 0
    while i < len(lines):
        if not lines[i].strip() or lines[i].strip() == "\x1a":  # blank line, DOS end-of-file mark
            i += 1
            continue
        error = None
        for j in range(i + 1, min(i + max_span, len(lines)) + 1):
            # the csv module's field limit is process-wide and other libraries change it
            # (followthemoney sets 30 MB on import): set ours for this read only
            prev = csv.field_size_limit(CSV_FIELD_LIMIT)
            try:
                rows = list(csv.reader(lines[i:j], strict=True))
            except csv.Error as e:
                if "field larger than field limit" in str(e):
                    error = f"broken CSV quoting or a field longer than {CSV_FIELD_LIMIT:,} characters"
                    break
                if "unexpected end of data" in str(e) and j < len(lines):
                    continue  # inside a quoted field: take the next line too
                error = f"broken CSV quoting: {e}"
                break
            finally:
                csv.field_size_limit(prev)
            if len(rows) == 1 and (ncols is None or len(rows[0]) == ncols):
                yield i + 1, rows[0], None
                i = j
                break
            if len(rows) == 1 and j == i + 1:
                error = f"expected {ncols} columns, found {len(rows[0])}"
            else:
                error = error or "broken CSV quoting"
            break
        else:
            error = "broken CSV quoting: unterminated quoted field"
        if error:
            yield i + 1, None, error
            i += 1


# ---------------------------------------------------------------- text


# Control characters, zero-width marks, BOMs. C1 controls are what a cp1252
# character becomes when cp1252 was read as Latin-1 (the CSL's "HA\x92Assif"),
# so they get their cp1252 meaning back.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")


def _control(m: re.Match) -> str:
    ch = m.group(0)
    if "\x80" <= ch <= "\x9f":
        try:
            return bytes([ord(ch)]).decode("cp1252")
        except UnicodeDecodeError:
            pass
    return " "


def clean(value: Any) -> str | None:
    """Collapse whitespace, drop control characters, NFC; None for empty and OFAC's `-0-`."""
    if value is None:
        return None
    text = squash_spaces(unicodedata.normalize("NFC", _CONTROL.sub(_control, str(value))))
    if not text or text == "-0-":
        return None
    return text


def split_list(value: Any, sep: str = ";") -> list[str]:
    """`"A; B; and C."` -> `["A", "B", "C"]` (list enumerations end with "and X.")."""
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(sep)
    out = []
    for item in items:
        item = clean(item)
        if not item:
            continue
        item = re.sub(r"^and\s+", "", item).rstrip(" ;,")
        if item.endswith(".") and not re.search(r"\b(?:Ltd|Inc|Co|Corp|S\.A|L\.L\.C|Jr|Sr)\.$", item):
            item = item[:-1]
        if item:
            out.append(item)
    return list(dict.fromkeys(out))


def paren_aliases(name: str) -> list[str]:
    """Short forms in a trailing parenthesis: `Academy of ... (AASPT)` -> `["AASPT"]`."""
    m = re.search(r"\(([^()]{2,40})\)\s*$", name)
    if not m:
        return []
    inner = m.group(1).strip()
    inner = re.sub(r"^(?:a\.?k\.?a\.?|formerly|f\.k\.a\.)\s+", "", inner, flags=re.I)
    if re.fullmatch(r"[A-Z0-9][A-Za-z0-9&\- .]*", inner) and len(inner.split()) <= 4:
        return [inner]
    return []


# ---------------------------------------------------------------- dates

_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d %b %Y", "%d %B %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y",
                 "%Y/%m/%d", "%d-%b-%Y")


def parse_date(value: Any) -> str | None:
    """An ISO date from the forms US lists use, None when empty; ValueError otherwise.

    2019-10-09, 10/09/2019, 10/9/19 (two-digit years: 00-49 -> 20xx, 50-99 -> 19xx,
    which covers every list date since 1950), 03 Jun 2021, June 21, 2022.
    """
    text = clean(value)
    if not text:
        return None
    text = text.rstrip(".").replace("Sept ", "Sep ")
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{2})", text)
    if m:
        yy = int(m.group(3))
        text = f"{m.group(1)}/{m.group(2)}/{2000 + yy if yy < 50 else 1900 + yy}"
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?", text)
    if m:  # timestamps from JSON APIs: keep the date part
        text = f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    raise ValueError(f"unreadable date {value!r}")


# ---------------------------------------------------------------- Federal Register

_DATE_RX = (r"\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2}|"
            r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2}, \d{4}")
_FR = re.compile(r"(?P<vol>\d{1,3})\s*F\.?\s?R\.?\s*(?P<page>\d{1,3}(?:,\d{3})+|\d+)"
                 r"(?:\s*\(no\.\s*\d+\))?(?:[\s,]*\(?(?P<date>" + _DATE_RX + r")\)?)?", re.I)
_VOL = re.compile(r"Vol(?:ume)?\.?,?\s*(?P<vol>\d+),?\s*No\.?\s*(?P<no>\d+)(?:[\s,;]*(?P<date>" + _DATE_RX + r"))?",
                  re.I)


def fr_citations(value: Any, fallback: bool = True) -> list[tuple[str, str | None]]:
    """Federal Register citations in a free-text field: [(citation, ISO date or None)].

    `84 FR 54004, 10/9/19` -> ("84 FR 54004", "2019-10-09");
    `82 F.R. 48792 10/20/2017` -> ("82 FR 48792", "2017-10-20");
    `Vol. 83, No. 91, 05/10/2018` -> ("Vol. 83, No. 91", "2018-05-10").
    A date that does not parse leaves the citation without a date.
    Text with no recognisable citation comes back whole, without a date
    (nothing, with `fallback=False`).
    """
    text = clean(value)
    if not text:
        return []
    found: list[tuple[int, str, str | None]] = []
    for rx, fmt in ((_FR, "{vol} FR {page}"), (_VOL, "Vol. {vol}, No. {no}")):
        for m in rx.finditer(text):
            parts = {k: (v or "").replace(",", "") for k, v in m.groupdict().items()}
            try:
                date = parse_date(m.group("date"))
            except ValueError:
                date = None
            found.append((m.start(), fmt.format(**parts), date))
    if not found:
        return [(text, None)] if fallback else []
    found.sort()
    return list(dict.fromkeys((c, d) for _, c, d in found))


def notice_text(citations: list[tuple[str, str | None]]) -> str | None:
    """`84 FR 54004 (2019-10-09); 85 FR 34505 (2020-06-05)`."""
    out = [f"{c} ({d})" if d else c for c, d in citations]
    return "; ".join(dict.fromkeys(out)) or None


# ---------------------------------------------------------------- countries


def country_code(value: Any) -> str | None:
    """ISO 3166-1 alpha-2 for a country name or code (`China`, `CN`, `Burma`, `Hong Kong`), else None."""
    text = clean(value)
    if not text:
        return None
    if re.fullmatch(r"[A-Za-z]{2}", text):
        code = text.upper()
    else:
        terr = lookup_territory(text)
        if terr is None:
            return None
        code = terr.code.upper()
    if code == "XK" or pycountry.countries.get(alpha_2=code) is not None:
        return code
    return None


def address_country(address: Any) -> str | None:
    """The country of an address ending in a country code or name (`..., Hangzhou, CN`)."""
    text = clean(address)
    if not text:
        return None
    last = text.rstrip(". ").rsplit(",", 1)[-1].strip()
    return country_code(last)


def single(values: Iterable[str | None]) -> str | None:
    """The one value all non-null entries agree on, else None (we only state what is certain)."""
    vals = {v for v in values if v}
    return vals.pop() if len(vals) == 1 else None


# ---------------------------------------------------------------- identifiers

# How lists label identifiers -> our `scheme:` prefix. Lower-cased, trailing `:`/`.` dropped.
ID_SCHEMES = {
    "isin": "isin", "equity ticker": "ticker", "legal entity number": "lei", "lei": "lei",
    "unified social credit code (uscc)": "uscc", "uscc": "uscc",
    "registration number": "reg", "registration id": "reg", "business registration number": "reg",
    "public registration number": "reg", "company number": "reg", "commercial registry number": "reg",
    "business number": "reg", "matricula mercantil no": "reg", "chamber of commerce number": "reg",
    "tax id no": "taxid", "nit #": "taxid", "v.a.t. number": "vat", "vat number": "vat",
    "swift/bic": "bic", "website": "website", "vessel registration identification": "imo",
    "government gazette number": "gazette", "passport": "passport", "national id no": "nationalid",
    "cage code": "cage", "d-u-n-s number": "duns", "aircraft serial identification": "msn",
}


def id_scheme(label: Any) -> str | None:
    text = (clean(label) or "").lower().rstrip(":. ")
    text = re.sub(r"^alt\.\s*", "", text)
    return ID_SCHEMES.get(text)


def identifier(scheme: str, value: Any) -> str | None:
    """`scheme:value`, or None when a checked identifier fails its check digit."""
    text = clean(value)
    if not text:
        return None
    text = text.strip(" .;")
    if scheme == "isin":
        text = ISIN.normalize(text) or ""
    elif scheme == "uscc":
        text = USCC.normalize(text) or ""
    elif scheme == "lei":
        text = LEI.normalize(text) or ""
    elif scheme == "imo":
        text = re.sub(r"^IMO\s*", "", text, flags=re.I)
    elif scheme == "website":
        text = re.sub(r"^https?://", "", text, flags=re.I).rstrip("/").lower()
    return f"{scheme}:{text}" if text else None


# ---------------------------------------------------------------- labels

_UNIVERSITY = re.compile(r"\buniversit|\buniversidad|\bcollege\b", re.I)
_ACADEMY = re.compile(r"\bacademy\b|\bakademi", re.I)
_INSTITUTE = re.compile(r"\binstitut|\bresearch (?:center|centre)\b|\blaborator(?:y|ies)\b", re.I)
_GOV = [  # (pattern, GovernmentBody kind); first match wins
    (r"\bministry\b|\bministerstvo\b", "ministry"),
    (r"\bpolice\b|\bpublic security\b", "police"),
    (r"\bstate security\b|\bintelligence\b", "security"),
    (r"\bpeople'?s liberation army\b|\bPLA\b|\barmy\b|\bnavy\b|\bair force\b|\bregiment\b|\bbrigade\b|"
     r"\bmilitary (?:unit|district|region)\b|\bguard corps\b|\brocket force\b", "military"),
    (r"\bgovernment\b", "government"),
    (r"\bpenitentiary\b|\bprison\b|\bdetention\b|\bcorps\b", "other"),
]
# Words that make a state body only when no company word says otherwise
# ("Guangzhou Waterway Bureau" of a company, Russian design bureaus are firms).
_GOV_WEAK = re.compile(r"\bcommission\b|(?<!design )\bbureau\b|\badministration\b|\bagency\b|\bdepartment\b|"
                       r"\bdirectorate\b", re.I)
_COMPANY = re.compile(r"\b(?:company|corporation|corp|group|holdings?|enterprises?)\b", re.I)
_ORG_WORDS = re.compile(
    r"\b(?:company|companies|corporation|corp|group|holdings?|limited|trading|trade|international|industr\w*|"
    r"technolog\w*|electronic\w*|services?|logistics|consulting|airlines?|aviation|shipping|bank|enterprises?|"
    r"import|export|systems?|engineering|solutions|partners|associates|works|factory|cent(?:er|re)|suppl\w*|"
    r"products|global|establishment|organi[sz]ation|foundation|network|equipment|machinery|metals?|petroleum|"
    r"oil|gas|energy|chemicals?|pharma\w*|labs?|firm|office|store|shop|agency|develop\w*|investment|capital|"
    r"fund|trust|union|airways|results|technik|digital|vertrieb\w*|\w+\.(?:com|net|org)|"
    r"s\.?a\.?|gmbh|ag|b\.?v\.?|fze|fzco|fzc|llc|ltd|inc|co|jsc|ojsc|cjsc|pjsc|ooo|oao|zao)\b",
    re.I)


def guess_label(name: str, type_field: Any = None, person_hint: bool = False) -> tuple[str, str | None]:
    """(label, kind) for a listed name. `type_field` is the list's own type column, if any.

    Individuals -> Person; vessels and aircraft -> Company kind `other`; names
    with a legal form (Co., Ltd., LLC, OOO...) -> Company; University/College
    -> University; Academy -> University `academy`; Institute/laboratory ->
    University `institute`; Ministry/Police/Army/Government... ->
    GovernmentBody, and so do Bureau/Commission/Agency/Department unless a
    company word (Company, Corporation, Group) is in the name; anything else
    -> Company, or Person when `person_hint`
    (lists of mostly individuals without a type column: DPL, ITAR debarred)
    and the name has no organisation word in it.
    """
    t = (clean(type_field) or "").lower()
    if t in ("individual", "person"):
        return "Person", None
    if t in ("vessel", "aircraft"):
        return "Company", "other"
    base = re.sub(r"\s*\([^()]*\)\s*$", "", name or "")
    if extract_org_types(base):
        return "Company", None
    if _UNIVERSITY.search(name):
        return "University", "university"
    if _ACADEMY.search(name):
        return "University", "academy"
    if _INSTITUTE.search(name):
        return "University", "institute"
    for rx, kind in _GOV:
        if re.search(rx, name, re.I):
            return "GovernmentBody", kind
    if _GOV_WEAK.search(name) and not _COMPANY.search(name):
        return "GovernmentBody", "agency"
    if person_hint and not _ORG_WORDS.search(name) and not re.search(r"\d", name) \
            and 2 <= len(re.findall(r"[^\W\d_]+", name)) <= 6:
        return "Person", None
    return "Company", None


# ---------------------------------------------------------------- records


def source(id: str, name: str, *, title: str | None = None, publisher: str | None = None, url: str | None = None,
           date: str | None = None, kind: str = "list", locator: str | None = None) -> Node:
    props = {"id": id, "name": name, "title": title or name, "publisher": publisher, "url": url,
             "date": date, "kind": kind, "locator": locator, "sources": [id]}
    for _ in range(len(props)):
        try:
            return Node("Source", validate_node("Source", props))
        except SchemaError as e:
            # A Source describes the file; its publisher, URL or title may come from the data (a BODS
            # publisher, a 13F filer name). A value the schema refuses is left out (or, for the name
            # and title, cut and cleaned) rather than costing the whole file.
            v = props.get(e.field or "")
            if e.field in ("publisher", "url", "date", "locator") and v is not None:
                props[e.field] = None
            elif e.field in ("name", "title") and isinstance(v, str):
                fixed = v.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")[:1000]
                if fixed == v:
                    raise
                props[e.field] = fixed
            else:
                raise
    return Node("Source", validate_node("Source", props))


def listed_on(entity: Node, list_id: str, sources: list[str], key: str, **props: Any) -> Rel:
    """A designation: entity -LISTED_ON-> SanctionsList, keyed per listing."""
    props = {k: v for k, v in props.items() if v not in (None, "", [])}
    return Rel("LISTED_ON", entity.id, entity.label, list_id, "SanctionsList",
               {"sources": list(sources), **props}, key=key)


class BadValue(ValueError):
    """A value that cannot be read; `field` names the column or property for the quarantine."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def timestamp_date(text: str, field: str) -> str:
    """The date of an ISO date or timestamp ("2012-06-06T15:53:00.000Z" -> "2012-06-06"); BadValue otherwise."""
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})(?:[T ][\d:.]*(?:Z|[+-]\d{2}:?\d{2})?)?", text)
    try:
        if not m:
            raise ValueError
        dt.date.fromisoformat(m.group(1))
    except ValueError:
        raise BadValue(field, f"{field} is not an ISO date: {text!r}") from None
    return m.group(1)


def check(records: list, file: str, record: str, raw: Any = None) -> list:
    """Validate a row's nodes and relationships together: all of them, or one Rejected.

    Returns the records with normalised properties (nulls dropped) and
    `origin` set to `record` (unless already set), or `[Rejected]` naming
    the first offending property.
    """
    out = []
    for r in records:
        try:
            if isinstance(r, Node):
                out.append(Node(r.label, validate_node(r.label, r.props), origin=r.origin or record))
            elif isinstance(r, Rel):
                props = validate_rel(r.type, r.src_label, r.dst_label, r.props)
                out.append(Rel(r.type, r.src, r.src_label, r.dst, r.dst_label, props, r.key,
                               origin=r.origin or record))
            else:
                out.append(r)
        except SchemaError as e:
            return [Rejected(file=file, record=record, field=e.field, reason=str(e), raw=raw)]
    return out


def merge_props(old: dict, new: dict) -> dict:
    """Merge two statements about one node: lists united, differing addresses kept, countries must agree."""
    out = dict(old)
    for k, v in new.items():
        if v in (None, "", []):
            continue
        if k not in out or out[k] in (None, "", []):
            out[k] = v
        elif isinstance(out[k], list):
            out[k] = list(dict.fromkeys([*out[k], *v]))
        elif k == "address" and v not in out[k]:
            out[k] = f"{out[k]}; {v}"
        elif k in ("country", "nationality") and out[k] != v:
            out[k] = None
    return {k: v for k, v in out.items() if v is not None}


class Batch:
    """One file's output: nodes merged by id, relationships by id, rejects in order.

    Lists repeat a party (the Entity List once per country, the DPL once per
    order); the graph wants one node with every alias and address, and one
    designation per listing.
    """

    def __init__(self):
        self.nodes: dict[str, Node] = {}
        self.rels: dict[str, Rel] = {}
        self.rejected: list[Rejected] = []

    def add(self, records: Iterable) -> None:
        for r in records:
            if isinstance(r, Rejected):
                self.rejected.append(r)
            elif isinstance(r, Node):
                have = self.nodes.get(r.id)
                if have is not None:
                    r = Node(have.label, merge_props(have.props, r.props), have.origin)
                self.nodes[r.id] = r
            elif isinstance(r, Rel):
                have = self.rels.get(r.id)
                if have is None:
                    self.rels[r.id] = r
                else:
                    have.props["sources"] = list(dict.fromkeys([*have.props["sources"], *r.props["sources"]]))

    def __iter__(self):
        yield from self.nodes.values()
        yield from self.rels.values()
        yield from self.rejected


def entity(label: str, kind: str | None = None, **props: Any) -> Node:
    """An entity node with only the properties its label has.

    Labels without an `address` property (Person, University, GovernmentBody)
    keep the address in the description; `kind` is set when the label has it.
    """
    allowed = SCHEMA.nodes[label].props
    desc = [props.pop("description", None)]
    address = props.pop("address", None)
    if address and "address" in allowed:
        props["address"] = address
    elif address:
        desc.append(f"Address: {address}")
    props["description"] = "; ".join(d for d in desc if d) or None
    if kind and "kind" in allowed and kind in allowed["kind"].choices:
        props["kind"] = kind
    props = {k: v for k, v in props.items() if k in allowed and v not in (None, "", [])}
    return Node(label, props)
