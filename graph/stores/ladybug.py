"""The embedded store: LadybugDB (the maintained Kùzu fork), one file, in-process.

Ladybug specifics live here only:
- one node table per label and one rel table per type (with every FROM/TO pair the schema allows);
- writes go through typed Arrow tables (`LOAD FROM $t ...` and `COPY ... FROM $t`), never one MERGE
  per row: Python dicts with nulls would be mis-typed by the binder;
- every connection sets TRAIL path semantics; queries get a timeout via `set_query_timeout`;
- lists are 1-based in Ladybug's Cypher.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import ladybug
import pyarrow as pa

from graph.schema import SCHEMA, Prop
from graph.store import GraphStore, QueryTimeout, Result, StoreError, by_pair as _by_pair, clean_props, _q

LB_TYPES = {"string": "STRING", "float": "DOUBLE", "int": "INT64", "bool": "BOOLEAN", "date": "STRING",
            "list": "STRING[]"}
PA_TYPES = {"string": pa.string(), "float": pa.float64(), "int": pa.int64(), "bool": pa.bool_(),
            "date": pa.string(), "list": pa.list_(pa.string())}
COPY_THRESHOLD = 20_000  # above this, new nodes go in with COPY rather than LOAD FROM + CREATE


def _ddl_props(props: dict[str, Prop], skip: tuple = ()) -> str:
    return ", ".join(f"`{p.name}` {LB_TYPES[p.type]}" for p in props.values() if p.name not in skip)


def schema_ddl() -> list[str]:
    """CREATE statements for every label and relationship type, from schema.yaml."""
    out = []
    for label, nt in SCHEMA.nodes.items():
        out.append("CREATE NODE TABLE IF NOT EXISTS `{L}`({p}, PRIMARY KEY(id))".format(L=label, p=_ddl_props(nt.props)))
    for rtype, rt in SCHEMA.rels.items():
        pairs = ", ".join(f"FROM `{a}` TO `{b}`" for a, b in rt.pairs)
        out.append("CREATE REL TABLE IF NOT EXISTS `{T}`({pairs}, {p})".format(T=rtype, pairs=pairs, p=_ddl_props(rt.props)))
    return out


def _arrow(rows: list[dict], props: dict[str, Prop], extra: dict[str, Any] | None = None) -> pa.Table:
    cols = {}
    for name, pt in (extra or {}).items():
        cols[name] = pa.array([r[name] for r in rows], type=pt)
    for p in props.values():
        cols[p.name] = pa.array([r.get(p.name) for r in rows], type=PA_TYPES[p.type])
    return pa.table(cols)


class LadybugStore(GraphStore):
    kind = "ladybug"
    first_index = 1

    def __init__(self, path: str | os.PathLike, read_only: bool = False, timeout: float = 30.0,
                 buffer_pool_mb: int = 0):
        self.path = str(path)
        self.url = self.path
        self.read_only = read_only
        self.timeout = timeout
        if read_only and not Path(self.path).exists():
            raise StoreError(f"no graph at {self.path}: run `techgiants init` or `techgiants ingest bundled` first")
        if not read_only:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            # a process killed mid-transaction leaves a torn WAL tail: replay up to it and drop
            # it (the binding's default refuses to open the whole database; docs/reliability.md)
            self.db = ladybug.Database(self.path, read_only=read_only,
                                       buffer_pool_size=buffer_pool_mb * 1024 * 1024,
                                       throw_on_wal_replay_failure=False)
        except RuntimeError as e:
            raise StoreError(f"cannot open {self.path}: {e}") from None
        self._local = threading.local()
        self._table_names: dict[int, str] | None = None

    # A connection per thread: Streamlit serves sessions from several threads.
    @property
    def conn(self) -> ladybug.Connection:
        c = getattr(self._local, "conn", None)
        if c is None:
            c = ladybug.Connection(self.db)
            c.execute("CALL recursive_pattern_semantic='TRAIL'")
            self._local.conn = c
        return c

    def close(self) -> None:
        c = getattr(self._local, "conn", None)
        if c is not None:
            c.close()
            self._local.conn = None
        self.db.close()

    # ---------------------------------------------------------------- schema
    def create_schema(self) -> None:
        self._check_writable()
        for stmt in schema_ddl():
            self.conn.execute(stmt)

    def _ensure_schema(self) -> None:
        if not self.read_only:
            tables = {r[1] for r in self.conn.execute("CALL show_tables() RETURN *").get_all()}
            if not set(SCHEMA.labels) <= tables:
                self.create_schema()

    # ---------------------------------------------------------------- primitives
    def _fetch_nodes(self, label: str, ids: list[str]) -> dict[str, dict]:
        res = self.conn.execute(_q("UNWIND $ids AS i MATCH (n:{L} {{id: i}}) RETURN n", L=label), {"ids": ids})
        out = {}
        for (n,) in res.get_all():
            out[n["id"]] = {k: v for k, v in n.items() if not k.startswith("_") and v is not None}
        return out

    def _fetch_rels(self, rtype: str, rows: list[dict]) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for (sl, dl), group in _by_pair(rows).items():
            t = pa.table({"src": [r["src"] for r in group], "dst": [r["dst"] for r in group],
                          "rid": [r["props"]["id"] for r in group]})
            res = self.conn.execute(_q("LOAD FROM $t MATCH (a:{A} {{id: src}})-[e:{T}]->(b:{B} {{id: dst}}) "
                                       "WHERE e.id = rid RETURN e", A=sl, B=dl, T=rtype), {"t": t})
            for (e,) in res.get_all():
                out[e["id"]] = {k: v for k, v in e.items() if not k.startswith("_") and v is not None}
        return out

    def _write(self, name: str, is_rel: bool, new: list[dict], changed: list[dict]) -> None:
        c = self.conn
        c.execute("BEGIN TRANSACTION")
        try:
            if is_rel:
                self._write_rels(name, new, changed)
            else:
                self._write_nodes(name, new, changed)
            c.execute("COMMIT")
        except Exception:
            c.execute("ROLLBACK")
            raise

    def _write_nodes(self, label: str, new: list[dict], changed: list[dict]) -> None:
        props = SCHEMA.nodes[label].props
        if new:
            t = _arrow(new, props)
            if len(new) >= COPY_THRESHOLD:
                self.conn.execute(_q("COPY {L} FROM $t", L=label), {"t": t})
            else:
                assign = ", ".join(f"`{p}`: `{p}`" for p in props)
                self.conn.execute(_q("LOAD FROM $t CREATE (n:{L} {{", L=label) + assign + "})", {"t": t})
        if changed:
            sets = ", ".join(f"n.`{p}` = `{p}`" for p in props if p != "id")
            self.conn.execute(_q("LOAD FROM $t MATCH (n:{L} {{id: id}}) SET ", L=label) + sets,
                              {"t": _arrow(changed, props)})

    def _write_rels(self, rtype: str, new: list[dict], changed: list[dict]) -> None:
        props = SCHEMA.rels[rtype].props
        extra = {"src": pa.string(), "dst": pa.string()}
        for (sl, dl), group in _by_pair(new).items():
            t = _arrow([{"src": r["src"], "dst": r["dst"], **r["props"]} for r in group], props, extra)
            assign = ", ".join(f"`{p}`: `{p}`" for p in props)
            res = self.conn.execute(
                _q("LOAD FROM $t MATCH (a:{A} {{id: src}}) MATCH (b:{B} {{id: dst}}) CREATE (a)-[e:{T} {{",
                   A=sl, B=dl, T=rtype) + assign + "}]->(b) RETURN count(e)", {"t": t})
            made = res.get_all()[0][0]
            if made != len(group):
                raise StoreError(f"{rtype}: {len(group) - made} relationship(s) point to nodes not in the store")
        for (sl, dl), group in _by_pair(changed).items():
            t = _arrow([{"src": r["src"], "dst": r["dst"], **r["props"]} for r in group], props, extra)
            sets = ", ".join(f"e.`{p}` = `{p}`" for p in props if p != "id")
            self.conn.execute(_q("LOAD FROM $t MATCH (a:{A} {{id: src}})-[e:{T}]->(b:{B} {{id: dst}}) "
                                 "WHERE e.id = id SET ", A=sl, B=dl, T=rtype) + sets, {"t": t})

    def write(self, cypher: str, params: dict | None = None) -> None:
        self._check_writable()
        self.conn.execute(cypher, params or {})

    def node_label(self, node_id: str) -> str | None:
        rows = self.conn.execute("MATCH (n) WHERE n.id = $id RETURN label(n) LIMIT 1", {"id": node_id}).get_all()
        return rows[0][0] if rows else None

    # ---------------------------------------------------------------- reads
    def read(self, cypher: str, params: dict | None = None, timeout: float | None = None,
             limit: int | None = None) -> Result:
        c = self.conn
        c.set_query_timeout(int(1000 * (timeout or self.timeout)))
        started = time.monotonic()
        try:
            res = c.execute(cypher, params or {})
        except RuntimeError as e:
            msg = str(e)
            if "Interrupted" in msg:
                raise QueryTimeout(f"query stopped after {time.monotonic() - started:.1f} s "
                                   f"(limit {timeout or self.timeout:g} s)") from None
            raise StoreError(msg.splitlines()[0]) from None
        if isinstance(res, list):  # several statements: only the last result counts
            res = res[-1]
        cols = res.get_column_names()
        rows, truncated = [], False
        while res.has_next():
            if limit is not None and len(rows) >= limit:
                truncated = True
                break
            rows.append(res.get_next())
        res.close()
        out = []
        for row in rows:
            ids: dict[tuple, str] = {}
            _collect_ids(row, ids)  # rels name their ends by internal id: map them from the row's nodes
            out.append([self._value(v, ids) for v in row])
        return Result(cols, out, truncated)

    def _value(self, v: Any, ids: dict) -> Any:
        if isinstance(v, dict):
            if "_NODES" in v and "_RELS" in v:
                nodes = [self._value(n, ids) for n in v["_NODES"]]
                rels = [self._rel(r, ids) for r in v["_RELS"]]
                if len(nodes) == len(rels) + 1:
                    return {"nodes": nodes, "rels": rels}
                return rels  # a variable-length relationship: a list, as Neo4j returns it
            if "_SRC" in v and "_LABEL" in v:
                return self._rel(v, ids)
            if "_LABEL" in v and "_ID" in v:
                return {"label": v["_LABEL"], **clean_props({k: x for k, x in v.items() if not k.startswith("_")})}
            return {k: self._value(x, ids) for k, x in v.items()}
        if isinstance(v, list):
            return [self._value(x, ids) for x in v]
        return v

    def _rel(self, r: dict, ids: dict) -> dict:
        src = ids.get((r["_SRC"]["table"], r["_SRC"]["offset"])) or self._id_of(r["_SRC"])
        dst = ids.get((r["_DST"]["table"], r["_DST"]["offset"])) or self._id_of(r["_DST"])
        return {"type": r["_LABEL"], "src": src, "dst": dst,
                **clean_props({k: x for k, x in r.items() if not k.startswith("_")})}

    def _id_of(self, internal: dict) -> str | None:
        if self._table_names is None:
            self._table_names = {r[0]: r[1] for r in self.conn.execute("CALL show_tables() RETURN *").get_all()}
        label = self._table_names.get(internal["table"])
        if label not in SCHEMA.nodes:
            self._table_names = None
            return None
        rows = self.conn.execute(_q("MATCH (n:{L}) WHERE offset(id(n)) = $o RETURN n.id", L=label),
                                 {"o": internal["offset"]}).get_all()
        return rows[0][0] if rows else None

    def label_expr(self, var: str) -> str:
        return f"label({var})"

    # ---------------------------------------------------------------- analytics support
    def edges(self, rtype: str, columns: list[str]) -> pa.Table:
        """All relationships of a type as an Arrow table: src, dst and the asked properties."""
        if rtype not in SCHEMA.rels or any(c not in SCHEMA.rels[rtype].props for c in columns):
            raise ValueError("unknown relationship type or property")
        ret = ", ".join(["a.id AS src", "b.id AS dst", self.label_expr("a") + " AS src_label",
                         self.label_expr("b") + " AS dst_label", *[f"e.`{c}` AS `{c}`" for c in columns]])
        return self.conn.execute(_q("MATCH (a)-[e:{T}]->(b) RETURN ", T=rtype) + ret).get_as_arrow()


def _collect_ids(v: Any, ids: dict) -> None:
    if isinstance(v, dict):
        if "_ID" in v and "id" in v and "_SRC" not in v:
            ids[(v["_ID"]["table"], v["_ID"]["offset"])] = v["id"]
        for x in v.values():
            _collect_ids(x, ids)
    elif isinstance(v, list):
        for x in v:
            _collect_ids(x, ids)
