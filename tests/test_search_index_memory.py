"""The search index build (graph/search.build_index) after its memory cut gives exactly the index
of the plain build it replaced: one argsort over all (token, entity) pairs.

The plain build is kept below as `_reference_build`; both run on synthetic columns with Latin and
Chinese names, aliases, nulls, several Arrow chunks per column, an empty label, and a word in most
names so that the cap on very common words runs. Several chunk sizes: many small chunks, one whole
chunk with 2-byte offsets and one past 65536 entities' worth (4-byte offsets).
"""
from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from graph import search
from graph.names import search_key
from graph.search import TokenIndex, _tokens

WORDS = ["hangzhou", "digital", "technology", "nanjing", "semiconductor", "optics", "bank",
         "energy", "chongqing", "motor", "pharma", "shenzhen", "micro", "systems", "aero", "alpha",
         "beta", "gamma", "delta", "zeta", "orion", "lyra", "vega", "cobalt", "quartz", "x", "ab"]
HAN = list("海康威视华为中兴浙江重庆沈阳长安汽车机床科技有限公司集团股份电子光学银行能源")


def _reference_build(columns: dict[str, pa.Table], chunk: int = 131_072) -> TokenIndex:
    """build_index as it was before the memory cut (verbatim but for the names it imports)."""
    labels = [l for l, t in columns.items() if t.num_rows]
    tables = [columns[l] for l in labels]
    if not tables:
        e = pa.array([], pa.string())
        return TokenIndex([], np.zeros(0, np.int8), e, e, e, np.zeros(0, np.int32), [],
                          np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int64))
    label_of = np.concatenate([np.full(t.num_rows, i, np.int8) for i, t in enumerate(tables)])
    ids = pa.concat_arrays([t.column(0).combine_chunks().cast(pa.string()) for t in tables])
    names = pa.concat_arrays([t.column(1).combine_chunks().cast(pa.string()) for t in tables])
    keys = pc.fill_null(pa.concat_arrays([t.column(2).combine_chunks().cast(pa.string()) for t in tables]), "")
    n = len(keys)
    name_len = pc.fill_null(pc.utf8_length(names), 0).to_numpy(zero_copy_only=False).astype(np.int32)

    gid_of: dict[str, int] = {}
    tids, ents = [], []
    for start in range(0, n, chunk):
        tokens, parents = _tokens(keys.slice(start, chunk), start)
        enc = pc.dictionary_encode(tokens)
        local = enc.dictionary.to_pylist()
        to_gid = np.fromiter((gid_of.setdefault(t, len(gid_of)) for t in local), np.int64, len(local))
        pairs = np.unique(to_gid[enc.indices.to_numpy(zero_copy_only=False)] * n + parents)
        gid = pairs // n
        tids.append(gid.astype(np.int32))
        ents.append((pairs - gid * n).astype(np.int32))
    vocab_arr = pa.array(list(gid_of), pa.string())
    del gid_of
    order = pc.array_sort_indices(vocab_arr).to_numpy()
    rank_of = np.empty(len(order), np.int32)
    rank_of[order] = np.arange(len(order), dtype=np.int32)
    tid = rank_of[np.concatenate(tids)]
    del tids
    ent = np.concatenate(ents)
    del ents
    by_tok = np.argsort(tid, kind="stable")     # entities stay in order within a token
    postings = ent[by_tok]
    df = np.bincount(tid, minlength=len(order)).astype(np.int64)
    del tid, ent, by_tok
    cap = max(int(search.STOPWORD_SHARE * n), 2000)
    indptr = np.zeros(len(order) + 1, np.int64)
    np.cumsum(df, out=indptr[1:])
    heavy = np.flatnonzero(df > cap)
    if len(heavy):
        keep = np.ones(len(postings), bool)
        for t in heavy:
            lo, hi = indptr[t], indptr[t + 1]
            seg = postings[lo:hi]
            drop = np.argsort(name_len[seg], kind="stable")[2000:]
            keep[lo + drop] = False          # the kept ones stay in entity order
        postings = postings[keep]
        sizes = df.copy()
        sizes[heavy] = 2000
        np.cumsum(sizes, out=indptr[1:])
    vocab = vocab_arr.take(pa.array(order)).to_pylist()
    return TokenIndex(labels, label_of, ids, names, keys, name_len, vocab, indptr, postings, df,
                      {w: i for i, w in enumerate(vocab)})


def _entity(rng: random.Random, i: int) -> dict:
    words = rng.sample(WORDS, rng.randint(1, 4))
    if rng.random() < 0.85:
        words.append("holdings")            # in most names: a capped word
    props = {"name": " ".join(words).title() + (" Co., Ltd." if rng.random() < 0.5 else "")}
    if rng.random() < 0.3:
        props["aliases"] = [" ".join(rng.sample(WORDS, 2)), f"Alias {i}"]
    if rng.random() < 0.4:
        props["name_zh"] = "".join(rng.choices(HAN, k=rng.randint(1, 12)))
    if rng.random() < 0.05:                 # a Chinese name only
        props = {"name": "".join(rng.choices(HAN, k=rng.randint(2, 9)))}
    return props


def _table(rng: random.Random, label: str, count: int, pieces: int = 1) -> pa.Table:
    """(id, name, search_key) as pull_columns returns them, the columns in `pieces` Arrow chunks,
    a few names and keys null."""
    ids, names, keys = [], [], []
    for i in range(count):
        props = _entity(rng, i)
        ids.append(f"{label.lower()}:{i}")
        names.append(None if rng.random() < 0.01 else props["name"])
        keys.append(None if rng.random() < 0.01 else search_key(props))
    cuts = sorted(rng.sample(range(1, count), pieces - 1)) if count > 1 and pieces > 1 else []
    bounds = list(zip([0, *cuts], [*cuts, count]))

    def col(values):
        return pa.chunked_array([pa.array(values[a:b], pa.string()) for a, b in bounds], pa.string())
    return pa.table({"n.id": col(ids), "n.name": col(names), "n.search_key": col(keys)})


@pytest.fixture(scope="module")
def columns() -> dict[str, pa.Table]:
    rng = random.Random(7)
    return {"Company": _table(rng, "Company", 2600, pieces=3),
            "Fund": _table(rng, "Fund", 0),
            "Person": _table(rng, "Person", 700, pieces=2),
            "Project": _table(rng, "Project", 300)}


def _assert_same(got: TokenIndex, want: TokenIndex) -> None:
    assert got.labels == want.labels
    for f in ("label_of", "name_len", "indptr", "postings", "df"):
        a, b = getattr(got, f), getattr(want, f)
        assert a.dtype == b.dtype and a.shape == b.shape, f
        assert np.array_equal(a, b), f
    for f in ("ids", "names", "keys"):
        a, b = getattr(got, f), getattr(want, f)
        assert isinstance(a, pa.Array) and a.type == b.type and a.equals(b), f
    assert got.vocab == want.vocab
    assert got.tok == want.tok


@pytest.mark.parametrize("chunk", [333, 1024, 16_384, 70_000])
def test_build_index_is_the_reference_index(columns, chunk, monkeypatch):
    want = _reference_build(dict(columns), chunk=chunk)
    # the fixture reaches the cap on common words, and the cut falls among equal name lengths
    # (so which of them are kept is decided by entity order)
    cap = max(int(search.STOPWORD_SHARE * want.n), 2000)
    heavy = np.flatnonzero(want.df > cap)
    assert len(heavy)
    with monkeypatch.context() as m:
        m.setattr(search, "STOPWORD_SHARE", 1.0)
        full = _reference_build(dict(columns), chunk=chunk)
    for t in heavy:
        lens = np.sort(full.name_len[full.postings[full.indptr[t]:full.indptr[t + 1]]])
        assert lens[1999] == lens[2000]
    assert any(any("\u3400" <= ch <= "\u9fff" for ch in w) for w in want.vocab)
    given = dict(columns)
    got = search.build_index(given, chunk=chunk)
    _assert_same(got, want)
    assert list(given) == ["Fund"]          # consumed: only the empty label is left


def test_no_capped_word_when_the_share_is_large(columns, monkeypatch):
    monkeypatch.setattr(search, "STOPWORD_SHARE", 0.99)
    want = _reference_build(dict(columns), chunk=500)
    assert want.indptr[-1] == want.df.sum()
    _assert_same(search.build_index(dict(columns), chunk=500), want)


def test_empty_and_one_label():
    empty = {"Company": _table(random.Random(1), "Company", 0)}
    _assert_same(search.build_index(dict(empty)), _reference_build(dict(empty)))
    one = {"Person": _table(random.Random(2), "Person", 50, pieces=4)}
    _assert_same(search.build_index(dict(one), chunk=7), _reference_build(dict(one), chunk=7))
