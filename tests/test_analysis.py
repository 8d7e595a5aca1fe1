"""Store-backed analytics on both stores: pull once, compute, write CAPTURED_BY back."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from graph import analysis
from ingest import pipeline
from ingest.records import Node, Rel

S = ["src:t"]


def company(i):
    return Node("Company", {"id": f"c:{i}", "name": f"Company {i}", "sources": S})


def owns(a, b, share=None, **kw):
    return Rel("OWNS", f"c:{a}", "Company", f"c:{b}", "Company", {"share": share, "sources": S, **kw})


def listed(a, lst="us-ofac-sdn", since="2020-01-01", until=None):
    return Rel("LISTED_ON", f"c:{a}", "Company", lst, "SanctionsList",
               {"since": since, "until": until, "sources": S}, key=lst)


def graph():
    ents = "X Y A B C D E F G H".split()
    recs = [Node("Source", {"id": "src:t", "name": "t", "sources": S}),
            Node("SanctionsList", {"id": "us-ofac-sdn", "name": "SDN", "sources": S}),
            Node("SanctionsList", {"id": "us-bis-entity-list", "name": "EL", "sources": S}),
            Node("Fund", {"id": "fund:f", "name": "Fund F", "sources": S}),
            Node("Index", {"id": "index:i", "name": "Index I", "sources": S}),
            *[company(e) for e in ents]]
    recs += [
        listed("X"), listed("Y", "us-bis-entity-list"),
        owns("X", "A", 0.5), owns("A", "B", 0.5),                     # FAQ example 1: A and B captured
        owns("X", "C", 0.3), owns("Y", "C", 0.25),                    # aggregation across lists: C
        owns("X", "D", 0.2, start="2010-01-01", end="2021-01-01"),     # ended stake
        owns("X", "D", 0.4, start="2022-01-01"),                       # in force from 2022: D at 0.4 only
        owns("X", "E", None, share_min=0.4, share_max=0.6),            # possibly captured
        owns("A", "F", 0.49),                                          # just under
        Rel("HOLDS", "fund:f", "Fund", "c:G", "Company", {"weight": 0.1, "sources": S}),
        owns("G", "B", 0.2),                                           # fund -> G -> B (captured subsidiary)
        Rel("TRACKS", "fund:f", "Fund", "index:i", "Index", {"sources": S}),
        Rel("CONSTITUENT_OF", "c:A", "Company", "index:i", "Index", {"sources": S}),
    ]
    return recs


@pytest.fixture
def loaded(store):
    rep = pipeline.run(store, graph())
    assert rep.total_rejected == 0
    return store


def test_cascade_written_back_and_replaced(loaded):
    res = analysis.fifty_percent(loaded, "all", as_of="2023-01-01")
    assert set(res.findings) == {"c:A", "c:B", "c:C", "c:E"}
    assert res.findings["c:E"].certainty == "possible"
    assert res.finding_lists["c:C"] == ["us-bis-entity-list", "us-ofac-sdn"]
    rows = loaded.read("MATCH (c)-[r:CAPTURED_BY]->(l:SanctionsList) RETURN c.id, l.id, r.certainty, r.derived, "
                       "r.aggregate ORDER BY c.id, l.id").rows
    assert [r[:2] for r in rows] == [["c:A", "us-ofac-sdn"], ["c:B", "us-ofac-sdn"], ["c:C", "us-bis-entity-list"],
                                     ["c:C", "us-ofac-sdn"], ["c:E", "us-ofac-sdn"]]
    assert all(r[3] is True for r in rows)
    assert rows[0][4] == pytest.approx(0.5)
    analysis.fifty_percent(loaded, "all", as_of="2023-01-01")  # re-run replaces, never duplicates
    assert loaded.counts()["relationships"]["CAPTURED_BY"] == 5


def test_list_presets_and_dates(loaded):
    ofac = analysis.fifty_percent(loaded, "ofac", as_of="2023-01-01", write=False)
    assert "c:C" not in ofac.findings  # Y is on the Entity List only: X alone holds 30%
    before_listing = analysis.fifty_percent(loaded, "all", as_of="2019-06-01", write=False)
    assert before_listing.findings == {}
    old = analysis.fifty_percent(loaded, "all", as_of="2020-06-01", write=False)
    assert "c:D" not in old.findings
    assert analysis.fifty_percent(loaded, "bis-affiliates", as_of="2025-10-15", write=False).rule_in_force
    assert not analysis.fifty_percent(loaded, "bis-affiliates", as_of="2026-01-15", write=False).rule_in_force


def test_explain_names_the_chain(loaded):
    res = analysis.fifty_percent(loaded, "all", as_of="2023-01-01", write=False)
    text = "\n".join(res.explain("c:B"))
    assert "c:A owns 50% of c:B" in text and "c:X owns 50% of c:A" in text and "us-ofac-sdn" in text
    assert "not captured" in "\n".join(res.explain("c:F"))


def test_exposure_through_subsidiaries_and_index(loaded):
    exp, _ = analysis.exposure(loaded, "all", as_of="2023-01-01", investor="fund:f")
    got = {(e.company, e.via) for e in exp}
    assert ("c:B", "subsidiary") in got
    assert ("c:A", "index") in got
    sub = next(e for e in exp if e.company == "c:B" and e.via == "subsidiary")
    assert sub.path == ["fund:f", "c:G", "c:B"]
    assert sub.look_through == pytest.approx(0.1 * 0.2)


def test_owners_look_through(loaded):
    own = analysis.owners(loaded, "c:B")
    assert own["c:A"] == pytest.approx(0.5)
    assert own["c:X"] == pytest.approx(0.25)


def test_cli_analyze_json(tmp_path):
    from graph.stores.ladybug import LadybugStore
    db = tmp_path / "g.lbdb"
    s = LadybugStore(db)
    s.create_schema()
    pipeline.run(s, graph())
    s.close()
    cmd = [sys.executable, "-c", "import cli; cli.main()", "--store", str(db), "analyze", "fifty-percent",
           "--lists", "all", "--as-of", "2023-01-01", "--format", "json"]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert {r["id"] for r in rows} == {"c:A", "c:B", "c:C", "c:E"}
    exp = subprocess.run([*cmd[:5], "analyze", "fifty-percent", "--explain", "c:B", "--lists", "all"],
                         capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    assert "c:X owns 50% of c:A" in exp.stdout


def test_pull_is_columnar_and_filters_on_as_of(loaded):
    inp = analysis.pull(loaded, as_of="2020-06-01")
    import pyarrow as pa
    assert isinstance(inp.owns, pa.Table) and isinstance(inp.holds, pa.Table)
    # the Arrow filter agrees with graph.ownership.valid_at row by row
    from graph.ownership import valid_at
    raw = loaded.edges("OWNS", ["share", "start", "end"]).to_pylist()
    for day in ("2009-01-01", "2020-06-01", "2021-01-01", "2023-01-01"):
        got = sorted((o, a) for o, a, *_ in analysis.pull(loaded, as_of=day).ownership)
        assert got == sorted((r["src"], r["dst"]) for r in raw if valid_at(r["start"], r["end"], day)), day
    assert len(analysis.pull(loaded).ownership) == len(raw) == 8
    assert inp.labels_for(["c:A", "fund:f", "index:i"]) == {"c:A": "Company", "fund:f": "Fund", "index:i": "Index"}
    # the graph is interned once and shared by the cascade and the exposure
    assert inp.graph is inp.graph and set(inp.graph.ids) >= {"c:X", "c:A", "c:G"}


def test_exposure_table_matches_records(loaded):
    table, fp = analysis.exposure_table(loaded, "all", as_of="2023-01-01")
    recs, _ = analysis.exposure(loaded, "all", as_of="2023-01-01")
    assert table.num_rows == len(recs) > 0
    assert table.column("investor").to_pylist() == [e.investor for e in recs]
    assert table.column("path").to_pylist() == [e.path for e in recs]
    assert {("fund:f", "c:B", "subsidiary"), ("fund:f", "c:A", "index")} <= {
        (e.investor, e.company, e.via) for e in recs}


def test_edges_paged_equals_whole(loaded):
    """store.edges in small keyset pages (Neo4j) returns the same rows as one page."""
    cols = ["share", "share_min", "share_max", "start", "end"]
    whole = loaded.edges("OWNS", cols)
    key = lambda t: sorted(map(repr, zip(*[t.column(c).to_pylist() for c in ["src", "dst", *cols]])))
    assert whole.num_rows == 8
    assert set(whole.column("src_label").to_pylist()) == {"Company"}
    if loaded.kind == "neo4j":
        assert key(loaded.edges("OWNS", cols, page=2)) == key(whole)
        assert key(loaded.edges("OWNS", cols, page=1)) == key(whole)
    holds = loaded.edges("HOLDS", ["weight"])
    assert holds.column("src").to_pylist() == ["fund:f"] and holds.column("src_label").to_pylist() == ["Fund"]


def test_edges_pages_shrink_under_the_transaction_memory_cap(store, tmp_path, caplog):
    """Neo4j: a keyset page of busy sources that outgrows db.memory.transaction.max is halved and
    retried (at 5M companies one page of 100,000 funds' HOLDS needed more than the server's 256 MB).
    Its own server with an 8 MB cap: 16 funds x 3,000 holdings do not fit in one page."""
    if store.kind != "neo4j":
        pytest.skip("Neo4j's transaction memory cap")
    import importlib.util
    import logging
    import os
    from graph.stores.neo4j import Neo4jStore
    spec = importlib.util.spec_from_file_location("tg_ns", Path(__file__).parent / "neo4j_server" / "neo4j_server.py")
    ns = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ns)
    old = os.environ.get("TECHGIANTS_NEO4J_TX_MAX")
    os.environ["TECHGIANTS_NEO4J_TX_MAX"] = "8m"
    try:
        uri, pid = ns.start(tmp_path / "neo4j", watch_pid=os.getpid())
    finally:
        if old is None:
            os.environ.pop("TECHGIANTS_NEO4J_TX_MAX")
        else:
            os.environ["TECHGIANTS_NEO4J_TX_MAX"] = old
    try:
        s = Neo4jStore(uri)
        s.create_schema()
        funds, companies = 16, 3000
        recs = [Node("Fund", {"id": f"fund:{i}", "name": f"Fund {i}", "sources": ["src:t"]}) for i in range(funds)]
        recs += [Node("Company", {"id": f"c:{j}", "name": f"Company {j}", "sources": ["src:t"]})
                 for j in range(companies)]
        recs += [Rel("HOLDS", f"fund:{i}", "Fund", f"c:{j}", "Company", {"sources": ["src:t"], "weight": 0.001})
                 for i in range(funds) for j in range(companies)]
        assert pipeline.run(s, recs, batch=1000).total_rejected == 0
        with caplog.at_level(logging.INFO, logger="graph.stores.neo4j"):
            t = s.edges("HOLDS", ["weight"], page=funds)
        assert "over the transaction memory cap" in caplog.text   # the first page did not fit
        assert t.num_rows == funds * companies
        assert set(zip(t.column("src").to_pylist(), t.column("dst").to_pylist())) == {
            (f"fund:{i}", f"c:{j}") for i in range(funds) for j in range(companies)}
        s.close()
    finally:
        ns.stop(pid)
