"""Fund holdings -> Fund, issuer Company, MANAGES and HOLDS records.

Two inputs, told apart by the file:

1. The holdings template (CSV, see docs/holdings-template.md and
   data/templates/holdings-template.csv). One row per position: a fund's
   holding of one security on one date. Columns `fund` and `issuer_name` are
   required; `fund_id, fund_kind, manager, isin, cusip, ticker, exchange, lei,
   country, weight, weight_unit, value_usd, shares, as_of` are optional.
2. Provider files as in shared/data/fund-holdings-2025-11: `<TICKER>_holdings.json`
   (a list of {ticker, name, sector, country, weight}) next to
   `<TICKER>_fund_metadata.json`.

Ids
- Fund: `fund:<slug of fund_id, else of the fund name>` (provider files: of the ticker).
- Manager: Company kind asset_manager `manager:<slug of its name>` (the 13F
  ingester uses the same rule), -MANAGES-> fund.
- Issuer (Company), first rule that applies:
  `issuer:<ISIN>`; `issuer:cusip:<CUSIP>`;
  `issuer:ticker:<exchange or country or XX>:<TICKER>:<slug of name>`;
  `issuer:name:<slug of name>`.
  The name is part of a ticker id because provider tickers have lost their
  exchange suffix: in VWO, "2330" is both TSMC and Advanced Petrochemical.
  Every identifier goes into `identifiers` for the resolver: `isin:`,
  `cusip:` (also derived from a US/CA ISIN), `lei:`, `ticker:<T>` and
  `ticker:<hint>:<T>`. A bare `ticker:` is not unique: match on it together
  with the name.
- HOLDS fund -> issuer, key `<as_of>|<security>` (security = ISIN, CUSIP or
  ticker), so positions on different dates, and in different securities of
  one issuer, are different relationships.

Rules
- weight: "1.23%" is a percent. A plain number is a fraction (0.0123) unless
  the row's `weight_unit` or the `weight_unit=` option says `percent`; a plain
  number above 1 read as a fraction is rejected, never guessed. Negative
  weights, "-" and other non-numbers are rejected (field `weight`). Provider
  JSON weights are percent (their documented unit).
- value_usd / shares: numbers, thousands separators allowed.
- as_of: ISO YYYY-MM-DD (row, else the `as_of=` option). "10/9/19" is
  rejected: it could be 9 October or 10 September.
- Template: a second row for the same position (fund, issuer, security,
  as_of) is rejected as a duplicate, or as a conflict when its numbers differ.
  Provider files list one security on several lines (VWO lists A-shares
  twice), so their lines for one position are added up.
- Provider files: rows in sector "Cash and/or Derivatives" (cash, FX
  forwards, futures) are not issuers and are skipped. The provider's country
  is a market classification, not the issuer's seat, so it goes into the id
  hint and the description, not into `country`.
- Missing required columns: one Rejected for the file naming them.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any, Iterator

from graph.ids import slug
from ingest import textutil
from ingest.records import Node, Rejected, Rel
from ingest.textutil import clean, country_code, csv_records, identifier, read_text, source

REQUIRED = ("fund", "issuer_name")
OPTIONAL = ("fund_id", "fund_kind", "manager", "isin", "cusip", "ticker", "exchange", "lei", "country", "weight",
            "weight_unit", "value_usd", "shares", "as_of")
CASH_SECTORS = {"cash and/or derivatives"}
# Provider metadata files carry only the ticker; the names of the funds we ship examples for.
KNOWN_FUNDS = {"IEMG": ("iShares Core MSCI Emerging Markets ETF", "BlackRock", "etf"),
               "VWO": ("Vanguard FTSE Emerging Markets ETF", "The Vanguard Group", "etf")}


_Bad = textutil.BadValue


# ---------------------------------------------------------------- values


check = textutil.check  # validates a row's records together and sets their origin

def _number(value: Any, field: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise _Bad(field, f"{field} is not a number: {value!r}")
    if isinstance(value, (int, float)):
        v = float(value)
    else:
        text = str(value).strip().replace("$", "")
        if not re.fullmatch(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?", text):
            raise _Bad(field, f"{field} is not a number: {value!r}")
        v = float(text.replace(",", ""))
    if v != v or v in (float("inf"), float("-inf")):  # NaN, or 1e400 read as infinity
        raise _Bad(field, f"{field} is not a number: {value!r}")
    return v


def _weight(value: Any, unit: str | None) -> float | None:
    """A fraction 0-1 from "1.23%", 0.0123, or 1.23 with unit percent."""
    text = str(value).strip() if value is not None else ""
    if text.endswith("%"):
        v, unit = _number(text[:-1], "weight"), "percent"
    else:
        v = _number(value, "weight")
    if v is None:
        return None
    if v < 0:
        raise _Bad("weight", f"negative weight {value!r}")
    unit = (clean(unit) or "fraction").lower()
    if unit in ("percent", "pct", "%"):
        if v > 100:
            raise _Bad("weight", f"weight {value!r} is more than 100 %")
        v = v / 100
    elif unit != "fraction":
        raise _Bad("weight_unit", f"weight_unit must be fraction or percent, not {unit!r}")
    elif v > 1:
        raise _Bad("weight", f"weight {value!r} is more than 1 as a fraction: write {value}% or set weight_unit=percent")
    return round(v, 12)


def _iso(value: Any, field: str = "as_of") -> str | None:
    text = clean(value)
    if not text:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        dt.date.fromisoformat(text)
    except ValueError:
        raise _Bad(field, f"{field} must be an ISO date YYYY-MM-DD, got {text!r}") from None
    return text


def _cusip_ok(c: str) -> bool:
    total = 0
    for i, ch in enumerate(c[:8]):
        v = int(ch) if ch.isdigit() else ord(ch) - 55 if ch.isalpha() else {"*": 36, "@": 37, "#": 38}.get(ch, -99)
        if v < 0:
            return False
        v = v * 2 if i % 2 else v
        total += v // 10 + v % 10
    return str((10 - total % 10) % 10) == c[8]


def _cusip(value: Any) -> str | None:
    text = (clean(value) or "").upper()
    if not text:
        return None
    if not re.fullmatch(r"[0-9A-Z*@#]{9}", text) or not _cusip_ok(text):
        raise _Bad("cusip", f"not a valid CUSIP: {value!r}")
    return text


# ---------------------------------------------------------------- shared record building

def issuer(name: str, *, isin: str | None = None, cusip: str | None = None, ticker: str | None = None,
           hint: str | None = None, lei: str | None = None) -> tuple[str, str, list[str]]:
    """(node id, security key, identifiers) for an issuer by the documented rule."""
    ids: list[str] = []
    if isin:
        ids.append(f"isin:{isin}")
        if not cusip and isin[:2] in ("US", "CA"):  # North American ISINs embed the CUSIP
            cusip = isin[2:11]
    if cusip:
        ids += [f"cusip:{cusip}", f"cusip6:{cusip[:6]}"]
    if lei:
        ids.append(f"lei:{lei}")
    hint = (hint or "XX").upper()
    if ticker:
        ids += [f"ticker:{ticker}", f"ticker:{hint}:{ticker}"]
    if isin:
        return f"issuer:{isin}", f"isin:{isin}", ids
    if cusip:
        return f"issuer:cusip:{cusip}", f"cusip:{cusip}", ids
    if ticker:
        return f"issuer:ticker:{hint}:{ticker}:{slug(name)}", f"ticker:{hint}:{ticker}", ids
    return f"issuer:name:{slug(name)}", f"name:{slug(name)}", ids


def manager_node(name: str, src_id: str, **extra: Any) -> Node:
    return Node("Company", {"id": f"manager:{slug(name)}", "name": name, "kind": "asset_manager",
                            "sources": [src_id], **{k: v for k, v in extra.items() if v not in (None, "", [])}})


# ---------------------------------------------------------------- parse

def parse(path: str | Path, as_of: str | None = None, weight_unit: str | None = None
          ) -> Iterator[Node | Rel | Rejected]:
    """Yield records for a holdings template CSV or a provider `*_holdings.json` file."""
    path = Path(path)
    if path.is_dir():  # provider files and templates; metadata files are read with their holdings
        for f in sorted(path.iterdir()):
            if f.is_file() and (f.name.endswith("_holdings.json") or f.suffix.lower() == ".csv"):
                yield from parse(f, as_of=as_of, weight_unit=weight_unit)
        return
    try:
        as_of = _iso(as_of)
    except _Bad as e:
        yield Rejected(str(path), "file", "as_of", str(e), as_of)
        return
    if path.suffix.lower() == ".json":
        yield from _provider(path, as_of)
    else:
        yield from _template(path, as_of, weight_unit)


class _Out:
    """One file's records: nodes once per id, HOLDS merged by id, in first-seen order."""

    def __init__(self):
        self.nodes: dict[str, Node] = {}
        self.rels: dict[str, Rel] = {}

    def node(self, n: Node) -> None:
        if n.id not in self.nodes:
            self.nodes[n.id] = n
        else:  # later rows may add identifiers
            have = self.nodes[n.id].props
            for i in n.props.get("identifiers", []):
                if i not in have.setdefault("identifiers", []):
                    have["identifiers"].append(i)

    def add_holding(self, r: Rel) -> None:
        have = self.rels.get(r.id)
        if have is None:
            self.rels[r.id] = r
            return
        for k in ("weight", "value_usd", "shares"):
            if r.props.get(k) is not None:
                have.props[k] = round((have.props.get(k) or 0.0) + r.props[k], 12)

    def __iter__(self):
        yield from self.nodes.values()
        yield from self.rels.values()


def _template(path: Path, as_of: str | None, weight_unit: str | None) -> Iterator:
    file = str(path)
    text, encoding = read_text(path)
    header: list[str] | None = None
    rows: list[tuple[int, dict]] = []
    for line, fields, err in csv_records(text):
        if header is None:
            if err:
                yield Rejected(file, "file", "header", f"unreadable header: {err}")
                return
            header = [re.sub(r"\s+", "_", (h or "").strip().lower()) for h in fields]
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                yield Rejected(file, "file", ", ".join(missing), f"missing required columns: {', '.join(missing)}",
                               fields)
                return
            continue
        if err or len(fields) != len(header):
            rows.append((line, {"_error": err or f"expected {len(header)} columns, found {len(fields)}",
                                "_raw": fields}))
        else:
            rows.append((line, dict(zip(header, fields))))
    if header is None:
        yield Rejected(file, "file", "header", "empty file")
        return
    src_id = f"src:holdings:{slug(path.name)}"
    yield source(src_id, f"Fund holdings: {path.name}", kind="file", date=as_of, locator=path.name)
    out = _Out()
    seen: dict[str, tuple[int, dict]] = {}
    rejected: list[Rejected] = []
    for line, row in rows:
        rec = f"row {line}"
        if "_error" in row:
            rejected.append(Rejected(file, rec, "csv", row["_error"], row["_raw"]))
            continue
        garbled = [k for k, v in row.items() if textutil.undecodable(v)]
        if garbled:
            rejected.append(Rejected(file, rec, garbled[0], f"bytes that are not {encoding} text", row))
            continue
        try:
            recs = _template_row(row, as_of, weight_unit, src_id)
        except _Bad as e:
            rejected.append(Rejected(file, rec, e.field, str(e), row))
            continue
        except Exception as e:  # never let one odd row stop the file
            rejected.append(Rejected(file, rec, "row", f"unreadable: {type(e).__name__}: {e}", row))
            continue
        recs = check(recs, file, rec, row)
        if isinstance(recs[0], Rejected):
            rejected.append(recs[0])
            continue
        holding = recs[-1]
        if holding.id in seen:
            first, props = seen[holding.id]
            same = props == holding.props
            rejected.append(Rejected(file, rec, "row", f"{'duplicate' if same else 'conflicting'} row for the same "
                                     f"position as row {first} (fund, security, as_of); not added", row))
            continue
        seen[holding.id] = (line, holding.props)
        for r in recs[:-1]:
            if isinstance(r, Node):
                out.node(r)
            else:
                out.rels.setdefault(r.id, r)
        out.add_holding(holding)
    yield from out
    yield from rejected


def _template_row(row: dict, as_of: str | None, weight_unit: str | None, src_id: str) -> list:
    fund = clean(row.get("fund"))
    if not fund:
        raise _Bad("fund", "fund is empty")
    name = clean(row.get("issuer_name"))
    if not name:
        raise _Bad("issuer_name", "issuer_name is empty")
    isin = None
    if clean(row.get("isin")):
        isin = (identifier("isin", row["isin"]) or "").removeprefix("isin:") or None
        if not isin:
            raise _Bad("isin", f"not a valid ISIN: {row['isin']!r}")
    cusip = _cusip(row.get("cusip"))
    lei = None
    if clean(row.get("lei")):
        lei = (identifier("lei", row["lei"]) or "").removeprefix("lei:") or None
        if not lei:
            raise _Bad("lei", f"not a valid LEI: {row['lei']!r}")
    country = None
    if clean(row.get("country")):
        country = country_code(row["country"])
        if not country:
            raise _Bad("country", f"unknown country {row['country']!r}")
    ticker = (clean(row.get("ticker")) or "").upper() or None
    exchange = (clean(row.get("exchange")) or "").upper() or None
    weight = _weight(row.get("weight"), clean(row.get("weight_unit")) or weight_unit)
    value = _number(row.get("value_usd"), "value_usd")
    shares = _number(row.get("shares"), "shares")
    date = _iso(row.get("as_of")) or as_of

    fund_id = f"fund:{slug(clean(row.get('fund_id')) or fund)}"
    fund_props = {"id": fund_id, "name": fund, "sources": [src_id], "kind": clean(row.get("fund_kind"))}
    recs: list = [Node("Fund", {k: v for k, v in fund_props.items() if v})]
    manager = clean(row.get("manager"))
    if manager:
        m = manager_node(manager, src_id)
        recs += [m, Rel("MANAGES", m.id, "Company", fund_id, "Fund", {"sources": [src_id]})]
    iid, security, ids = issuer(name, isin=isin, cusip=cusip, ticker=ticker, hint=exchange or country, lei=lei)
    props = {"id": iid, "name": name, "sources": [src_id], "identifiers": ids, "country": country,
             "listed_exchange": exchange}
    recs.append(Node("Company", {k: v for k, v in props.items() if v not in (None, "", [])}))
    hold = {"sources": [src_id], "weight": weight, "value_usd": value, "shares": shares, "as_of": date}
    recs.append(Rel("HOLDS", fund_id, "Fund", iid, "Company", {k: v for k, v in hold.items() if v is not None},
                    key=f"{date or ''}|{security}"))
    return recs


# ---------------------------------------------------------------- provider JSON

def _provider(path: Path, as_of: str | None) -> Iterator:
    file = str(path)
    try:
        rows = json.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        yield Rejected(file, "file", "json", f"not a holdings JSON file: {e}")
        return
    if isinstance(rows, dict):
        rows = rows.get("holdings") or []
    if not isinstance(rows, list):
        yield Rejected(file, "file", "json", "not a holdings file: expected a list of holdings")
        return
    stem = re.sub(r"_holdings$", "", path.stem, flags=re.I)
    meta_path = path.with_name(f"{stem}_fund_metadata.json")
    meta = {}
    if meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8-sig"))
        except (ValueError, RecursionError) as e:
            yield Rejected(str(meta_path), "file", "json", f"unreadable fund metadata: {e}")
        if not isinstance(meta, dict):
            yield Rejected(str(meta_path), "file", "json", "fund metadata is not a JSON object")
            meta = {}
    ticker = (clean(meta.get("ticker")) or stem).upper()
    known = KNOWN_FUNDS.get(ticker, (None, None, None))
    fund_name = clean(meta.get("name") or meta.get("fund_name")) or known[0] or ticker
    manager = clean(meta.get("manager") or meta.get("provider")) or known[1]
    try:
        as_of = as_of or _iso(meta.get("as_of") or meta.get("date"))
    except _Bad as e:
        yield Rejected(str(meta_path), "file", "as_of", str(e))
        as_of = None

    src_id = f"src:holdings:{slug(path.name)}"
    yield source(src_id, f"{fund_name} holdings ({path.name})", kind="file", publisher=manager, date=as_of,
                 locator=path.name)
    fund_id = f"fund:{slug(ticker)}"
    out = _Out()
    head = [Node("Fund", {k: v for k, v in {"id": fund_id, "name": fund_name, "kind": known[2], "sources": [src_id],
                                             "identifiers": [f"ticker:{ticker}"],
                                             "aliases": [ticker] if fund_name != ticker else None}.items() if v})]
    if manager:
        m = manager_node(manager, src_id)
        head += [m, Rel("MANAGES", m.id, "Company", fund_id, "Fund", {"sources": [src_id]})]
    rejected: list[Rejected] = []
    head = check(head, file, "file")
    for r in head:
        (out.node if isinstance(r, Node) else (lambda x: out.rels.setdefault(x.id, x)))(r)
    for n, row in enumerate(rows, 1):
        rec = f"row {n}"
        try:
            _provider_row(row, rec, fund_id, src_id, as_of, file, out, rejected)
        except Exception as e:  # never let one odd row stop the file
            rejected.append(Rejected(file, rec, "row", f"unreadable: {type(e).__name__}: {e}", row))
    yield from out
    yield from rejected


def _provider_row(row: Any, rec: str, fund_id: str, src_id: str, as_of: str | None, file: str, out: "_Out",
                  rejected: list[Rejected]) -> None:
    """One provider holding -> issuer node and HOLDS (merged into `out`), or a Rejected."""
    if not isinstance(row, dict):
        rejected.append(Rejected(file, rec, "json", "holding is not an object", row))
        return
    if (clean(row.get("sector")) or "").lower() in CASH_SECTORS:
        return
    name = clean(row.get("name"))
    if not name:
        rejected.append(Rejected(file, rec, "name", "holding has no name", row))
        return
    try:
        weight = _weight(row.get("weight"), "percent")
    except _Bad as e:
        rejected.append(Rejected(file, rec, e.field, str(e), row))
        return
    t = clean(row.get("ticker"))
    t = None if t in (None, "-") else t.upper()
    market = clean(row.get("country"))
    hint = country_code(market) if market and market != "-" else None
    iid, security, ids = issuer(name, ticker=t, hint=hint)
    desc = "; ".join(x for x in [f"sector: {row['sector']}" if clean(row.get("sector")) else None,
                                 f"market: {market}" if market and market != "-" else None] if x)
    recs = check([Node("Company", {k: v for k, v in {"id": iid, "name": name, "sources": [src_id],
                                                     "identifiers": ids, "description": desc}.items() if v}),
                  Rel("HOLDS", fund_id, "Fund", iid, "Company",
                      {k: v for k, v in {"sources": [src_id], "weight": weight, "as_of": as_of}.items()
                       if v is not None}, key=f"{as_of or ''}|{security}")], file, rec, row)
    if isinstance(recs[0], Rejected):
        rejected.append(recs[0])
        return
    out.node(recs[0])
    out.add_holding(recs[1])
