"""Store-backed ownership analytics: pull the adjacency once, compute with graph.ownership,
write derived CAPTURED_BY relationships back.

The pure algorithms live in graph/ownership.py; this module only moves data between a
GraphStore and those functions, on either store.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from graph import ownership as ow
from graph.store import GraphStore

ANALYSIS_SOURCE = "src:techgiants-analysis"
RULE_OF_PRESET = {"ofac": "ofac-50", "bis-affiliates": "bis-affiliates", "all": "all-lists-50"}


@dataclass
class Inputs:
    """The adjacency pulled from a store, filtered to what is valid on `as_of`."""
    ownership: list[tuple]            # (owner, asset, share, share_min, share_max)
    listings: list[tuple]             # (entity, list, since, until)
    holdings: list[tuple]             # (investor, asset, weight)
    constituents: list[tuple]         # (company, index, weight)
    tracks: list[tuple]               # (fund, index)
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class FiftyPercent:
    rule: str
    lists: list[str] | None
    as_of: str | None
    rule_in_force: bool
    seeds: dict[str, list[str]]       # listed id -> lists it is on (seeding lists only)
    findings: dict[str, ow.Finding]
    finding_lists: dict[str, list[str]]  # captured id -> the seed lists its capture rests on
    inputs: Inputs

    def explain(self, entity_id: str) -> list[str]:
        edges = [(o, a, s if s is not None else (lo or 0.0)) for o, a, s, lo, hi in self.inputs.ownership]
        return ow.explain(entity_id, edges, self.seeds, self.findings)


def _rows(table, cols: list[str]) -> list[tuple]:
    data = [table.column(c).to_pylist() for c in cols]
    return list(zip(*data)) if data else []


def pull(store: GraphStore, as_of: str | None = None) -> Inputs:
    """One pass over OWNS, LISTED_ON, HOLDS, CONSTITUENT_OF and TRACKS."""
    labels: dict[str, str] = {}

    def take(rtype: str, cols: list[str]) -> list[tuple]:
        t = store.edges(rtype, cols)
        for s, sl, d, dl in zip(t.column("src").to_pylist(), t.column("src_label").to_pylist(),
                                t.column("dst").to_pylist(), t.column("dst_label").to_pylist()):
            labels[s] = sl
            labels[d] = dl
        return _rows(t, ["src", "dst", *cols])

    own = [(o, a, s, lo, hi) for o, a, s, lo, hi, st, en in
           take("OWNS", ["share", "share_min", "share_max", "start", "end"]) if ow.valid_at(st, en, as_of)]
    listings = [(e, l, s, u) for e, l, s, u in take("LISTED_ON", ["since", "until"])]
    holdings = [(i, a, w) for i, a, w, d in take("HOLDS", ["weight", "as_of"])
                if as_of is None or d is None or d <= as_of]
    cons = [(c, i, w) for c, i, w, st, en in take("CONSTITUENT_OF", ["weight", "start", "end"])
            if ow.valid_at(st, en, as_of)]
    tracks = take("TRACKS", [])
    return Inputs(own, listings, holdings, cons, tracks, labels)


def _resolve_lists(lists: str | Iterable[str] | None) -> tuple[str, list[str] | None]:
    if lists is None:
        lists = "bis-affiliates"
    if isinstance(lists, str):
        if lists in ow.LIST_PRESETS:
            return RULE_OF_PRESET[lists], ow.LIST_PRESETS[lists]
        lists = [x.strip() for x in lists.split(",") if x.strip()]
    return "custom-50", list(lists)


def fifty_percent(store: GraphStore, lists: str | Iterable[str] | None = "bis-affiliates",
                  as_of: str | None = None, write: bool = True, inputs: Inputs | None = None) -> FiftyPercent:
    """Run the 50% rule cascade seeded by `lists` (a preset or list ids) on `as_of`; with
    `write`, replace this rule's CAPTURED_BY relationships in the store."""
    rule, wanted = _resolve_lists(lists)
    inputs = inputs or pull(store, as_of)
    seeds: dict[str, list[str]] = {}
    for ent, lst, since, until in inputs.listings:
        if (wanted is None or lst in wanted) and ow.valid_at(since, until, as_of):
            seeds.setdefault(ent, [])
            if lst not in seeds[ent]:
                seeds[ent].append(lst)
    findings = ow.fifty_percent_rule_ranges(inputs.ownership, seeds.keys())
    in_force = ow.rule_in_force(rule, as_of) if rule in ow.RULES else True
    result = FiftyPercent(rule, wanted, as_of, in_force, seeds, findings, _trace_lists(findings, seeds), inputs)
    if write:
        write_findings(store, result)
    return result


def _trace_lists(findings: dict[str, ow.Finding], seeds: dict[str, list[str]]) -> dict[str, list[str]]:
    """For each finding, the lists of the listed parties its capture ultimately rests on."""
    out: dict[str, list[str]] = {}
    for fid in sorted(findings, key=lambda f: (findings[f].depth_max, f)):
        acc: list[str] = []
        for owner in findings[fid].via:
            for lst in seeds.get(owner) or out.get(owner) or []:
                if lst not in acc:
                    acc.append(lst)
        out[fid] = sorted(acc)
    return out


def write_findings(store: GraphStore, result: FiftyPercent) -> int:
    """Replace this rule's derived CAPTURED_BY relationships (re-running never duplicates)."""
    from ingest.records import Rel
    from graph.schema import validate_rel
    store.delete_derived("CAPTURED_BY", rule=result.rule)
    store.upsert_nodes("Source", [{"id": ANALYSIS_SOURCE, "name": "techgiants ownership analysis",
                                   "title": "Derived by techgiants' 50% rule cascade (graph/ownership.py)",
                                   "kind": "other", "sources": [ANALYSIS_SOURCE]}])
    rows = []
    for fid, f in result.findings.items():
        label = result.inputs.labels.get(fid, "Company")
        for lst in result.finding_lists.get(fid) or []:
            props = ow.captured_by_properties(f, result.rule, result.as_of)
            props["rule_in_force"] = result.rule_in_force
            props = {k: v for k, v in props.items() if v is not None}
            rel = Rel("CAPTURED_BY", fid, label, lst, "SanctionsList", {**props, "sources": [ANALYSIS_SOURCE]},
                      key=result.rule)
            rows.append({"src": fid, "src_label": label, "dst": lst, "dst_label": "SanctionsList",
                         "props": validate_rel("CAPTURED_BY", label, "SanctionsList", rel.props)})
    if rows:
        store.upsert_rels("CAPTURED_BY", rows)
    return len(rows)


def owners(store: GraphStore, entity_id: str, as_of: str | None = None,
           inputs: Inputs | None = None) -> dict[str, float]:
    """Ultimate owners of an entity with their look-through (economic) shares."""
    inputs = inputs or pull(store, as_of)
    edges = [(o, a, s) for o, a, s, lo, hi in inputs.ownership if s is not None]
    return ow.ultimate_owners(edges, entity_id)


def exposure(store: GraphStore, lists: str | Iterable[str] | None = "all", as_of: str | None = None,
             investor: str | None = None, include_captured: bool = True) -> tuple[list[ow.Exposure], FiftyPercent]:
    """Every investor's (or one investor's) exposure to restricted companies: listed on `lists`
    or captured by the 50% rule seeded by them."""
    inputs = pull(store, as_of)
    fp = fifty_percent(store, lists, as_of, write=False, inputs=inputs)
    restricted = set(fp.seeds) | (set(fp.findings) if include_captured else set())
    holdings = inputs.holdings
    tracks = inputs.tracks
    if investor is not None:
        holdings = [h for h in holdings if h[0] == investor]
        tracks = [t for t in tracks if t[0] == investor]
    edges = [(o, a, s) for o, a, s, lo, hi in inputs.ownership]
    out = ow.exposure(holdings, edges, restricted, inputs.constituents, tracks)
    if investor is not None:
        out = [e for e in out if e.investor == investor]
    return out, fp


def names(store: GraphStore, ids: Iterable[str]) -> dict[str, str]:
    """id -> name for display (one query per label that has any of the ids)."""
    from graph.schema import SCHEMA
    from graph.store import _q
    ids = list(dict.fromkeys(ids))
    out: dict[str, str] = {}
    if not ids:
        return out
    for label in SCHEMA.labels:
        res = store.read(_q("UNWIND $ids AS i MATCH (n:{L} {{id: i}}) RETURN n.id, n.name", L=label), {"ids": ids})
        out.update({i: n for i, n in res.rows})
    return out
