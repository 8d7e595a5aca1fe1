"""Benchmark graph/ownership.py on a seeded synthetic ownership graph.

    .venv/bin/python bench/bench_ownership.py                    # 100,000 companies
    .venv/bin/python bench/bench_ownership.py --companies 1000000 --investors 20000

The generator is power-law-ish: corporate groups with Pareto sizes (mean ~6,
a few of 10,000-30,000); inside a group every company is owned by an earlier
member, biased towards the head (trees ~10 deep); majority stakes for 60%, a
second minority owner anywhere earlier for 30%, cross-holdings from a later
company for 0.5% (cycles), 2% unknown stakes. Investors hold mostly group
heads (weighted by group size); 2.5% track one of 20 indices. Listed: half
group heads (weighted by size), half any company.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graph.ownership import (  # noqa: E402
    build_graph,
    exposure,
    exposure_table,
    fifty_percent_rule,
    ultimate_owners,
)


def generate(n_companies: int, n_investors: int, n_listed: int, total_edges: int, seed: int):
    """(ownership, holdings, constituents, tracks, listed) as plain tuples / ids."""
    rng = np.random.default_rng(seed)
    N = n_companies
    # corporate groups with Pareto sizes (a few conglomerates of tens of thousands)
    sizes = np.minimum(np.ceil((1 - rng.random(N)) ** (-1 / 1.2)), 30000).astype(np.int64)
    k = int(np.searchsorted(np.cumsum(sizes), N)) + 1
    sizes = sizes[:k]
    sizes[-1] -= sizes.sum() - N
    head = np.repeat(np.cumsum(sizes) - sizes, sizes)            # first company of each group
    j = np.arange(N) - head                                      # position inside the group
    i = np.flatnonzero(j > 0)
    # primary owner: an earlier member of the same group, biased towards the head
    parent = head[i] + (j[i] * rng.random(len(i)) ** 2).astype(np.int64)
    m = len(i)
    s1 = np.where(rng.random(m) < 0.6, rng.uniform(0.5, 0.999, m), rng.uniform(0.05, 0.5, m))
    src, dst, share = [parent], [i], [s1]
    rest = np.ones(N)
    rest[i] -= s1
    # second, minority owner: any earlier company (links groups together)
    sec = np.flatnonzero(rng.random(N) < 0.3)
    sec = sec[sec > 0]
    s2 = rest[sec] * rng.uniform(0.2, 0.9, len(sec))
    src.append((sec * rng.random(len(sec))).astype(np.int64))
    dst.append(sec)
    share.append(s2)
    rest[sec] -= s2
    # cross-holdings from a later company: cycles
    cross = np.flatnonzero(rng.random(N) < 0.005)
    cross = cross[cross + 1000 < N]
    src.append(cross + rng.integers(1, 1000, len(cross)))
    dst.append(cross)
    share.append(rest[cross] * rng.uniform(0.1, 0.5, len(cross)))
    src, dst, share = np.concatenate(src), np.concatenate(dst), np.concatenate(share)
    unknown = rng.random(len(src)) < 0.02
    cid = [f"c:{x}" for x in range(N)]
    ownership = [(cid[a], cid[b], None if u else s)
                 for a, b, s, u in zip(src.tolist(), dst.tolist(), share.tolist(), unknown.tolist())]

    heads = np.cumsum(sizes) - sizes
    p_head = sizes / sizes.sum()
    # holdings: fill up to total_edges; 60% group heads (weighted by group size), 40% any company
    n_hold = max(total_edges - len(ownership), n_investors)
    inv = rng.integers(0, n_investors, n_hold)
    asset = np.where(rng.random(n_hold) < 0.6, heads[rng.choice(len(heads), n_hold, p=p_head)],
                     rng.integers(0, N, n_hold))
    key = np.unique(inv * N + asset)
    inv, asset = key // N, key % N
    weight = rng.random(len(key))
    weight /= np.bincount(inv, weights=weight, minlength=n_investors)[inv]
    weight = np.where(rng.random(len(key)) < 0.05, np.nan, weight)
    iid = [f"inv:{x}" for x in range(n_investors)]
    holdings = [(iid[a], cid[b], None if w != w else w)
                for a, b, w in zip(inv.tolist(), asset.tolist(), weight.tolist())]

    # 20 indices of 500 group heads each; 2.5% of investors track one
    n_idx = 20
    constituents = [(cid[c], f"idx:{x}", 1 / 500) for x in range(n_idx)
                    for c in heads[rng.choice(len(heads), min(500, len(heads)), replace=False,
                                              p=p_head)].tolist()]
    tracks = [(iid[f], f"idx:{rng.integers(n_idx)}")
              for f in rng.choice(n_investors, max(n_investors // 40, 1), replace=False).tolist()]
    # listed: half group heads (weighted by size), half any company
    n_top = min(n_listed // 2, len(heads))
    top = heads[rng.choice(len(heads), n_top, replace=False, p=p_head)]
    anywhere = rng.choice(N, n_listed - n_top, replace=False)
    listed = sorted({cid[x] for x in np.r_[top, anywhere].tolist()})
    return ownership, holdings, constituents, tracks, listed


class Timer:
    """Wall-clock and CPU seconds of a block (CPU time is steadier on a shared machine)."""

    def __enter__(self):
        self.w, self.c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.w
        self.cpu = time.process_time() - self.c


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--companies", type=int, default=100_000)
    ap.add_argument("--investors", type=int, default=None, help="default: companies / 50 (20,000 at 1M)")
    ap.add_argument("--listed", type=int, default=2000)
    ap.add_argument("--edges", type=int, default=None, help="ownership + holding edges (default 2 x companies)")
    ap.add_argument("--queries", type=int, default=100, help="ultimate_owners queries")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--through-restricted", action="store_true",
                    help="also time exposure(..., through_restricted=True) (every restricted company "
                         "reachable; far larger output)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    n_inv = args.investors or max(args.companies // 50, 10)
    n_edges = args.edges or 2 * args.companies
    res: dict = {"companies": args.companies, "investors": n_inv}

    def timed(name, fn):
        with Timer() as t:
            out = fn()
        res[f"{name}_s"] = round(t.wall, 3)
        res[f"{name}_cpu_s"] = round(t.cpu, 3)
        return out

    ownership, holdings, constituents, tracks, listed = timed(
        "generate", lambda: generate(args.companies, n_inv, args.listed, n_edges, args.seed))
    res.update(ownership_edges=len(ownership), holding_edges=len(holdings), listed=len(listed),
               rss_after_generate_mb=round(peak_rss_mb(), 1))

    # the cascade from raw tuples (interning included), then its parts
    findings = timed("cascade", lambda: fifty_percent_rule(ownership, listed))
    res["captured"] = len(findings)
    res["max_depth"] = max((f.depth for f in findings.values()), default=0)
    g = timed("build_graph", lambda: build_graph(ownership))
    timed("cascade_prebuilt", lambda: fifty_percent_rule(g, listed))

    restricted = set(listed) | set(findings)
    exps = timed("exposure", lambda: exposure(holdings, ownership, restricted, constituents, tracks))
    res["exposures"] = len(exps)
    res["exposed_investors"] = len({e.investor for e in exps})
    res["exposures_by_via"] = {v: sum(1 for e in exps if e.via == v)
                               for v in ("direct", "subsidiary", "parent", "index")}
    del exps
    timed("exposure_prebuilt", lambda: exposure(holdings, g, restricted, constituents, tracks))
    # the columnar path graph.analysis uses: Arrow in (as store.edges returns), Arrow out
    own_t = pa.table({"src": [o for o, _, _ in ownership], "dst": [a for _, a, _ in ownership],
                      "share": pa.array([s for _, _, s in ownership], pa.float64())})
    hold_t = pa.table({"investor": [h[0] for h in holdings], "asset": [h[1] for h in holdings],
                       "weight": pa.array([h[2] for h in holdings], pa.float64())})
    g_t = timed("build_graph_arrow", lambda: build_graph(own_t))
    timed("cascade_arrow_prebuilt", lambda: fifty_percent_rule(g_t, listed))
    timed("exposure_table_prebuilt", lambda: exposure_table(hold_t, g_t, restricted, constituents, tracks))
    if args.through_restricted:
        res["exposures_through_restricted"] = len(timed(
            "exposure_through_restricted",
            lambda: exposure(holdings, g, restricted, constituents, tracks, through_restricted=True)))

    rng = np.random.default_rng(args.seed + 1)
    qs = rng.choice(args.companies, args.queries, replace=False).tolist()
    owners = timed("ultimate_owners", lambda: [ultimate_owners(g, f"c:{q}") for q in qs])
    res["ultimate_owners_mean_owners"] = sum(map(len, owners)) / max(len(qs), 1)
    res["peak_rss_mb"] = round(peak_rss_mb(), 1)
    res["load_average_1m"] = os.getloadavg()[0]

    if args.json:
        print(json.dumps(res, indent=2))
    else:
        for k, v in res.items():
            print(f"{k:>34}: {v}")
    return res


if __name__ == "__main__":
    main()
