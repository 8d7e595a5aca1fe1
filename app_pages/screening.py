"""Portfolio screening: read a holdings CSV, match positions to graph entities, report exposure.

Reading uses the documented holdings template (ingest.holdings.parse, docs/holdings-template.md)
when that module is present, else a plain reader of the columns fund, issuer_name, isin,
ticker, weight. Matching tries identifiers first (ISIN, CUSIP, LEI, then tickers), then the
store's name search. Exposure uses graph.ownership.exposure: direct, through parents and
subsidiaries (OWNS), through indexes (CONSTITUENT_OF / TRACKS), one level of look-through
into funds of the graph, and the 50% rule (CAPTURED_BY).
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from graph.store import _q, GraphStore

from app_pages import text as T
from app_pages.logic import _chunks, nodes_by_ids

MATCH_LABELS = ["Company", "Fund", "Index"]
ID_CONFIDENCE = {"isin": 1.0, "cusip": 1.0, "lei": 1.0, "id": 1.0, "cusip6": 0.9, "ticker-exchange": 0.85,
                 "ticker": 0.75}
ACCEPT = 0.6          # best candidate at or above this is pre-selected
NO_MATCH = "— no match —"
FALLBACK_COLUMNS = ("fund", "issuer_name", "isin", "ticker", "weight")


@dataclass
class Position:
    row: int
    fund: str
    issuer_name: str
    identifiers: list[str] = field(default_factory=list)
    weight: float | None = None
    issuer_id: str | None = None     # the id the ingester would give the issuer


@dataclass
class Candidate:
    id: str
    name: str
    label: str
    confidence: float
    method: str

    def option(self) -> str:
        return f"{self.name} · {self.label} · {self.id} · {self.confidence:.0%} {self.method}"


@dataclass
class Parsed:
    positions: list[Position]
    rejected: list[dict]
    reader: str


# ---------------------------------------------------------------- reading

def parse_holdings(data: bytes, filename: str = "holdings.csv") -> Parsed:
    try:
        from ingest import holdings
    except ImportError:
        holdings = None
    if holdings is not None and hasattr(holdings, "parse"):
        return _parse_with_template(holdings, data, filename)
    return _parse_plain(data)


def _parse_with_template(holdings, data: bytes, filename: str) -> Parsed:
    from ingest.records import Node, Rejected, Rel
    suffix = ".json" if filename.lower().endswith(".json") else ".csv"
    fd, path = tempfile.mkstemp(suffix=suffix, prefix="screen-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        recs = list(holdings.parse(path))
    finally:
        os.unlink(path)
    nodes = {r.id: r for r in recs if isinstance(r, Node)}
    positions, rejected = [], []
    for r in recs:
        if isinstance(r, Rel) and r.type == "HOLDS":
            fund, issuer = nodes.get(r.src), nodes.get(r.dst)
            positions.append(Position(
                row=len(positions) + 1,
                fund=(fund.props.get("name") if fund else r.src),
                issuer_name=(issuer.props.get("name") if issuer else r.dst),
                identifiers=list(issuer.props.get("identifiers") or []) if issuer else [],
                weight=r.props.get("weight"), issuer_id=r.dst))
        elif isinstance(r, Rejected):
            rejected.append({"record": r.record, "field": r.field or "", "reason": r.reason})
    return Parsed(positions, rejected, "holdings template (ingest.holdings)")


def _parse_plain(data: bytes) -> Parsed:
    text = None
    for enc in ("utf-8-sig", "gb18030", "latin-1"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    reader = csv.DictReader(io.StringIO(text or ""))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("fund", "issuer_name") if c not in header]
    if missing:
        return Parsed([], [{"record": "file", "field": ", ".join(missing),
                            "reason": f"missing required columns: {', '.join(missing)}"}], "plain CSV")
    positions, rejected = [], []
    for i, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        if not row.get("issuer_name"):
            rejected.append({"record": f"row {i}", "field": "issuer_name", "reason": "issuer_name is empty"})
            continue
        ids = []
        if row.get("isin"):
            ids.append(f"isin:{row['isin'].upper()}")
        if row.get("ticker"):
            ids.append(f"ticker:{row['ticker'].upper()}")
        w = row.get("weight") or ""
        try:
            weight = float(w.rstrip("%")) / 100 if w.endswith("%") else (float(w) if w else None)
        except ValueError:
            rejected.append({"record": f"row {i}", "field": "weight", "reason": f"not a number: {w!r}"})
            continue
        positions.append(Position(len(positions) + 1, row.get("fund") or "(portfolio)", row["issuer_name"], ids, weight))
    return Parsed(positions, rejected, "plain CSV (fund, issuer_name, isin, ticker, weight)")


# ---------------------------------------------------------------- matching

def _id_kind(ident: str) -> str:
    scheme = ident.split(":", 1)[0]
    if scheme == "ticker":
        return "ticker-exchange" if ident.count(":") >= 2 else "ticker"
    return scheme


def match_positions(store: GraphStore, positions: list[Position], limit: int = 5,
                    progress: Callable[[float, str], None] | None = None) -> dict[int, list[Candidate]]:
    """Candidates per position row, best first: identifier matches, then name-search hits."""
    out: dict[int, list[Candidate]] = {}
    # identifiers: one query per label and batch for the whole file
    wanted = {i for p in positions for i in p.identifiers}
    wanted |= {f"id:{p.issuer_id}" for p in positions if p.issuer_id}
    by_ident: dict[str, list[dict]] = defaultdict(list)
    if wanted:
        for label in MATCH_LABELS:
            if label == "Index":
                continue
            for chunk in _chunks(sorted(wanted)):
                res = store.read(_q("MATCH (n:{L}) UNWIND n.identifiers AS i WITH n, i WHERE i IN $ids "
                                    "RETURN DISTINCT n", L=label), {"ids": chunk})
                for (n,) in res.rows:
                    for i in n.get("identifiers") or []:
                        if i in wanted:
                            by_ident[i].append(n)
    direct = nodes_by_ids(store, [p.issuer_id for p in positions if p.issuer_id], ["Company", "Fund"])
    from graph.names import score as name_score
    for k, p in enumerate(positions):
        if progress:
            progress(k / max(len(positions), 1), p.issuer_name)
        cands: dict[str, Candidate] = {}

        def add(n: dict, conf: float, method: str) -> None:
            c = cands.get(n["id"])
            if c is None or conf > c.confidence:
                cands[n["id"]] = Candidate(n["id"], T.display(n), n.get("label", ""), round(conf, 3), method)

        if p.issuer_id and p.issuer_id in direct:
            add(direct[p.issuer_id], 1.0, "same id")
        for ident in p.identifiers + ([f"id:{p.issuer_id}"] if p.issuer_id else []):
            kind = _id_kind(ident)
            for n in by_ident.get(ident, []):
                conf = ID_CONFIDENCE.get(kind, 0.7)
                if kind == "ticker":  # bare tickers collide across exchanges: only with a similar name
                    s = max(name_score(p.issuer_name, x) for x in [n.get("name", "")] + (n.get("aliases") or []))
                    if s < 70:
                        continue
                add(n, conf, ident.split(":", 1)[0])
        for h in store.search(p.issuer_name, limit=limit, labels=MATCH_LABELS):
            add(h, 0.95 * (h.get("score") or 0) / 100, "name")
        out[p.row] = sorted(cands.values(), key=lambda c: (-c.confidence, c.name))[:limit + 3]
    if progress:
        progress(1.0, "done")
    return out


def default_choices(cands: dict[int, list[Candidate]]) -> dict[int, str | None]:
    return {row: (cs[0].id if cs and cs[0].confidence >= ACCEPT else None) for row, cs in cands.items()}


def match_rows(positions: list[Position], cands: dict[int, list[Candidate]], choices: dict[int, str | None]) -> list[dict]:
    rows = []
    for p in positions:
        chosen = next((c for c in cands.get(p.row, []) if c.id == choices.get(p.row)), None)
        rows.append({"row": p.row, "fund": p.fund, "issuer": p.issuer_name, "weight": T.pct(p.weight),
                     "identifiers": ", ".join(p.identifiers), "matched": chosen.name if chosen else "",
                     "type": chosen.label if chosen else "", "matched id": chosen.id if chosen else "",
                     "confidence": chosen.confidence if chosen else None,
                     "method": chosen.method if chosen else ("corrected: no match" if cands.get(p.row) else "no candidate")})
    return rows


# ---------------------------------------------------------------- exposure

@dataclass
class GraphFacts:
    owns: list[tuple]
    listed: dict[str, list[str]]
    captured: dict[str, list[dict]]
    constituents: list[tuple]
    tracks: list[tuple]
    fund_holdings: list[tuple]
    list_names: dict[str, str]


def graph_facts(store: GraphStore) -> GraphFacts:
    """Everything the exposure needs, read once (cache it per store)."""
    owns = [tuple(r) for r in store.read("MATCH (a)-[r:OWNS]->(b) WHERE r.`end` IS NULL "
                                         "RETURN a.id, b.id, r.share").rows]
    listed: dict[str, list[str]] = defaultdict(list)
    names: dict[str, str] = {}
    for aid, lid, lname in store.read("MATCH (a)-[r:LISTED_ON]->(l:SanctionsList) WHERE r.until IS NULL "
                                      "RETURN a.id, l.id, l.name").rows:
        listed[aid].append(lid)
        names[lid] = lname or lid
    captured: dict[str, list[dict]] = defaultdict(list)
    for aid, r, lid, lname in store.read("MATCH (a)-[r:CAPTURED_BY]->(l:SanctionsList) RETURN a.id, r, l.id, l.name").rows:
        captured[aid].append({"list": lid, "rule": r.get("rule", ""), "certainty": r.get("certainty", ""),
                              "via": r.get("via") or [], "aggregate": r.get("aggregate")})
        names[lid] = lname or lid
    constituents = [tuple(r) for r in store.read(
        "MATCH (c:Company)-[r:CONSTITUENT_OF]->(i:`Index`) WHERE r.`end` IS NULL RETURN c.id, i.id, r.weight").rows]
    tracks = [tuple(r) for r in store.read("MATCH (f:Fund)-[:TRACKS]->(i:`Index`) RETURN f.id, i.id").rows]
    fund_holdings = [tuple(r) for r in store.read("MATCH (f:Fund)-[r:HOLDS]->(b) RETURN f.id, b.id, r.weight").rows]
    return GraphFacts(owns, dict(listed), dict(captured), constituents, tracks, fund_holdings, names)


def exposure_rows(store: GraphStore, positions: list[Position], choices: dict[int, str | None],
                  facts: GraphFacts) -> tuple[list[dict], str | None]:
    """Report rows (one per exposure) and a note when the analytics are missing."""
    matched = [(p, choices.get(p.row)) for p in positions if choices.get(p.row)]
    if not matched:
        return [], None
    restricted = set(facts.listed) | set(facts.captured)
    pid = {p.fund: f"portfolio:{p.fund}" for p, _ in matched}
    holdings = [(pid[p.fund], eid, p.weight) for p, eid in matched]
    held_ids = {eid for _, eid in matched}
    # look through funds of the graph that the portfolio holds (one level)
    held_funds = {f for f, *_ in facts.fund_holdings if f in held_ids} | {f for f, _ in facts.tracks if f in held_ids}
    holdings += [h for h in facts.fund_holdings if h[0] in held_funds]
    tracks = [(f, i) for f, i in facts.tracks if f in held_funds]
    tracks += [(pid[p.fund], eid) for p, eid in matched if eid.startswith("index:") or _is_index(store, eid)]
    note = None
    try:
        from graph import ownership
        exps = ownership.exposure(holdings, facts.owns, restricted, facts.constituents, tracks)
    except ImportError:
        note = "The ownership analytics (graph/ownership.py) are not available yet: only direct exposure is shown."
        exps = [_Direct(inv, a, w) for inv, a, w in holdings if a in restricted]
    ids = {i for e in exps for i in e.path} | held_ids
    names = {k: T.display(v) for k, v in nodes_by_ids(store, [i for i in ids if not i.startswith("portfolio:")]).items()}
    by_fund_pos = defaultdict(list)
    for p, eid in matched:
        by_fund_pos[eid].append(p)
    rows = []

    def basis(cid: str) -> str:
        parts = [facts.list_names.get(l, l) for l in facts.listed.get(cid, [])]
        for c in facts.captured.get(cid, []):
            via = ", ".join(names.get(v, v) for v in c["via"])
            parts.append(f"captured ({c['rule'] or '50% rule'}, {c['certainty'] or '?'}) on "
                         f"{facts.list_names.get(c['list'], c['list'])}" + (f" via {via}" if via else ""))
        return "; ".join(parts)

    def name(i: str) -> str:
        return i.removeprefix("portfolio:") if i.startswith("portfolio:") else names.get(i, i)

    for e in exps:
        if e.investor.startswith("portfolio:"):
            fund = e.investor.removeprefix("portfolio:")
            pos = [p for p, eid in matched if p.fund == fund and eid == (e.held or e.company)]
            rows.append(_row(fund, pos[0] if pos else None, e.via, e.path, e.company, e.look_through,
                             basis(e.company), name, captured=e.company in facts.captured))
        else:  # a fund of the graph, held by the portfolio
            for p in by_fund_pos.get(e.investor, []):
                lt = None if e.look_through is None or p.weight is None else p.weight * e.look_through
                rows.append(_row(p.fund, p, f"fund look-through, {e.via}", [pid[p.fund]] + list(e.path),
                                 e.company, lt, basis(e.company), name, captured=e.company in facts.captured))
    rows.sort(key=lambda r: (r["fund"], r["row"] or 0, r["exposed entity"]))
    return rows, note


def _is_index(store: GraphStore, eid: str) -> bool:
    return store.node_label(eid) == "Index"


@dataclass
class _Direct:
    investor: str
    company: str
    weight: float | None

    @property
    def via(self):
        return "direct"

    @property
    def path(self):
        return [self.investor, self.company]

    @property
    def look_through(self):
        return self.weight

    @property
    def held(self):
        return self.company


def _row(fund: str, pos: Position | None, via: str, path: list[str], company: str, lt: float | None,
         basis: str, name: Callable[[str], str], captured: bool) -> dict:
    kind = via + (" + 50% rule" if captured else "")
    return {"fund": fund, "row": pos.row if pos else None, "position": pos.issuer_name if pos else "",
            "exposed entity": name(company), "exposed id": company, "via": kind, "basis": basis,
            "path": " → ".join(name(i) for i in path), "position weight": T.pct(pos.weight) if pos else "",
            "look-through weight": T.pct(lt)}


def summary(positions: list[Position], choices: dict[int, str | None], rows: list[dict]) -> dict[str, Any]:
    matched = sum(1 for p in positions if choices.get(p.row))
    exposed = {r["row"] for r in rows}
    return {"positions": len(positions), "matched": matched, "unmatched": len(positions) - matched,
            "positions with exposure": len(exposed), "exposures": len(rows),
            "restricted entities reached": len({r["exposed id"] for r in rows})}


REPORT_COLUMNS = ["fund", "row", "position", "exposed entity", "exposed id", "via", "basis", "path",
                  "position weight", "look-through weight"]
MATCH_COLUMNS = ["row", "fund", "issuer", "weight", "identifiers", "matched", "type", "matched id", "confidence", "method"]


def report_csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=REPORT_COLUMNS, extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: _csv_safe(v) for k, v in r.items()})
    return buf.getvalue().encode("utf-8-sig")


def _csv_safe(v: Any) -> Any:
    """Spreadsheet formula injection: text starting with = + - @ is prefixed with a quote."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v


def report_html(store_url: str, positions: list[Position], rows: list[dict], match: list[dict],
                when: str, notes: Iterable[str] = ()) -> str:
    s = summary(positions, {m["row"]: m["matched id"] or None for m in match}, rows)
    return T.html_report(
        "Portfolio screening report",
        [("Exposures", REPORT_COLUMNS, [[r.get(c, "") for c in REPORT_COLUMNS] for r in rows]),
         ("Matches", MATCH_COLUMNS, [[m.get(c, "") for c in MATCH_COLUMNS] for m in match])],
        notes=[f"Generated {when} from the graph at {store_url}.",
               "; ".join(f"{k}: {v}" for k, v in s.items()), *notes,
               "Exposure: direct holdings of listed or captured entities; through parents and subsidiaries "
               "(OWNS, any depth); through indexes (CONSTITUENT_OF / TRACKS); one level of look-through into funds "
               "of the graph; 50% rule findings (CAPTURED_BY). Matches below the confidence shown should be checked."])
