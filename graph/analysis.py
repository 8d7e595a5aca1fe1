"""Store-backed ownership analytics: pull the adjacency once, compute with graph.ownership,
write derived CAPTURED_BY relationships back.

The pure algorithms live in graph/ownership.py; this module only moves data between a
GraphStore and those functions, on either store.

Columnar end to end: `pull` keeps each relationship type as the Arrow table the store
returns (filtered on `as_of` with Arrow kernels, no Python tuple per edge), the ownership
graph is interned once from it (`Inputs.graph`, shared by the cascade and the exposure), and
`exposure_table` returns Arrow. Memory: one relationship type's Arrow table at a time plus
the compact result (OWNS and HOLDS at 1M: ~90-100 MB each); on Neo4j `store.edges` also
pages by source id, so the server never materialises a whole type for one answer.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Iterable

import pyarrow as pa
import pyarrow.compute as pc

from graph import ownership as ow
from graph.memory import release
from graph.store import GraphStore

ANALYSIS_SOURCE = "src:techgiants-analysis"
RULE_OF_PRESET = {"ofac": "ofac-50", "bis-affiliates": "bis-affiliates", "all": "all-lists-50"}


def _tuples(t: pa.Table) -> list[tuple]:
    return list(zip(*[c.to_pylist() for c in t.columns])) if t.num_columns else []


class Inputs:
    """The adjacency pulled from a store, filtered to what is valid on `as_of`, as Arrow tables
    (ids first, then the properties in the order of the tuple views below):

    owns (owner, asset, share, share_min, share_max), listed_on (entity, list, since, until),
    holds (investor, asset, weight), constituent_of (company, index, weight), tracks_t
    (fund, index). The tuple views (`ownership`, `listings`, ...) are built on first use
    only: small inputs and explanations, never the bulk path.
    """

    def __init__(self, owns: pa.Table, listed_on: pa.Table, holds: pa.Table, constituent_of: pa.Table,
                 tracks: pa.Table, ends: list[pa.Table] = ()):
        self.owns, self.listed_on, self.holds = owns, listed_on, holds
        self.constituent_of, self.tracks_t = constituent_of, tracks
        self._ends = list(ends)   # (id, label) tables for labels_for

    @functools.cached_property
    def graph(self) -> ow.OwnershipGraph:
        """OWNS interned once (shares, ranges and structure) for the cascade and the exposure."""
        return ow.build_graph(self.owns)

    @functools.cached_property
    def ownership(self) -> list[tuple]:
        return _tuples(self.owns)

    @functools.cached_property
    def listings(self) -> list[tuple]:
        return _tuples(self.listed_on)

    @functools.cached_property
    def holdings(self) -> list[tuple]:
        return _tuples(self.holds)

    @functools.cached_property
    def constituents(self) -> list[tuple]:
        return _tuples(self.constituent_of)

    @functools.cached_property
    def tracks(self) -> list[tuple]:
        return _tuples(self.tracks_t)

    def labels_for(self, ids: Iterable[str]) -> dict[str, str]:
        """id -> node label for the given ids (looked up in the pulled relationship ends)."""
        want = pa.array(list(dict.fromkeys(ids)), pa.string())
        out: dict[str, str] = {}
        for t in self._ends:
            hit = t.filter(pc.is_in(t.column(0), value_set=want))
            out.update(zip(hit.column(0).to_pylist(), hit.column(1).to_pylist()))
        return out

    @functools.cached_property
    def labels(self) -> dict[str, str]:
        """id -> label for every pulled id (a dict over every node: prefer labels_for)."""
        out: dict[str, str] = {}
        for t in self._ends:
            out.update(zip(t.column(0).to_pylist(), t.column(1).to_pylist()))
        return out


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


def _valid(t: pa.Table, start: str | None, end: str | None, as_of: str | None) -> pa.Table:
    """Rows valid on as_of: start <= as_of < end, nulls open (graph.ownership.valid_at, vectorised:
    ISO strings compare lexicographically)."""
    if as_of is None:
        return t
    keep = None
    for col, op in ((start, pc.less_equal), (end, pc.greater)):
        if col is None:
            continue
        c = t.column(col)
        if not pa.types.is_string(c.type) and not pa.types.is_large_string(c.type):
            c = (c.cast(pa.date32()) if pa.types.is_timestamp(c.type) else c).cast(pa.string())
        ok = pc.or_kleene(pc.is_null(c), op(c, pa.scalar(as_of, pa.string())))
        keep = ok if keep is None else pc.and_kleene(keep, ok)
    return t.filter(keep)


def pull(store: GraphStore, as_of: str | None = None) -> Inputs:
    """One pass over OWNS, LISTED_ON, HOLDS, CONSTITUENT_OF and TRACKS, kept as Arrow."""
    a = ow._iso(as_of)
    ends: list[pa.Table] = []

    def take(rtype: str, cols: list[str], valid: tuple | None, keep: list[str]) -> pa.Table:
        t = store.edges(rtype, cols)
        if valid:
            t = _valid(t, *valid, a)
        ends.append(t.select(["src", "src_label"]))   # zero-copy views, for labels_for
        ends.append(t.select(["dst", "dst_label"]))
        return t.select(["src", "dst", *keep])

    own = take("OWNS", ["share", "share_min", "share_max", "start", "end"], ("start", "end"),
               ["share", "share_min", "share_max"])
    listings = take("LISTED_ON", ["since", "until"], None, ["since", "until"])
    holdings = take("HOLDS", ["weight", "as_of"], ("as_of", None), ["weight"])   # reported by as_of
    cons = take("CONSTITUENT_OF", ["weight", "start", "end"], ("start", "end"), ["weight"])
    tracks = take("TRACKS", [], None, [])
    release()   # the store's result tables were cast and filtered into the ones kept
    return Inputs(own, listings, holdings, cons, tracks, ends)


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
    lt = _valid(inputs.listed_on, "since", "until", ow._iso(as_of))
    if wanted is not None:
        lt = lt.filter(pc.is_in(lt.column(1), value_set=pa.array(wanted, pa.string())))
    for ent, lst in zip(lt.column(0).to_pylist(), lt.column(1).to_pylist()):
        seeds.setdefault(ent, [])
        if lst not in seeds[ent]:
            seeds[ent].append(lst)
    findings = ow.fifty_percent_rule_ranges(inputs.graph, seeds.keys())
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
    labels = result.inputs.labels_for(result.findings)
    for fid, f in result.findings.items():
        label = labels.get(fid, "Company")
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
    return ow.ultimate_owners(inputs.graph, entity_id)   # unknown stakes are ignored there


def exposure_table(store: GraphStore, lists: str | Iterable[str] | None = "all", as_of: str | None = None,
                   investor: str | None = None, include_captured: bool = True,
                   inputs: Inputs | None = None) -> tuple[pa.Table, FiftyPercent]:
    """Every investor's (or one investor's) exposure to restricted companies (listed on `lists`
    or captured by the 50% rule seeded by them) as an Arrow table (graph.ownership.exposure_table)."""
    inputs = inputs or pull(store, as_of)
    fp = fifty_percent(store, lists, as_of, write=False, inputs=inputs)
    restricted = set(fp.seeds) | (set(fp.findings) if include_captured else set())
    holds, tracks = inputs.holds, inputs.tracks_t
    if investor is not None:
        holds = holds.filter(pc.equal(holds.column(0), investor))
        tracks = tracks.filter(pc.equal(tracks.column(0), investor))
    out = ow.exposure_table(holds, inputs.graph, restricted, inputs.constituents, tracks)
    if investor is not None:
        out = out.filter(pc.equal(out.column("investor"), investor))
    release()
    return out, fp


def exposure(store: GraphStore, lists: str | Iterable[str] | None = "all", as_of: str | None = None,
             investor: str | None = None, include_captured: bool = True) -> tuple[list[ow.Exposure], FiftyPercent]:
    """:func:`exposure_table` as graph.ownership.Exposure records."""
    table, fp = exposure_table(store, lists, as_of, investor, include_captured)
    return ow.exposures_from_table(table), fp


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
