"""The store paths that had to change to scale to 1M companies, checked for behaviour:
COPY of new relationships (all or nothing), the bounded Ladybug buffer pool and its recovery,
keyset-paged export, relationship ends returned in rows, per-label lookups, per-pair edges()."""
from __future__ import annotations

import pyarrow as pa
import pytest

from graph.ids import rel_id
from graph.schema import SCHEMA
from graph.store import StoreError
from graph.stores import ladybug as lb
from graph.stores.ladybug import LadybugStore, default_buffer_mb
from ingest import pipeline
from tests.graphs import sample_records

N = 1500  # relationships in a batch: over the COPY threshold set by `copy_small` below


@pytest.fixture(autouse=True)
def copy_small(monkeypatch):
    """Let small batches take Ladybug's relationship COPY path (20,000 rows by default)."""
    monkeypatch.setattr(lb, "REL_COPY_THRESHOLD", N - 200)


def _companies(store, n: int, prefix: str = "co") -> list[str]:
    ids = [f"{prefix}:{i:05d}" for i in range(n)]
    store.upsert_nodes("Company", [{"id": i, "name": f"Company {i}", "sources": ["src:t"]} for i in ids])
    return ids


def _owns(src: str, dst: str, share: float, src_label: str = "Company", dst_label: str = "Company") -> dict:
    return {"src": src, "src_label": src_label, "dst": dst, "dst_label": dst_label,
            "props": {"id": rel_id("OWNS", src, dst), "share": share, "sources": ["src:t"]}}


def test_big_rel_batch_into_non_empty_table(store):
    ids = _companies(store, N + 1)
    store.upsert_rels("OWNS", [_owns(ids[0], ids[1], 0.0)])  # the table is not empty any more
    counts = store.upsert_rels("OWNS", [_owns(ids[i], ids[i + 1], i / N) for i in range(N)])
    assert (counts.created, counts.unchanged) == (N - 1, 1)
    assert store.counts()["relationships"]["OWNS"] == N
    again = store.upsert_rels("OWNS", [_owns(ids[i], ids[i + 1], i / N) for i in range(N)])
    assert (again.created, again.updated, again.unchanged) == (0, 0, N)
    r = store.read("MATCH (a:Company {id: $a})-[r:OWNS]->(b) RETURN b.id, r.share", {"a": ids[7]}).rows
    assert r == [[ids[8], 7 / N]]


def test_big_rel_batch_with_a_missing_end_writes_nothing(store):
    ids = _companies(store, N + 1)
    store.upsert_rels("OWNS", [_owns(ids[0], ids[1], 0.5)])
    store.upsert_nodes("Fund", [{"id": "fund:f", "name": "F", "sources": ["src:t"]}])
    before = list(store.iter_export())
    rows = [_owns(ids[i], ids[i + 1], 0.1) for i in range(1, N)]
    rows += [_owns(ids[0], "fund:f", 0.2, dst_label="Fund")]  # a second pair in the same transaction
    rows.insert(N // 2, _owns(ids[3], "co:missing", 0.3))
    with pytest.raises(StoreError, match="OWNS.*not in the store"):
        store.upsert_rels("OWNS", rows)
    assert list(store.iter_export()) == before
    # and the store still takes writes
    store.upsert_rels("OWNS", [r for r in rows if r["dst"] != "co:missing"])
    assert store.counts()["relationships"]["OWNS"] == N + 1


def test_export_is_in_id_order_whatever_the_page_size(store):
    pipeline.run(store, sample_records())
    ids = _companies(store, 30)
    store.upsert_rels("OWNS", [_owns(ids[i], ids[(i * 7) % 30], 0.01 * i) for i in range(30) if (i * 7) % 30 != i])
    full = list(store.iter_export())
    assert list(store.iter_export(batch=3)) == full
    assert list(store.iter_export(batch=1)) == full
    nodes = [r for r in full if "node" in r]
    rels = [r for r in full if "rel" in r]
    assert [r["node"] for r in nodes] == sorted((r["node"] for r in nodes), key=SCHEMA.labels.index)
    for label in SCHEMA.labels:
        got = [r["props"]["id"] for r in nodes if r["node"] == label]
        assert got == sorted(got)
    assert [r["rel"] for r in rels] == sorted((r["rel"] for r in rels), key=SCHEMA.rel_types.index)
    owns = [r for r in rels if r["rel"] == "OWNS"]
    assert [r["props"]["id"] for r in owns] == sorted(r["props"]["id"] for r in owns)
    co = next(r for r in nodes if r["props"]["id"] == ids[2])
    assert co == {"node": "Company", "props": {"id": ids[2], "name": f"Company {ids[2]}", "sources": ["src:t"]}}
    o = next(r for r in owns if r["src"] == ids[3])
    assert o == {"rel": "OWNS", "src": ids[3], "src_label": "Company", "dst": ids[21], "dst_label": "Company",
                 "props": {"id": rel_id("OWNS", ids[3], ids[21]), "share": 0.03, "sources": ["src:t"]}}
    hold = next(r for r in rels if r["rel"] == "HOLDS")
    assert (hold["src"], hold["src_label"], hold["dst"], hold["dst_label"]) == \
        ("fund:em", "Fund", "company:hikvision", "Company")


def test_neighbourhood_rels_have_the_right_ends(store):
    pipeline.run(store, sample_records())
    nb = store.neighbourhood("company:hikvision", depth=1)
    ends = {(r["type"], r["src"], r["dst"]) for r in nb.rels}
    assert ends == {("OWNS", "company:cetc", "company:hikvision"), ("HOLDS", "fund:em", "company:hikvision"),
                    ("CONSTITUENT_OF", "company:hikvision", "index:msci-em"),
                    ("LISTED_ON", "company:hikvision", "us-bis-entity-list"),
                    ("PARTY_TO", "company:hikvision", "project:x")}
    assert {n["id"] for n in nb.nodes} == {"company:hikvision", "company:cetc", "fund:em", "index:msci-em",
                                           "us-bis-entity-list", "project:x"}
    nb2 = store.neighbourhood("company:cetc", depth=2)
    assert {(r["type"], r["src"], r["dst"]) for r in nb2.rels} == ends
    assert {(r["type"], r["src"], r["dst"]) for r in store.neighbourhood("company:cetc", depth=1).rels} == \
        {("OWNS", "company:cetc", "company:hikvision")}


def test_node_label_and_get_for_every_label(store):
    pipeline.run(store, sample_records())
    for rec in sample_records():
        if hasattr(rec, "label"):
            nid = rec.props["id"]
            assert store.node_label(nid) == rec.label
            assert store.get(nid)["label"] == rec.label and store.get(nid)["id"] == nid
    assert store.node_label("nope") is None and store.get("nope") is None


def test_edges_covers_every_pair_with_labels(store):
    pipeline.run(store, sample_records())
    store.upsert_nodes("Person", [{"id": "person:p", "name": "P", "sources": ["src:t"]}])
    store.upsert_rels("OWNS", [_owns("person:p", "fund:em", 0.7, src_label="Person", dst_label="Fund"),
                               _owns("fund:em", "company:societe", 0.2, src_label="Fund")])
    t = store.edges("OWNS", ["share", "start"])
    assert t.column_names == ["src", "dst", "src_label", "dst_label", "share", "start"]
    assert t.schema.field("share").type == pa.float64() and t.schema.field("src").type == pa.string()
    got = sorted(zip(*[t.column(c).to_pylist() for c in t.column_names]))
    assert got == sorted([("company:cetc", "company:hikvision", "Company", "Company", 0.4, "2001-01-01"),
                          ("person:p", "fund:em", "Person", "Fund", 0.7, None),
                          ("fund:em", "company:societe", "Fund", "Company", 0.2, None)])
    assert store.edges("TRACKS", []).num_rows == 0


def test_default_buffer_pool_is_bounded():
    assert default_buffer_mb({}, ram_mb=24_000) == 1536
    assert default_buffer_mb({}, ram_mb=2_000) == 500
    assert default_buffer_mb({}, ram_mb=512) == 256
    assert default_buffer_mb({lb.BUFFER_ENV: "5000"}, ram_mb=24_000) == 5000


def test_full_buffer_pool_is_a_clear_error_and_the_store_keeps_working(tmp_path):
    s = LadybugStore(tmp_path / "tiny.lbdb", buffer_pool_mb=64)
    try:
        s.create_schema()
        n = 300_000
        props = SCHEMA.nodes["Company"].props
        rows = [{"id": f"co:{i:06d}", "name": "x" * 200, "search_key": "x"} for i in range(n)]
        s.conn.execute("COPY `Company` FROM $t", {"t": lb._arrow(rows, props)})
        with pytest.raises(StoreError, match=lb.BUFFER_ENV):
            s.read("MATCH (n:Company) RETURN n.name, n.id ORDER BY n.id DESC")
        assert s.read("MATCH (n:Company) RETURN count(n)").rows == [[n]]
        assert s.get("co:000042")["name"] == "x" * 200
        s.upsert_nodes("Company", [{"id": "co:new", "name": "New", "sources": ["src:t"]}])
        assert s.node_label("co:new") == "Company"
    finally:
        s.close()


def test_upserts_do_not_keep_their_arrow_tables(tmp_path):
    """Ladybug keeps every Arrow table passed as a query parameter until its connection closes
    (470 MB over a 1M-company ingest): the store closes the connection between upserts."""
    s = LadybugStore(tmp_path / "g.lbdb")
    s.create_schema()
    ids = _companies(s, 20)
    base = pa.total_allocated_bytes()
    for b in range(4):
        new = [{"id": f"co:b{b}-{i:05d}", "name": f"A company with a long enough name {b} {i}",
                "sources": ["src:t"]} for i in range(30_000)]
        s.upsert_nodes("Company", new)
        rels = [{"src": ids[i % 20], "src_label": "Company", "dst": new[i]["id"], "dst_label": "Company",
                 "props": {"id": rel_id("OWNS", ids[i % 20], new[i]["id"]), "share": 0.5, "sources": ["src:t"]}}
                for i in range(5_000)]
        s.upsert_rels("OWNS", rels)
    # 4 x 30k names held would be several MB; what stays is the store's own small state
    assert pa.total_allocated_bytes() - base < 1_000_000
    assert s.read("MATCH (c:Company) RETURN count(c)").rows[0][0] == 20 + 120_000
    assert s.read("MATCH ()-[e:OWNS]->() RETURN count(e)").rows[0][0] == 20_000
    s.close()
