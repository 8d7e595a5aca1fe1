"""The GraphStore interface, the neutral result shape, and the merge rules of upserts.

Both stores (graph/stores/ladybug.py, graph/stores/neo4j.py) implement a handful
of primitives; everything that decides *what* gets written (merging lists,
idempotence, search keys) lives here once.

Neutral shape of values returned by `read()` and friends:
- node: {"label": "Company", "id": ..., <properties>}            (no nulls, no internal props)
- rel:  {"type": "OWNS", "src": <node id>, "dst": <node id>, <properties>}
- path: {"nodes": [node, ...], "rels": [rel, ...]}
"""
from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from graph.names import search_key
from graph.schema import SCHEMA

LIST_PROPS_MERGED = ("sources", "aliases", "identifiers", "via")
INTERNAL_PROPS = {p.name for n in SCHEMA.nodes.values() for p in n.props.values() if p.internal}


class StoreError(RuntimeError):
    """A store could not do what was asked; the message is fit for a user."""


class QueryTimeout(StoreError):
    pass


@dataclass
class Result:
    columns: list[str]
    rows: list[list[Any]]
    truncated: bool = False

    def records(self) -> list[dict]:
        return [dict(zip(self.columns, r)) for r in self.rows]


@dataclass
class UpsertCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: "UpsertCounts") -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged


@dataclass
class Neighbourhood:
    nodes: list[dict] = field(default_factory=list)
    rels: list[dict] = field(default_factory=list)
    more: int = 0  # neighbours left out because of the cap


def clean_props(props: dict) -> dict:
    """Drop nulls and internal properties: the same dict whichever store answered."""
    return {k: v for k, v in props.items() if v is not None and k not in INTERNAL_PROPS}


def merge_props(old: dict, new: dict) -> dict:
    """Merge a new record into an existing one: lists are unioned (nothing from either
    side is lost), scalars take the new non-null value. Idempotent."""
    out = dict(old)
    for k, v in new.items():
        if v is None:
            continue
        if isinstance(v, list):
            out[k] = list(dict.fromkeys([*(old.get(k) or []), *v]))
        else:
            out[k] = v
    return out


def _merge_batch(rows: Iterable[dict]) -> dict[str, dict]:
    by_id: dict[str, dict] = {}
    for r in rows:
        rid = r["id"]
        by_id[rid] = merge_props(by_id[rid], r) if rid in by_id else dict(r)
    return by_id


class GraphStore(ABC):
    """One knowledge graph, stored embedded (Ladybug) or on a Neo4j server."""

    kind: str = "abstract"
    url: str = ""
    read_only: bool = False

    # ---------------------------------------------------------------- primitives
    @abstractmethod
    def create_schema(self) -> None: ...

    @abstractmethod
    def _fetch_nodes(self, label: str, ids: list[str]) -> dict[str, dict]:
        """Existing nodes of `label` among `ids`, as id -> raw properties (nulls dropped)."""

    @abstractmethod
    def _fetch_rels(self, rtype: str, rows: list[dict]) -> dict[str, dict]:
        """Existing relationships for rows (with src/src_label/dst/dst_label/props.id)."""

    @abstractmethod
    def _write(self, label_or_type: str, is_rel: bool, new: list[dict], changed: list[dict]) -> None:
        """Create `new` and overwrite `changed` in one transaction."""

    @abstractmethod
    def read(self, cypher: str, params: dict | None = None, timeout: float | None = None,
             limit: int | None = None) -> Result: ...

    @abstractmethod
    def write(self, cypher: str, params: dict | None = None) -> None:
        """Run a write statement from project code (never from user input)."""

    @abstractmethod
    def node_label(self, node_id: str) -> str | None: ...

    @abstractmethod
    def close(self) -> None: ...

    # ---------------------------------------------------------------- upserts
    def upsert_nodes(self, label: str, rows: Iterable[dict]) -> UpsertCounts:
        """Create or merge nodes of one label. Rows must already be validated."""
        self._check_writable()
        nt = SCHEMA.nodes[label]
        batch = _merge_batch(rows)
        if not batch:
            return UpsertCounts()
        existing = self._fetch_nodes(label, list(batch))
        new, changed, counts = [], [], UpsertCounts()
        for nid, row in batch.items():
            old = existing.get(nid)
            merged = merge_props(old, row) if old is not None else row
            if "search_key" in nt.props:
                merged["search_key"] = search_key(merged)
            if old is None:
                new.append(merged)
                counts.created += 1
            elif merged != old:
                changed.append(merged)
                counts.updated += 1
            else:
                counts.unchanged += 1
        if new or changed:
            self._write(label, False, new, changed)
            _names_changed(self)
        return counts

    def upsert_rels(self, rtype: str, rows: Iterable[dict]) -> UpsertCounts:
        """Create or merge relationships of one type. Each row: src, src_label, dst,
        dst_label, props (validated, with a deterministic props['id'])."""
        self._check_writable()
        by_id: dict[str, dict] = {}
        for r in rows:
            rid = r["props"]["id"]
            if rid in by_id:
                by_id[rid]["props"] = merge_props(by_id[rid]["props"], r["props"])
            else:
                by_id[rid] = {**r, "props": dict(r["props"])}
        if not by_id:
            return UpsertCounts()
        existing = self._fetch_rels(rtype, list(by_id.values()))
        new, changed, counts = [], [], UpsertCounts()
        for rid, row in by_id.items():
            old = existing.get(rid)
            if old is None:
                new.append(row)
                counts.created += 1
                continue
            merged = merge_props(old, row["props"])
            if merged != old:
                changed.append({**row, "props": merged})
                counts.updated += 1
            else:
                counts.unchanged += 1
        if new or changed:
            self._write(rtype, True, new, changed)
        return counts

    def _check_writable(self) -> None:
        if self.read_only:
            raise StoreError(f"{self.url} is open read-only")

    def is_outage(self, e: BaseException) -> bool:
        """True when `e` means the store is gone (connection lost, server down, database closed),
        not that it refused the data: an ingest then stops instead of quarantining every record."""
        return isinstance(e, (ConnectionError, OSError))

    def labels_of(self, ids: Iterable[str]) -> dict[str, str]:
        """id -> label for the ids that exist, one indexed lookup per label."""
        ids = list(dict.fromkeys(ids))
        out: dict[str, str] = {}
        if not ids:
            return out
        for label in SCHEMA.labels:
            res = self.read(_q("UNWIND $ids AS i MATCH (n:{L} {{id: i}}) RETURN n.id", L=label), {"ids": ids})
            for (i,) in res.rows:
                out[i] = label
        return out

    # ---------------------------------------------------------------- reads
    def get(self, node_id: str) -> dict | None:
        label = self.node_label(node_id)
        if label is None:
            return None
        res = self.read(_q("MATCH (n:{L} {{id: $id}}) RETURN n", L=label), {"id": node_id})
        return res.rows[0][0] if res.rows else None

    def neighbourhood(self, node_id: str, depth: int = 1, limit: int = 100) -> Neighbourhood:
        """Nodes and relationships within `depth` hops, at most `limit` nodes (the rest counted in `more`)."""
        start = self.get(node_id)
        if start is None:
            return Neighbourhood()
        seen = {node_id: start}
        rels: dict[str, dict] = {}
        frontier = [node_id]
        more = 0
        for _ in range(max(depth, 0)):
            nxt = []
            for nid in frontier:
                label = seen[nid]["label"]
                # n comes back too so that both ends of r are in the row (no lookup of its id)
                res = self.read(_q("MATCH (n:{L} {{id: $id}})-[r]-(m) RETURN r, m, n", L=label), {"id": nid})
                for rel, m, _ in res.rows:
                    if m["id"] not in seen:
                        if len(seen) >= limit:
                            more += 1
                            continue
                        seen[m["id"]] = m
                        nxt.append(m["id"])
                    rels[rel["id"]] = rel
            frontier = nxt
        ids = set(seen)
        return Neighbourhood(list(seen.values()),
                             [r for r in rels.values() if r["src"] in ids and r["dst"] in ids], more)

    def search(self, text: str, limit: int = 20, labels: Iterable[str] | None = None) -> list[dict]:
        """Name search over names, aliases and Chinese names; accent-, case- and typo-tolerant
        (graph/search.py: a token index on Ladybug, the text index on Neo4j)."""
        from graph import search
        return search.search(self, text, limit, labels)

    def counts(self) -> dict[str, dict[str, int]]:
        labels = {}
        for label in SCHEMA.labels:
            labels[label] = self.read(_q("MATCH (n:{L}) RETURN count(n)", L=label)).rows[0][0]
        rels = {}
        for rtype in SCHEMA.rel_types:
            rels[rtype] = self.read(_q("MATCH ()-[r:{T}]->() RETURN count(r)", T=rtype)).rows[0][0]
        return {"nodes": labels, "relationships": rels}

    # ---------------------------------------------------------------- export
    export_batch = 5000  # page size of iter_export(); a store may prefer larger pages

    def iter_export(self, batch: int | None = None, start: int = 0, counts: dict | None = None) -> Iterator[dict]:
        """Every node, then every relationship, as JSON-able dicts, in id order:
        {"node": label, "props": {...}} and {"rel": type, "src", "src_label", "dst", "dst_label", "props"}.
        Plain columns (ends as ids, no node/rel objects to convert) and keyset pagination on the id
        (no SKIP re-reading every earlier page). `start` skips that many records (a resumed
        migration): whole labels and types by `counts` (self.counts() when not given), the rest with
        one SKIP."""
        batch = batch or self.export_batch
        if start:
            counts = counts or self.counts()
        segments = [(False, label) for label in SCHEMA.labels] + [(True, rtype) for rtype in SCHEMA.rel_types]
        for is_rel, name in segments:
            if start:
                n = counts["relationships" if is_rel else "nodes"].get(name, 0)
                if start >= n:
                    start -= n
                    continue
            # x is the exported element in both shapes, so every query below is a constant template
            if is_rel:
                cols = list(SCHEMA.rels[name].props)
                match = _q("MATCH (a)-[x:{T}]->(b) ", T=name)
                ret = ", ".join([self.label_expr("a"), self.label_expr("b"), "a.id", "b.id",
                                 *[f"x.`{c}`" for c in cols]])
                key = 4 + cols.index("id")
            else:
                cols = [p for p in SCHEMA.nodes[name].props if p not in INTERNAL_PROPS]
                match = _q("MATCH (x:{L}) ", L=name)
                ret = ", ".join(f"x.`{c}`" for c in cols)
                key = cols.index("id")
            last = ""
            if start:
                res = self.read(match + "RETURN x.id ORDER BY x.id SKIP $skip LIMIT 1", {"skip": start - 1})
                last, start = (res.rows[0][0] if res.rows else ""), 0
            while True:
                res = self.read(match + "WHERE x.id > $last RETURN " + ret + " ORDER BY x.id LIMIT $lim",
                                {"last": last, "lim": batch})
                for row in res.rows:
                    if is_rel:
                        sl, dl, src, dst, *vals = row
                        yield {"rel": name, "src": src, "src_label": sl, "dst": dst, "dst_label": dl,
                               "props": {c: v for c, v in zip(cols, vals) if v is not None}}
                    else:
                        yield {"node": name, "props": {c: v for c, v in zip(cols, row) if v is not None}}
                if len(res.rows) < batch:
                    break
                last = res.rows[-1][key]

    first_index = 0  # where a list starts in this store's Cypher

    def label_expr(self, var: str) -> str:
        """The Cypher expression for a node variable's (single) label."""
        return f"labels({var})[0]"

    def export_jsonl(self, path: str) -> int:
        n = 0
        with open(path, "w", encoding="utf-8") as f:
            for rec in self.iter_export():
                f.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
                n += 1
        return n

    # ---------------------------------------------------------------- deletes
    def delete_nodes(self, label: str, ids: list[str]) -> int:
        self._check_writable()
        if not ids:
            return 0
        existing = self._fetch_nodes(label, ids)
        if existing:
            self.write(_q("UNWIND $ids AS i MATCH (n:{L} {{id: i}}) DETACH DELETE n", L=label),
                       {"ids": list(existing)})
            _names_changed(self)
        return len(existing)

    def delete_rel(self, rel_id: str) -> int:
        """Delete the relationship with this id, whatever its type; returns how many went."""
        self._check_writable()
        for rtype in SCHEMA.rel_types:
            n = self.read(_q("MATCH ()-[r:{T}]->() WHERE r.id = $id RETURN count(r)", T=rtype), {"id": rel_id}).rows[0][0]
            if n:
                self.write(_q("MATCH ()-[r:{T}]->() WHERE r.id = $id DELETE r", T=rtype), {"id": rel_id})
                return n
        return 0

    def delete_derived(self, rtype: str, rule: str | None = None) -> None:
        """Remove derived relationships (analytics results) before writing fresh ones."""
        self._check_writable()
        if rule is None:
            self.write(_q("MATCH ()-[r:{T}]->() WHERE r.derived = true DELETE r", T=rtype))
        else:
            self.write(_q("MATCH ()-[r:{T}]->() WHERE r.derived = true AND r.rule = $rule DELETE r", T=rtype),
                       {"rule": rule})

    def clear(self) -> None:
        self._check_writable()
        for label in SCHEMA.labels:
            self.write(_q("MATCH (n:{L}) DETACH DELETE n", L=label))
        _names_changed(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _names_changed(store: "GraphStore") -> None:
    """Nodes were written: the search index (graph/search.py) is out of date."""
    from graph import search
    search.note_write(store)


def by_pair(rows: list[dict]) -> dict[tuple[str, str], list[dict]]:
    """Group relationship rows by their (src_label, dst_label) pair."""
    out: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        out.setdefault((r["src_label"], r["dst_label"]), []).append(r)
    return out


def _q(template: str, **names: Any) -> str:
    """Fill labels/types into a Cypher template. Only schema identifiers (or ints) are
    accepted, so no user text can reach the query string; values go as parameters.
    Names are back-quoted: `Index` is a reserved word in Ladybug."""
    allowed = set(SCHEMA.labels) | set(SCHEMA.rel_types)
    for k, v in names.items():
        if not (isinstance(v, int) or v in allowed):
            raise ValueError(f"not a schema identifier: {v!r}")
    return template.format(**{k: v if isinstance(v, int) else f"`{v}`" for k, v in names.items()})
