"""Run every benchmark and write bench/RESULTS.md.

    python -m bench.run_all [--scales 10k,100k,1m] [--neo4j-scales 10k,100k] [--seed 7]
    python -m bench.run_all --render-only          # rebuild RESULTS.md from the saved JSON

For each scale: generate the synthetic graph (bench/generate.py: Parquet for Ladybug COPY,
CSV for neo4j-admin), then, each phase in its own process (bench/phases.py) so every phase's
peak RSS is its own:
- Ladybug: raw COPY of the Parquet files into a fresh db; our pipeline (ingest.pipeline.run,
  resolver=None) into another fresh db; the store-independent cost breakdown (records,
  pydantic validation, search_key, rel_id; cProfile of a pipeline run at --profile-scale);
  saved queries, search, neighbourhood, store.edges, analytics vs variable-length Cypher;
  the app pages (AppTest);
- Neo4j (for --neo4j-scales): plain UNWIND CREATE batches into a fresh server; neo4j-admin
  import of the CSV files into a fresh home, then start + constraints/indexes; our pipeline
  into a fresh server, then the same read benchmarks and app pages against it.

Results: bench/.work/results/<scale>/<phase>.json (raw), bench/results.json (all, merged),
bench/RESULTS.md (tables, targets with measured ratios). The machine is shared: every phase
records the load average before and after, and CPU seconds next to wall seconds.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import BENCH, ROOT, WORK, du_mb, fmt_mb, fmt_ms, fmt_n, fmt_s, machine, write_json  # noqa: E402
from bench.generate import parse_scale, scale_name  # noqa: E402

PY = sys.executable
RESULTS = WORK / "results"
READS = (("Ladybug", "lb-read"), ("Neo4j", "neo-read"), ("Neo4j (neo4j-admin import)", "neo-admin-read"))


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run_phase(phase: str, data: Path, store: str, out: Path, *extra: str, timeout: float = 3600) -> dict:
    load0 = os.getloadavg()[0]
    t = time.perf_counter()
    cmd = [PY, "-m", "bench.phases", phase, "--data", str(data), "--store", store, "--out", str(out), *extra]
    log(f"{phase} on {store} ...")
    try:
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0 and not out.exists():
            write_json(out, {"_error": f"exit {p.returncode}", "_stderr": p.stderr[-3000:]})
    except subprocess.TimeoutExpired:
        write_json(out, {"_error": f"phase did not finish in {timeout:.0f} s"})
    res = json.loads(out.read_text())
    res["load_before"] = round(load0, 2)
    res["load_after"] = round(os.getloadavg()[0], 2)
    res["process_wall_s"] = round(time.perf_counter() - t, 1)
    write_json(out, res)
    log(f"{phase} done in {res['process_wall_s']} s" + (f"  ERROR {res['_error']}" if "_error" in res else ""))
    return res


def ensure_data(n: int, seed: int) -> Path:
    data = WORK / scale_name(n)
    man = data / "manifest.json"
    if man.exists():
        m = json.loads(man.read_text())
        if m.get("companies") == n and m.get("seed") == seed and (data / "neo4j" / "import.sh").exists():
            return data
    log(f"generating {scale_name(n)} (seed {seed}) ...")
    t = time.perf_counter()
    subprocess.run([PY, "-m", "bench.generate", "--companies", str(n), "--seed", str(seed), "--out", str(data)],
                   cwd=ROOT, check=True, capture_output=True)
    m = json.loads(man.read_text())
    m["timings"]["process_s"] = round(time.perf_counter() - t, 2)
    man.write_text(json.dumps(m, indent=2))
    return data


def run_scale(n: int, seed: int, neo: bool, args) -> None:
    s = scale_name(n)
    data = ensure_data(n, seed)
    R = RESULTS / s
    R.mkdir(parents=True, exist_ok=True)
    m = json.loads((data / "manifest.json").read_text())
    if not (R / "data.json").exists() or args.force:
        from bench.generate import validate_neo4j_csv
        t = time.perf_counter()
        try:
            rep = validate_neo4j_csv(data / "neo4j")
            rep["ok"] = True
        except AssertionError as e:
            rep = {"ok": False, "error": str(e)}
        rep["validate_s"] = round(time.perf_counter() - t, 2)
        write_json(R / "data.json", {"manifest": m, "csv_validation": rep,
                                     "parquet_mb": du_mb(data / "ladybug"), "csv_mb": du_mb(data / "neo4j")})

    def want(name: str) -> bool:
        if args.only and name not in args.only:
            return False
        return args.force or not (R / f"{name}.json").exists()

    dbdir = WORK / "db"
    raw_db, pipe_db = dbdir / f"{s}-raw.lbdb", dbdir / f"{s}-pipeline.lbdb"
    big = n >= 1_000_000
    reps = ["--reps", str(args.reps)]
    cy_timeout = max(args.cypher_timeout, args.cypher_timeout_1m) if big else args.cypher_timeout
    if want("lb-raw"):
        run_phase("lb-raw", data, str(raw_db), R / "lb-raw.json")
    if want("lb-pipeline"):
        run_phase("lb-pipeline", data, str(pipe_db), R / "lb-pipeline.json", "--batch", str(args.batch),
                  "--buffer-pool-mb", str(args.pipeline_buffer_pool_mb), timeout=args.phase_timeout)
    if want("lb-fast"):
        run_phase("lb-fast", data, str(dbdir / f"{s}-fast.lbdb"), R / "lb-fast.json", timeout=args.phase_timeout)
    if want("breakdown"):
        extra = ["--batch", str(args.batch)]
        if n == parse_scale(args.profile_scale):
            extra += ["--profile", str(R / "pipeline.prof")]
        run_phase("breakdown", data, str(dbdir / f"{s}-profile.lbdb"), R / "breakdown.json", *extra,
                  timeout=args.phase_timeout)
        shutil.rmtree(dbdir / f"{s}-profile.lbdb", ignore_errors=True)
        Path(str(dbdir / f"{s}-profile.lbdb") + ".wal").unlink(missing_ok=True)
    lb_store = str(pipe_db) if pipe_db.exists() else str(raw_db)
    if want("lb-read"):
        extra = [*reps, "--timeout", str(args.query_timeout), "--cypher-timeout", str(cy_timeout),
                 "--buffer-pool-mb", str(args.buffer_pool_mb)]
        if not big:
            extra.append("--lookthrough-all")
            run_phase("read", data, lb_store, R / "lb-read.json", *extra, timeout=args.phase_timeout)
        else:   # neighbourhood in its own, time-limited process (see docs/performance.md: _id_of)
            run_phase("read", data, lb_store, R / "lb-read.json", *extra, "--sections",
                      "edges,analytics,search,queries", timeout=args.phase_timeout)
            run_phase("read", data, lb_store, R / "lb-neighbourhood.json", *extra, "--sections", "neighbourhood",
                      timeout=args.neighbourhood_timeout)
    if want("lb-app"):
        run_phase("app", data, lb_store, R / "lb-app.json", timeout=args.phase_timeout)
    admin_read = n in {parse_scale(x) for x in args.neo4j_admin_scales.split(",") if x.strip()}
    if not (neo or admin_read):
        return
    from bench import neo4j_tools as nt
    if not nt.available():
        write_json(R / "neo-skipped.json", {"_error": "Java/Maven not found: Neo4j benchmarks skipped"})
        return
    if neo and want("neo-raw"):
        srv = nt.Server().start()
        try:
            c0 = srv.cpu_s()
            res = run_phase("neo-raw", data, srv.uri, R / "neo-raw.json", "--batch", str(args.neo_batch),
                            timeout=args.phase_timeout)
            res.update(server_cpu_s=round((srv.cpu_s() or 0) - (c0 or 0), 1), server_peak_rss_mb=srv.peak_rss_mb(),
                       size_mb=srv.size_mb(), server_start_s=srv.start_s, heap=srv.heap, pagecache=srv.pagecache)
            write_json(R / "neo-raw.json", res)
        finally:
            srv.stop()
    if want("neo-admin"):
        home = Path(nt.tempfile.mkdtemp(prefix="techgiants-bench-neo4j-"))
        res: dict = {}
        try:
            log("neo4j-admin import ...")
            res.update(nt.admin_import(data / "neo4j", home))
            srv = nt.Server(home)
            t = time.perf_counter()
            srv.start()
            res["start_s"] = srv.start_s
            from graph.stores.neo4j import Neo4jStore
            st = Neo4jStore(srv.uri)
            t1 = time.perf_counter()
            st.create_schema()
            res["schema_s"] = round(time.perf_counter() - t1, 2)
            c = st.counts()
            res["elements"] = sum(c["nodes"].values()) + sum(c["relationships"].values())
            st.close()
            res["seconds"] = round(res["import_s"] + time.perf_counter() - t, 2)
            res["elements_per_s"] = round(res["elements"] / res["seconds"])
            res["size_mb"] = srv.size_mb()
            res["server_peak_rss_mb"] = srv.peak_rss_mb()
            write_json(R / "neo-admin.json", res)
            if admin_read:   # reads on the bulk-imported graph (no pipeline ingest needed)
                c0 = srv.cpu_s()
                rr = run_phase("read", data, srv.uri, R / "neo-admin-read.json", *reps, "--timeout",
                               str(args.query_timeout), "--cypher-timeout", str(cy_timeout),
                               "--sections", args.neo4j_admin_sections, timeout=args.phase_timeout)
                rr.update(server_cpu_s=round((srv.cpu_s() or 0) - (c0 or 0), 1),
                          server_peak_rss_mb=srv.peak_rss_mb(), heap=srv.heap, pagecache=srv.pagecache)
                write_json(R / "neo-admin-read.json", rr)
            srv.stop()
        except Exception as e:  # noqa: BLE001
            res["_error"] = f"{type(e).__name__}: {e}"
            shutil.rmtree(home, ignore_errors=True)
        write_json(R / "neo-admin.json", res)
        log(f"neo4j-admin: {res.get('seconds')} s {res.get('_error', '')}")
    if neo and any(want(x) for x in ("neo-pipeline", "neo-read", "neo-app")):
        srv = nt.Server().start()
        try:
            c0 = srv.cpu_s()
            res = run_phase("neo-pipeline", data, srv.uri, R / "neo-pipeline.json", "--batch", str(args.neo_batch),
                            timeout=args.phase_timeout)
            res.update(server_cpu_s=round((srv.cpu_s() or 0) - (c0 or 0), 1), server_peak_rss_mb=srv.peak_rss_mb(),
                       size_mb=srv.size_mb(), heap=srv.heap, pagecache=srv.pagecache)
            write_json(R / "neo-pipeline.json", res)
            if "_error" not in res:
                c0 = srv.cpu_s()
                res = run_phase("read", data, srv.uri, R / "neo-read.json", *reps, "--timeout",
                                str(args.query_timeout), "--cypher-timeout", str(cy_timeout),
                                *([] if big else ["--lookthrough-all"]), timeout=args.phase_timeout)
                res.update(server_cpu_s=round((srv.cpu_s() or 0) - (c0 or 0), 1),
                           server_peak_rss_mb=srv.peak_rss_mb())
                write_json(R / "neo-read.json", res)
                run_phase("app", data, srv.uri, R / "neo-app.json", timeout=args.phase_timeout)
        finally:
            srv.stop()


# ====================================================================== RESULTS.md
def _load(s: str, name: str) -> dict | None:
    p = RESULTS / s / f"{name}.json"
    return json.loads(p.read_text()) if p.exists() else None


def _num(x):
    return x if isinstance(x, (int, float)) else None


def _ratio(a, b) -> str:
    a, b = _num(a), _num(b)
    if a is None or not b:
        return "n/a"
    return f"{a / b:.1f}x"


def _ok(flag) -> str:
    return "n/a" if flag is None else ("**met**" if flag else "**missed**")


def render(out_md: Path = BENCH / "RESULTS.md") -> str:
    scales = sorted([p.name for p in RESULTS.iterdir() if p.is_dir()], key=parse_scale) if RESULTS.exists() else []
    mach = json.loads((RESULTS / "machine.json").read_text()) if (RESULTS / "machine.json").exists() else machine()
    L = ["# Benchmark results", "",
         "Generated by `python -m bench.run_all` (bench/run_all.py); raw numbers in `bench/results.json`. "
         "How to read them and what they mean for deployment: docs/performance.md.", "",
         "## Machine", "",
         f"- CPU: {mach['cpu']}, {mach['cores']} cores; RAM {mach['ram_gb']} GB; {mach['os']}",
         f"- Python {mach['python']}; ladybug {mach['versions'].get('ladybug')}; neo4j driver "
         f"{mach['versions'].get('neo4j')}; Neo4j server {mach['neo4j_server']}; {mach['java']}",
         f"- pyarrow {mach['versions'].get('pyarrow')}, numpy {mach['versions'].get('numpy')}, "
         f"pydantic {mach['versions'].get('pydantic')}, streamlit {mach['versions'].get('streamlit')}",
         f"- Run started {mach['date']}; load average at start {mach['load_average']}. The machine is shared "
         "with other engineers' test runs: every phase records the 1-minute load average before/after "
         "(column *load*) and CPU seconds next to wall seconds; a load above 2 on 2 cores means the wall "
         "times are inflated.", ""]
    all_json: dict = {"machine": mach, "scales": {}}
    # ---------------- data
    L += ["## The synthetic graph (bench/generate.py, seed 7)", "",
          "| scale | nodes | relationships | OWNS + HOLDS | elements | generate | Parquet | CSV | neo4j-admin CSV check |",
          "|---|---|---|---|---|---|---|---|---|"]
    for s in scales:
        d = _load(s, "data") or {}
        m = d.get("manifest", {})
        all_json["scales"][s] = {p.stem: json.loads(p.read_text()) for p in (RESULTS / s).glob("*.json")}
        if not m:
            continue
        r = m["counts"]["rels"]
        v = d.get("csv_validation", {})
        L.append(f"| {s} | {fmt_n(m['nodes'])} | {fmt_n(m['rels'])} | {fmt_n(r['OWNS'] + r['HOLDS'])} | "
                 f"{fmt_n(m['elements'])} | {fmt_s(m['timings'].get('generate_s'))} | {d.get('parquet_mb')} MB | "
                 f"{d.get('csv_mb')} MB | {'valid' if v.get('ok') else v.get('error', 'n/a')} "
                 f"({fmt_s(v.get('validate_s'))}) |")
    L.append("")
    # ---------------- ingest
    L += ["## Ingest", "",
          "*raw* is the store's own bulk path with no validation or merging (Ladybug: `COPY` of the Parquet "
          "files into a fresh db; Neo4j: plain `UNWIND $rows CREATE` batches of 10,000 after the "
          "constraints exist). *pipeline* is `ingest.pipeline.run(store, records, resolver=None)` on the same "
          "data (batch 100,000 on Ladybug so node batches use `COPY`; 10,000 on Neo4j). *overhead* = "
          "pipeline / raw. Neo4j CPU is the Python client's plus the server JVM's.", "",
          "| scale | store | path | wall | CPU | elements/s | overhead (wall) | overhead (CPU) | size on disk | peak RSS | load |",
          "|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in scales:
        for store, raw_n, pipe_n in (("Ladybug", "lb-raw", "lb-pipeline"), ("Neo4j", "neo-raw", "neo-pipeline")):
            raw, pipe = _load(s, raw_n), _load(s, pipe_n)
            fast = _load(s, "lb-fast") if store == "Ladybug" else None
            for label, r in (("raw bulk", raw), ("pipeline", pipe), ("bulk ingest (ingest/bulk.py)", fast)):
                if not r:
                    continue
                if "_error" in r:
                    L.append(f"| {s} | {store} | {label} | error: {r['_error'][:80]} | | | | | | | |")
                    continue
                cpu = (r.get("cpu_s") or 0) + (r.get("server_cpu_s") or 0)
                rss = f"{fmt_mb(r.get('peak_rss_mb'))}" + (f" + server {fmt_mb(r.get('server_peak_rss_mb'))}"
                                                           if r.get("server_peak_rss_mb") else "")
                ov_w = ov_c = ""
                if label != "raw bulk" and raw and "_error" not in raw:
                    ov_w = _ratio(r["seconds"], raw["seconds"])
                    ov_c = _ratio(cpu, (raw.get("cpu_s") or 0) + (raw.get("server_cpu_s") or 0))
                L.append(f"| {s} | {store} | {label} | {fmt_s(r['seconds'])} | {fmt_s(cpu)} | "
                         f"{fmt_n(r.get('elements_per_s'))} | {ov_w} | {ov_c} | {r.get('size_mb', 'n/a')} MB | {rss} | "
                         f"{r.get('load_before')}/{r.get('load_after')} |")
            adm = _load(s, "neo-admin") if store == "Neo4j" else None
            if adm:
                if "_error" in adm:
                    L.append(f"| {s} | Neo4j | neo4j-admin import | error: {adm['_error'][:100]} | | | | | | | |")
                else:
                    L.append(f"| {s} | Neo4j | neo4j-admin import + start + indexes | {fmt_s(adm['seconds'])} "
                             f"(import {fmt_s(adm['import_s'])}, indexes {fmt_s(adm.get('schema_s'))}) | | "
                             f"{fmt_n(adm.get('elements_per_s'))} | | | {adm.get('size_mb')} MB | "
                             f"server {fmt_mb(adm.get('server_peak_rss_mb'))} | |")
    L.append("")
    # ---------------- where pipeline time goes
    L += ["### Where the pipeline's time goes", "",
          "Store-independent costs measured alone (bench/phases.py `breakdown`, **CPU seconds**, so the "
          "shared machine's load does not inflate them) and the store steps timed inside the pipeline run "
          "(wall seconds; `upsert_*` include the `_fetch_*` and `_write` below them).", "",
          "| scale | records from Arrow | validate nodes | validate rels | search_key | rel_id hash | "
          "Ladybug upsert_nodes | upsert_rels | _write (COPY / LOAD FROM) | _fetch_* |",
          "|---|---|---|---|---|---|---|---|---|---|"]
    for s in scales:
        b, p = _load(s, "breakdown") or {}, _load(s, "lb-pipeline") or {}
        if not (b or p):
            continue   # a Neo4j-only scale (5M): no embedded pipeline run
        st = p.get("steps", {})

        def g(k):
            return st.get(k, {}).get("s")
        fetch = (g("_fetch_nodes") or 0) + (g("_fetch_rels") or 0)
        L.append(f"| {s} | {fmt_s(b.get('records_s'))} | {fmt_s(b.get('validate_nodes_s'))} "
                 f"({b.get('validate_nodes_us_each', '?')} µs each) | {fmt_s(b.get('validate_rels_s'))} "
                 f"({b.get('validate_rels_us_each', '?')} µs each) | {fmt_s(b.get('search_key_s'))} | "
                 f"{fmt_s(b.get('rel_id_hash_s'))} | {fmt_s(g('upsert_nodes'))} | {fmt_s(g('upsert_rels'))} | "
                 f"{fmt_s(g('_write'))} | {fmt_s(fetch)} |")
    L.append("")
    prof = [s for s in scales if (_load(s, "breakdown") or {}).get("profile_tottime")]
    if prof:
        s = prof[-1]
        txt = _load(s, "breakdown")["profile_tottime"]
        keep = [ln for ln in txt.splitlines() if ln.strip()][:34]
        L += [f"cProfile of a Ladybug pipeline run at {s} (top functions by own time; the full profile is "
              f"`bench/.work/results/{s}/pipeline.prof`):", "", "```", *keep, "```", ""]
    # ---------------- queries
    qnames: list[str] = []
    cols = []
    for s in scales:
        for st, nm in READS:
            r = _load(s, nm)
            if r and isinstance(r.get("queries"), dict) and "_error" not in r["queries"]:
                cols.append((s, st, r["queries"]))
                for q in r["queries"]:
                    if q not in qnames:
                        qnames.append(q)
    if cols:
        L += ["## Saved queries (`queries.run`, median / p95 of 5 runs after one warm-up)", "",
              "Fewer runs when the warm-up took over 2 s (3) or 10 s (1). Parameters are picked from the "
              "generated graph (a company deep in a group for ownership chains, a group head for subsidiaries, "
              "a listed company, a busy investor; see `QUERY_PARAMS` in bench/phases.py). † = documented as "
              "analytical (whole-graph scan), exempt from the 1 s target.", "",
              "| query | " + " | ".join(f"{s} {st}" for s, st, _ in cols) + " |",
              "|---|" + "---|" * len(cols)]
        for q in sorted(qnames):
            cells = []
            dagger = ""
            for s, st, qs in cols:
                r = qs.get(q)
                if not r:
                    cells.append("")
                    continue
                if r.get("analytical"):
                    dagger = " †"
                if "error" in r:
                    cells.append(r["error"].replace("|", "/")[:60])
                else:
                    cells.append(f"{fmt_ms(r['median_ms'])} / {fmt_ms(r['p95_ms'])} ({r.get('rows')} rows)")
            L.append(f"| {q}{dagger} | " + " | ".join(cells) + " |")
        L.append("")
    # ---------------- analytics
    L += ["## Ownership analytics vs variable-length Cypher", "",
          "*ours* = graph.analysis.pull (store.edges once per type) then the 50% rule cascade "
          "(fifty_percent_rule_ranges, every list) + build_graph + exposure for every investor "
          "(graph/ownership.py). *Cypher* = the same questions written as variable-length Cypher on the "
          "same store (bench/phases.py `CYPHER_EQUIV`: majority chains `OWNS*1..6` from listed entities, "
          "holders of owners and of subsidiaries of listed entities), each with a timeout. The Cypher "
          "answers a weaker question (no aggregation of stakes, no cascade through captured entities), "
          "so the comparison flatters Cypher.", "",
          "| scale | store | pull (store.edges) | cascade | exposure (+ build) | cascade + exposure | end to end | "
          "seeds / captured / rounds | exposures | Cypher total | speed-up | ultimate owners x100 | integrated (all pairs) | peak RSS |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in scales:
        for st, nm in READS:
            r = (_load(s, nm) or {}).get("analytics")
            if not r:
                continue
            if "_error" in r:
                L.append(f"| {s} | {st} | error: {r['_error'][:120]} |" + " |" * 12)
                continue
            integ = r.get("integrated_ownership_s", "n/a (skipped at 1M)")
            integ = f"{fmt_s(integ)} ({fmt_n(r.get('integrated_pairs'))} pairs)" if _num(integ) else integ
            L.append(f"| {s} | {st} | {fmt_s(r['pull_s'])} | {fmt_s(r['cascade_s'])} | "
                     f"{fmt_s(r['exposure_s'])} (+{fmt_s(r['build_graph_s'])}) | {fmt_s(r['cascade_plus_exposure_s'])} | "
                     f"{fmt_s(r['end_to_end_s'])} | {r['seeds']} / {r['captured']} / {r['max_round']} | "
                     f"{fmt_n(r['exposures'])} | {fmt_s(r.get('cypher_total_s'))} | {r.get('speedup', 'n/a')} | "
                     f"{fmt_s(r['ultimate_owners_100_s'])} | {integ} | {fmt_mb(r.get('peak_rss_mb'))} |")
    L.append("")
    for s in scales:
        for st, nm in READS:
            r = (_load(s, nm) or {}).get("analytics")
            if r and "cypher" in r:
                L.append(f"- {s} {st} Cypher: " + "; ".join(
                    f"{k}: {fmt_s(v['seconds'])}" + (f" (→ {v['result']})" if "result" in v else "")
                    for k, v in r["cypher"].items()))
    L.append("")
    # ---------------- search, neighbourhood, edges
    L += ["## Search, neighbourhood, adjacency extraction", "",
          "| scale | store | search (5 kinds, worst median / worst p95) | neighbourhood depth 1 (median / p95) | "
          "depth 2 | store.edges OWNS | store.edges HOLDS | OWNS in 8 id-range chunks |",
          "|---|---|---|---|---|---|---|---|"]
    for s in scales:
        for st, nm in READS:
            r = _load(s, nm)
            if not r:
                continue
            se = r.get("search") or {}
            ok = [v for v in se.values() if isinstance(v, dict) and "median_ms" in v]
            stxt = (f"{fmt_ms(max(v['median_ms'] for v in ok))} / {fmt_ms(max(v['p95_ms'] for v in ok))}"
                    if ok else "n/a")
            nb = r.get("neighbourhood") or {}
            if (not nb or "_error" in nb) and nm == "lb-read":
                extra_nb = _load(s, "lb-neighbourhood") or {}
                nb = extra_nb.get("neighbourhood") or {}
                if not nb and extra_nb.get("_error"):
                    nb = {"_error": extra_nb["_error"]}

            def nbd(d):
                vs = [v for k, v in nb.items() if k.endswith(f"depth {d}") and "median_ms" in v]
                if vs:
                    return f"{fmt_ms(max(v['median_ms'] for v in vs))} / {fmt_ms(max(v['p95_ms'] for v in vs))}"
                return ("did not finish: " + str(nb.get("_error"))[:60]) if nb.get("_error") else "n/a"
            ed = r.get("edges") or {}

            def e(t):
                v = ed.get(t)
                return f"{fmt_s(v['seconds'])}, {fmt_n(v['rows'])} rows, {v['arrow_mb']} MB Arrow" if v else "n/a"
            ch = r.get("chunked_edges") or {}
            chtxt = (f"{fmt_s(ch['seconds'])}, largest chunk {ch['largest_chunk_mb']} MB" if "seconds" in ch
                     else ch.get("note", "n/a"))
            L.append(f"| {s} | {st} | {stxt} | {nbd(1)} | {nbd(2)} | {e('OWNS')} | {e('HOLDS')} | {chtxt} |")
    L.append("")
    for s in scales:
        r = (_load(s, "lb-read") or {}).get("search") or {}
        if r:
            L.append(f"- {s} Ladybug search: " + "; ".join(
                f"{k} `{v.get('text')}`: {fmt_ms(v.get('median_ms'))} / {fmt_ms(v.get('p95_ms'))}"
                + (" (found)" if v.get("top") else " (no hit)") for k, v in r.items()
                if isinstance(v, dict) and not k.startswith("_")))
            ix = r.get("_index")
            if ix:
                L.append(f"- {s} Ladybug search index (graph/search.py, built once per data version): "
                         f"{fmt_n(ix['entities'])} entities, {fmt_n(ix['vocabulary'])} words; build "
                         f"{fmt_s(ix['build_s'])} ({fmt_s(ix['build_cpu_s'])} CPU), +{ix['rss_delta_mb']} MB RSS, "
                         f"{ix['on_disk_mb']} MB on disk; load from disk {fmt_s(ix['load_s'])}")
    L.append("")
    # ---------------- app
    L += ["## App pages (streamlit.testing.v1.AppTest on app.py)", "",
          "First render with cold caches / rerun with warm caches, in seconds.", ""]
    pages = ["_startup", "search", "profile", "explorer", "saved_queries", "cypher", "screening", "map", "data"]
    acols = [(s, st, _load(s, nm)) for s in scales for st, nm in (("Ladybug", "lb-app"), ("Neo4j", "neo-app"))
             if _load(s, nm)]
    if acols:
        L += ["| page | " + " | ".join(f"{s} {st}" for s, st, _ in acols) + " |", "|---|" + "---|" * len(acols)]
        for pg in pages:
            cells = []
            for s, st, r in acols:
                if "_error" in r:
                    cells.append(r["_error"][:50])
                    continue
                v = r.get(pg) or {}
                f, rr = v.get("first_s"), v.get("rerun_s")
                exc = " ⚠ exception" if v.get("exceptions") else ""
                cells.append(f"{fmt_s(f)} / {fmt_s(rr)}{exc}" if v else "")
            L.append(f"| {pg.replace('_startup', 'app start (search page)')} | " + " | ".join(cells) + " |")
        L.append("")
    # ---------------- memory
    L += ["## Peak memory (RSS, per phase process)", "",
          "*reads + analytics* is the highest of the read phase's sections (edges, analytics, search, "
          "neighbourhood, saved queries), each measured in a window of its own; the variable-length "
          "Cypher the analytics are compared with is a baseline, not a path of the product, and is shown "
          "apart in brackets.", "",
          "| scale | store | pipeline ingest | raw bulk | reads + analytics | app | server JVM (heap / page cache) |",
          "|---|---|---|---|---|---|---|"]
    for s in scales:
        for st, names in (("Ladybug", ("lb-pipeline", "lb-raw", "lb-read", "lb-app")),
                          ("Neo4j", ("neo-pipeline", "neo-raw", "neo-read", "neo-app"))):
            rs = [_load(s, x) or {} for x in names]
            if not any(rs):
                continue
            srv = max([_num(r.get("server_peak_rss_mb")) or 0 for r in rs]) or None
            L.append(f"| {s} | {st} | " + " | ".join(_peak_cell(r, n) if r else "n/a" for r, n in zip(rs, names))
                     + f" | {fmt_mb(srv) if srv else 'n/a'}"
                     + (f" ({rs[0].get('heap')} / {rs[0].get('pagecache')})" if rs[0].get("heap") else "") + " |")
    L.append("")
    # ---------------- migration
    mig = [(s, _load(s, "migrate")) for s in scales if _load(s, "migrate")]
    if mig:
        L += ["## Migration between stores (bench/migrate_bench.py)", "",
              "A Ladybug db streamed as records into `ingest.pipeline.run` on a fresh Neo4j (batch 10,000): what "
              "`techgiants migrate --from graph.lbdb --to bolt://...` would do. *iter_export* is "
              "`GraphStore.iter_export()` as it was when measured (capped: on Ladybug it then resolved both ends of "
              "every relationship with a query each); *columnar export* is the plain-column keyset export that "
              "`iter_export` (and `techgiants migrate`) have used since, measured before it moved there.", "",
              "| scale | elements | iter_export (as is) | columnar export | export + pipeline into Neo4j | counts match | "
              "rejected | client peak RSS | server peak RSS |",
              "|---|---|---|---|---|---|---|---|---|"]
        for s, r in mig:
            ie = r.get("iter_export") or {}
            ietxt = (f"{fmt_n(ie.get('per_s'))} records/s" + (f"; {ie['note']}" if ie.get("note") else
                                                              f", {fmt_s(ie.get('seconds'))}")) if ie else "n/a"
            L.append(f"| {s} | {fmt_n(r.get('elements'))} | {ietxt} | {fmt_s(r.get('export_s'))} "
                     f"({fmt_n(r.get('export_per_s'))}/s) | "
                     f"{fmt_s(r.get('migrate_s'))} ({fmt_n(r.get('migrate_per_s'))}/s) | {r.get('counts_match', 'n/a')} | "
                     f"{r.get('rejected', 'n/a')} | {fmt_n(r.get('peak_rss_mb'))} MB | {fmt_n(r.get('server_peak_rss_mb'))} MB |")
        L.append("")
    # ---------------- targets
    L += targets(scales)
    notes = BENCH / "RESULTS_NOTES.md"
    if notes.exists():
        L += ["", notes.read_text(encoding="utf-8").strip(), ""]
    md = "\n".join(L) + "\n"
    out_md.write_text(md, encoding="utf-8")
    write_json(BENCH / "results.json", all_json)
    return md


def _verdict_speedup(sp, a) -> str:
    if not _num(sp):
        return "n/a"
    if sp >= 50:
        return "**met**" + (" (lower bound: Cypher timed out)" if "timeout" in str(a.get("cypher_total_s")) else "")
    if "timeout" in str(a.get("cypher_total_s")):
        return f"**not shown**: Cypher timed out, so only >= {sp:.0f}x is known"
    return "**missed**"


def targets(scales: list[str]) -> list[str]:
    L = ["## Targets (2-core machine)", "",
         "| target | scale | measured | ratio to target | status |", "|---|---|---|---|---|"]
    big = "1m" if "1m" in scales else (scales[-1] if scales else None)
    if not big:
        return L
    raw, pipe = _load(big, "lb-raw") or {}, _load(big, "lb-pipeline") or {}
    ps = _num(pipe.get("seconds"))
    L.append(f"| Embedded ingest of the {big} graph through the pipeline < 60 s | {big} | {fmt_s(ps)} "
             f"(CPU {fmt_s(pipe.get('cpu_s'))}) | {_ratio(ps, 60)} of 60 s (CPU {_ratio(pipe.get('cpu_s'), 60)}) | "
             f"{_ok(ps is not None and ps < 60) if ps else 'n/a'} |")
    fast = _load(big, "lb-fast") or {}
    if _num(fast.get("seconds")):
        L.append(f"| Embedded bulk ingest (`techgiants ingest bulk`, ingest/bulk.py) < 60 s and <= 2x raw COPY | {big} | {fmt_s(fast['seconds'])} "
                 f"(CPU {fmt_s(fast.get('cpu_s'))}) | {_ratio(fast['seconds'], 60)} of 60 s (CPU "
                 f"{_ratio(fast.get('cpu_s'), 60)}); vs raw COPY CPU {_ratio(fast.get('cpu_s'), raw.get('cpu_s'))} | "
                 f"{_ok(fast['seconds'] < 60 and (fast.get('cpu_s') or 0) <= 2 * (raw.get('cpu_s') or 0))} |")
    rs = _num(raw.get("seconds"))
    L.append(f"| (the store's raw COPY of the same data, for reference) | {big} | {fmt_s(rs)} | {_ratio(rs, 60)} of 60 s | "
             f"{_ok(rs < 60) if rs else 'n/a'} |")
    for s in scales:
        r, p = _load(s, "lb-raw") or {}, _load(s, "lb-pipeline") or {}
        if _num(r.get("seconds")) and _num(p.get("seconds")):
            ratio = p["seconds"] / r["seconds"]
            L.append(f"| Pipeline overhead <= 2x raw COPY (Ladybug) | {s} | {fmt_s(p['seconds'])} vs {fmt_s(r['seconds'])} "
                     f"(CPU {fmt_s(p.get('cpu_s'))} vs {fmt_s(r.get('cpu_s'))}) | {ratio:.1f}x (CPU "
                     f"{_ratio(p.get('cpu_s'), r.get('cpu_s'))}) | {_ok(ratio <= 2)} |")
    q = ((_load(big, "lb-read") or {}).get("queries")) or {}
    if q and "_error" not in q:
        slow = {k: v for k, v in q.items() if "p95_ms" not in v or v["p95_ms"] >= 1000}
        slow_interactive = {k: v for k, v in slow.items() if not v.get("analytical")}
        worst = max((v["p95_ms"] for k, v in q.items() if "p95_ms" in v and not v.get("analytical")), default=None)
        desc = ", ".join(f"{k} ({fmt_ms(v.get('p95_ms')) if 'p95_ms' in v else v.get('error', '?')[:30]})"
                         for k, v in slow_interactive.items()) or "none"
        L.append(f"| Every saved query p95 < 1 s (Ladybug), analytical ones excepted | {big} | "
                 f"{len(q) - len(slow)}/{len(q)} under 1 s; over, not exempt: {desc} | worst non-exempt p95 "
                 f"{fmt_ms(worst)} = {_ratio(worst, 1000)} of 1 s | {_ok(not slow_interactive)} |")
    a = ((_load(big, "lb-read") or {}).get("analytics")) or {}
    if "cascade_plus_exposure_s" in a:
        c = a["cascade_plus_exposure_s"]
        L.append(f"| Cascade + exposure < 10 s | {big} | {fmt_s(c)} (with the store.edges pull: "
                 f"{fmt_s(a['end_to_end_s'])}) | {_ratio(c, 10)} of 10 s ({_ratio(a['end_to_end_s'], 10)} end to end) | "
                 f"{_ok(c < 10)} |")
        sp = a.get("speedup_min")
        L.append(f"| >= 50x faster than variable-length Cypher on the same store | {big} | "
                 f"Cypher {fmt_s(a.get('cypher_total_s'))} vs ours {fmt_s(c)} | {a.get('speedup', 'n/a')} | "
                 f"{_verdict_speedup(sp, a)} |")
    se = ((_load(big, "lb-read") or {}).get("search")) or {}
    ok = [v for v in se.values() if isinstance(v, dict) and "p95_ms" in v]
    if ok:
        w = max(v["p95_ms"] for v in ok)
        L.append(f"| Search < 150 ms | {big} | worst p95 {fmt_ms(w)} (medians "
                 f"{', '.join(fmt_ms(v['median_ms']) for v in ok)}) | {_ratio(w, 150)} of 150 ms | {_ok(w < 150)} |")
    peaks = {nm: _product_peak(_load(big, nm) or {}, nm) for nm in ("lb-pipeline", "lb-fast", "lb-raw", "lb-read", "lb-app")}
    pk = [v for v in peaks.values() if _num(v)]
    if pk:
        m = max(pk)
        L.append(f"| Peak memory < 4 GB (Ladybug) | {big} | {fmt_mb(m)} (" +
                 ", ".join(f"{k} {fmt_mb(v)}" for k, v in peaks.items() if _num(v)) +
                 f") | {_ratio(m, 4096)} of 4 GB | {_ok(m < 4096)} |")
    L.append("")
    return L


def _product_peak(r: dict, name: str):
    """A phase's peak RSS; for a read phase with per-section windows, the highest section, the
    analytics counted without the plain-Cypher baseline they are compared with."""
    sec = r.get("section_peak_mb")
    if not (name.endswith("read") and isinstance(sec, dict)):
        return r.get("peak_rss_mb")
    vals = [v for k, v in sec.items() if k != "analytics" and _num(v)]
    a = r.get("analytics")
    if isinstance(a, dict) and _num(a.get("peak_rss_mb")):
        vals.append(a["peak_rss_mb"])
    return max(vals) if vals else r.get("peak_rss_mb")


def _peak_cell(r: dict, name: str) -> str:
    cell = fmt_mb(_product_peak(r, name))
    a = r.get("analytics") if name.endswith("read") else None
    if isinstance(a, dict) and _num(a.get("cypher_peak_rss_mb")):
        cell += f" (Cypher baseline {fmt_mb(a['cypher_peak_rss_mb'])})"
    return cell


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", default="10k,100k,1m")
    ap.add_argument("--neo4j-scales", default="10k,100k")
    ap.add_argument("--neo4j-admin-scales", default="",
                    help="scales where the neo4j-admin imported graph also gets the read benchmarks")
    ap.add_argument("--neo4j-admin-sections", default="edges,analytics,search,neighbourhood,queries")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--batch", type=int, default=100_000, help="pipeline batch on Ladybug")
    ap.add_argument("--neo-batch", type=int, default=10_000, help="pipeline and UNWIND batch on Neo4j")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--buffer-pool-mb", type=int, default=0,
                    help="Ladybug buffer pool for the read benchmarks (0: the store's default, "
                         "TECHGIANTS_LADYBUG_BUFFER_MB or RAM/4 up to 2 GB)")
    ap.add_argument("--pipeline-buffer-pool-mb", type=int, default=0, help="Ladybug buffer pool for the pipeline ingest "
                    "(0: the store's default, as `techgiants ingest` uses it)")
    ap.add_argument("--query-timeout", type=float, default=60.0)
    ap.add_argument("--cypher-timeout", type=float, default=60.0, help="variable-length Cypher, below 1M")
    ap.add_argument("--cypher-timeout-1m", type=float, default=240.0, help="variable-length Cypher, 1M and up")
    ap.add_argument("--profile-scale", default="100k")
    ap.add_argument("--phase-timeout", type=float, default=3600.0)
    ap.add_argument("--neighbourhood-timeout", type=float, default=900.0, help="1M+: the neighbourhood phase")
    ap.add_argument("--only", default="", help="comma-separated phases: lb-raw,lb-pipeline,lb-fast,breakdown,lb-read,"
                                                "lb-app,neo-raw,neo-admin,neo-pipeline")
    ap.add_argument("--force", action="store_true", help="re-run phases whose results exist")
    ap.add_argument("--render-only", action="store_true")
    args = ap.parse_args(argv)
    args.only = [x for x in args.only.split(",") if x]
    if not args.render_only:
        RESULTS.mkdir(parents=True, exist_ok=True)
        write_json(RESULTS / "machine.json", machine())
        neo = {parse_scale(x) for x in args.neo4j_scales.split(",") if x.strip()}
        for x in [x for x in args.scales.split(",") if x.strip()]:
            n = parse_scale(x)
            run_scale(n, args.seed, n in neo, args)
            render()
        adm = {parse_scale(x) for x in args.neo4j_admin_scales.split(",") if x.strip()}
        for n in sorted((neo | adm) - {parse_scale(x) for x in args.scales.split(",") if x.strip()}):
            run_scale(n, args.seed, True, args)
    render()
    log(f"wrote {BENCH / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
