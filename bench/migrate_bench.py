"""What `techgiants migrate --from graph.lbdb --to bolt://...` would cost: a streamed export from
one store into our pipeline on another (GraphStore.iter_export() -> Node/Rel records ->
ingest.pipeline.run(target)), never holding the graph in memory.

    python -m bench.migrate_bench [--scale 100k] [--source bench/.work/db/100k-pipeline.lbdb]
                                  [--target fresh-neo4j | bolt://... | path.lbdb] [--export-only]

Measures GraphStore.iter_export() with the --export-batch page (capped) and with the store's
own page size, then the full migration through it into a fresh target, and checks the counts
match. Writes bench/.work/results/<scale>/migrate.json and, with
--render, refreshes bench/RESULTS.md (a section is appended there by run_all's renderer).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import WORK, Timer, du_mb, peak_rss_mb, write_json  # noqa: E402
from bench.generate import parse_scale, scale_name  # noqa: E402


def as_records(dicts, counter: dict | None = None):
    from ingest.records import Node, Rel
    for rec in dicts:
        if counter is not None:
            counter["n"] = counter.get("n", 0) + 1
        if "node" in rec:
            yield Node(rec["node"], rec["props"])
        else:
            yield Rel(rec["rel"], rec["src"], rec["src_label"], rec["dst"], rec["dst_label"], rec["props"])


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="100k")
    ap.add_argument("--source", default=None, help="Ladybug db (default bench/.work/db/<scale>-pipeline.lbdb)")
    ap.add_argument("--target", default="fresh-neo4j", help="fresh-neo4j, a bolt:// URI, or a new Ladybug path")
    ap.add_argument("--export-batch", type=int, default=5000, help="iter_export page size")
    ap.add_argument("--batch", type=int, default=10_000, help="pipeline batch on the target")
    ap.add_argument("--export-only", action="store_true")
    ap.add_argument("--cap", type=float, default=120.0, help="seconds to let GraphStore.iter_export() run")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    from graph.stores import open_store
    from ingest import pipeline
    s = scale_name(parse_scale(args.scale))
    src_path = args.source or str(WORK / "db" / f"{s}-pipeline.lbdb")
    out_path = Path(args.out or WORK / "results" / s / "migrate.json")
    res: dict = {"source": src_path, "export_batch": args.export_batch}
    src = open_store(src_path, read_only=True, timeout=600)
    counts = src.counts()
    res["elements"] = sum(counts["nodes"].values()) + sum(counts["relationships"].values())
    # 1. the store's iter_export(), capped: it resolves relationship ends one query at a time
    c: dict = {"n": 0, "nodes": 0}
    t0 = time.perf_counter()
    capped = False
    for rec in src.iter_export(batch=args.export_batch):
        c["n"] += 1
        c["nodes"] += "node" in rec
        if time.perf_counter() - t0 > args.cap:
            capped = True
            break
    el = time.perf_counter() - t0
    res["iter_export"] = {"records": c["n"], "seconds": round(el, 2), "per_s": round(c["n"] / el),
                          "stopped_at_cap": capped, "nodes_done": c["nodes"]}
    if capped:
        res["iter_export"]["note"] = (f"stopped after {args.cap:g} s in the relationships: "
                                      f"{c['n'] - c['nodes']} relationships exported so far")
    # 2. the export with the store's own page size (Ladybug: 50,000)
    c = {}
    with Timer() as t:
        for _ in as_records(src.iter_export(), c):
            pass
    res["export_s"] = round(t.wall, 2)
    res["export_cpu_s"] = round(t.cpu, 2)
    res["export_per_s"] = round(c.get("n", 0) / t.wall)
    res["exported"] = c.get("n", 0)
    if not args.export_only:
        server = None
        target = args.target
        if target == "fresh-neo4j":
            from bench import neo4j_tools as nt
            server = nt.Server().start()
            target = server.uri
        try:
            dst = open_store(target, timeout=600)
            dst.create_schema()
            c = {}
            with Timer() as t:
                rep = pipeline.run(dst, as_records(src.iter_export(), c), batch=args.batch)
            res["migrate_s"] = round(t.wall, 2)
            res["migrate_cpu_s"] = round(t.cpu, 2)
            res["migrate_per_s"] = round(c.get("n", 0) / t.wall)
            res["rejected"] = rep.total_rejected
            dc = dst.counts()
            res["target_elements"] = sum(dc["nodes"].values()) + sum(dc["relationships"].values())
            res["counts_match"] = dc == counts
            res["target"] = "fresh Neo4j 5.26 (tests/neo4j_server)" if server else target
            if server:
                res["server_cpu_s"] = server.cpu_s()
                res["server_peak_rss_mb"] = server.peak_rss_mb()
                res["target_size_mb"] = server.size_mb()
            else:
                res["target_size_mb"] = du_mb(target)
            dst.close()
        finally:
            if server:
                server.stop()
    src.close()
    res["peak_rss_mb"] = peak_rss_mb()
    write_json(out_path, res)
    print(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    main()
