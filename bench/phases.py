"""One benchmark phase per process, so each phase's peak RSS is its own.

    python -m bench.phases PHASE --data bench/.work/100k --store URL --out result.json [options]

Phases:
  lb-raw        fresh Ladybug db, schema, `COPY` of every Parquet file (the store's raw bulk load)
  lb-pipeline   fresh Ladybug db, schema, ingest.pipeline.run(records) (resolver=None)
  neo-raw       schema on an empty Neo4j, then plain `UNWIND ... CREATE` batches (no validation, no merging)
  neo-pipeline  schema on an empty Neo4j, then ingest.pipeline.run(records)
  breakdown     records -> validate cost outside any store (where pipeline time goes, store-independent)
  read          saved queries, search, neighbourhood, store.edges, analytics vs variable-length Cypher
  app           app pages through streamlit.testing.v1.AppTest
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
import time
import traceback
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Timer, du_mb, peak_rss_mb, reset_peak, rss_mb, stats_ms, window_peak_mb, write_json  # noqa: E402
from bench.generate import parquet_records, read_parquet, records, unwind_batches  # noqa: E402


def _manifest(data: Path) -> dict:
    return json.loads((Path(data) / "manifest.json").read_text())


# ====================================================================== ingest
class _Acc:
    """Accumulated wall time of wrapped callables."""

    def __init__(self):
        self.t: dict[str, float] = {}
        self.n: dict[str, int] = {}

    def wrap(self, name, fn):
        def inner(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                self.t[name] = self.t.get(name, 0.0) + time.perf_counter() - t
                self.n[name] = self.n.get(name, 0) + 1
        return inner

    def report(self) -> dict:
        return {k: {"s": round(v, 3), "calls": self.n[k]} for k, v in sorted(self.t.items())}


def _instrument(store, acc: _Acc, per_record: bool) -> None:
    """Time the store's batch-level steps (negligible overhead); with per_record also
    search_key (one call per node)."""
    for name in ("upsert_nodes", "upsert_rels", "_fetch_nodes", "_fetch_rels", "_write", "node_label"):
        setattr(store, name, acc.wrap(name, getattr(store, name)))
    if per_record:
        import graph.store as gs
        gs.search_key = acc.wrap("search_key", gs.search_key)


def phase_lb_raw(args) -> dict:
    from graph.stores.ladybug import LadybugStore
    path = Path(args.store)
    _fresh(path)
    stmts = [s for s in (Path(args.data) / "ladybug" / "copy.cypher").read_text().split(";\n") if s.strip()]
    man = _manifest(args.data)
    per = {}
    with Timer() as t:
        s = LadybugStore(path)
        s.create_schema()
        for stmt in stmts:
            t1 = time.perf_counter()
            s.conn.execute(stmt)
            per[stmt.split("FROM")[0].replace("COPY", "").strip() + " " + Path(stmt.split("'")[1]).stem] = \
                round(time.perf_counter() - t1, 3)
        s.close()
    s = LadybugStore(path, read_only=True)
    counts = s.counts()
    s.close()
    n = sum(counts["nodes"].values()) + sum(counts["relationships"].values())
    return {"seconds": round(t.wall, 3), "cpu_s": round(t.cpu, 3), "elements": n, "expected": man["elements"],
            "elements_per_s": round(n / t.wall), "size_mb": du_mb(path), "per_file_s": per,
            "peak_rss_mb": peak_rss_mb()}


def phase_lb_pipeline(args) -> dict:
    from graph.stores.ladybug import LadybugStore
    from ingest import pipeline
    path = Path(args.store)
    _fresh(path)
    # streamed from the Parquet files a batch at a time, as an ingester reads its files
    n, recs = parquet_records(Path(args.data) / "ladybug")
    acc = _Acc()
    rss0 = rss_mb()
    with Timer() as t:
        s = LadybugStore(path, buffer_pool_mb=args.buffer_pool_mb)
        s.create_schema()
        _instrument(s, acc, args.instrument)
        rep = pipeline.run(s, recs, batch=args.batch)
        s.close()
    gc.collect()
    return {"seconds": round(t.wall, 3), "cpu_s": round(t.cpu, 3), "elements": n,
            "elements_per_s": round(n / t.wall), "batch": args.batch, "rejected": rep.total_rejected,
            "written": {k: v for k, v in rep.as_dict().items()}, "steps": acc.report(),
            "size_mb": du_mb(path), "rss_before_mb": rss0, "peak_rss_mb": peak_rss_mb()}


def phase_lb_fast(args) -> dict:
    """ingest/bulk.py (`techgiants ingest bulk`) on the Parquet folder: read, column checks (+ the
    record validator for suspect rows), search_key, COPY, one transaction. Files read inside the timer."""
    from graph.stores.ladybug import LadybugStore
    from ingest.bulk import load
    path = Path(args.store)
    _fresh(path)
    with Timer() as t:
        s = LadybugStore(path)
        s.create_schema()
        rep = load(s, Path(args.data) / "ladybug")
        s.close()
    n = sum(r["read"] for r in rep.as_dict().values())
    return {"seconds": round(t.wall, 3), "cpu_s": round(t.cpu, 3), "elements": n,
            "elements_per_s": round(n / t.wall), "size_mb": du_mb(path), "rejected": rep.total_rejected,
            "written": rep.as_dict(), "peak_rss_mb": peak_rss_mb()}


def phase_neo_raw(args) -> dict:
    from graph.stores.neo4j import Neo4jStore
    g = read_parquet(Path(args.data) / "ladybug")
    n = g.n_elements
    store = Neo4jStore(args.store)
    per: dict[str, float] = {}
    with Timer() as t:
        store.create_schema()
        with store.driver.session(database=store.database) as sess:
            for q, rows, k in unwind_batches(g, args.batch):
                t1 = time.perf_counter()
                sess.execute_write(lambda tx: tx.run(q, rows=rows).consume())
                key = q.split("[e:`")[1].split("`")[0] if "[e:`" in q else q.split("`")[1]
                per[key] = per.get(key, 0.0) + time.perf_counter() - t1
    counts = store.counts()
    store.close()
    got = sum(counts["nodes"].values()) + sum(counts["relationships"].values())
    return {"seconds": round(t.wall, 3), "cpu_s": round(t.cpu, 3), "elements": got, "expected": n,
            "elements_per_s": round(n / t.wall), "batch": args.batch,
            "server_side_s": {k: round(v, 2) for k, v in per.items()}, "peak_rss_mb": peak_rss_mb()}


def phase_neo_pipeline(args) -> dict:
    from graph.stores.neo4j import Neo4jStore
    from ingest import pipeline
    g = read_parquet(Path(args.data) / "ladybug")
    n = g.n_elements
    acc = _Acc()
    with Timer() as t:
        store = Neo4jStore(args.store)
        store.create_schema()
        _instrument(store, acc, args.instrument)
        rep = pipeline.run(store, records(g), batch=args.batch)
    store.close()
    return {"seconds": round(t.wall, 3), "cpu_s": round(t.cpu, 3), "elements": n,
            "elements_per_s": round(n / t.wall), "batch": args.batch, "rejected": rep.total_rejected,
            "steps": acc.report(), "peak_rss_mb": peak_rss_mb()}


def phase_breakdown(args) -> dict:
    """Store-independent costs of the pipeline path: building records from Arrow, the pydantic
    validation, search_key, and the rel_id hash (which Rel.__post_init__ now computes only for a
    relationship given without an id: the generated ones all carry one, so the pipeline skips it)."""
    from graph.ids import rel_id
    from graph.names import search_key
    from graph.schema import validate_node, validate_rel
    from ingest.records import Node
    g = read_parquet(Path(args.data) / "ladybug")
    out = {"elements": g.n_elements}
    # streamed (3.7M records at 1M companies would not fit in memory as a list)
    with Timer() as t:
        nn = nr = 0
        for r in records(g):
            if isinstance(r, Node):
                nn += 1
            else:
                nr += 1
    out["records_s"] = round(t.cpu, 3)
    vn = vr = 0.0   # validation calls timed one by one
    pc_ = time.process_time   # CPU seconds: the machine is shared
    for r in records(g):
        if isinstance(r, Node):
            t0 = pc_()
            validate_node(r.label, r.props)
            vn += pc_() - t0
        else:
            t0 = pc_()
            validate_rel(r.type, r.src_label, r.dst_label, r.props)
            vr += pc_() - t0
    out["validate_nodes_s"] = round(vn, 3)
    out["validate_rels_s"] = round(vr, 3)
    out["validate_s"] = round(vn + vr, 3)
    out["validate_nodes_us_each"] = round(1e6 * vn / max(nn, 1), 2)
    out["validate_rels_us_each"] = round(1e6 * vr / max(nr, 1), 2)
    with Timer() as t:
        for label, tbl in g.nodes.items():
            if "search_key" not in tbl.column_names:
                continue
            cols = [c for c in ("name", "aliases", "name_zh") if c in tbl.column_names]
            for b in tbl.select(cols).to_batches(50_000):
                for row in b.to_pylist():
                    search_key(row)
    out["search_key_s"] = round(t.cpu, 3)
    with Timer() as t:
        for rtype, parts in g.rels.items():
            for sl, dl, tbl in parts:
                for a, b in zip(tbl.column("from").to_pylist(), tbl.column("to").to_pylist()):
                    rel_id(rtype, a, b, "")
    out["rel_id_hash_s"] = round(t.cpu, 3)
    out["timer"] = "CPU seconds (process_time)"
    out["nodes"], out["rels"] = nn, nr
    out["peak_rss_mb"] = peak_rss_mb()
    if args.profile:
        import cProfile
        import pstats
        from graph.stores.ladybug import LadybugStore
        from graph.stores import open_store
        from ingest import pipeline
        if args.store.startswith("bolt://"):
            s = open_store(args.store)
        else:
            _fresh(Path(args.store))
            s = LadybugStore(args.store)
        s.create_schema()
        prof = cProfile.Profile()
        prof.enable()
        pipeline.run(s, records(g), batch=args.batch)
        prof.disable()
        s.close()
        prof.dump_stats(args.profile)
        import io
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(25)
        out["profile_tottime"] = buf.getvalue()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(40)
        out["profile_cumulative"] = buf.getvalue()
    return out


# ====================================================================== reads
QUERY_PARAMS = {
    # per query: which generated id to use for each parameter (keys of manifest["params"] or literals)
    "ultimate-owners": {"company": "@company_with_owners"},
    "state-ownership": {"company": "@company_deep_state"},
    "subsidiaries": {"company": "@group_head"},
    "government-clients": {"company": "@project_company"},
    "smart-city-suppliers": {"company": "@supplier_target"},
    "captured-explain": {"entity": "@company_with_owners"},
    "entity-profile": {"entity": "@listed_company"},
    "sources-for": {"entity": "@listed_company"},
    "investor-exposure": {"investor": "@investor_company"},
    "officers": {"organisation": "@officer_company"},
    "university-partnerships": {"university": "@university"},
    "search-identifier": {"identifier": "@identifier"},
    "connection-between": {"from": "@company_with_owners", "to": "@group_head"},
    "ownership-chain": {"owner": "@group_head", "owned": "@company_with_owners"},
    "find-entity": {"text": "@search_word"},
    "region-activity": {"region": "Xinjiang"},
    "changes-since": {"since": "2025-06-01"},
    "entities-since": {"since": "2025-06-01"},
}
# Documented exceptions to the 1 s target (they read the whole graph by design) are declared in
# the query files' `analytical:` header (queries/library.py), not here.


def _resolve(v, params: dict):
    if isinstance(v, str) and v.startswith("@"):
        return params.get(v[1:])
    return v


def _timed_runs(fn, reps: int, slow: float = 2.0, very_slow: float = 10.0) -> dict:
    """Warm-up once, then repeats (fewer when the warm-up was slow)."""
    from graph.store import QueryTimeout, StoreError
    try:
        t = time.perf_counter()
        first = fn()
        warm = time.perf_counter() - t
    except QueryTimeout as e:
        return {"error": f"timeout ({e})"}
    except StoreError as e:
        return {"error": f"error: {e}"}
    n = reps if warm < slow else (3 if warm < very_slow else 1)
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        try:
            fn()
        except QueryTimeout as e:
            return {"error": f"timeout ({e})", "warmup_ms": round(1000 * warm, 1)}
        samples.append(time.perf_counter() - t)
    out = stats_ms(samples)
    out["warmup_ms"] = round(1000 * warm, 1)
    out["rows"] = _rows(first)
    return out


def _rows(x):
    if hasattr(x, "rows"):
        return len(x.rows)
    if isinstance(x, list):
        return len(x)
    if hasattr(x, "nodes"):
        return len(x.nodes)
    return None


def bench_queries(store, params: dict, reps: int, timeout: float, reopen=None, progress=None) -> dict:
    try:
        import queries
        lib = queries.load_library()
    except Exception as e:  # noqa: BLE001 - the package is being written
        return {"_error": f"queries package not loadable: {e}"}
    out = {}
    for q in lib:
        given = {}
        for p in q.params:
            v = _resolve(QUERY_PARAMS.get(q.name, {}).get(p.name), params)
            if v is not None:
                given[p.name] = v
        reset_peak()
        res = _timed_runs(lambda: queries.run(store, q, timeout=timeout, **given), reps)
        res["peak_rss_mb"] = window_peak_mb()
        if "Buffer manager" in res.get("error", "") and reopen is not None:
            # a query that exhausts Ladybug's buffer pool leaves it full: reopen before the next one
            store = reopen()
            res["error"] = "buffer pool exhausted (needs more than the configured pool)"
        res["params"] = given
        res["title"] = q.title
        if getattr(q, "analytical", None):
            res["analytical"] = q.analytical
        out[q.name] = res
        if progress is not None:
            progress(out)
    return out


def bench_search(store, params: dict, reps: int) -> dict:
    name = params["search_name"]
    words = name.split()
    brand = words[1] if len(words) > 1 else words[0]
    typo = brand[:-1] + ("x" if brand[-1] != "x" else "y")
    qs = {"exact name": name, "brand + industry (alias)": " ".join(words[1:3]),
          "one typo": f"{typo} {words[2] if len(words) > 2 else ''}".strip(),
          "chinese name": params.get("search_zh") or name, "single word": brand.lower()}
    out = {}
    if store.kind == "ladybug":   # the token index: built once per data version, then kept on disk
        import shutil
        from graph import search as gs
        shutil.rmtree(gs._sidecar(store), ignore_errors=True)
        gs._indexes.pop(store.url, None)
        r0 = rss_mb()
        with Timer() as t:
            idx = gs.index_for(store)
        built = {"build_s": round(t.wall, 2), "build_cpu_s": round(t.cpu, 2), "entities": int(idx.n),
                 "vocabulary": len(idx.vocab), "rss_delta_mb": round(rss_mb() - r0, 1),
                 "on_disk_mb": round(du_mb(gs._sidecar(store)), 1)}
        gs._indexes.pop(store.url, None)
        with Timer() as t:
            gs.index_for(store)
        built.update(load_s=round(t.wall, 2), load_cpu_s=round(t.cpu, 2))
        out["_index"] = built
    for label, text in qs.items():
        r = _timed_runs(lambda: store.search(text, limit=20), reps)
        hits = store.search(text, limit=20)
        r["text"] = text
        r["top"] = hits[0]["id"] if hits else None
        out[label] = r
    return out


def bench_neighbourhood(store, params: dict, reps: int) -> dict:
    out = {}
    for who in ("group_head", "company_with_owners", "listed_company"):
        nid = params.get(who)
        if not nid:
            continue
        for depth in (1, 2):
            r = _timed_runs(lambda: store.neighbourhood(nid, depth=depth, limit=100), reps)
            r["id"] = nid
            out[f"{who} depth {depth}"] = r
    return out


EDGE_COLS = {"OWNS": ["share", "share_min", "share_max", "start", "end"], "HOLDS": ["weight", "as_of"],
             "LISTED_ON": ["since", "until"], "CONSTITUENT_OF": ["weight", "start", "end"], "TRACKS": []}


def bench_edges(store) -> dict:
    out = {}
    for rtype, cols in EDGE_COLS.items():
        r0 = rss_mb()
        with Timer() as t:
            tbl = store.edges(rtype, cols)
        out[rtype] = {"seconds": round(t.wall, 3), "rows": tbl.num_rows, "arrow_mb": round(tbl.nbytes / 2**20, 1),
                      "rss_delta_mb": round(rss_mb() - r0, 1)}
        del tbl
    return out


def bench_chunked_edges(store, chunks: int = 8) -> dict:
    """OWNS pulled in id-range chunks (Ladybug: Arrow straight from the connection): what an
    out-of-process analytics worker would do when one pull is too big."""
    if store.kind != "ladybug":
        return {"note": "Ladybug only here; on Neo4j the same range predicate on the indexed id works"}
    ids = store.conn.execute("MATCH (a)-[e:OWNS]->() RETURN DISTINCT a.id AS i ORDER BY i").get_as_arrow()
    col = ids.column("i").to_pylist()
    bounds = [col[int(i * len(col) / chunks)] for i in range(chunks)] + [None]
    total, peak, t0 = 0, 0, time.perf_counter()
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        ret = " RETURN a.id AS src, b.id AS dst, e.share AS share"
        if hi is None:   # the last chunk is open-ended
            tbl = store.conn.execute("MATCH (a)-[e:OWNS]->(b) WHERE a.id >= $lo" + ret, {"lo": lo}).get_as_arrow()
        else:
            tbl = store.conn.execute("MATCH (a)-[e:OWNS]->(b) WHERE a.id >= $lo AND a.id < $hi" + ret,
                                     {"lo": lo, "hi": hi}).get_as_arrow()
        total += tbl.num_rows
        peak = max(peak, tbl.nbytes)
    return {"chunks": chunks, "rows": total, "seconds": round(time.perf_counter() - t0, 3),
            "largest_chunk_mb": round(peak / 2**20, 1)}


CYPHER_EQUIV = {
    "ladybug": {
        "cascade (majority chains, *1..6)":
            "MATCH (l)-[:LISTED_ON]->(:SanctionsList) WITH DISTINCT l "
            "MATCH (l)-[:OWNS*1..6 (r, n | WHERE r.share >= 0.5)]->(c) RETURN count(DISTINCT c)",
        "exposure: direct holders":
            "MATCH (l)-[:LISTED_ON]->(:SanctionsList) WITH DISTINCT l MATCH (i)-[:HOLDS]->(l) RETURN count(*)",
        "exposure: holders of owners (*1..6)":
            "MATCH (l)-[:LISTED_ON]->(:SanctionsList) WITH DISTINCT l MATCH (h)-[:OWNS*1..6]->(l) "
            "WITH DISTINCT l, h MATCH (i)-[:HOLDS]->(h) RETURN count(*)",
        "exposure: holders of subsidiaries (*1..6)":
            "MATCH (l)-[:LISTED_ON]->(:SanctionsList) WITH DISTINCT l MATCH (l)-[:OWNS*1..6]->(h) "
            "WITH DISTINCT l, h MATCH (i)-[:HOLDS]->(h) RETURN count(*)",
    },
    "neo4j": {
        "cascade (majority chains, *1..6)":
            "MATCH (l)-[:LISTED_ON]->(:SanctionsList) WITH DISTINCT l "
            "MATCH p = (l)-[:OWNS*1..6]->(c) WHERE all(r IN relationships(p) WHERE r.share >= 0.5) "
            "RETURN count(DISTINCT c)",
        "exposure: direct holders":
            "MATCH (l)-[:LISTED_ON]->(:SanctionsList) WITH DISTINCT l MATCH (i)-[:HOLDS]->(l) RETURN count(*)",
        "exposure: holders of owners (*1..6)":
            "MATCH (l)-[:LISTED_ON]->(:SanctionsList) WITH DISTINCT l MATCH (h)-[:OWNS*1..6]->(l) "
            "WITH DISTINCT l, h MATCH (i)-[:HOLDS]->(h) RETURN count(*)",
        "exposure: holders of subsidiaries (*1..6)":
            "MATCH (l)-[:LISTED_ON]->(:SanctionsList) WITH DISTINCT l MATCH (l)-[:OWNS*1..6]->(h) "
            "WITH DISTINCT l, h MATCH (i)-[:HOLDS]->(h) RETURN count(*)",
    },
}


def bench_analytics(store, params: dict, cypher_timeout: float, lookthrough_all: bool) -> dict:
    from graph import analysis
    from graph import ownership as ow
    from graph.store import QueryTimeout, StoreError
    out: dict = {}
    r0 = rss_mb()
    with Timer() as t:
        inputs = analysis.pull(store)
    out["pull_s"] = round(t.wall, 3)
    out["pull_cpu_s"] = round(t.cpu, 3)
    out["rss_after_pull_mb"] = rss_mb()
    out["pull_rss_delta_mb"] = round(rss_mb() - r0, 1)
    with Timer() as t:   # OWNS interned once from the Arrow columns, shared by cascade and exposure
        g = inputs.graph
    out["build_graph_s"] = round(t.wall, 3)
    out["build_graph_cpu_s"] = round(t.cpu, 3)
    with Timer() as t:
        fp = analysis.fifty_percent(store, "all", write=False, inputs=inputs)
    out["cascade_s"] = round(t.wall, 3)
    out["cascade_cpu_s"] = round(t.cpu, 3)
    out["seeds"] = len(fp.seeds)
    out["captured"] = len(fp.findings)
    out["max_round"] = max((f.depth_max for f in fp.findings.values()), default=0)
    restricted = set(fp.seeds) | set(fp.findings)
    with Timer() as t:   # columnar result (Arrow); ow.exposure would add Python records on top
        exps = ow.exposure_table(inputs.holds, g, restricted, inputs.constituents, inputs.tracks_t)
    out["exposure_s"] = round(t.wall, 3)
    out["exposure_cpu_s"] = round(t.cpu, 3)
    out["exposures"] = exps.num_rows
    out["exposed_investors"] = len(exps.column("investor").unique())
    vias = exps.column("via").value_counts().to_pylist()
    out["exposures_by_via"] = {v: next((x["counts"] for x in vias if x["values"] == v), 0)
                               for v in ("direct", "subsidiary", "parent", "index")}
    del exps
    from graph.memory import release
    release()   # as analysis.exposure_table does at its end (this calls the algorithms directly)
    out["cascade_plus_exposure_s"] = round(out["cascade_s"] + out["build_graph_s"] + out["exposure_s"], 3)
    out["cascade_plus_exposure_cpu_s"] = round(out["cascade_cpu_s"] + out["build_graph_cpu_s"] + out["exposure_cpu_s"], 3)
    out["end_to_end_s"] = round(out["pull_s"] + out["cascade_plus_exposure_s"], 3)
    # look-through: ultimate owners of 100 companies (prebuilt graph), and all pairs at small scales
    rng = np.random.default_rng(1)
    sample = [g.ids[i] for i in rng.choice(g.n, min(100, g.n), replace=False).tolist()]
    with Timer() as t:
        tot = sum(len(ow.ultimate_owners(g, x)) for x in sample)
    out["ultimate_owners_100_s"] = round(t.wall, 3)
    out["ultimate_owners_mean"] = round(tot / max(len(sample), 1), 1)
    if lookthrough_all:
        try:
            with Timer() as t:
                own, cols, vals = ow._lookthrough(g, np.arange(g.n), "up")
            out["integrated_ownership_s"] = round(t.wall, 3)
            out["integrated_pairs"] = int(len(vals))
        except Exception as e:  # noqa: BLE001 - internal API of a module being finished
            out["integrated_ownership_s"] = f"n/a ({type(e).__name__}: {e})"
    out["peak_rss_mb"] = window_peak_mb()
    # the same questions in variable-length Cypher, on the same store: the baseline we compare
    # with, not a path of the product, so its memory gets a window of its own
    reset_peak()
    cy = {}
    total, failed = 0.0, None
    for label, q in CYPHER_EQUIV[store.kind].items():
        if failed:
            cy[label] = {"seconds": "skipped (an earlier one already failed)"}
            continue
        t = time.perf_counter()
        try:
            res = store.read(q, timeout=cypher_timeout)
            el = time.perf_counter() - t
            cy[label] = {"seconds": round(el, 3), "result": res.rows[0][0]}
            total += el
        except QueryTimeout:
            cy[label] = {"seconds": f"timeout after {cypher_timeout:g} s"}
            failed = failed or f"timeout after {cypher_timeout:g} s"
        except StoreError as e:
            cy[label] = {"seconds": f"error: {e}"}
            failed = failed or f"error: {e}"
    out["cypher"] = cy
    out["cypher_total_s"] = failed or round(total, 3)
    out["cypher_peak_rss_mb"] = window_peak_mb()
    ours = out["cascade_plus_exposure_s"]
    if failed and failed.startswith("timeout"):
        out["speedup"] = f">{cypher_timeout / ours:.0f}x (Cypher {failed})"
        out["speedup_min"] = round(cypher_timeout / ours, 1)
    elif not failed:
        out["speedup"] = f"{total / ours:.1f}x"
        out["speedup_min"] = round(total / ours, 1)
    return out


def phase_read(args) -> dict:
    from graph.stores import open_store
    man = _manifest(args.data)
    params = dict(man["params"])
    params["search_word"] = params["search_name"].split()[1].lower()
    holder = {}

    def reopen():
        if holder.get("s") is not None:
            try:
                holder["s"].close()
            except Exception:  # noqa: BLE001
                pass
        if args.store.startswith("bolt://"):
            holder["s"] = open_store(args.store, timeout=args.timeout)
        else:   # the store's own knob: Ladybug's default buffer pool may grow to ~80% of RAM
            from graph.stores.ladybug import LadybugStore
            holder["s"] = LadybugStore(args.store, read_only=True, timeout=args.timeout,
                                       buffer_pool_mb=args.buffer_pool_mb)
        return holder["s"]
    store = reopen()
    out: dict = {"store": store.kind, "buffer_pool_mb": args.buffer_pool_mb or "default"}
    sections = [s for s in args.sections.split(",") if s]
    for sec in sections:
        store = holder["s"]
        t = time.perf_counter()
        reset_peak()
        try:
            if sec == "queries":
                out["queries"] = bench_queries(store, params, args.reps, args.timeout, reopen,
                                               lambda qs: write_json(args.out, {**out, "queries": qs,
                                                                                "_partial": True}))
            elif sec == "search":
                out["search"] = bench_search(store, params, args.reps)
            elif sec == "neighbourhood":
                out["neighbourhood"] = bench_neighbourhood(store, params, args.reps)
            elif sec == "edges":
                out["edges"] = bench_edges(store)
                out["chunked_edges"] = bench_chunked_edges(store)
            elif sec == "analytics":
                out["analytics"] = bench_analytics(store, params, args.cypher_timeout, args.lookthrough_all)
        except Exception as e:  # noqa: BLE001 - record and go on with the other sections
            out[sec] = {"_error": f"{type(e).__name__}: {e}", "_trace": traceback.format_exc()[-2000:]}
            if "Buffer manager" in str(e):
                reopen()
        out.setdefault("section_s", {})[sec] = round(time.perf_counter() - t, 1)
        out.setdefault("rss_after_mb", {})[sec] = rss_mb()
        peaks = [window_peak_mb()]
        if sec == "queries" and isinstance(out.get("queries"), dict):   # it opens a window per query
            peaks += [v["peak_rss_mb"] for v in out["queries"].values() if isinstance(v, dict) and v.get("peak_rss_mb")]
        out.setdefault("section_peak_mb", {})[sec] = max(peaks)
        write_json(args.out, {**out, "_partial": True})   # a killed phase keeps what it measured
    holder["s"].close()
    # the section windows reset the kernel's high-water mark (ru_maxrss with it): the process's
    # peak is the highest window
    peaks = [v for v in out.get("section_peak_mb", {}).values() if v] + [peak_rss_mb()]
    a = out.get("analytics")
    if isinstance(a, dict) and a.get("peak_rss_mb"):
        peaks.append(a["peak_rss_mb"])
    out["peak_rss_mb"] = max(peaks)
    return out


def phase_app(args) -> dict:
    """Every page of app.py through AppTest: first render (cold caches) and a rerun (warm)."""
    from bench.common import ROOT
    app = ROOT / "app.py"
    if not app.exists():
        return {"_error": "n/a: no app.py"}
    try:
        from streamlit.testing.v1 import AppTest
    except ImportError:
        return {"_error": "n/a: streamlit.testing not available"}
    man = _manifest(args.data)
    p = man["params"]
    os.environ["TECHGIANTS_STORE"] = args.store
    pages = [("search", {"q": p["search_name"]}), ("profile", {"id": p["listed_company"]}),
             ("explorer", {"id": p["group_head"]}), ("saved_queries", {}), ("cypher", {}),
             ("screening", {}), ("map", {}), ("data", {})]
    out: dict = {}
    with Timer() as t:
        at = AppTest.from_file(str(app), default_timeout=args.app_timeout)
        at.run()
    out["_startup"] = {"first_s": round(t.wall, 3), "exceptions": [str(e.value)[:200] for e in at.exception]}
    for page, qp in pages:
        f = ROOT / "app_pages" / "views" / f"{page}.py"
        if not f.exists():
            out[page] = {"first_s": "n/a (no page)"}
            continue
        res = {}
        try:
            at.query_params.clear()
            at.query_params.update(qp)
            with Timer() as t:
                at.switch_page(f"app_pages/views/{page}.py").run()
            res["first_s"] = round(t.wall, 3)
            if page == "search":   # the box keeps its session value: type the query, as a user does
                box = [w for w in at.text_input if w.key == "search_q"]
                if box:
                    with Timer() as t:
                        box[0].set_value(qp["q"]).run()
                    res["first_s"] = round(t.wall, 3)
                    res["results_shown"] = len(at.dataframe)
            with Timer() as t:
                at.run()
            res["rerun_s"] = round(t.wall, 3)
            res["exceptions"] = [str(e.value)[:200] for e in at.exception]
        except Exception as e:  # noqa: BLE001 - e.g. a timeout of AppTest
            res["first_s"] = f"error: {type(e).__name__}: {str(e)[:200]}"
        out[page] = res
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def _fresh(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal"), path.with_name(path.name + ".shadow")):
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)


PHASES = {"lb-raw": phase_lb_raw, "lb-pipeline": phase_lb_pipeline, "lb-fast": phase_lb_fast, "neo-raw": phase_neo_raw,
          "neo-pipeline": phase_neo_pipeline, "breakdown": phase_breakdown, "read": phase_read,
          "app": phase_app}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("phase", choices=sorted(PHASES))
    ap.add_argument("--data", required=True, help="folder written by bench.generate (manifest.json, ladybug/)")
    ap.add_argument("--store", required=True, help="Ladybug path or bolt:// URI")
    ap.add_argument("--out", required=True)
    ap.add_argument("--batch", type=int, default=100_000)
    ap.add_argument("--instrument", action="store_true", help="also time search_key per node (small overhead)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=60.0, help="per saved query")
    ap.add_argument("--cypher-timeout", type=float, default=120.0)
    ap.add_argument("--sections", default="edges,analytics,search,neighbourhood,queries")
    ap.add_argument("--lookthrough-all", action="store_true")
    ap.add_argument("--app-timeout", type=float, default=300.0)
    ap.add_argument("--buffer-pool-mb", type=int, default=0, help="Ladybug buffer pool (0: the store's default)")
    ap.add_argument("--profile", default=None, help="breakdown: also cProfile a pipeline run into this file")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    try:
        res = PHASES[args.phase](args)
    except Exception as e:  # noqa: BLE001 - the orchestrator reports it
        res = {"_error": f"{type(e).__name__}: {e}", "_trace": traceback.format_exc()[-3000:]}
    res["phase_wall_s"] = round(time.perf_counter() - t, 2)
    write_json(args.out, res)


if __name__ == "__main__":
    main()
