"""The GraphStore contract, run unchanged against Ladybug and the real Neo4j."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.store import QueryTimeout, StoreError
from ingest import pipeline
from ingest.jsonl import parse as parse_jsonl
from ingest.records import Node, Rel
from tests.conftest import make_store
from tests.graphs import SRC, sample_records


def load(store, recs, **kw):
    return pipeline.run(store, recs, **kw)


def test_schema_is_idempotent(store):
    store.create_schema()
    store.create_schema()
    assert store.counts()["nodes"]["Company"] == 0


def test_upsert_twice_changes_nothing(store):
    first = load(store, sample_records())
    counts = store.counts()
    assert counts["nodes"]["Company"] == 3
    assert counts["relationships"]["OWNS"] == 1
    assert first.written["Company"].created == 3
    second = load(store, sample_records())
    assert store.counts() == counts
    assert second.written["Company"].created == 0 and second.written["Company"].updated == 0
    assert second.written["OWNS"].unchanged == 1


def test_merge_keeps_every_source_and_alias(store):
    load(store, sample_records())
    load(store, [Node("Source", {"id": "src:other", "name": "Other", "sources": ["src:other"]}),
                 Node("Company", {"id": "company:hikvision", "name": "Hikvision", "aliases": ["HIKVISION DIGITAL"],
                                  "sources": ["src:other"]})])
    n = store.get("company:hikvision")
    assert set(n["sources"]) == {SRC, "src:other"}
    assert {"Hikvision", "海康威视", "HIKVISION DIGITAL"} <= set(n["aliases"])
    assert n["identifiers"] == ["isin:CNE100000PM8"]  # untouched by the second source
    assert n["name"] == "Hikvision"  # scalars: the newer value wins


def test_get_and_neutral_shape(store):
    load(store, sample_records())
    n = store.get("company:hikvision")
    assert n["label"] == "Company" and n["id"] == "company:hikvision" and n["country"] == "CN"
    assert "search_key" not in n and all(v is not None for v in n.values())
    assert store.get("company:nope") is None
    res = store.read("MATCH (a:Company {id: $id})-[r:OWNS]->(b) RETURN a, r, b, r.share AS share",
                     {"id": "company:cetc"})
    assert res.columns == ["a", "r", "b", "share"]
    a, r, b, share = res.rows[0]
    assert r["type"] == "OWNS" and r["src"] == "company:cetc" and r["dst"] == "company:hikvision"
    assert share == pytest.approx(0.4) and r["share"] == pytest.approx(0.4)
    assert b["label"] == "Company"


def test_paths_come_back_as_nodes_and_rels(store):
    load(store, sample_records())
    res = store.read("MATCH p = (a:Company {id: 'company:cetc'})-[:OWNS]->(:Company)<-[:HOLDS]-(f:Fund) RETURN p")
    (p,), = res.rows
    assert [n["id"] for n in p["nodes"]] == ["company:cetc", "company:hikvision", "fund:em"]
    assert [r["type"] for r in p["rels"]] == ["OWNS", "HOLDS"]


def test_neighbourhood_depth_and_cap(store):
    load(store, sample_records())
    nb = store.neighbourhood("company:hikvision", depth=1, limit=100)
    ids = {n["id"] for n in nb.nodes}
    assert ids == {"company:hikvision", "company:cetc", "fund:em", "index:msci-em", "us-bis-entity-list", "project:x"}
    assert len(nb.rels) == 5 and nb.more == 0
    capped = store.neighbourhood("company:hikvision", depth=1, limit=3)
    assert len(capped.nodes) == 3 and capped.more == 3
    nb2 = store.neighbourhood("company:cetc", depth=2, limit=100)
    assert "fund:em" in {n["id"] for n in nb2.nodes}
    assert store.neighbourhood("company:cetc", depth=1).nodes[-1]["id"] == "company:hikvision"


@pytest.mark.parametrize("query,expected", [
    ("hikvision", "company:hikvision"),
    ("HIKVISION", "company:hikvision"),
    ("Hangzhou Hikvison Digital", "company:hikvision"),  # typo
    ("海康威视", "company:hikvision"),
    ("societe generale", "company:societe"),  # accents
    ("Société", "company:societe"),
    ("cetc", "company:cetc"),
])
def test_name_search(store, query, expected):
    load(store, sample_records())
    hits = store.search(query)
    assert hits and hits[0]["id"] == expected, hits


def test_search_finds_nothing_for_nonsense(store):
    load(store, sample_records())
    assert store.search("zzzz qqqq") == []
    assert store.search("   ") == []


def test_read_row_limit_and_params(store):
    load(store, sample_records())
    res = store.read("MATCH (n:Company) RETURN n.id ORDER BY n.id", limit=2)
    assert res.truncated and len(res.rows) == 2
    res = store.read("MATCH (n:Company) WHERE n.name = $name RETURN n.id", {"name": "x' OR 1=1 //"})
    assert res.rows == []


def test_read_timeout(store):
    with pytest.raises(QueryTimeout):
        store.read("UNWIND range(1, 100000) AS x UNWIND range(1, 100000) AS y WITH x, y "
                   "WHERE (x * y) % 1000003 = 7 RETURN count(*)", timeout=0.5)
    # the store stays healthy after a timeout
    assert store.read("RETURN 1 AS one").rows == [[1]]


def test_bad_query_is_a_store_error(store):
    with pytest.raises(StoreError):
        store.read("MATCH (n:NoSuchLabel RETURN n")


def test_relationship_to_missing_node_is_quarantined(store, tmp_path):
    q = tmp_path / "q.jsonl"
    rep = load(store, [*sample_records(),
                       Rel("OWNS", "company:cetc", "Company", "company:ghost", "Company", {"share": 0.5, "sources": [SRC]})],
               quarantine=str(q), file="input.csv")
    assert rep.rejected["OWNS"] == 1
    entry = json.loads(q.read_text().splitlines()[0])
    assert entry["file"] == "input.csv" and entry["field"] == "dst" and "company:ghost" in entry["reason"]
    assert store.counts()["relationships"]["OWNS"] == 1


def test_invalid_values_are_quarantined_and_good_ones_land(store, tmp_path):
    q = tmp_path / "q.jsonl"
    bad = [Node("Company", {"id": "company:bad1", "name": "Bad", "country": "XX", "sources": [SRC]}),
           Rel("OWNS", "company:cetc", "Company", "company:hikvision", "Company", {"share": 1.4, "sources": [SRC]},
               key="other")]
    rep = load(store, [*sample_records(), *bad], quarantine=str(q))
    assert rep.total_rejected == 2
    fields = sorted(json.loads(l)["field"] for l in q.read_text().splitlines())
    assert fields == ["country", "share"]
    assert store.get("company:bad1") is None and store.get("company:hikvision") is not None


def test_export_round_trip(store, tmp_path):
    load(store, sample_records())
    out = tmp_path / "a.jsonl"
    n = store.export_jsonl(str(out))
    assert n == 13
    store.clear()
    assert store.counts()["nodes"]["Company"] == 0
    rep = load(store, parse_jsonl(str(out)))
    assert rep.total_rejected == 0
    out2 = tmp_path / "b.jsonl"
    store.export_jsonl(str(out2))
    assert out.read_text() == out2.read_text()


def test_delete_and_derived(store):
    load(store, sample_records())
    load(store, [Rel("CAPTURED_BY", "company:hikvision", "Company", "us-bis-entity-list", "SanctionsList",
                     {"derived": True, "rule": "ofac-50", "aggregate": 0.5, "sources": [SRC]})])
    assert store.counts()["relationships"]["CAPTURED_BY"] == 1
    store.delete_derived("CAPTURED_BY", rule="ofac-50")
    assert store.counts()["relationships"]["CAPTURED_BY"] == 0
    assert store.delete_nodes("Company", ["company:societe"]) == 1
    assert store.get("company:societe") is None


# ---------------------------------------------------------------- property-based

names = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20)


@st.composite
def small_graphs(draw):
    n = draw(st.integers(1, 8))
    nodes = [Node("Company", {"id": f"company:{i}", "name": draw(names), "sources": [SRC],
                              "aliases": draw(st.lists(names, max_size=3)),
                              "kind": draw(st.sampled_from([None, "company", "holding"]))})
             for i in range(n)]
    rels = []
    for _ in range(draw(st.integers(0, 12))):
        a, b = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        share = draw(st.one_of(st.none(), st.floats(0, 1, allow_nan=False)))
        rels.append(Rel("OWNS", f"company:{a}", "Company", f"company:{b}", "Company",
                        {"share": share, "sources": [SRC]}, key=str(draw(st.integers(0, 2)))))
    src = Node("Source", {"id": SRC, "name": "s", "sources": [SRC]})
    return [src, *nodes, *rels]


@pytest.mark.parametrize("kind", ["ladybug", "neo4j"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(graph=small_graphs())
def test_property_idempotent_upsert_and_round_trip(kind, graph, request, tmp_path_factory):
    if kind == "neo4j":
        request.getfixturevalue("_neo4j_session")
    d = tmp_path_factory.mktemp("prop")
    s = make_store(kind, d, request)
    try:
        load(s, graph)
        counts = s.counts()
        exported = list(s.iter_export())
        rep = load(s, graph)
        assert s.counts() == counts
        assert sum(w.created + w.updated for w in rep.written.values()) == 0
        out = d / "e.jsonl"
        s.export_jsonl(str(out))
        s.clear()
        load(s, parse_jsonl(str(out)))
        assert list(s.iter_export()) == exported
    finally:
        if kind == "ladybug":
            s.close()
