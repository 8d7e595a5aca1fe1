"""Name search for GraphStore.search: candidate selection, then rapidfuzz ranking (graph.names).

Two ways to find candidates, one ranking:
- Ladybug (no full-text index without an extension download): an in-memory token index over
  every entity's search_key, built from one columnar pull per label and kept per database file
  and data version. Tokens are the words of the normalised spellings plus character bigrams of
  the original Chinese spellings; postings are numpy arrays (CSR). A query's words match
  exactly, by prefix (sorted vocabulary + bisect) and, when unknown, by one typo (rapidfuzz
  over the vocabulary); candidates are the entities with the highest IDF-weighted overlap,
  shortest names first among equals.
- Neo4j: `search_key CONTAINS` (served by the store's text index), whole query and words first,
  word halves only when that finds too little; ids and keys only.
Either way a few hundred candidates are ranked with graph.names.score and only the final hits
are fetched as whole nodes.

The index is rebuilt when the data changes: `note_write` (called by the store's own writes)
bumps an in-process counter, and the database file's and WAL's size and mtime catch writes by
other processes (an ingest run while the app is open).
"""
from __future__ import annotations

import bisect
import json
import math
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.feather  # noqa: F401  (pa.feather)
from rapidfuzz import fuzz, process

from graph.memory import release
from graph.names import SEP, core, fast_norm, query_terms
from graph.schema import SCHEMA

HAN_RE = "[\u3400-\u9fff]"
CANDIDATES = 300          # ranked with rapidfuzz per query
SEED_BUDGET = 50_000      # postings read in full per query; commoner words are looked up
PREFIX_FANOUT = 64        # vocabulary words a query word may expand to by prefix
STOPWORD_SHARE = 0.2      # words in more entities than this share only count when nothing else does
MIN_SCORE = 60.0


# ---------------------------------------------------------------- ranking (shared)
_core_cache: dict[str, str] = {}


def _core(name: str) -> str:
    c = _core_cache.get(name)
    if c is None:
        if len(_core_cache) > 200_000:   # bounded: a long session must not grow it forever
            _core_cache.clear()
        c = _core_cache[name] = core(name)
    return c


def score_key(q: str, qc: str, key: str) -> float:
    """graph.names.score(query, key) with the query normalised once and cores cached."""
    best = 0.0
    for name in key.split(SEP):
        if not name:
            continue
        c = _core(name)
        if q == name or (qc and qc == c):
            return 100.0
        best = max(best, fuzz.WRatio(q, name), fuzz.WRatio(qc, c) if qc else 0)
    return best


def rank(text: str, cands: Iterable[tuple[str, str, str, str]], limit: int,
         min_score: float = MIN_SCORE) -> list[tuple[float, str, str]]:
    """(score, id, label) of the best candidates (id, label, name, key), as rank_matches orders."""
    q, qc = fast_norm(text), core(text)
    scored = []
    for nid, label, name, key in cands:
        s = score_key(q, qc, key or "")
        if s >= min_score:
            scored.append((-round(s, 1), len(name or ""), nid, label))
    scored.sort()
    return [(-s, nid, label) for s, _, nid, label in scored[:limit]]


def fetch(store, hits: list[tuple[float, str, str]]) -> list[dict]:
    """Whole neutral nodes for the hits, in hit order, one read per label."""
    from graph.store import _q
    by_label: dict[str, list[str]] = {}
    for _, nid, label in hits:
        by_label.setdefault(label, []).append(nid)
    nodes: dict[str, dict] = {}
    for label, ids in by_label.items():
        # UNWIND + a key match: a primary-key lookup per id (`n.id IN $ids` scans the label)
        res = store.read(_q("UNWIND $ids AS i MATCH (n:{L} {{id: i}}) RETURN n", L=label), {"ids": ids})
        for (n,) in res.rows:
            nodes[n["id"]] = n
    return [{**nodes[nid], "score": s} for s, nid, _ in hits if nid in nodes]


def _labels(labels: Iterable[str] | None) -> list[str]:
    return [l for l in (labels or SCHEMA.entity_labels) if l in SCHEMA.entity_labels]


# ---------------------------------------------------------------- entry point
def search(store, text: str, limit: int = 20, labels: Iterable[str] | None = None) -> list[dict]:
    text = text or ""
    if not query_terms(text):
        return []
    labels = _labels(labels)
    if store.kind == "ladybug":
        cands = index_for(store).candidates(text, labels)
    else:
        cands = contains_candidates(store, text, labels, limit)
    return fetch(store, rank(text, cands, limit))


# ---------------------------------------------------------------- Neo4j: CONTAINS prefilter
def contains_candidates(store, text: str, labels: list[str], limit: int,
                        per_label: int = 2000) -> list[tuple[str, str, str, str]]:
    from graph.store import _q
    terms = query_terms(text)
    q, qc = fast_norm(text), core(text)
    raw = text.strip().lower()
    whole = [t for t in terms if t == q or t == raw or t in qc.split()]
    cands: dict[str, tuple] = {}
    for tset in (whole, terms):
        if not tset:
            continue
        for label in labels:
            res = store.read(_q("MATCH (n:{L}) WHERE any(t IN $terms WHERE n.search_key CONTAINS t) "
                                "RETURN n.id, n.name, n.search_key LIMIT $lim", L=label),
                             {"terms": tset, "lim": per_label})
            for nid, name, key in res.rows:
                cands[nid] = (nid, label, name, key)
        if len(cands) >= limit or tset is terms:
            break
    return list(cands.values())


# ---------------------------------------------------------------- Ladybug: token index
@dataclass
class TokenIndex:
    labels: list[str]
    label_of: np.ndarray          # int8 per entity: position in labels
    ids: pa.Array
    names: pa.Array
    keys: pa.Array
    name_len: np.ndarray          # int32, tie-break: shortest names first
    vocab: list[str]              # sorted
    indptr: np.ndarray            # int64, CSR over vocab
    postings: np.ndarray          # int32 entity numbers
    df: np.ndarray                # int64 entities per token (before capping very common ones)
    tok: dict[str, int] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.label_of)

    def nbytes(self) -> int:
        arrays = (self.label_of, self.name_len, self.indptr, self.postings, self.df)
        return (sum(a.nbytes for a in arrays) + self.ids.nbytes + self.names.nbytes + self.keys.nbytes
                + sum(len(v) + 49 for v in self.vocab) * 2)

    # -- query side
    def _df(self, t: int) -> int:
        return int(self.df[t])

    def _weight(self, df: int) -> float:
        return math.log(1 + self.n / max(df, 1))

    def _postings(self, group: list[int]) -> np.ndarray:
        if len(group) == 1:
            t = group[0]
            return self.postings[self.indptr[t]:self.indptr[t + 1]]
        return np.unique(np.concatenate([self.postings[self.indptr[t]:self.indptr[t + 1]] for t in group]))

    def _expand(self, word: str, last: bool) -> list[int]:
        """Vocabulary words standing for a query word: itself; longer words it begins when it is
        not a word of the graph or is the last one typed; words one typo away when nothing else."""
        out = []
        t = self.tok.get(word)
        if t is not None:
            out.append(t)
        han = any("\u3400" <= ch <= "\u9fff" for ch in word)
        if (len(word) >= 3 or han) and (t is None or last):
            lo = bisect.bisect_left(self.vocab, word)
            hi = bisect.bisect_left(self.vocab, word + "\U0010ffff", lo)
            out += [i for i in range(lo, min(hi, lo + PREFIX_FANOUT)) if i != t]
        if not out and len(word) >= 4 and not han:
            # fuzz.ratio of a word and itself with one letter changed: 75 at 4 letters, 89 at 9
            for _, _, i in process.extract(word, self.vocab, scorer=fuzz.ratio,
                                           score_cutoff=75.0 if len(word) < 6 else 80.0, limit=8):
                out.append(i)
        return list(dict.fromkeys(out))

    def candidates(self, text: str, labels: list[str]) -> list[tuple[str, str, str, str]]:
        toks = query_tokens(text)
        groups = [g for g in (self._expand(w, i == len(toks) - 1) for i, w in enumerate(toks)) if g]
        if not groups:
            return []
        n = self.n
        dfs = [sum(self._df(t) for t in g) for g in groups]
        common = [df > STOPWORD_SHARE * n for df in dfs]
        if not all(common):
            groups = [g for g, c in zip(groups, common) if not c]
            dfs = [df for df, c in zip(dfs, common) if not c]
        # rarest words first: their entities are the candidates; commoner words only add to the
        # score of those (a binary search in their sorted postings), never a scan of big lists
        order = sorted(range(len(groups)), key=dfs.__getitem__)
        seed, budget = [], 0
        for i in order:
            if seed and budget + dfs[i] > SEED_BUDGET:
                break
            seed.append(i)
            budget += dfs[i]
        parts, weights = [], []
        for i in seed:
            e = self._postings(groups[i])
            parts.append(e)
            weights.append(np.full(len(e), self._weight(dfs[i]), dtype=np.float64))
        hit, inverse = np.unique(np.concatenate(parts), return_inverse=True)
        w = np.bincount(inverse, weights=np.concatenate(weights), minlength=len(hit))
        for i in order[len(seed):]:
            found = np.zeros(len(hit), bool)
            for t in groups[i]:
                p = self.postings[self.indptr[t]:self.indptr[t + 1]]
                if len(p):
                    j = np.minimum(np.searchsorted(p, hit), len(p) - 1)
                    found |= p[j] == hit
            w += found * self._weight(dfs[i])
        want = {i for i, l in enumerate(self.labels) if l in labels}
        if len(want) < len(self.labels):
            mine = np.isin(self.label_of[hit], list(want))
            hit, w = hit[mine], w[mine]
        if len(hit) > CANDIDATES:
            # highest overlap first, shortest names among equals
            best = np.lexsort((self.name_len[hit], -np.round(w, 6)))[:CANDIDATES]
            hit = hit[best]
        idx = pa.array(hit, type=pa.int64())
        ids = self.ids.take(idx).to_pylist()
        names = self.names.take(idx).to_pylist()
        keys = self.keys.take(idx).to_pylist()
        lab = self.label_of[hit]
        return [(i, self.labels[l], nm, k) for i, l, nm, k in zip(ids, lab, names, keys)]


def query_tokens(text: str) -> list[str]:
    """The index tokens of a query: normalised words, and bigrams of its Chinese characters
    (which stand for the Chinese part: its pinyin syllables would match nearly every name)."""
    raw = text.strip().lower()
    words = fast_norm(re.sub(HAN_RE + "+", " ", raw)).split()
    han = [raw[i:i + 2] for i in range(len(raw) - 1)
           if any("\u3400" <= ch <= "\u9fff" for ch in raw[i:i + 2])]
    if len(raw) == 1 and "\u3400" <= raw <= "\u9fff":
        han = [raw]
    return list(dict.fromkeys(words + han))


def _tokens(keys: pa.Array, base: int) -> tuple[pa.Array, np.ndarray]:
    """Index tokens of a slice of search keys, and the entity number (base + row) of each."""
    parts = pc.split_pattern(keys, SEP)
    part_parent = pc.add(pc.list_parent_indices(parts), base)
    flat = pc.list_flatten(parts)
    is_han = pc.match_substring_regex(flat, HAN_RE)
    latin = pc.filter(flat, pc.invert(is_han))
    latin_parent = pc.filter(part_parent, pc.invert(is_han))
    words = pc.split_pattern(latin, " ")
    toks = [pc.list_flatten(words)]
    pars = [pc.take(latin_parent, pc.list_parent_indices(words))]
    han = pc.filter(flat, is_han)
    han_parent = pc.filter(part_parent, is_han)
    if len(han):
        # character bigrams of the original Chinese spellings (a single character stays one token)
        lens = pc.utf8_length(han)
        longest = pc.max(lens).as_py() or 0
        for i in range(max(longest - 1, 1)):
            mask = pc.greater_equal(lens, min(i + 2, longest))
            toks.append(pc.utf8_slice_codeunits(pc.filter(han, mask), i, i + 2))
            pars.append(pc.filter(han_parent, mask))
    tokens = pa.concat_arrays([a.cast(pa.string()) for a in toks])
    parents = np.concatenate([np.asarray(a.to_numpy(zero_copy_only=False), dtype=np.int64) for a in pars])
    keep = pc.greater(pc.utf8_length(tokens), 0)
    return pc.filter(tokens, keep), parents[keep.to_numpy(zero_copy_only=False)]


def _column(tables: list[pa.Table], i: int, fill: str | None = None) -> pa.Array:
    """Column i of every table as one string array, copied once: straight from the chunks
    (combine_chunks would copy each column first), nulls filled per chunk that has any."""
    parts = []
    for t in tables:
        for a in t.column(i).chunks:
            a = a.cast(pa.string())
            parts.append(pc.fill_null(a, fill) if fill is not None and a.null_count else a)
    return pa.concat_arrays(parts)


def _shortest(seg: np.ndarray, name_len: np.ndarray, keep: int) -> np.ndarray:
    """The `keep` entities of an entity-ordered list with the shortest names (the earlier ones
    among equals), still in entity order."""
    if len(seg) <= keep:
        return seg
    return seg[np.sort(np.argsort(name_len[seg], kind="stable")[:keep])]


def build_index(columns: dict[str, pa.Table], chunk: int = 16_384) -> TokenIndex:
    """The index from one (id, name, search_key) table per label. Works through the entities a
    chunk at a time so that the token strings of a million names never exist all at once (a
    chunk's Arrow temporaries are ~70 bytes a token; smaller chunks are no slower).

    Consumes `columns`: each label's table leaves the dict once copied, so the pulled result is
    freed as early as possible (index_for passes a fresh dict)."""
    labels = [l for l, t in columns.items() if t.num_rows]
    tables = [columns.pop(l) for l in labels]
    if not tables:
        e = pa.array([], pa.string())
        return TokenIndex([], np.zeros(0, np.int8), e, e, e, np.zeros(0, np.int32), [],
                          np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int64))
    label_of = np.concatenate([np.full(t.num_rows, i, np.int8) for i, t in enumerate(tables)])
    ids, names, keys = _column(tables, 0), _column(tables, 1), _column(tables, 2, "")
    del tables
    n = len(keys)
    name_len = pc.fill_null(pc.utf8_length(names), 0).to_numpy(zero_copy_only=False).astype(np.int32)

    # Each chunk keeps its (token, entity) pairs as a small CSR: the distinct tokens (numbered in
    # order of appearance), how many entities each has, and those entities, ascending per token,
    # as offsets into the chunk (2 bytes each while a chunk has at most 65536 entities). The
    # postings are filled from these at the end: a counting sort, no sort of all pairs at once.
    gid_of: dict[str, int] = {}
    off_type = np.uint16 if chunk <= 1 << 16 else np.int32
    done: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
    for start in range(0, n, chunk):
        tokens, parents = _tokens(keys.slice(start, chunk), start)
        enc = pc.dictionary_encode(tokens)
        del tokens
        local = enc.dictionary.to_pylist()
        to_gid = np.fromiter((gid_of.setdefault(t, len(gid_of)) for t in local), np.int64, len(local))
        pairs = to_gid[enc.indices.to_numpy(zero_copy_only=False)]
        del enc, local, to_gid
        pairs *= n
        pairs += parents
        del parents
        # sorted by token, then entity, without repeats (np.unique hashes: several times slower)
        pairs.sort()
        pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))]
        gid = pairs // n
        pairs -= gid * n + start
        first = np.flatnonzero(np.concatenate(([True], gid[1:] != gid[:-1])))
        counts = np.diff(np.append(first, len(gid))).astype(np.int32)
        done.append((start, gid[first].astype(np.int32), counts, pairs.astype(off_type)))
        del pairs, gid, first, counts
    vocab_arr = pa.array(list(gid_of), pa.string())
    del gid_of
    order = pc.array_sort_indices(vocab_arr).to_numpy()
    rank_of = np.empty(len(order), np.int32)
    rank_of[order] = np.arange(len(order), dtype=np.int32)
    df = np.zeros(len(order), np.int64)
    for _, g, counts, _ in done:
        df[rank_of[g]] += counts         # no token twice in a chunk's g: += adds every count
    # very common words ("co", "ltd", pinyin syllables) keep only their shortest-named entities:
    # they only decide anything when a query has nothing rarer, and then short names win anyway
    cap = max(int(STOPWORD_SHARE * n), 2000)
    heavy = df > cap
    indptr = np.zeros(len(order) + 1, np.int64)
    np.cumsum(np.where(heavy, 2000, df), out=indptr[1:])
    postings = np.empty(int(indptr[-1]), np.int32)
    cursor = indptr[:-1].copy()
    best: dict[int, np.ndarray] = {}
    # chunks in entity order, so each token's entities arrive ascending (as a stable sort by token
    # would leave them); a chunk is freed once placed. A very common word's entities are not placed
    # but narrowed chunk by chunk: the shortest names of the shortest so far and the chunk's.
    done.reverse()
    while done:
        start, g, counts, ent = done.pop()
        ent = ent.astype(np.int32)
        ent += start
        r = rank_of[g]
        first = np.cumsum(counts) - counts
        pos = np.repeat(cursor[r] - first, counts)
        pos += np.arange(len(ent))
        hv = heavy[r]
        if hv.any():
            for i in np.flatnonzero(hv):
                seg = ent[first[i]:first[i] + counts[i]]
                t = int(r[i])
                best[t] = _shortest(np.concatenate((best[t], seg)) if t in best else seg, name_len, 2000)
            light = np.repeat(~hv, counts)
            postings[pos[light]] = ent[light]
            del light
        else:
            postings[pos] = ent
        cursor[r] += counts
        del g, counts, ent, r, first, pos, hv
    for t, seg in best.items():
        postings[indptr[t]:indptr[t + 1]] = seg
    del cursor, best, rank_of
    vocab = vocab_arr.take(pa.array(order)).to_pylist()
    del vocab_arr, order
    release()   # the build's temporaries back to the OS
    return TokenIndex(labels, label_of, ids, names, keys, name_len, vocab, indptr, postings, df,
                      {w: i for i, w in enumerate(vocab)})


# ---------------------------------------------------------------- cache and data version
_lock = threading.Lock()
_writes: dict[str, int] = {}
_indexes: dict[str, tuple[tuple, TokenIndex]] = {}


def note_write(store) -> None:
    """Called by the store after it changes nodes: the next search rebuilds its index."""
    with _lock:
        _writes[store.url] = _writes.get(store.url, 0) + 1


def data_version(store) -> tuple:
    stamp = []
    for p in (store.path, store.path + ".wal"):
        try:
            st = os.stat(p)
            stamp.append((st.st_size, st.st_mtime_ns, st.st_ino))
        except OSError:
            stamp.append(None)
    return (_writes.get(store.url, 0), *stamp)


def index_for(store) -> TokenIndex:
    version = data_version(store)
    got = _indexes.get(store.url)
    if got is not None and got[0] == version:
        return got[1]
    with _lock:
        got = _indexes.get(store.url)
        if got is not None and got[0] == version:
            return got[1]
        _indexes.pop(store.url, None)   # free the old one before building
        idx = load_index(store, version)
        if idx is None:
            idx = build_index(pull_columns(store))
            save_index(store, version, idx)
        _indexes[store.url] = (version, idx)
        return idx


# A big graph's index takes ~35 CPU-s to build (1M companies): it is kept next to the database
# file, keyed by the data version, so the app and each CLI run do not build it again.
PERSIST_MIN = 50_000


def _sidecar(store) -> Path:
    return Path(store.path + ".search")


def save_index(store, version: tuple, idx: TokenIndex) -> None:
    if idx.n < PERSIST_MIN or os.environ.get("TECHGIANTS_SEARCH_CACHE", "1") == "0":
        return
    d = _sidecar(store)
    tmp = d.with_name(d.name + f".tmp{os.getpid()}")
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        np.savez(tmp / "arrays.npz", label_of=idx.label_of, name_len=idx.name_len, indptr=idx.indptr,
                 postings=idx.postings, df=idx.df)
        pa.feather.write_feather(pa.table({"id": idx.ids, "name": idx.names, "key": idx.keys}),
                                 tmp / "entities.arrow", compression="uncompressed")
        pa.feather.write_feather(pa.table({"token": pa.array(idx.vocab, pa.string())}),
                                 tmp / "vocab.arrow", compression="uncompressed")
        (tmp / "meta.json").write_text(json.dumps({"version": _file_version(version), "labels": idx.labels}))
        if d.exists():
            shutil.rmtree(d, ignore_errors=True)
        os.replace(tmp, d)
    except OSError:   # a read-only folder: keep it in memory only
        shutil.rmtree(tmp, ignore_errors=True)


def load_index(store, version: tuple) -> TokenIndex | None:
    d = _sidecar(store)
    try:
        meta = json.loads((d / "meta.json").read_text())
        if meta["version"] != _file_version(version):
            return None
        a = np.load(d / "arrays.npz")
        ent = pa.feather.read_table(d / "entities.arrow", memory_map=False)
        vocab = pa.feather.read_table(d / "vocab.arrow").column("token").to_pylist()
    except (OSError, ValueError, KeyError):
        return None
    return TokenIndex(meta["labels"], a["label_of"], ent.column("id").combine_chunks(),
                      ent.column("name").combine_chunks(), ent.column("key").combine_chunks(),
                      a["name_len"], vocab, a["indptr"], a["postings"], a["df"],
                      {w: i for i, w in enumerate(vocab)})


def _file_version(version: tuple) -> list:
    """The part of the data version another process can check: the files' stamps."""
    return json.loads(json.dumps(version[1:]))


def pull_columns(store) -> dict[str, pa.Table]:
    from graph.store import _q
    out = {}
    for label in SCHEMA.entity_labels:
        if "search_key" not in SCHEMA.nodes[label].props:
            continue
        out[label] = store.conn.execute(_q("MATCH (n:{L}) RETURN n.id, n.name, n.search_key", L=label)).get_as_arrow()
    return out
