"""Benchmark graph/ownership.py on a seeded synthetic ownership graph.

    .venv/bin/python bench/bench_ownership.py                    # 100,000 companies
    .venv/bin/python bench/bench_ownership.py --companies 1000000 --investors 20000

The generator is power-law-ish: company i (i >= 1) is owned by an earlier
company floor(i * u^2) (so early companies head large groups, depth ~ log n),
majority stakes for 60% of companies, a second minority owner for 30%,
cross-holdings from later companies for 0.5% (cycles), 2% unknown stakes.
Investors hold a skewed sample of companies (big groups more often); some
track indices. Listed: half from the first 5% of companies, half uniform.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graph.ownership import (  # noqa: E402
    build_graph,
    exposure,
    fifty_percent_rule,
    ultimate_owners,
)


def generate(n_companies: int, n_investors: int, n_listed: int, total_edges: int, seed: int):
    rng = np.random.default_rng(seed)
    N = n_companies
    i = np.arange(1, N)
    # primary owner: an earlier company, biased towards the oldest (largest groups)
    parent = (i * rng.random(N - 1) ** 2).astype(np.int64)
    has_parent = rng.random(N - 1) >= 0.05
    s1 = np.where(rng.random(N - 1) < 0.6, rng.uniform(0.5, 0.999, N - 1), rng.uniform(0.05, 0.5, N - 1))
    own_src, own_dst, own_s = [parent[has_parent]], [i[has_parent]], [s1[has_parent]]
    rest = 1.0 - np.where(has_parent, s1, 0.0)
    # second minority owner
    sec = rng.random(N - 1) < 0.3
    s2 = rest * rng.uniform(0.2, 0.9, N - 1)
    own_src.append((i[sec] * rng.random(sec.sum()) ** 1.5).astype(np.int64))
    own_dst.append(i[sec])
    own_s.append(s2[sec])
    rest = rest - np.where(sec, s2, 0.0)
    # cross-holdings from a later company: cycles
    cross = (rng.random(N - 1) < 0.005) & (i + 1000 < N)
    own_src.append(i[cross] + rng.integers(1, 1000, cross.sum()))
    own_dst.append(i[cross])
    own_s.append(rest[cross] * rng.uniform(0.1, 0.5, cross.sum()))
    src, dst, share = np.concatenate(own_src), np.concatenate(own_dst), np.concatenate(own_s)
    keep = src != dst
    src, dst, share = src[keep], dst[keep], share[keep]
    unknown = rng.random(len(src)) < 0.02
    cid = [f"c:{k}" for k in range(N)]
    shares = share.tolist()
    ownership = [(cid[a], cid[b], None if u else s)
                 for a, b, s, u in zip(src.tolist(), dst.tolist(), shares, unknown.tolist())]

    # holdings: fill up to total_edges, skewed towards large (early) companies
    n_hold = max(total_edges - len(ownership), n_investors)
    inv = rng.integers(0, n_investors, n_hold)
    asset = (N * rng.random(n_hold) ** 3).astype(np.int64)
    key = np.unique(inv * N + asset)
    inv, asset = key // N, key % N
    weight = rng.random(len(key))
    weight /= np.bincount(inv, weights=weight, minlength=n_investors)[inv]
    weight = np.where(rng.random(len(key)) < 0.05, np.nan, weight)
    iid = [f"inv:{k}" for k in range(n_investors)]
    holdings = [(iid[a], cid[b], None if w != w else w)
                for a, b, w in zip(inv.tolist(), asset.tolist(), weight.tolist())]

    # indices and trackers
    n_idx = 20
    constituents = [(cid[c], f"idx:{x}", 1 / 500) for x in range(n_idx)
                    for c in rng.choice(min(N, 20000), 500, replace=False).tolist()]
    tracks = [(iid[f], f"idx:{rng.integers(n_idx)}") for f in rng.choice(n_investors, n_investors // 40,
                                                                            replace=False).tolist()]
    top = rng.choice(max(N // 20, 1), n_listed // 2, replace=False)
    anywhere = rng.choice(N, n_listed - n_listed // 2, replace=False)
    listed = sorted({cid[k] for k in np.r_[top, anywhere].tolist()})
    return ownership, holdings, constituents, tracks, listed


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
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    n_inv = args.investors or max(args.companies // 50, 10)
    n_edges = args.edges or 2 * args.companies
    res: dict = {"companies": args.companies, "investors": n_inv}

    t = time.perf_counter()
    ownership, holdings, constituents, tracks, listed = generate(args.companies, n_inv, args.listed,
                                                                 n_edges, args.seed)
    res.update(generate_s=time.perf_counter() - t, ownership_edges=len(ownership),
               holding_edges=len(holdings), listed=len(listed), rss_after_generate_mb=peak_rss_mb())

    t = time.perf_counter()
    findings = fifty_percent_rule(ownership, listed)
    res["cascade_s"] = time.perf_counter() - t                 # includes interning the edges
    res["captured"] = len(findings)
    res["max_depth"] = max((f.depth for f in findings.values()), default=0)

    t = time.perf_counter()
    g = build_graph(ownership)
    res["build_graph_s"] = time.perf_counter() - t
    t = time.perf_counter()
    fifty_percent_rule(g, listed)
    res["cascade_prebuilt_s"] = time.perf_counter() - t

    restricted = set(listed) | set(findings)
    t = time.perf_counter()
    exps = exposure(holdings, ownership, restricted, constituents, tracks)
    res["exposure_s"] = time.perf_counter() - t                # includes interning the edges
    res["exposures"] = len(exps)
    res["exposed_investors"] = len({e.investor for e in exps})
    res["exposures_by_via"] = {v: sum(1 for e in exps if e.via == v)
                               for v in ("direct", "subsidiary", "parent", "index")}
    del exps
    t = time.perf_counter()
    exposure(holdings, g, restricted, constituents, tracks)
    res["exposure_prebuilt_s"] = time.perf_counter() - t

    rng = np.random.default_rng(args.seed + 1)
    qs = rng.choice(args.companies, args.queries, replace=False).tolist()
    t = time.perf_counter()
    n_owners = sum(len(ultimate_owners(g, f"c:{q}")) for q in qs)
    res["ultimate_owners_s"] = time.perf_counter() - t
    res["ultimate_owners_mean_owners"] = n_owners / max(len(qs), 1)
    res["peak_rss_mb"] = peak_rss_mb()

    if args.json:
        print(json.dumps(res, indent=2))
    else:
        for k, v in res.items():
            print(f"{k:>30}: {v:.3f}" if isinstance(v, float) else f"{k:>30}: {v}")
    return res


if __name__ == "__main__":
    main()
