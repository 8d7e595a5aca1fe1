"""Checks of the synthetic generator (run with `pytest bench/test_generate.py`; not part of the
default suite, whose testpaths are tests/)."""
from __future__ import annotations

import pyarrow as pa
import pytest

from bench.generate import (build, generate, neo4j_header, read_parquet, records, unwind_batches,
                            validate_neo4j_csv)
from graph.names import search_key
from graph.schema import SCHEMA, validate_node, validate_rel
from ingest.records import Node


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    g = build(2000, 3, out)
    return g, out


def test_deterministic_for_a_seed():
    a, b = generate(1500, 11), generate(1500, 11)
    for label in SCHEMA.labels:
        assert a.nodes[label].equals(b.nodes[label])
    for rtype in SCHEMA.rel_types:
        assert len(a.rels[rtype]) == len(b.rels[rtype])
        assert all(x.equals(y) for (_, _, x), (_, _, y) in zip(a.rels[rtype], b.rels[rtype]))
    c = generate(1500, 12)
    assert not a.nodes["Company"].equals(c.nodes["Company"])


def test_columns_follow_the_schema(small):
    g, _ = small
    for label, t in g.nodes.items():
        assert t.column_names == list(SCHEMA.nodes[label].props)
    for rtype, parts in g.rels.items():
        for sl, dl, t in parts:
            assert t.column_names == ["from", "to", *SCHEMA.rels[rtype].props]
            assert sl in SCHEMA.rels[rtype].sources and dl in SCHEMA.rels[rtype].targets


def test_search_keys_match_graph_names(small):
    g, _ = small
    for label, t in g.nodes.items():
        if "search_key" in t.column_names:
            for r in t.to_pylist():
                assert r["search_key"] == search_key(r), r["id"]


def test_records_pass_the_pipeline_validation(small):
    g, _ = small
    ids = set()
    for rec in records(g):
        if isinstance(rec, Node):
            validate_node(rec.label, rec.props)
            assert rec.props["id"] not in ids
            ids.add(rec.props["id"])
        else:
            validate_rel(rec.type, rec.src_label, rec.dst_label, rec.props)
            assert rec.src in ids and rec.dst in ids


def test_shape(small):
    g, _ = small
    c = g.counts()
    assert c["rels"]["OWNS"] > 0.8 * 2000 and c["rels"]["HOLDS"] >= 50 * 40 * 0.9
    assert {t.column("to")[0].as_py() for _, _, t in g.rels["LISTED_ON"]} <= {
        "us-bis-entity-list", "us-bis-meu", "us-ofac-sdn", "us-ofac-ns-cmic", "us-dod-1260h", "us-fcc-covered"}
    assert all(s == ["src:synthetic"] for s in g.nodes["Company"].column("sources").to_pylist()[:100])
    names = g.nodes["Company"].column("name").to_pylist()
    assert any(n.endswith("Co., Ltd.") for n in names)


def test_parquet_and_csv_roundtrip(small):
    g, out = small
    back = read_parquet(out / "ladybug")
    assert back.n_elements == g.n_elements
    rep = validate_neo4j_csv(out / "neo4j")
    assert rep["nodes"] == g.n_nodes and rep["rels"] == g.n_rels
    head = (out / "neo4j" / "nodes_Company.csv").read_text(encoding="utf-8").splitlines()[0]
    assert head == ",".join(neo4j_header("Company", False))
    assert "neo4j-admin database import full neo4j" in (out / "neo4j" / "import.sh").read_text()


def test_unwind_batches_cover_everything(small):
    g, _ = small
    assert sum(n for _, _, n in unwind_batches(g, 700)) == g.n_elements


def test_copy_into_ladybug(small, tmp_path):
    from graph.stores.ladybug import LadybugStore
    g, out = small
    s = LadybugStore(tmp_path / "g.lbdb")
    s.create_schema()
    for stmt in (out / "ladybug" / "copy.cypher").read_text().split(";\n"):
        if stmt.strip():
            s.conn.execute(stmt)
    c = s.counts()
    assert sum(c["nodes"].values()) == g.n_nodes and sum(c["relationships"].values()) == g.n_rels
    assert isinstance(s.edges("OWNS", ["share"]), pa.Table)
    s.close()
