"""A leaner name search, measured against GraphStore.search (a proposal for graph/store.py and
graph/names.py; bench only).

    python -m bench.search_fast --store bench/.work/db/1m-pipeline.lbdb [--data bench/.work/1m]

Where GraphStore.search spends its time at 100k+ names (cProfile, bench/RESULTS.md): not in the
store's CONTAINS scan (~50 ms for 100k companies, ids only) but in Python:
- the prefilter terms include halves of every long word ('yunn', 'nan', 'ings'), which match
  thousands of names, so each label returns its 2,000-candidate cap;
- every candidate comes back as a whole node (all properties, converted to the neutral shape);
- names.score() re-normalises the *query* (norm + core) for every candidate and every spelling,
  and core() of every candidate spelling (normality + rigour) each time: ~7,000 candidates x
  4 spellings x 4 normalisations per search.
The variant below: (1) whole query and whole words first, word halves only when that finds fewer
than `limit` candidates; (2) returns id, name and search_key only, LIMIT 200 per label; (3)
normalises the query once and caches core() per spelling; (4) fetches full nodes for the final
`limit` hits only. Same ranking function (rapidfuzz WRatio on the same strings).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from functools import lru_cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rapidfuzz import fuzz  # noqa: E402

from graph.names import SEP, core, norm, query_terms  # noqa: E402
from graph.schema import SCHEMA  # noqa: E402
from graph.store import _q  # noqa: E402


@lru_cache(maxsize=500_000)
def _core(name: str) -> str:
    return core(name)


def _score(q: str, qc: str, key: str) -> float:
    best = 0.0
    for name in key.split(SEP):
        if not name:
            continue
        c = _core(name)
        if q == name or (qc and qc == c):
            return 100.0
        best = max(best, fuzz.WRatio(q, name), fuzz.WRatio(qc, c) if qc else 0)
    return best


def fast_search(store, text: str, limit: int = 20, per_label: int = 200, min_score: float = 60.0) -> list[dict]:
    terms = query_terms(text)
    if not terms:
        return []
    q, qc = norm(text), core(text)
    whole = [t for t in terms if t == q or t in qc.split() or t == text.strip().lower()]
    labels = SCHEMA.entity_labels
    cands: dict[str, tuple] = {}
    for tset in (whole, terms):
        for label in labels:
            res = store.read(_q("MATCH (n:{L}) WHERE any(t IN $terms WHERE n.search_key CONTAINS t) "
                                "RETURN n.id, n.name, n.search_key LIMIT $lim", L=label),
                             {"terms": tset, "lim": per_label})
            for nid, name, key in res.rows:
                cands[nid] = (label, name, key)
        if len(cands) >= limit or tset is terms:
            break
    scored = []
    for nid, (label, name, key) in cands.items():
        s = _score(q, qc, key or "")
        if s >= min_score:
            scored.append((-s, len(name or ""), nid, label))
    scored.sort()
    top = scored[:limit]
    out = []
    for negs, _, nid, label in top:   # full nodes for the hits only
        res = store.read(_q("MATCH (n:{L} {{id: $id}}) RETURN n", L=label), {"id": nid})
        if res.rows:
            out.append({**res.rows[0][0], "score": round(-negs, 1)})
    return out


def main(argv=None) -> dict:
    from graph.stores import open_store
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", required=True)
    ap.add_argument("--data", default=None, help="generated data folder (manifest.json: search examples)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    if args.store.startswith("bolt://"):
        store = open_store(args.store)
    else:
        from graph.stores.ladybug import LadybugStore
        store = LadybugStore(args.store, read_only=True, buffer_pool_mb=3072)
    man = json.loads((Path(args.data) / "manifest.json").read_text()) if args.data else {"params": {}}
    name = man["params"].get("search_name", "Hangzhou Hikvision Digital Technology Co., Ltd.")
    words = name.split()
    brand = words[1]
    texts = {"exact name": name, "brand + industry (alias)": " ".join(words[1:3]),
             "one typo": f"{brand[:-1]}x {words[2]}", "chinese name": man["params"].get("search_zh") or name,
             "single word": brand.lower()}
    res = {}
    for label, text in texts.items():
        row = {"text": text}
        for impl, fn in (("store.search", lambda: store.search(text, limit=20)),
                         ("fast_search", lambda: fast_search(store, text, limit=20))):
            hits = fn()
            ts = []
            for _ in range(args.reps):
                t = time.perf_counter()
                fn()
                ts.append(time.perf_counter() - t)
            ts.sort()
            row[impl] = {"median_ms": round(1000 * statistics.median(ts), 1), "max_ms": round(1000 * ts[-1], 1),
                         "top": [h["id"] for h in hits[:3]]}
        row["same_top1"] = row["store.search"]["top"][:1] == row["fast_search"]["top"][:1]
        res[label] = row
    store.close()
    print(json.dumps(res, indent=2, ensure_ascii=False))
    if args.out:
        Path(args.out).write_text(json.dumps(res, indent=2, ensure_ascii=False))
    return res


if __name__ == "__main__":
    main()
