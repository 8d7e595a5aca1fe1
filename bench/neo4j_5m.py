"""The 5M-company case on Neo4j: generate, bulk-import with neo4j-admin, then the read benchmarks.

    python -m bench.neo4j_5m import      # generate (if needed) + neo4j-admin import into a kept home
    python -m bench.neo4j_5m schema      # (re)build constraints and indexes on it, count
    python -m bench.neo4j_5m read        # start a server on that home and run bench.phases read sections
    python -m bench.neo4j_5m read --sections queries --merge   # re-run one section, keep the others

Kept apart from bench/run_all.py because the import (tens of minutes on 2 cores) and the reads are
worth running at different times, and the imported home (bench/.work/5m/neo4j-home, ~10 GB) is
reused by every read run. Results go to bench/.work/results/5m/ and are rendered into
bench/RESULTS.md by `python -m bench.run_all --render-only`.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import WORK, write_json  # noqa: E402
from bench.run_all import RESULTS, ensure_data, run_phase  # noqa: E402

N = 5_000_000
HOME = WORK / "5m" / "neo4j-home"


def _import_log_seconds() -> float | None:
    """The import tool's own figure ("Import completed successfully, took 6m 3s 727ms")."""
    import re
    log = HOME / "logs" / "debug.log"
    m = re.findall(r"Import completed successfully, took (?:(\d+)m )?(?:(\d+)s )?(\d+)ms", log.read_text(errors="replace"))
    if not m:
        return None
    mi, se, ms = m[-1]
    return round(60 * int(mi or 0) + int(se or 0) + int(ms) / 1000, 1)


def do_import(seed: int) -> dict:
    from bench import neo4j_tools as nt
    t0 = time.perf_counter()
    data = ensure_data(N, seed)
    m = json.loads((data / "manifest.json").read_text())
    res: dict = {"generate_process_s": round(time.perf_counter() - t0, 1), "elements_in_files": m["elements"]}
    res.update(nt.admin_import(data / "neo4j", HOME))
    res["import_tool_s"] = _import_log_seconds()
    R = RESULTS / "5m"
    R.mkdir(parents=True, exist_ok=True)
    write_json(R / "neo-admin.json", res)
    return {**res, **do_schema()}


def do_schema() -> dict:
    """Start the server on the imported home, build the constraints and text indexes (waiting as
    long as they take: over 5M names the text index outlasts db.awaitIndexes' usual 300 s)."""
    from neo4j import GraphDatabase
    from bench import neo4j_tools as nt
    from graph.stores.neo4j import Neo4jStore, schema_ddl
    R = RESULTS / "5m"
    res = json.loads((R / "neo-admin.json").read_text()) if (R / "neo-admin.json").exists() else {}
    res.setdefault("import_tool_s", _import_log_seconds())
    res.setdefault("import_s", res.get("import_tool_s"))
    srv = nt.Server(HOME)
    srv.start()
    try:
        res.update(start_s=srv.start_s, heap=srv.heap, pagecache=srv.pagecache)
        t = time.perf_counter()
        with GraphDatabase.driver(srv.uri, auth=None) as drv, drv.session() as s:
            for stmt in schema_ddl():
                s.run(stmt).consume()
            s.run("CALL db.awaitIndexes(7200)").consume()
        res["schema_s"] = round(time.perf_counter() - t, 1)
        st = Neo4jStore(srv.uri, timeout=3600)
        c = st.counts()
        st.close()
        res["elements"] = sum(c["nodes"].values()) + sum(c["relationships"].values())
        res["counts"] = c
        res["seconds"] = round(res["import_s"] + res["start_s"] + res["schema_s"], 1)
        res["elements_per_s"] = round(res["elements"] / res["seconds"])
        res["size_mb"] = srv.size_mb()
        res["server_peak_rss_mb"] = srv.peak_rss_mb()
    finally:
        srv.stop(remove=False)
    write_json(R / "neo-admin.json", res)
    return res


def do_read(sections: str, reps: int, timeout: float, cypher_timeout: float, merge: bool = False) -> dict:
    """Start a server on the imported home and run the read sections. With `merge`, only those
    sections are replaced in the existing results (the others and their run stay as they were,
    and `reruns` records what was re-run when)."""
    from bench import neo4j_tools as nt
    if not (HOME / "data").exists():
        raise SystemExit(f"no imported home at {HOME}: run `python -m bench.neo4j_5m import` first")
    srv = nt.Server(HOME)
    srv.start()
    R = RESULTS / "5m"
    out = R / ("neo-admin-read.rerun.json" if merge else "neo-admin-read.json")
    try:
        c0 = srv.cpu_s()
        rr = run_phase("read", WORK / "5m", srv.uri, out, "--reps", str(reps), "--timeout",
                       str(timeout), "--cypher-timeout", str(cypher_timeout), "--sections", sections,
                       timeout=4 * 3600)
        rr.update(server_cpu_s=round((srv.cpu_s() or 0) - (c0 or 0), 1), server_peak_rss_mb=srv.peak_rss_mb(),
                  heap=srv.heap, pagecache=srv.pagecache, server_start_s=srv.start_s)
        write_json(out, rr)
    finally:
        srv.stop(remove=False)
    if not merge:
        return rr
    base_path = R / "neo-admin-read.json"
    base = json.loads(base_path.read_text()) if base_path.exists() else {}
    secs = [x for x in sections.split(",") if x]
    for sec in secs:
        if sec in rr:
            base[sec] = rr[sec]
        if sec == "edges" and "chunked_edges" in rr:
            base["chunked_edges"] = rr["chunked_edges"]
        base.setdefault("section_s", {})[sec] = rr.get("section_s", {}).get(sec)
    base.setdefault("reruns", []).append({
        "sections": secs, "at": time.strftime("%Y-%m-%d %H:%M"), "load_before": rr.get("load_before"),
        "load_after": rr.get("load_after"), "client_peak_rss_mb": rr.get("peak_rss_mb"),
        "server_peak_rss_mb": rr.get("server_peak_rss_mb")})
    write_json(base_path, base)
    return base


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("step", choices=["import", "schema", "read"])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--sections", default="edges,analytics,search,queries")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--cypher-timeout", type=float, default=240.0)
    ap.add_argument("--merge", action="store_true",
                    help="read: replace only these sections in the existing results, keep the others")
    args = ap.parse_args(argv)
    if args.step == "import":
        out = do_import(args.seed)
    elif args.step == "schema":
        out = do_schema()
    else:
        out = do_read(args.sections, args.reps, args.timeout, args.cypher_timeout, args.merge)
    print(json.dumps({k: v for k, v in out.items() if k != "counts"}, indent=2, default=str))


if __name__ == "__main__":
    main()
