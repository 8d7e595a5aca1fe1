"""The server store: Neo4j 5 over Bolt with the official `neo4j` driver.

Neo4j specifics live here only: uniqueness constraints and text indexes built from
schema.yaml, UNWIND batches inside managed transactions (one transaction per batch,
so a batch lands whole or not at all), and the conversion of driver values to the
neutral result shape.
"""
from __future__ import annotations

import time
from typing import Any

import neo4j
import pyarrow as pa
from neo4j import GraphDatabase
from neo4j.exceptions import ClientError, Neo4jError, ServiceUnavailable, TransientError
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

    def _session(self, write: bool = False):
        mode = neo4j.WRITE_ACCESS if write else neo4j.READ_ACCESS
        return self.driver.session(database=self.database, default_access_mode=mode)

    # ---------------------------------------------------------------- schema
    def create_schema(self) -> None:
        self._check_writable()
        with self._session(True) as s:
            for stmt in schema_ddl():
                s.run(stmt).consume()
            s.run("CALL db.awaitIndexes(300)").consume()

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
    def edges(self, rtype: str, columns: list[str]) -> pa.Table:
        if rtype not in SCHEMA.rels or any(c not in SCHEMA.rels[rtype].props for c in columns):
            raise ValueError("unknown relationship type or property")
        ret = ", ".join(["a.id AS src", "b.id AS dst", self.label_expr("a") + " AS src_label",
                         self.label_expr("b") + " AS dst_label", *[f"e.`{c}` AS `{c}`" for c in columns]])
        cols: dict[str, list] = {k: [] for k in ["src", "dst", "src_label", "dst_label", *columns]}
        with self._session() as s:
            for rec in s.run(_q("MATCH (a)-[e:{T}]->(b) RETURN ", T=rtype) + ret):
                for k in cols:
                    cols[k].append(rec[k])
        return pa.table(cols) if cols["src"] else pa.table({k: pa.array([], pa.string()) for k in cols})


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
