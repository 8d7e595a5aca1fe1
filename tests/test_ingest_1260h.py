"""The DoD 1260H history (every edition, OpenSanctions' CSV) on both stores: editions become
dated designations, delistings end them, parents become ownership with unknown shares."""
from __future__ import annotations

import pytest

from ingest import pipeline
from ingest.run import records

CSV = "data/opensanctions-us-china-lists/us_dod_1260h_chinese_military_companies.csv"


@pytest.fixture
def path(shared):
    p = shared / CSV
    if not p.exists():
        pytest.skip(f"{p} not present")
    return p


def test_editions_and_delistings(store, path):
    rep = pipeline.run(store, records("dod1260h", [str(path)]))
    assert rep.total_rejected == 0
    assert rep.read["LISTED_ON"] == 397
    rows = store.read("MATCH (c:Company {id: 'us-dod-1260h:beijing-megvii-technology-co-ltd'})-[l:LISTED_ON]->"
                      "(:SanctionsList {id: 'us-dod-1260h'}) RETURN l.since, l.until").rows
    assert rows == [["2024-01-31", "2025-01-07"]]
    editions = {r[0] for r in store.read("MATCH ()-[l:LISTED_ON]->(:SanctionsList {id: 'us-dod-1260h'}) "
                                         "RETURN DISTINCT l.since").rows}
    assert {"2021-06-03", "2022-10-05", "2024-01-31", "2025-01-07"} <= editions
    parent = store.read("MATCH (p)-[o:OWNS]->(c {id: 'us-dod-1260h:china-state-construction-group-co'}) "
                        "RETURN p.name, o.share").rows
    assert parent == [["China State Construction Engineering Corporation Limited", None]]
    counts = store.counts()
    pipeline.run(store, records("dod1260h", [str(path)]))
    assert store.counts() == counts
