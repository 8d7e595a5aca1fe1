"""The embedded store: LadybugDB (the maintained Kùzu fork), one file, in-process.

Ladybug specifics live here only:
- one node table per label and one rel table per type (with every FROM/TO pair the schema allows);
- writes go through typed Arrow tables (`LOAD FROM $t ...` and `COPY ... FROM $t`), never one MERGE
  per row: Python dicts with nulls would be mis-typed by the binder;
- every connection sets TRAIL path semantics; queries get a timeout via `set_query_timeout`;
- lists are 1-based in Ladybug's Cypher;
- the buffer pool is capped (TECHGIANTS_LADYBUG_BUFFER_MB, default `default_buffer_mb()`): Ladybug's
  own default grows to ~80% of RAM; a query that exhausts the pool becomes a StoreError and the
  database is reopened, so later queries still work;
- relationship ends come back as ids in the rows wherever we write the query: `_id_of` (a label
  scan per end) is only the fallback for user queries that return a relationship without its nodes.
"""
from __future__ import annotations

import gc
import logging
import os
from contextlib import contextmanager
import threading
import time
from pathlib import Path
from typing import Any

import ladybug
import pyarrow as pa

from graph.memory import release
from graph.schema import SCHEMA, Prop
from graph.store import GraphStore, QueryTimeout, Result, StoreError, by_pair as _by_pair, clean_props, _q

LB_TYPES = {"string": "STRING", "float": "DOUBLE", "int": "INT64", "bool": "BOOLEAN", "date": "STRING",
            "list": "STRING[]"}
PA_TYPES = {"string": pa.string(), "float": pa.float64(), "int": pa.int64(), "bool": pa.bool_(),
            "date": pa.string(), "list": pa.list_(pa.string())}
COPY_THRESHOLD = 20_000  # above this, new nodes go in with COPY rather than LOAD FROM + CREATE
# above this, new relationships of one (from, to) pair go in with COPY: LOAD FROM + MATCH + CREATE
# costs a join per row (465 s of a 1M ingest), COPY resolves the ends through the primary-key index.
# A committed rel COPY checkpoints (the WAL is folded into the file), so small batches, as the
# pipeline's default 5,000, keep the cheaper WAL path (tests/test_crash_recovery.py kills inside it)
REL_COPY_THRESHOLD = 20_000  # ... and only into an empty (from, to) table: see _write_rels
BUFFER_ENV = "TECHGIANTS_LADYBUG_BUFFER_MB"
BUFFER_CEILING_MB = 1536
POOL_FULL = "buffer pool is full"
FETCH_CHUNK = 20_000  # rows per existence lookup: one 100k-row join can fill a 2 GB pool at 1M
log = logging.getLogger(__name__)


class _CopyFailed(RuntimeError):
    """A relationship COPY failed for a reason other than a missing end node."""


def default_buffer_mb(env: dict | None = None, ram_mb: int | None = None) -> int:
    """The buffer pool cap: $TECHGIANTS_LADYBUG_BUFFER_MB, else a quarter of RAM, at most 1.5 GB.
    Ladybug's resident memory can reach about twice its pool (cached pages of the file and query
    memory are kept in two regions that each grow up to the pool's size), so 1.5 GB keeps a process
    under 4 GB at 1M companies, and every saved query, the bulk ingest and the record pipeline fit."""
    env = os.environ if env is None else env
    if env.get(BUFFER_ENV):
        return max(16, int(env[BUFFER_ENV]))
    if ram_mb is None:
        try:
            ram_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
        except (ValueError, OSError):
            ram_mb = 4 * BUFFER_CEILING_MB
    return max(256, min(BUFFER_CEILING_MB, ram_mb // 4))


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
    export_batch = 50_000  # each keyset page is a scan + top-k of the table: fewer, larger pages

    def __init__(self, path: str | os.PathLike, read_only: bool = False, timeout: float = 30.0,
                 buffer_pool_mb: int = 0):
        self.path = str(path)
        self.url = self.path
        self.read_only = read_only
        self.timeout = timeout
        self.buffer_pool_mb = buffer_pool_mb or default_buffer_mb()
        if read_only and not Path(self.path).exists():
            raise StoreError(f"no graph at {self.path}: run `techgiants init` or `techgiants ingest bundled` first")
        if not read_only:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._open()
        self._table_names: dict[int, str] | None = None
        self._outer_tx = False

    def _open(self) -> None:
        try:
            # a process killed mid-transaction leaves a torn WAL tail: replay up to it and drop
            # it (the binding's default refuses to open the whole database; docs/reliability.md)
            self.db = ladybug.Database(self.path, read_only=self.read_only,
                                       buffer_pool_size=self.buffer_pool_mb * 1024 * 1024,
                                       throw_on_wal_replay_failure=False)
        except RuntimeError as e:
            raise StoreError(f"cannot open {self.path}: {e}") from None
        self._local = threading.local()

    def _reopen(self) -> None:
        """After the buffer pool ran out, Ladybug may refuse every later query: start afresh
        (connections of other threads are dropped with the old thread-local and reconnect lazily)."""
        try:
            self.close()
        except RuntimeError as e:
            log.warning("closing %s after a full buffer pool: %s", self.path, e)
        gc.collect()
        release()   # hand the old pool's memory back before the new one fills (else RSS doubles)
        self._open()

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

    def is_outage(self, e: BaseException) -> bool:
        # a closed database answers every call with a plain RuntimeError("Database is closed")
        return bool(getattr(self.db, "is_closed", False)) or super().is_outage(e)

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
    def _has_rows(self, pattern: str, **names: str) -> bool:
        """Whether a label/type holds anything: a first batch of an empty table needs no lookup."""
        return bool(self.conn.execute(_q(pattern + " RETURN 1 LIMIT 1", **names)).get_all())

    def _fetch_nodes(self, label: str, ids: list[str]) -> dict[str, dict]:
        if not self._has_rows("MATCH (n:{L})", L=label):
            return {}
        cols = list(SCHEMA.nodes[label].props)
        ret = ", ".join(f"n.`{c}`" for c in cols)
        # plain columns: building a node struct per row costs more than the lookup itself
        key = cols.index("id")
        out: dict[str, dict] = {}
        for i in range(0, len(ids), FETCH_CHUNK):   # bounded join state in the buffer pool
            res = self.conn.execute(_q("LOAD FROM $t MATCH (n:{L} {{id: i}}) RETURN ", L=label) + ret,
                                    {"t": pa.table({"i": pa.array(ids[i:i + FETCH_CHUNK], type=pa.string())})})
            out.update({row[key]: {c: v for c, v in zip(cols, row) if v is not None} for row in res.get_all()})
        return out

    def _fetch_rels(self, rtype: str, rows: list[dict]) -> dict[str, dict]:
        if not self._has_rows("MATCH ()-[e:{T}]->()", T=rtype):
            return {}
        cols = list(SCHEMA.rels[rtype].props)
        ret = ", ".join(f"e.`{c}`" for c in cols)
        key = cols.index("id")
        out: dict[str, dict] = {}
        for (sl, dl), whole in _by_pair(rows).items():
            for i in range(0, len(whole), FETCH_CHUNK):   # bounded join state in the buffer pool
                group = whole[i:i + FETCH_CHUNK]
                # from the source's primary key, its few edges of this type, filtered by id
                t = pa.table({"src": pa.array([r["src"] for r in group], type=pa.string()),
                              "rid": pa.array([r["props"]["id"] for r in group], type=pa.string())})
                res = self.conn.execute(_q("LOAD FROM $t MATCH (a:{A} {{id: src}})-[e:{T}]->(b:{B}) "
                                           "WHERE e.id = rid RETURN ", A=sl, B=dl, T=rtype) + ret, {"t": t})
                for row in res.get_all():
                    out[row[key]] = {c: v for c, v in zip(cols, row) if v is not None}
        return out

    def upsert_nodes(self, label: str, rows) -> "UpsertCounts":
        with self._upsert_guard(label):
            return super().upsert_nodes(label, rows)

    def upsert_rels(self, rtype: str, rows) -> "UpsertCounts":
        with self._upsert_guard(rtype):
            return super().upsert_rels(rtype, rows)

    @contextmanager
    def _upsert_guard(self, name: str):
        """Around every upsert. A full buffer pool leaves Ladybug refusing every later statement:
        reopen the database and refuse the batch with a clear message, so that the pipeline's retry
        of the batch in halves (ingest.pipeline.write_bisecting) runs on a usable store. And after
        the upsert, release its parameter tables."""
        try:
            yield
        except RuntimeError as e:
            if POOL_FULL not in str(e):
                raise
            self._reopen()
            raise StoreError(f"{name}: the batch needs more memory than Ladybug's buffer pool "
                             f"({self.buffer_pool_mb} MB): set {BUFFER_ENV} higher or use a smaller batch") from None
        finally:
            self._release_params()

    def _release_params(self) -> None:
        """Close this thread's connection (the next call opens a new one). Ladybug 0.22 keeps every
        Arrow table passed as a query parameter (`LOAD FROM $t`, `COPY ... FROM $t`) alive until its
        connection closes: 470 MB over a 1M-company record ingest. Never inside a batch_transaction."""
        if self._outer_tx:
            return
        c = getattr(self._local, "conn", None)
        if c is not None:
            self._local.conn = None
            c.close()

    @contextmanager
    def batch_transaction(self):
        """One transaction around several upserts and COPYs on this thread's connection (ingest.bulk's
        all-or-nothing load into populated tables): upserts write inside it instead of committing
        each batch, and the connection that holds it stays open until it ends."""
        self._outer_tx = True
        self.conn.execute("BEGIN TRANSACTION")
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException:
            try:
                self.conn.execute("ROLLBACK")
            except RuntimeError:
                pass  # a failed COPY has already rolled the transaction back
            raise
        finally:
            self._outer_tx = False
            self._release_params()

    def _write(self, name: str, is_rel: bool, new: list[dict], changed: list[dict]) -> None:
        # a full buffer pool anywhere in an upsert is handled once, by _upsert_guard around it
        if self._outer_tx:   # inside batch_transaction: its commit or rollback covers this write
            if is_rel:
                self._write_rels(name, new, changed)
            else:
                self._write_nodes(name, new, changed)
            return
        try:
            self._write_tx(name, is_rel, new, changed, copy=True)
        except _CopyFailed as e:
            # the failed COPY rolled everything back: redo the batch on the row-by-row path
            log.warning("%s: COPY failed (%s); writing the batch with LOAD FROM instead", name, e)
            if POOL_FULL in str(e):
                self._reopen()
            self._write_tx(name, is_rel, new, changed, copy=False)

    def _write_tx(self, name: str, is_rel: bool, new: list[dict], changed: list[dict], copy: bool) -> None:
        c = self.conn
        c.execute("BEGIN TRANSACTION")
        try:
            if is_rel:
                self._write_rels(name, new, changed, copy)
            else:
                self._write_nodes(name, new, changed)
            c.execute("COMMIT")
        except Exception:
            try:
                c.execute("ROLLBACK")
            except RuntimeError:
                pass  # a failed COPY has already rolled the whole transaction back
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

    def _write_rels(self, rtype: str, new: list[dict], changed: list[dict], copy: bool = True) -> None:
        props = SCHEMA.rels[rtype].props
        extra = {"src": pa.string(), "dst": pa.string()}
        pairs = _by_pair(new)
        # COPY only into a (from, to) table that holds nothing yet: a COPY into a populated rel table
        # rewrites its adjacency lists and, when that runs out of buffer pool, Ladybug 0.22 can leave
        # a database that no longer opens (seen at 1M with a 2 GB pool); the first batch of a type,
        # the bulk of a big load, still gets the fast path
        empty = {pair: copy and len(group) >= REL_COPY_THRESHOLD and
                 not self._has_rows("MATCH (:{A})-[e:{T}]->(:{B})", A=pair[0], T=rtype, B=pair[1])
                 for pair, group in pairs.items()}
        for (sl, dl), group in pairs.items():
            t = _arrow([{"src": r["src"], "dst": r["dst"], **r["props"]} for r in group], props, extra)
            if empty[(sl, dl)]:
                try:
                    self.conn.execute(_q("COPY {T} FROM $t (from='", T=rtype) + _ident(sl) + "', to='" +
                                      _ident(dl) + "')", {"t": t})
                except RuntimeError as e:
                    msg = str(e).splitlines()[0]
                    if "Unable to find primary key" not in msg:
                        raise _CopyFailed(msg) from None
                    raise StoreError(f"{rtype} ({sl}->{dl}): relationship(s) point to nodes not in the store "
                                     f"({msg}); nothing of this batch was written") from None
                continue
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
        # one primary-key lookup per label: an unlabelled MATCH scans every table
        q = " UNION ALL ".join(_q("MATCH (n:{L} {{id: $id}}) RETURN ", L=label) + f"'{_ident(label)}' AS l"
                               for label in SCHEMA.labels)
        rows = self.conn.execute(q, {"id": node_id}).get_all()
        return rows[0][0] if rows else None

    # ---------------------------------------------------------------- reads
    def read(self, cypher: str, params: dict | None = None, timeout: float | None = None,
             limit: int | None = None, _retry: bool = True) -> Result:
        c = self.conn
        c.set_query_timeout(int(1000 * (timeout or self.timeout)))
        started = time.monotonic()
        try:
            res = c.execute(cypher, params or {})
        except RuntimeError as e:
            msg = str(e)
            if POOL_FULL in msg:
                self._reopen()
                if _retry:
                    # memory held over from earlier big queries is not always released to the next
                    # one (at 1M, connection-between failed right after changes-since and took
                    # 0.4 s on a fresh database): one retry on the reopened database
                    return self.read(cypher, params, timeout, limit, _retry=False)
                raise StoreError(f"the query needs more memory than Ladybug's buffer pool "
                                 f"({self.buffer_pool_mb} MB): set {BUFFER_ENV} higher, or narrow the query") from None
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
        ends = []
        for end in (r["_SRC"], r["_DST"]):
            key = (end["table"], end["offset"])
            if key not in ids:  # the last resort: the end node is not in the row
                ids[key] = self._id_of(end)
            ends.append(ids[key])
        src, dst = ends
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
        """All relationships of a type as an Arrow table: src, dst, src_label, dst_label and the
        asked properties. One query per (from, to) pair with labelled ends: an unlabelled end
        makes Ladybug scan every node table and compute label() per row."""
        if rtype not in SCHEMA.rels or any(c not in SCHEMA.rels[rtype].props for c in columns):
            raise ValueError("unknown relationship type or property")
        rt = SCHEMA.rels[rtype]
        schema = pa.schema([("src", pa.string()), ("dst", pa.string()), ("src_label", pa.string()),
                            ("dst_label", pa.string()), *[(c, PA_TYPES[rt.props[c].type]) for c in columns]])
        ret = ", ".join(["a.id AS src", "b.id AS dst", "$sl AS src_label", "$dl AS dst_label",
                         *[f"e.`{c}` AS `{c}`" for c in columns]])
        parts = []
        for sl, dl in rt.pairs:
            t = self.conn.execute(_q("MATCH (a:{A})-[e:{T}]->(b:{B}) RETURN ", A=sl, B=dl, T=rtype) + ret,
                                  {"sl": sl, "dl": dl}).get_as_arrow()
            parts.append(t.rename_columns(schema.names).cast(schema))
        return pa.concat_tables(parts)


def _ident(name: str) -> str:
    """A schema label as a bare word inside a quoted option (COPY ... (from='A')): checked by _q."""
    _q("{x}", x=name)
    return name


def _collect_ids(v: Any, ids: dict) -> None:
    if isinstance(v, dict):
        if "_ID" in v and "id" in v and "_SRC" not in v:
            ids[(v["_ID"]["table"], v["_ID"]["offset"])] = v["id"]
        for x in v.values():
            _collect_ids(x, ids)
    elif isinstance(v, list):
        for x in v:
            _collect_ids(x, ids)
