"""When the store refuses records validation accepted, the pipeline bisects the batch so that only
those records are quarantined, with the store's own message; when the store goes away mid-run, it
stops with one clear line instead of quarantining everything. Real refusals on both stores:
- Ladybug: a record too large for the buffer pool (8 MB of strings, a 16 MB pool);
- Neo4j: an id over the range index's key size (4,000 four-byte characters, ~16 KB)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from neo4j import GraphDatabase

from graph.stores.ladybug import LadybugStore
from ingest import pipeline
from ingest.records import Node, Rel
from tests.conftest import NEO4J_URI, ROOT

BIG = [f"w{i} " + "yy " * 1330 for i in range(2000)]  # ~8 MB, every item within MAX_LIST_ITEM
HUGE_ID = "\U0001F600" * 4000  # within the schema's 4,000 characters, 16 KB of UTF-8


def _company(cid: str, **extra) -> Node:
    return Node("Company", {"id": cid, "name": f"Company {cid[:20]}", "sources": ["src:test"], **extra}, origin=f"row {cid}")


def _small_pool(store):
    """The fixture's store, with a 16 MB buffer pool on Ladybug."""
    if store.kind != "ladybug":
        return store
    store.close()
    return LadybugStore(store.path, buffer_pool_mb=16)


def test_store_refusals_are_bisected_to_the_records(store, tmp_path):
    s = _small_pool(store)
    try:
        if s.kind == "ladybug":
            bad_node = _company("c:poison", aliases=BIG)
            # after a full pool Ladybug refuses the next relationship writes too, until the database
            # is reopened: its refused relationship is tested on Neo4j, and on plain rows below
            bad_rel = None
            refusal = "buffer pool"
        else:
            bad_node = _company(HUGE_ID)
            bad_rel = Rel("OWNS", "c:3", "Company", "c:4", "Company", {"sources": ["src:test"], "id": HUGE_ID})
            refusal = "too large to index"
        good = [_company(f"c:{i}") for i in range(10)]
        good_rels = [Rel("OWNS", "c:0", "Company", "c:1", "Company", {"sources": ["src:test"], "share": 0.5}),
                     Rel("OWNS", "c:5", "Company", "c:6", "Company", {"sources": ["src:test"]})]
        recs = [*good[:5], bad_node, *good[5:],
                Rel("OWNS", "c:2", "Company", bad_node.id, "Company", {"sources": ["src:test"]})]
        if bad_rel is not None:
            recs += [good_rels[0], bad_rel, good_rels[1]]
        qpath = tmp_path / "q.jsonl"
        rep = pipeline.run(s, recs, file="t", quarantine=str(qpath), batch=100)

        assert rep.written["Company"].created == 10 and rep.rejected["Company"] == 1
        q = [json.loads(line) for line in qpath.read_text().splitlines()]
        node_q = [x for x in q if x["record"] == bad_node.origin]
        assert len(node_q) == 1 and node_q[0]["reason"].startswith("store refused: ") and refusal in node_q[0]["reason"]
        # the relationship to the refused node points nowhere: quarantined as such, not refused
        assert [x["field"] for x in q if "not in the graph" in x["reason"]] == ["dst"]
        if bad_rel is not None:
            assert rep.written["OWNS"].created == 2 and rep.rejected["OWNS"] == 2 and len(q) == 3
            rel_q = [x for x in q if x["record"] == bad_rel.id]
            assert len(rel_q) == 1 and rel_q[0]["reason"].startswith("store refused: ") and refusal in rel_q[0]["reason"]
            assert "\n" not in rel_q[0]["reason"]
        else:
            assert rep.rejected["OWNS"] == 1 and len(q) == 2
            s.close()
            s = LadybugStore(store.path)
            assert pipeline.run(s, good_rels).written["OWNS"].created == 2
        ids = [r.id for r in good] + [bad_node.id]
        assert s.labels_of(ids) == {r.id: "Company" for r in good}
        pairs = s.read("MATCH (a:Company)-[r:OWNS]->(b:Company) RETURN a.id, b.id ORDER BY a.id").rows
        assert pairs == [["c:0", "c:1"], ["c:5", "c:6"]]
    finally:
        if s is not store:
            s.close()


def test_write_bisecting_isolates_every_refused_row():
    """The halving itself, on plain rows: every refused row alone, every other row written once."""
    written, refused = [], []

    def write(part):
        if any(x % 7 == 3 for x in part):
            raise ValueError("refused")
        written.extend(part)
        return pipeline.UpsertCounts(created=len(part))

    counts = pipeline.write_bisecting(write, list(range(50)), lambda r, e: refused.append(r), lambda e: False)
    assert refused == [x for x in range(50) if x % 7 == 3]
    assert sorted(written) == [x for x in range(50) if x % 7 != 3] and counts.created == len(written)


def test_write_bisecting_stops_when_the_store_refuses_everything():
    """A store failing for every record (e.g. out of memory) is not bad data: after
    SYSTEMIC_REFUSALS identical single-record refusals with nothing written the run stops, instead
    of trying each of 100,000 records alone and quarantining them all."""
    calls, refused = [], []

    def write(part):
        calls.append(len(part))
        raise RuntimeError("Buffer manager exception: the buffer pool is full\nmore detail")

    with pytest.raises(pipeline.StoreUnavailable) as info:
        pipeline.write_bisecting(write, list(range(100_000)), lambda r, e: refused.append(r), lambda e: False)
    assert "refused 50 records in a row" in str(info.value) and "buffer pool is full" in str(info.value)
    assert len(refused) == pipeline.SYSTEMIC_REFUSALS - 1 and len(calls) < 200

    # the same identical refusals after something landed are the data's: every one is quarantined
    refused.clear()

    def write_some(part):
        if part[0] < 10 and len(part) < 20:
            return pipeline.UpsertCounts(created=len(part))
        if len(part) > 1 or part[0] >= 10:
            raise ValueError("refused")

    pipeline.write_bisecting(write_some, list(range(80)), lambda r, e: refused.append(r), lambda e: False)
    assert refused == list(range(10, 80))


def _stop_midway(recs, n, stop):
    for i, r in enumerate(recs):
        if i == n:
            stop()
        yield r


def test_ladybug_closed_mid_run_stops_the_ingest(tmp_path):
    s = LadybugStore(tmp_path / "g.lbdb")
    s.create_schema()
    recs = [_company(f"c:{i}") for i in range(30)]
    qpath = tmp_path / "q.jsonl"
    with pytest.raises(pipeline.StoreUnavailable) as info:
        pipeline.run(s, _stop_midway(recs, 15, s.close), quarantine=str(qpath), batch=10)
    msg = str(info.value)
    assert msg.startswith("store unavailable, ingest stopped: ") and "Database is closed" in msg
    assert "10 records written before" in msg and "\n" not in msg
    assert not qpath.exists() or "store refused" not in qpath.read_text()  # nothing quarantined for it
    s2 = LadybugStore(tmp_path / "g.lbdb")
    assert len(s2.labels_of([r.id for r in recs])) == 10  # the first batch landed
    s2.close()


@pytest.mark.skipif(not NEO4J_URI, reason="no Neo4j for tests (TECHGIANTS_TEST_NEO4J)")
def test_neo4j_unreachable_mid_run_stops_the_ingest(tmp_path):
    from graph.stores.neo4j import Neo4jStore
    s = Neo4jStore(NEO4J_URI)
    s.create_schema()
    s.clear()

    def lose_server():
        # what the pipeline sees when the server goes away: a driver that cannot connect
        # (port 9 refuses), with a short retry budget instead of the default 30 s
        s.driver.close()
        s.driver = GraphDatabase.driver("bolt://127.0.0.1:9", max_transaction_retry_time=0.5)

    recs = [_company(f"c:{i}") for i in range(30)]
    qpath = tmp_path / "q.jsonl"
    try:
        with pytest.raises(pipeline.StoreUnavailable) as info:
            pipeline.run(s, _stop_midway(recs, 15, lose_server), quarantine=str(qpath), batch=10)
        msg = str(info.value)
        assert msg.startswith("store unavailable, ingest stopped: ") and "\n" not in msg
        assert "connect" in msg.lower() and "10 records written before" in msg
        assert not qpath.exists() or "store refused" not in qpath.read_text()
    finally:
        s.close()


def test_cli_reports_a_lost_store_in_one_line_and_exits_1(tmp_path):
    """`techgiants ingest` against a store that goes away: exit 1, one `error:` line."""
    script = (
        "import sys\n"
        "from graph.stores import ladybug\n"
        "real = ladybug.LadybugStore.upsert_nodes\n"
        "def upsert_then_close(self, label, rows):\n"
        "    self.db.close()  # the database is closed under the running ingest\n"
        "    return real(self, label, rows)\n"
        "ladybug.LadybugStore.upsert_nodes = upsert_then_close\n"
        "sys.argv = ['techgiants', '--store', sys.argv[1], 'ingest', 'curated', '--no-resolve', sys.argv[2]]\n"
        "import cli\n"
        "cli.main()\n")
    data = ROOT / "data" / "curated"
    if not data.exists():
        pytest.skip("no curated data")
    p = subprocess.run([sys.executable, "-c", script, str(tmp_path / "g.lbdb"), str(data)], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    lines = [x for x in p.stderr.splitlines() + p.stdout.splitlines() if x.startswith("error:")]
    assert p.returncode == 1, p.stderr[-2000:]
    assert len(lines) == 1 and "store unavailable, ingest stopped" in lines[0], p.stderr[-2000:]


def test_an_ingester_error_is_not_a_store_outage(tmp_path):
    """An OSError from reading the input is the ingester's, raised as it is: only errors of store
    calls are checked for an outage."""
    s = LadybugStore(tmp_path / "g.lbdb")
    s.create_schema()

    def recs():
        yield _company("c:1")
        raise FileNotFoundError("input.csv: no such file")

    try:
        with pytest.raises(FileNotFoundError):
            pipeline.run(s, recs(), batch=1)
    finally:
        s.close()
