"""Name search (graph/search.py) and the fast search_key (graph/names.py).

- fast_norm / search_key give exactly the keys of the plain ICU path, on random mixed-script
  text, on the bundled curated data and on generated names;
- the Han context rules the per-character path must avoid are re-derived from ICU itself;
- store.search on both stores: prefixes, one typo, partial Chinese, label filter, whole nodes,
  and an index that follows writes (in process, and by another process on Ladybug).
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from graph import names
from graph.names import SEP, fast_norm, names_of, norm, search_key
from ingest import pipeline
from ingest.records import Node
from tests.graphs import SRC, sample_records

ROOT = Path(__file__).resolve().parent.parent


def exact_search_key(props: dict) -> str:
    """search_key as it was before the fast path: norm() of every spelling."""
    keys: list[str] = []
    for n in names_of(props):
        keys.append(norm(n))
        if any("\u3400" <= ch <= "\u9fff" for ch in n):
            keys.append(n.lower())
    return SEP.join(dict.fromkeys(k for k in keys if k))[:8000]


# letters, accents, punctuation, controls, CJK (with the context-rule characters), kana, Cyrillic
ALPHABET = st.sampled_from(list("abcXYZ019 .,-&()'/\"$^`_\t\n\x1f\x00éüßøÅçñ–—·") +
                           list("海康威视华为中兴浙江重庆沈阳秘鲁藏文长行乐大有限公司科技䷀䷁") +
                           list("カタナひらがなДмитрий\u200b\u3000"))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(ALPHABET, max_size=40))
@example("重庆长安汽车")
@example("沈阳机床")
@example("a\x1fb")
@example("Hangzhou Hikvision Digital Technology Co., Ltd.")
def test_fast_norm_is_norm(text):
    assert fast_norm(text) == norm(text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(ALPHABET, max_size=30), st.lists(st.text(ALPHABET, max_size=20), max_size=3),
       st.one_of(st.none(), st.text(ALPHABET, max_size=12)))
def test_search_key_is_exact_on_mixed_scripts(name, aliases, name_zh):
    props = {"name": name, "aliases": aliases, "name_zh": name_zh}
    assert search_key(props) == exact_search_key(props)


def test_han_context_rules_are_avoided():
    """ICU's Han-Latin context rules, re-derived from ICU: all of the form `{X}' '?Y > ...` and
    all listed in names.HAN_CONTEXT, which keeps such text off the per-character path."""
    from icu import Transliterator
    rules = Transliterator.createInstance("Han-Latin").toRules(True)
    rules = re.sub(r"\\u([0-9A-Fa-f]{4})", lambda m: chr(int(m.group(1), 16)), rules)
    pairs = []
    for stmt in rules.split(";"):
        stmt = stmt.strip()
        if not stmt or stmt.startswith(("#", "::", "[")):   # single-character classes are context-free
            continue
        m = re.fullmatch(r"\{(.)\}' '\?(.) > .+", stmt)
        assert m, f"a Han-Latin rule of a new form: {stmt!r}"
        pairs.append(m.group(1) + m.group(2))
    assert pairs and set(pairs) <= set(names.HAN_CONTEXT)


def test_fast_norm_on_every_ideograph():
    """Each CJK ideograph (and U+3400-9FFF's symbols) alone and between two others."""
    import random
    rng = random.Random(7)
    chars = [chr(c) for c in range(0x3400, 0xA000)]
    bad = [t for ch in chars for t in (ch, rng.choice(chars) + ch + rng.choice(chars))
           if fast_norm(t) != norm(t)]
    assert not bad, bad[:5]


def test_search_key_is_exact_on_bundled_data():
    from ingest import curated
    rows = [rec.props for rec in curated.parse(ROOT / "data" / "curated")
            if isinstance(rec, Node) and rec.props.get("name")]
    assert len(rows) > 100
    bad = [(r["name"], search_key(r)) for r in rows if search_key(r) != exact_search_key(r)]
    assert not bad, bad[:5]


def test_search_key_is_exact_on_generated_names():
    gen = pytest.importorskip("bench.generate")
    g = gen.generate(gen.parse_scale("2k"), 7, check_keys=False)
    rows = []
    for t in g.nodes.values():
        if "search_key" in t.column_names:
            rows += t.select([c for c in ("name", "aliases", "name_zh") if c in t.column_names]).to_pylist()
    assert len(rows) > 1000
    bad = [r for r in rows if search_key(r) != exact_search_key(r)]
    assert not bad, bad[:5]


# ---------------------------------------------------------------- store.search
def load(store, recs):
    return pipeline.run(store, recs)


@pytest.mark.parametrize("query,expected", [
    ("hikv", "company:hikvision"),                      # prefix of a word
    ("Hikvison", "company:hikvision"),                  # one typo in the only word
    ("海康", "company:hikvision"),                       # part of a Chinese name
    ("海", "company:hikvision"),                         # one Chinese character
    ("hai kang wei shi", "company:hikvision"),          # pinyin of the Chinese name
    ("China Electronics Technology", "company:cetc"),
    ("emerging markets fund", "fund:em"),
])
def test_search_variants(store, query, expected):
    load(store, sample_records())
    hits = store.search(query)
    assert hits and hits[0]["id"] == expected, hits
    assert "search_key" not in hits[0] and hits[0]["label"] and isinstance(hits[0]["score"], float)


def test_search_labels_and_limit(store):
    load(store, sample_records())
    store.upsert_nodes("Company", [{"id": "company:em-co", "name": "Emerging Markets Trading Co.",
                                    "sources": [SRC]}])
    both = store.search("emerging markets")
    assert {h["id"] for h in both} == {"fund:em", "company:em-co"}
    assert [h["id"] for h in store.search("emerging markets", labels=["Fund"])] == ["fund:em"]
    assert [h["id"] for h in store.search("emerging markets", labels=["Company"])] == ["company:em-co"]
    assert len(store.search("emerging markets", limit=1)) == 1
    assert store.search("emerging markets", labels=["NoSuchLabel"]) == []


def test_search_follows_writes(store):
    load(store, sample_records())
    assert store.search("Zorblatt Quantum") == []
    store.upsert_nodes("Company", [{"id": "company:zorblatt", "name": "Zorblatt Quantum Systems Ltd.",
                                    "sources": [SRC]}])
    assert store.search("Zorblatt Quantum")[0]["id"] == "company:zorblatt"
    store.upsert_nodes("Company", [{"id": "company:zorblatt", "aliases": ["Quibblex"], "sources": [SRC]}])
    assert store.search("quibblex")[0]["id"] == "company:zorblatt"
    store.delete_nodes("Company", ["company:zorblatt"])
    assert store.search("Zorblatt Quantum") == []
    store.clear()
    assert store.search("hikvision") == []


def test_ladybug_index_sees_another_process(tmp_path):
    """An ingest by another process (the CLI while the app is open) shows up in search."""
    from graph.stores.ladybug import LadybugStore
    path = tmp_path / "g.lbdb"
    s = LadybugStore(path)
    s.create_schema()
    load(s, sample_records())
    assert s.search("hikvision")[0]["id"] == "company:hikvision"
    s.close()
    code = ("import sys; sys.path.insert(0, %r)\n"
            "from graph.stores.ladybug import LadybugStore\n"
            "s = LadybugStore(%r)\n"
            "s.upsert_nodes('Company', [{'id': 'company:flurbo', 'name': 'Flurbo Robotics', 'sources': [%r]}])\n"
            "s.close()\n") % (str(ROOT), str(path), SRC)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    s = LadybugStore(path, read_only=True)
    try:
        assert s.search("flurbo robotics")[0]["id"] == "company:flurbo"
    finally:
        s.close()


def test_ladybug_index_is_kept_next_to_the_database(tmp_path, monkeypatch):
    """A big graph's index is saved beside the database file, reloaded while the data is the
    same, and ignored (rebuilt) once the data changed."""
    from graph import search
    from graph.stores.ladybug import LadybugStore
    monkeypatch.setattr(search, "PERSIST_MIN", 0)
    path = tmp_path / "g.lbdb"
    s = LadybugStore(path)
    s.create_schema()
    load(s, sample_records())
    s.close()
    s = LadybugStore(path, read_only=True)
    try:
        first = s.search("hikvision")
        assert (tmp_path / "g.lbdb.search" / "meta.json").exists()
        search._indexes.clear()
        loaded = search.load_index(s, search.data_version(s))
        assert loaded is not None and loaded.vocab == search.index_for(s).vocab
        assert s.search("hikvision") == first
    finally:
        s.close()
    s = LadybugStore(path)
    try:
        s.upsert_nodes("Company", [{"id": "company:glimmer", "name": "Glimmerquad Optics", "sources": [SRC]}])
        search._indexes.clear()
        assert s.search("glimmerquad")[0]["id"] == "company:glimmer"
    finally:
        s.close()
