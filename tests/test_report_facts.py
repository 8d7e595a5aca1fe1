"""Questions whose answers the report states, asked of the bundled graph in both stores.

The graph is loaded exactly as `techgiants ingest bundled` loads it (curated facts, then the
US lists snapshot, with entity resolution), so these also prove that list entries merge
onto the report's entities.
"""
from __future__ import annotations

import pytest

from graph.store import _q
from ingest import pipeline
from ingest.bundled import DATA
from ingest.bundled import parse as parse_bundled
from tests.conftest import make_store
from tests.test_curated_data import FACTS


@pytest.fixture(scope="module", params=["ladybug", "neo4j"])
def bundled(request, tmp_path_factory):
    if request.param == "neo4j":
        request.getfixturevalue("_neo4j_session")
    s = make_store(request.param, tmp_path_factory.mktemp("bundled"), request)
    try:
        from ingest.resolve import Resolver
        resolver = Resolver.from_store(s)
    except ImportError:
        resolver = None
    rep = pipeline.run(s, parse_bundled(str(DATA)), resolver=resolver)
    assert rep.total_rejected == 0
    yield s
    if request.param == "ladybug":
        s.close()


def ask(store, cypher, **params):
    return store.read(cypher, params).rows


@pytest.mark.parametrize("src,rtype,dst", [f[1:] for f in FACTS], ids=[f[0] for f in FACTS])
def test_stated_relationship_is_in_the_graph(bundled, src, rtype, dst):
    rows = ask(bundled, _q("MATCH (a)-[r:{T}]->(b) WHERE a.id = $a AND b.id = $b RETURN count(r)", T=rtype),
               a=src, b=dst)
    assert rows[0][0] >= 1


def test_who_owns_hikvision(bundled):
    rows = ask(bundled, "MATCH (o)-[:OWNS]->(c:Company {id: 'company:hikvision'}) RETURN o.id ORDER BY o.id")
    assert ["company:cetc"] in rows


def test_which_us_pension_funds_held_hikvision(bundled):
    rows = ask(bundled, "MATCH (f:Fund)-[:HOLDS]->(:Company {id: 'company:hikvision'}) WHERE f.us_based = true "
                        "RETURN f.id ORDER BY f.id")
    assert [r[0] for r in rows] == ["fund:calstrs", "fund:nystrs"]


def test_who_invested_in_sensetime(bundled):
    rows = ask(bundled, "MATCH (i)-[r]->(:Company {id: 'company:sensetime'}) WHERE type(r) IN ['OWNS', 'INVESTED_IN'] "
                        "RETURN DISTINCT i.id ORDER BY i.id") if bundled.kind == "neo4j" else \
        ask(bundled, "MATCH (i)-[r]->(:Company {id: 'company:sensetime'}) WHERE label(r) IN ['OWNS', 'INVESTED_IN'] "
                     "RETURN DISTINCT i.id ORDER BY i.id")
    ids = {r[0] for r in rows}
    assert {"fund:softbank-vision-fund", "company:alibaba", "company:silver-lake", "company:temasek"} <= ids


def test_hikvision_is_one_node_with_report_and_list_sources(bundled):
    rows = ask(bundled, "MATCH (c:Company) WHERE c.name CONTAINS 'Hikvision' OR c.id = 'company:hikvision' "
                        "RETURN c.id")
    assert [r[0] for r in rows] == ["company:hikvision"], "the Entity List entry must merge onto the report's entity"
    node = bundled.get("company:hikvision")
    assert any(s.startswith("src:aspi-2021") for s in node["sources"])
    assert any(s.startswith("src:uslists-") for s in node["sources"])
    assert any("Hangzhou Hikvision" in a for a in node.get("aliases", [])) or "Hangzhou" in node["name"]


def test_when_was_hikvision_entity_listed_and_by_which_notice(bundled):
    rows = ask(bundled, "MATCH (:Company {id: 'company:hikvision'})-[l:LISTED_ON]->(:SanctionsList "
                        "{id: 'us-bis-entity-list'}) RETURN l.since, l.notice ORDER BY l.since")
    dated = [r for r in rows if r[0]]
    assert dated and dated[0][0] == "2019-10-09" and "84 FR 54004" in dated[0][1]


def test_huawei_is_on_the_entity_list_and_1260h(bundled):
    rows = ask(bundled, "MATCH (:Company {id: 'company:huawei'})-[:LISTED_ON]->(l:SanctionsList) "
                        "RETURN DISTINCT l.id ORDER BY l.id")
    lists = {r[0] for r in rows}
    assert {"us-bis-entity-list", "us-dod-1260h"} <= lists


def test_which_government_signed_the_facial_recognition_deal(bundled):
    rows = ask(bundled, "MATCH (g:GovernmentBody)-[:PARTY_TO]->(p:Project)-[:LOCATED_IN]->(:Country {id: 'ZW'}) "
                        "WHERE p.kind IN ['surveillance', 'public_security', 'smart_city'] RETURN DISTINCT g.id")
    assert ["gov:zimbabwe-government"] in rows


def test_projects_of_listed_companies_by_country(bundled):
    rows = ask(bundled, "MATCH (c:Company)-[:LISTED_ON]->(:SanctionsList {id: 'us-bis-entity-list'}) "
                        "MATCH (c)-[:PARTY_TO]->(p:Project)-[:LOCATED_IN]->(k:Country) "
                        "RETURN k.id, count(DISTINCT p) ORDER BY k.id")
    countries = {r[0] for r in rows}
    assert {"ZW", "VN"} & countries


def test_bytedance_is_not_on_the_entity_list(bundled):
    rows = ask(bundled, "MATCH (:Company {id: 'company:bytedance'})-[:LISTED_ON]->(l:SanctionsList "
                        "{id: 'us-bis-entity-list'}) RETURN count(l)")
    assert rows[0][0] == 0


def test_every_node_has_a_source_that_exists(bundled):
    from graph.schema import SCHEMA
    sources = {r[0] for r in ask(bundled, "MATCH (s:Source) RETURN s.id")}
    for label in SCHEMA.labels:
        for (srcs,) in ask(bundled, _q("MATCH (n:{L}) RETURN n.sources", L=label)):
            assert srcs and set(srcs) <= sources, (label, srcs)


def test_designations_keep_the_snapshot_date(bundled):
    rows = ask(bundled, "MATCH (s:Source) WHERE s.id STARTS WITH 'src:uslists-' RETURN s.id, s.date ORDER BY s.id")
    assert rows and all(d for _, d in rows)
