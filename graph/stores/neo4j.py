"""The server store: Neo4j 5 over Bolt with the official `neo4j` driver.

Neo4j specifics live here only: uniqueness constraints and text indexes built from
schema.yaml, UNWIND batches inside managed transactions (one transaction per batch,
so a batch lands whole or not at all), and the conversion of driver values to the
neutral result shape.
"""
from __future__ import annotations

import logging
import os
import time
from typing import Any

import neo4j
import pyarrow as pa
from neo4j import GraphDatabase
from neo4j.exceptions import ClientError, Neo4jError, ServiceUnavailable, SessionExpired, TransientError
from neo4j.graph import Node, Path, Relationship

from graph.schema import SCHEMA
from graph.store import GraphStore, QueryTimeout, Result, StoreError, by_pair as _by_pair, clean_props, _q


def schema_ddl() -> list[str]:
    """Constraints and indexes from schema.yaml (labels and types only ever come from the schema)."""
    out = []
    for label in SCHEMA.labels:
        out.append("CREATE CONSTRAINT {n}_id IF NOT EXISTS FOR (n:`{L}`) REQUIRE n.id IS UNIQUE"
                   .format(n=label.lower(), L=label))
        if "search_key" in SCHEMA.nodes[label].props:
            out.append("CREATE TEXT INDEX {n}_search IF NOT EXISTS FOR (n:`{L}`) ON (n.search_key)"
                       .format(n=label.lower(), L=label))
    for rtype in SCHEMA.rel_types:
        out.append("CREATE INDEX {n}_id IF NOT EXISTS FOR ()-[r:`{T}`]-() ON (r.id)".format(n=rtype.lower(), T=rtype))
    return out


INDEX_WAIT_S = int(os.environ.get("TECHGIANTS_NEO4J_INDEX_WAIT", "300"))
log = logging.getLogger(__name__)


class Neo4jStore(GraphStore):
    kind = "neo4j"
    first_index = 0

    def __init__(self, url: str, user: str | None = None, password: str | None = None,
                 database: str | None = None, read_only: bool = False, timeout: float = 30.0):
        self.url = url
        self.read_only = read_only
        self.timeout = timeout
        self.database = database or "neo4j"
        auth = (user, password or "") if user else None
        try:
            self.driver = GraphDatabase.driver(url, auth=auth)
            self.driver.verify_connectivity()
        except (ServiceUnavailable, OSError, ValueError) as e:
            # the message never carries the password: only the URL and the driver's reason
            raise StoreError(f"cannot reach Neo4j at {url}: {str(e).splitlines()[0]}") from None
        except Neo4jError as e:
            raise StoreError(f"Neo4j at {url} refused the connection: {e.message}") from None

    def close(self) -> None:
        self.driver.close()

    def is_outage(self, e: BaseException) -> bool:
        # the driver's own retries are spent when these reach us: the server is down or unreachable
        return isinstance(e, (ServiceUnavailable, SessionExpired)) or super().is_outage(e)

    def _session(self, write: bool = False):
        mode = neo4j.WRITE_ACCESS if write else neo4j.READ_ACCESS
        return self.driver.session(database=self.database, default_access_mode=mode)

    # ---------------------------------------------------------------- schema
    def create_schema(self) -> None:
        self._check_writable()
        with self._session(True) as s:
            for stmt in schema_ddl():
                s.run(stmt).consume()
            try:
                s.run("CALL db.awaitIndexes($t)", t=INDEX_WAIT_S).consume()
            except ClientError as e:
                # a schema created over millions of imported nodes (neo4j-admin) can take longer to
                # populate (5M companies: ~8 min for the text index on 2 cores); the server finishes
                # it in the background and queries stay correct meanwhile, only slower
                if "awaitIndexes" not in (e.message or ""):
                    raise
                log.warning("indexes still populating after %s s; Neo4j completes them in the background "
                            "(SHOW INDEXES shows progress)", INDEX_WAIT_S)

    # ---------------------------------------------------------------- primitives
    def _fetch_nodes(self, label: str, ids: list[str]) -> dict[str, dict]:
        with self._session() as s:
            recs = s.execute_read(lambda tx: list(tx.run(
                _q("UNWIND $ids AS i MATCH (n:{L} {{id: i}}) RETURN properties(n) AS p", L=label), ids=ids)))
        return {r["p"]["id"]: dict(r["p"]) for r in recs}

    def _fetch_rels(self, rtype: str, rows: list[dict]) -> dict[str, dict]:
        params = [{"src": r["src"], "dst": r["dst"], "id": r["props"]["id"]} for r in rows]
        with self._session() as s:
            recs = s.execute_read(lambda tx: list(tx.run(
                _q("UNWIND $rows AS r MATCH ()-[e:{T} {{id: r.id}}]->() RETURN properties(e) AS p", T=rtype),
                rows=params)))
        return {r["p"]["id"]: dict(r["p"]) for r in recs}

    def _write(self, name: str, is_rel: bool, new: list[dict], changed: list[dict]) -> None:
        def work(tx):
            if not is_rel:
                if new:
                    tx.run(_q("UNWIND $rows AS r CREATE (n:{L}) SET n = r", L=name), rows=new).consume()
                if changed:
                    tx.run(_q("UNWIND $rows AS r MATCH (n:{L} {{id: r.id}}) SET n = r", L=name),
                           rows=changed).consume()
                return
            for (sl, dl), group in _by_pair(new).items():
                rows = [{"src": r["src"], "dst": r["dst"], "props": r["props"]} for r in group]
                made = tx.run(_q("UNWIND $rows AS r MATCH (a:{A} {{id: r.src}}) MATCH (b:{B} {{id: r.dst}}) "
                                 "CREATE (a)-[e:{T}]->(b) SET e = r.props RETURN count(e) AS c",
                                 A=sl, B=dl, T=name), rows=rows).single()["c"]
                if made != len(rows):
                    raise StoreError(f"{name}: {len(rows) - made} relationship(s) point to nodes not in the store")
            if changed:
                rows = [{"id": r["props"]["id"], "props": r["props"]} for r in changed]
                tx.run(_q("UNWIND $rows AS r MATCH ()-[e:{T} {{id: r.id}}]->() SET e = r.props", T=name),
                       rows=rows).consume()

        with self._session(True) as s:
            s.execute_write(work)

    def write(self, cypher: str, params: dict | None = None) -> None:
        self._check_writable()
        with self._session(True) as s:
            s.execute_write(lambda tx: tx.run(cypher, params or {}).consume())

    def node_label(self, node_id: str) -> str | None:
        # one indexed lookup per label beats an unlabeled scan
        with self._session() as s:
            for label in SCHEMA.labels:
                rec = s.run(_q("MATCH (n:{L} {{id: $id}}) RETURN 1 LIMIT 1", L=label), id=node_id).single()
                if rec is not None:
                    return label
        return None

    # ---------------------------------------------------------------- reads
    def read(self, cypher: str, params: dict | None = None, timeout: float | None = None,
             limit: int | None = None) -> Result:
        t = timeout or self.timeout

        @neo4j.unit_of_work(timeout=t)
        def work(tx):
            res = tx.run(cypher, params or {})
            keys = list(res.keys())
            rows, truncated = [], False
            for rec in res:
                if limit is not None and len(rows) >= limit:
                    truncated = True
                    break
                rows.append([_value(v) for v in rec.values()])
            res.consume()
            _fill_rel_ends(tx, rows)
            return Result(keys, rows, truncated)

        started = time.monotonic()
        try:
            with self._session() as s:
                return s.execute_read(work)
        except (ClientError, TransientError) as e:
            code = e.code or ""
            if "TransactionTimedOut" in code or "Terminated" in code or "timed out" in (e.message or ""):
                raise QueryTimeout(f"query stopped after {time.monotonic() - started:.1f} s (limit {t:g} s)") from None
            raise StoreError((e.message or str(e)).splitlines()[0]) from None
        except Neo4jError as e:
            raise StoreError((e.message or str(e)).splitlines()[0]) from None

    # ---------------------------------------------------------------- analytics support
    # keyset page size for edges(): source nodes per query (each query returns one record)
    edges_page = 100_000

    def edges(self, rtype: str, columns: list[str], page: int | None = None) -> pa.Table:
        """All relationships of a type as an Arrow table: src, dst, src_label, dst_label and the
        asked properties (types from schema.yaml, like Ladybug's).

        Bulk, not record by record: per (from, to) label pair of the schema (empty pairs skipped
        by the count store), one query when the pair has at most `page` relationships, else
        keyset pages of `page` source nodes in id order (index-backed `a.id > $last ORDER BY
        a.id LIMIT`). Each query returns ONE record holding a list of rows, so the driver (with
        neo4j-rust-ext) decodes a few large lists instead of a record object per edge (100k
        OWNS: 0.3 s client CPU instead of 2.1 s). Server memory per query is bounded by one
        page: `page` source nodes and their relationships of the pair."""
        if rtype not in SCHEMA.rels or any(c not in SCHEMA.rels[rtype].props for c in columns):
            raise ValueError("unknown relationship type or property")
        rt = SCHEMA.rels[rtype]
        types = [_PA_TYPES.get(rt.props[c].type, pa.string()) for c in columns]
        schema = pa.schema([("src", pa.string()), ("dst", pa.string()), ("src_label", pa.string()),
                            ("dst_label", pa.string()), *zip(columns, types)])
        row = ", ".join(["a.id", "b.id", *[f"e.`{c}`" for c in columns]])
        parts = []
        n = page or self.edges_page
        # notifications off: a property no edge has yet (e.g. `until`) only draws a warning
        with self.driver.session(database=self.database, default_access_mode=neo4j.READ_ACCESS,
                                 notifications_min_severity="OFF") as s:
            for sl, dl in rt.pairs:
                bound = self._pair_bound(s, rtype, sl, dl)
                if not bound:
                    continue
                if bound <= n:   # small pair: one query, no paging over every source node
                    rows = s.run(_q("MATCH (a:{A})-[e:{T}]->(b:{B}) RETURN collect([", A=sl, B=dl, T=rtype) +
                                 row + "]) AS rows").single()["rows"]
                    if rows:
                        parts.append(_page_table(rows, sl, dl, types, schema))
                    continue
                q = _q("MATCH (a:{A}) WHERE a.id > $last WITH a ORDER BY a.id LIMIT $page "
                       "OPTIONAL MATCH (a)-[e:{T}]->(b:{B}) "
                       "RETURN max(a.id) AS last, count(DISTINCT a) AS nodes, "
                       "collect(CASE WHEN e IS NULL THEN null ELSE [", A=sl, B=dl, T=rtype) + row + "] END) AS rows"
                last, size = "", n
                while True:
                    try:
                        rec = s.run(q, last=last, page=size).single()
                    except TransientError as e:
                        # a page of busy sources (funds with thousands of holdings) outgrew the
                        # server's transaction memory (db.memory.transaction.max): halve the page
                        if "MemoryPool" not in (e.code or "") or size == 1:
                            raise
                        size = max(1, size // 2)
                        log.info("%s %s->%s: page over the transaction memory cap, now %d source nodes",
                                 rtype, sl, dl, size)
                        continue
                    if rec["rows"]:
                        parts.append(_page_table(rec["rows"], sl, dl, types, schema))
                    if rec["last"] is None or rec["nodes"] < size:
                        break
                    last = rec["last"]
        return pa.concat_tables(parts) if parts else schema.empty_table()

    @staticmethod
    def _pair_bound(session, rtype: str, sl: str, dl: str) -> int:
        """An upper bound on the (:sl)-[:rtype]->(:dl) relationships, from the count store in
        O(1) (it answers one label per pattern): 0 skips the pair, a small one skips paging."""
        return min(session.run(q).single()["c"] for q in (
            _q("MATCH (:{A})-[e:{T}]->() RETURN count(e) AS c", A=sl, T=rtype),
            _q("MATCH ()-[e:{T}]->(:{B}) RETURN count(e) AS c", B=dl, T=rtype)))


_PA_TYPES = {"string": pa.string(), "float": pa.float64(), "int": pa.int64(), "bool": pa.bool_(),
             "date": pa.string(), "list": pa.list_(pa.string())}


def _page_table(rows: list, sl: str, dl: str, types: list, schema: pa.Schema) -> pa.Table:
    """One page of [src, dst, *props] rows as columns of the edges() schema."""
    cols = list(zip(*rows))
    arrays = [pa.array(cols[0], pa.string()), pa.array(cols[1], pa.string()),
              pa.array([sl] * len(rows), pa.string()), pa.array([dl] * len(rows), pa.string())]
    arrays += [pa.array(_plain(cols[2 + i]), t) for i, t in enumerate(types)]
    return pa.Table.from_arrays(arrays, schema=schema)


def _plain(values: tuple) -> list | tuple:
    """Driver temporal values as ISO strings (dates are stored as strings, but a temporal
    written by another client must not break the Arrow column)."""
    if any(hasattr(v, "iso_format") for v in values):
        return [v.iso_format() if hasattr(v, "iso_format") else v for v in values]
    return values


class _Pending(str):
    """An end node known only by element id until _fill_rel_ends looks it up."""


def _fill_rel_ends(tx, rows: list) -> None:
    pending: list[dict] = []

    def walk(v):
        if isinstance(v, dict):
            if "type" in v and (isinstance(v.get("src"), _Pending) or isinstance(v.get("dst"), _Pending)):
                pending.append(v)
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(rows)
    if not pending:
        return
    eids = list({str(r[k]) for r in pending for k in ("src", "dst") if isinstance(r[k], _Pending)})
    found = {rec["e"]: rec["i"] for rec in tx.run("MATCH (n) WHERE elementId(n) IN $e RETURN elementId(n) AS e, n.id AS i",
                                                     e=eids)}
    for r in pending:
        for k in ("src", "dst"):
            if isinstance(r[k], _Pending):
                r[k] = found.get(str(r[k]))


def _value(v: Any) -> Any:
    if isinstance(v, Node):
        return {"label": next(iter(v.labels), None), **clean_props(dict(v))}
    if isinstance(v, Relationship):
        # the driver only fills an end node's properties when that node is in the result too
        src = v.start_node.get("id") if v.start_node else None
        dst = v.end_node.get("id") if v.end_node else None
        out = {"type": v.type, "src": src or _Pending(v.start_node.element_id),
               "dst": dst or _Pending(v.end_node.element_id), **clean_props(dict(v))}
        return out
    if isinstance(v, Path):
        return {"nodes": [_value(n) for n in v.nodes], "rels": [_value(r) for r in v.relationships]}
    if isinstance(v, list):
        return [_value(x) for x in v]
    if isinstance(v, dict):
        return {k: _value(x) for k, x in v.items()}
    if hasattr(v, "iso_format"):  # neo4j temporal types
        return v.iso_format()
    return v
