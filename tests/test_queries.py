"""The saved-query library: loading and validation, and every query on both stores.

Every saved query runs on the curated bundled graph (data/curated) on Ladybug and on a real
Neo4j, with its defaults and with meaningful parameter values, and both stores must return
the same rows. A second round adds a few test records (dated sources, Federal Register
notices, identifiers, a tracking fund, 50% rule captures) on top, for the queries the
curated report data cannot answer.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ingest.curated
from graph.store import Result
from ingest import pipeline
from ingest.records import Node, Rel
from queries import library as L
from queries.library import QueryError, QueryParamError, load_library, parse_file, parse_text, run
from tests.conftest import ROOT

LIB = load_library(dirs=[])


def case_id(case: tuple[str, dict]) -> str:
    name, params = case
    return name + ("" if not params else "[" + ",".join(f"{k}={v}" for k, v in params.items()) + "]")


def key(case: tuple[str, dict]) -> tuple[str, str]:
    return case[0], json.dumps(case[1], sort_keys=True)

# ---------------------------------------------------------------- cases
# (query, params): every query with its defaults, plus meaningful values.
CURATED_CASES: list[tuple[str, dict]] = [(q.name, {}) for q in LIB] + [
    ("find-entity", {"text": "xinjiang", "label": "GovernmentBody"}),
    ("find-entity", {"text": "CETC"}),
    ("search-identifier", {"identifier": "company:cetc"}),
    ("entity-profile", {"entity": "company:huawei"}),
    ("entity-profile", {"entity": "university:wuhan-university"}),
    ("sources-for", {"entity": "company:sensetime"}),
    ("ultimate-owners", {"company": "company:sensetime"}),
    ("state-ownership", {"company": "company:cetc"}),
    ("subsidiaries", {"company": "company:bytedance"}),
    ("ownership-chain", {"owner": "company:sensetime", "owned": "company:fidelity-investments"}),
    ("connection-between", {"from": "company:huawei", "to": "company:yitu"}),
    ("connection-between", {"from": "company:cloudwalk", "to": "gov:zimbabwe-government"}),
    ("connection-between", {"from": "fund:calstrs", "to": "company:hikvision"}),   # anchors: a Fund end
    ("ultimate-owners", {"company": "fund:calstrs"}),
    ("investor-exposure", {"investor": "fund:calstrs"}),
    ("projects-of-listed-by-country", {"country": "VN"}),
    ("government-clients", {"company": "company:huawei"}),
    ("region-activity", {"region": "zimbabwe"}),
    ("smart-city-suppliers", {"company": "company:huawei", "project_kind": "surveillance"}),
    ("supplies-to-state", {"country": "CN"}),
    ("officers", {"organisation": "gov:us-senate"}),
    ("most-sourced", {"label": "GovernmentBody", "top": 5}),
    ("single-source-facts", {"rel_type": "OWNS"}),
    ("designations", {"include_undated": False}),
    ("changes-since", {"since": "1990-01-01"}),
]

# queries the curated data answers (non-empty), and one fact each must contain
CURATED_EXPECT: dict[tuple[str, str], tuple[str, object]] = {
    key(("ultimate-owners", {})): ("owner_id", "company:cetc"),                  # Hikvision's owners include CETC
    key(("ultimate-owners", {"company": "company:sensetime"})): ("owner_id", "company:fidelity-investments"),
    key(("state-ownership", {})): ("owner_id", "company:cetc"),
    key(("find-entity", {})): ("id", "company:hikvision"),
    key(("find-entity", {"text": "CETC"})): ("id", "company:cetc"),
    key(("entity-profile", {})): ("other_id", "company:cetc"),
    key(("entity-profile", {"entity": "university:wuhan-university"})): ("other_id", "gov:pla"),
    key(("sources-for", {})): ("source_id", "src:aspi-2021#fn89"),
    key(("list-overview", {})): ("list_id", "us-bis-entity-list"),
    key(("listed-entities", {})): ("id", "company:sensetime"),
    key(("designations", {})): ("id", "company:megvii"),
    key(("subsidiaries", {})): ("subsidiary_id", "company:sensetime"),
    key(("subsidiaries", {"company": "company:bytedance"})): ("subsidiary_id", "company:tiktok"),
    key(("ownership-chain", {})): ("hops", 2),
    key(("connection-between", {})): ("hops", 2),
    key(("connection-between", {"from": "company:huawei", "to": "company:yitu"})): ("links", ["SUPPLIES"]),
    key(("investors-in-listed", {})): ("investor_id", "fund:calstrs"),
    key(("us-investors-in-listed", {})): ("investor_id", "fund:nystrs"),
    key(("investor-exposure", {})): ("holding_id", "company:sensetime"),
    key(("index-exposure", {})): ("listed_id", "company:meiya-pico"),
    key(("projects-of-listed-by-country", {})): ("country_code", "LK"),
    key(("projects-of-listed-by-country", {"country": "VN"})): ("project_id", "project:meiya-pico-forensics-lab-vietnam"),
    key(("government-clients", {})): ("client_id", "gov:zimbabwe-government"),
    key(("government-clients", {"company": "company:huawei"})): ("client_id", "gov:karamay-police-department"),
    key(("region-activity", {})): ("company_id", "company:huawei"),
    key(("smart-city-suppliers", {})): ("supplier_id", "company:yitu"),
    key(("supplies-to-state", {})): ("supplier_id", "company:meiya-pico"),
    key(("university-partnerships", {})): ("partner_id", "gov:geoscience-australia"),
    key(("officers", {})): ("person_id", "person:xu-li"),
    key(("people-of-listed", {})): ("person_id", "person:xu-bing"),
    key(("most-sourced", {})): ("id", "company:hikvision"),
    key(("single-source-facts", {"rel_type": "OWNS"})): ("to_id", "company:hikvision"),
}

# ---------------------------------------------------------------- test records on top of the curated graph
T = "src:test-registry-2025"
FR = "src:test-fr-84-54002"
F13 = "src:test-13f-2024q2"


def extra_records() -> list:
    """Test-only records: dated sources, notices, identifiers, a tracking fund, 50% rule results."""
    cap = {"rule": "bis-affiliates", "as_of": "2025-10-01", "certainty": "definite", "rule_in_force": True,
           "derived": True, "sources": [T]}
    return [
        Node("Source", {"id": T, "name": "Company registry extract (test record)", "kind": "registry",
                        "date": "2025-02-01", "sources": [T]}),
        Node("Source", {"id": FR, "name": "84 FR 54002 (test record)", "kind": "list", "date": "2019-10-09",
                        "publisher": "Federal Register", "sources": [FR]}),
        Node("Source", {"id": F13, "name": "Form 13F, 2024 Q2 (test record)", "kind": "filing", "date": "2024-08-14",
                        "sources": [F13]}),
        Node("Company", {"id": "company:hikvision", "name": "Hikvision", "sources": [T],
                         "identifiers": ["isin:CNE100000PM8", "ticker:002415"]}),
        Node("Company", {"id": "company:test-hik-sub", "name": "Hikvision Test Subsidiary (test record)", "country": "CN",
                         "identifiers": ["uscc:TEST0001"], "sources": [T]}),
        Node("Company", {"id": "company:test-jv", "name": "Test Camera JV (test record)", "country": "CN", "sources": [T]}),
        Node("Company", {"id": "company:test-asset-manager", "name": "Test Asset Management (test record)",
                         "kind": "asset_manager", "country": "US", "us_based": True, "sources": [F13]}),
        Node("Fund", {"id": "fund:test-em-etf", "name": "Test Emerging Markets ETF (test record)", "kind": "etf",
                      "us_based": True, "sources": [F13]}),
        Node("GovernmentBody", {"id": "gov:test-sasac", "name": "State assets commission (test record)", "kind": "sasac",
                                "level": "national", "country": "CN", "sources": [T]}),
        Node("Person", {"id": "person:test-officer", "name": "Test Officer (test record)", "sources": [T]}),
        Node("Project", {"id": "project:test-safe-city", "name": "Safe city (test record)", "kind": "smart_city",
                         "start": "2025-03-01", "sources": [T]}),
        Rel("LISTED_ON", "company:hikvision", "Company", "us-bis-entity-list", "SanctionsList",
            {"since": "2019-10-09", "notice": "84 FR 54002", "sources": [FR]}),
        Rel("LISTED_ON", "company:dahua", "Company", "us-bis-entity-list", "SanctionsList",
            {"since": "2019-10-09", "notice": "84 FR 54002", "sources": [FR]}),
        Rel("OWNS", "gov:test-sasac", "GovernmentBody", "company:cetc", "Company", {"share": 1.0, "sources": [T]}),
        Rel("OWNS", "company:hikvision", "Company", "company:test-hik-sub", "Company",
            {"share": 0.6, "start": "2025-01-15", "sources": [T]}),
        Rel("OWNS", "company:hikvision", "Company", "company:test-jv", "Company", {"share": 0.3, "sources": [T]}),
        Rel("OWNS", "company:dahua", "Company", "company:test-jv", "Company", {"share": 0.25, "sources": [T]}),
        Rel("CAPTURED_BY", "company:test-hik-sub", "Company", "us-bis-entity-list", "SanctionsList",
            {**cap, "aggregate": 0.6, "via": ["company:hikvision"]}),
        Rel("CAPTURED_BY", "company:test-jv", "Company", "us-bis-entity-list", "SanctionsList",
            {**cap, "aggregate": 0.55, "via": ["company:hikvision", "company:dahua"]}),
        Rel("MANAGES", "company:test-asset-manager", "Company", "fund:test-em-etf", "Fund", {"sources": [F13]}),
        Rel("TRACKS", "fund:test-em-etf", "Fund", "index:msci-emerging-markets", "Index", {"sources": [F13]}),
        Rel("HOLDS", "fund:test-em-etf", "Fund", "company:hikvision", "Company",
            {"weight": 0.0012, "value_usd": 1500000.0, "as_of": "2024-06-30", "sources": [F13]}, key="2024-06-30"),
        Rel("OFFICER_OF", "person:test-officer", "Person", "company:test-hik-sub", "Company",
            {"role": "legal representative", "sources": [T]}),
        Rel("SUPPLIES", "company:test-hik-sub", "Company", "company:huawei", "Company",
            {"product": "cameras for smart city projects", "sources": [T]}),
        Rel("PARTY_TO", "company:huawei", "Company", "project:test-safe-city", "Project",
            {"role": "contractor", "sources": [T]}),
        Rel("PARTY_TO", "gov:pakistan-government", "GovernmentBody", "project:test-safe-city", "Project",
            {"role": "client", "sources": [T]}),
        Rel("LOCATED_IN", "project:test-safe-city", "Project", "PK", "Country", {"sources": [T]}),
    ]


EXTRA_CASES: list[tuple[str, dict]] = [(q.name, {}) for q in LIB] + [
    ("search-identifier", {"identifier": "ISIN:cne100000pm8"}),
    ("search-identifier", {"identifier": "uscc:TEST0001"}),
    ("designations", {"notice": "84 FR 54002"}),
    ("designations", {"from": "2019-10-01", "to": "2019-10-31", "include_undated": False}),
    ("designations", {"from": "2020-01-01", "include_undated": False}),
    ("changes-since", {"since": "2019-01-01"}),
    ("entities-since", {"since": "2025-01-01"}),
    ("captured-explain", {"entity": "company:test-jv"}),
    ("captured-explain", {"entity": "company:test-hik-sub"}),
    ("captured-by-50-rule", {"certainty": "definite", "list_id": "us-bis-entity-list"}),
    ("captured-by-50-rule", {"certainty": "possible"}),
    ("investor-exposure", {"investor": "company:test-asset-manager"}),
    ("ultimate-owners", {"company": "company:hikvision"}),
    ("ownership-chain", {"owner": "gov:test-sasac", "owned": "company:test-jv"}),
    ("state-ownership", {"company": "company:test-hik-sub"}),
    ("subsidiaries", {"company": "company:hikvision"}),
    ("government-clients", {"company": "company:huawei"}),
    ("projects-of-listed-by-country", {"country": "PK"}),
    ("people-of-listed", {}),
    ("entity-profile", {"entity": "company:test-jv"}),
]

EXTRA_EXPECT: dict[tuple[str, str], tuple[str, object]] = {
    key(("search-identifier", {})): ("id", "company:hikvision"),
    key(("search-identifier", {"identifier": "ISIN:cne100000pm8"})): ("id", "company:hikvision"),
    key(("search-identifier", {"identifier": "uscc:TEST0001"})): ("id", "company:test-hik-sub"),
    key(("designations", {"notice": "84 FR 54002"})): ("id", "company:dahua"),
    key(("designations", {"from": "2019-10-01", "to": "2019-10-31", "include_undated": False})): ("since", "2019-10-09"),
    key(("list-overview", {})): ("latest_designation", "2019-10-09"),
    key(("changes-since", {})): ("to_id", "company:test-jv"),
    key(("changes-since", {"since": "2019-01-01"})): ("since", "2019-10-09"),
    key(("entities-since", {})): ("id", "company:test-hik-sub"),
    key(("entities-since", {"since": "2025-01-01"})): ("id", "company:hikvision"),
    key(("subsidiaries-not-listed", {})): ("subsidiary_id", "company:test-jv"),
    key(("captured-by-50-rule", {})): ("id", "company:test-jv"),
    key(("captured-by-50-rule", {"certainty": "definite", "list_id": "us-bis-entity-list"})): ("aggregate", 0.55),
    key(("captured-explain", {"entity": "company:test-jv"})): ("owner_id", "company:dahua"),
    key(("captured-explain", {"entity": "company:test-hik-sub"})): ("owner_status", "listed"),
    key(("index-exposure", {})): ("fund_id", "fund:test-em-etf"),
    key(("us-investors-in-listed", {})): ("investor_id", "company:test-asset-manager"),
    key(("investor-exposure", {"investor": "company:test-asset-manager"})): ("value_usd", 1500000.0),
    key(("ultimate-owners", {"company": "company:hikvision"})): ("owner_id", "gov:test-sasac"),
    key(("state-ownership", {"company": "company:test-hik-sub"})): ("owner_kind", "GovernmentBody"),
    key(("ownership-chain", {"owner": "gov:test-sasac", "owned": "company:test-jv"})): ("hops", 3),
    key(("government-clients", {"company": "company:huawei"})): ("client_id", "gov:pakistan-government"),
    key(("projects-of-listed-by-country", {"country": "PK"})): ("project_id", "project:test-safe-city"),
    key(("smart-city-suppliers", {})): ("supplier_id", "company:test-hik-sub"),
    key(("people-of-listed", {})): ("person_id", "person:test-officer"),
}


# ---------------------------------------------------------------- answers, computed once per store kind
@pytest.fixture(scope="module")
def answers(request, tmp_path_factory):
    """answers(kind) -> {"curated": {case_key: Result | Exception}, "extra": {...}}: every case run on one
    store kind, on the curated graph and then with the test records added."""
    cache: dict[str, dict] = {}
    opened = []

    def get(kind: str) -> dict:
        if kind not in cache:
            if kind == "ladybug":
                from graph.stores.ladybug import LadybugStore
                s = LadybugStore(tmp_path_factory.mktemp("queries") / "graph.lbdb")
                s.create_schema()
                opened.append(s)
            else:
                s = request.getfixturevalue("_neo4j_session")
                s.clear()
            rep = pipeline.run(s, ingest.curated.parse(ROOT / "data" / "curated"))
            assert rep.total_rejected == 0
            out = {"curated": _run_all(s, CURATED_CASES), "store": s}
            choices = {}
            for q in LIB:
                for p in q.params:
                    if p.choices_query:
                        choices[(q.name, p.name)] = s.read(p.choices_query).rows
            out["choices"] = choices
            rep = pipeline.run(s, extra_records())
            assert rep.total_rejected == 0, rep.as_dict()
            out["extra"] = _run_all(s, EXTRA_CASES)
            out["syntax"] = L.check_syntax(s, LIB)
            cache[kind] = out
        return cache[kind]

    yield get
    for s in opened:
        s.close()


def _run_all(store, cases) -> dict:
    out = {}
    for case in cases:
        try:
            out[key(case)] = run(store, case[0], library=LIB, **case[1])
        except Exception as e:  # recorded, reported by the test of that case
            out[key(case)] = e
    return out


def norm(v):
    """Floats to ~9 significant digits; everything else as is (dicts compare by value)."""
    if isinstance(v, float):
        return float(f"{v:.9g}")
    if isinstance(v, list):
        return [norm(x) for x in v]
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items()}
    return v


def _result(answers, kind, graph, case) -> Result:
    res = answers(kind)[graph][key(case)]
    if isinstance(res, Exception):
        raise AssertionError(f"{case_id(case)} failed on {kind}: {res}")
    return res


# ---------------------------------------------------------------- the library
def test_library_has_the_queries_users_need():
    assert len(LIB) >= 25
    assert not LIB.errors
    for q in LIB:
        assert q.title and q.description and q.tags and q.path.exists()
        for p in q.params:
            assert p.help and p.type in L.PARAM_TYPES
    expected = {"investors-in-listed", "ownership-chain", "ultimate-owners", "subsidiaries-not-listed",
                "captured-by-50-rule", "state-ownership", "projects-of-listed-by-country", "government-clients",
                "region-activity", "us-investors-in-listed", "index-exposure", "smart-city-suppliers",
                "designations", "changes-since", "most-sourced", "single-source-facts", "entity-profile",
                "search-identifier", "officers", "university-partnerships", "list-overview"}
    assert expected <= set(LIB.queries)
    tags = [t for t, _, _ in LIB.by_tag()]
    assert tags[:3] == ["start", "lists", "ownership"]


def test_every_query_has_a_case_with_its_defaults():
    assert {n for n, p in CURATED_CASES if not p} == set(LIB.queries)
    for name, params in CURATED_CASES + EXTRA_CASES:
        LIB[name].bind(params)  # the test's own params are valid


@pytest.mark.parametrize("kind", ["ladybug", "neo4j"])
def test_every_query_passes_explain(answers, kind):
    assert answers(kind)["syntax"] == []


@pytest.mark.parametrize("case", CURATED_CASES, ids=case_id)
def test_same_rows_on_both_stores_curated(answers, case):
    a = _result(answers, "ladybug", "curated", case)
    b = _result(answers, "neo4j", "curated", case)
    assert a.columns == b.columns
    assert norm(a.rows) == norm(b.rows)
    assert a.truncated == b.truncated


@pytest.mark.parametrize("case", EXTRA_CASES, ids=case_id)
def test_same_rows_on_both_stores_with_test_records(answers, case):
    a = _result(answers, "ladybug", "extra", case)
    b = _result(answers, "neo4j", "extra", case)
    assert a.columns == b.columns
    assert norm(a.rows) == norm(b.rows)


@pytest.mark.parametrize("kind", ["ladybug", "neo4j"])
@pytest.mark.parametrize("qkey", list(CURATED_EXPECT), ids=lambda k: f"{k[0]}{'' if k[1] == '{}' else k[1]}")
def test_curated_graph_answers(answers, kind, qkey):
    col, value = CURATED_EXPECT[qkey]
    res = answers(kind)["curated"][qkey]
    assert not isinstance(res, Exception), res
    assert res.rows, f"{qkey} returned nothing on {kind}"
    assert value in [r[col] for r in res.records()], f"{qkey}: {value!r} not in column {col} on {kind}"


@pytest.mark.parametrize("kind", ["ladybug", "neo4j"])
@pytest.mark.parametrize("qkey", list(EXTRA_EXPECT), ids=lambda k: f"{k[0]}{'' if k[1] == '{}' else k[1]}")
def test_answers_with_test_records(answers, kind, qkey):
    col, value = EXTRA_EXPECT[qkey]
    res = answers(kind)["extra"][qkey]
    assert not isinstance(res, Exception), res
    assert value in [norm(r[col]) for r in res.records()], f"{qkey}: {value!r} not in column {col} on {kind}"


def test_hikvision_owners_include_cetc_on_ladybug(answers):
    """The one check that runs without Neo4j too."""
    res = answers("ladybug")["curated"][key(("ultimate-owners", {}))]
    assert ["company:cetc"] == [r["owner_id"] for r in res.records()]
    chain = answers("ladybug")["extra"][key(("ultimate-owners", {}))]
    assert [r["chain"] for r in chain.records()] == [
        "State assets commission (test record) > China Electronics Technology Group > Hikvision"]


def test_choices_queries_agree(answers):
    a, b = answers("ladybug")["choices"], answers("neo4j")["choices"]
    assert a == b
    assert ["us-bis-entity-list", "Entity List (BIS)"] in a[("listed-entities", "list_id")]
    assert ["company:hikvision", "Hikvision"] in a[("ultimate-owners", "company")]


def test_results_are_truncated_at_the_limit(answers):
    s = answers("ladybug")["store"]
    res = run(s, "single-source-facts", library=LIB, limit=5)
    assert len(res.rows) == 5 and res.truncated
    # the limit goes into the query (the stores keep the top rows, not all of them): same first rows
    full = run(s, "single-source-facts", library=LIB, limit=100_000)
    assert not full.truncated and len(full.rows) > 5 and full.rows[:5] == res.rows
    exact = run(s, "single-source-facts", library=LIB, limit=len(full.rows))
    assert exact.rows == full.rows and not exact.truncated
    assert L.with_limit("MATCH (n) RETURN n.id AS id ORDER BY id;\n// end\n", 6) == \
        "MATCH (n) RETURN n.id AS id ORDER BY id\nLIMIT 6"
    assert L.with_limit("MATCH (n) RETURN n LIMIT $top  // the top ones", 6).endswith("// the top ones")


@pytest.mark.parametrize("kind", ["ladybug", "neo4j"])
def test_a_query_can_cut_early_with_limit(answers, tmp_path, kind):
    """`$limit` needs no declaration and is the rows the runner reads (limit + 1): a query sorts
    and cuts with it before fetching display columns, and truncation is still told right."""
    text = GOOD.replace("MATCH (c:Company) WHERE c.country = $country\nRETURN c.id AS id ORDER BY id",
                        "MATCH (c:Company) WHERE c.country = $country\nWITH c.id AS id ORDER BY id LIMIT $limit\n"
                        "MATCH (c2:Company {id: id})\nRETURN id, c2.name AS name ORDER BY id")
    q = parse_file(write(tmp_path, "cut.cypher", text))
    assert [p.name for p in q.params] == ["country"]
    s = answers(kind)["store"]
    full = run(s, q, limit=100_000)
    assert not full.truncated and len(full.rows) > 3
    assert full.rows == sorted(full.rows)
    cut = run(s, q, limit=3)
    assert cut.truncated and cut.rows == full.rows[:3]
    exact = run(s, q, limit=len(full.rows))
    assert not exact.truncated and exact.rows == full.rows
    assert L.check_syntax(s, [q]) == []


def test_choices_method(answers):
    s = answers("ladybug")["store"]
    ch = LIB["projects-of-listed-by-country"].choices(s)
    assert ("ZW", "Zimbabwe") in ch["country"]
    assert LIB["smart-city-suppliers"].choices()["project_kind"][0] == ("smart_city", "smart_city")


# ---------------------------------------------------------------- parameters
def test_params_are_coerced_to_their_types():
    q = LIB["most-sourced"]
    assert q.bind(top="7") == {"label": "", "top": 7}
    assert LIB["designations"].bind({"include_undated": "no", "from": "2019-10-09"})["include_undated"] is False
    assert LIB["designations"].bind({"include_undated": "yes"})["include_undated"] is True
    with pytest.raises(QueryParamError, match="top: expected a whole number"):
        q.bind(top="many")
    with pytest.raises(QueryParamError, match="expected a date YYYY-MM-DD"):
        LIB["changes-since"].bind(since="2024-13-45")
    with pytest.raises(QueryParamError, match="not one of"):
        q.bind(label="Planet")
    with pytest.raises(QueryParamError, match="no parameter 'company'.*parameters: label, top"):
        q.bind(company="x")
    with pytest.raises(QueryParamError, match="null is not accepted"):
        q.bind(top=None)


@pytest.mark.parametrize("kind,value,expected", [
    ("list", "a, b,,c", ["a", "b", "c"]), ("list", '["a", "b"]', ["a", "b"]), ("list", ("x",), ["x"]),
    ("float", "0.5", 0.5), ("float", 1, 1.0), ("int", 3.0, 3), ("bool", "TRUE", True), ("string", 12, "12"),
    ("date", "2020-02-29", "2020-02-29"),
])
def test_coerce(kind, value, expected):
    assert L._coerce(kind, value) == expected


def test_run_checks_params_before_touching_the_store():
    class NoStore:
        kind = "ladybug"

        def read(self, *a, **k):  # pragma: no cover - must not be reached
            raise AssertionError("reached the store")
    with pytest.raises(QueryParamError):
        run(NoStore(), "most-sourced", library=LIB, colour="red")
    with pytest.raises(QueryError, match="no saved query named 'ultimate-owner'; did you mean ultimate-owners"):
        run(NoStore(), "ultimate-owner", library=LIB)


def test_a_param_value_is_data(answers):
    s = answers("ladybug")["store"]
    res = run(s, "find-entity", library=LIB, text="x') RETURN 1 AS x //")
    assert res.rows == []


# ---------------------------------------------------------------- the loader
GOOD = """/*
title: A test query
description: Which companies are there?
tags: [custom]
params:
  country:
    type: string
    default: CN
    help: Country code.
*/
MATCH (c:Company) WHERE c.country = $country
RETURN c.id AS id ORDER BY id
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


# ---------------------------------------------------------------- anchors and analytical queries
def test_anchor_writes_the_label_that_holds_the_id(answers):
    """`label($p)` becomes the anchor label whose table holds the id (an index lookup), so the
    rewritten Ladybug queries start from the right node whatever its label."""
    s = answers("ladybug")["store"]
    q = LIB["ownership-chain"]
    text = L.anchored(s, q, q.bind(owner="gov:test-sasac", owned="fund:calstrs"))
    assert "(a:`GovernmentBody` {id: $owner})" in text and "(b:`Fund` {id: $owned})" in text
    assert "label(" not in text
    text = L.anchored(s, q, q.bind(owner="no-such-id", owned="company:test-jv"))
    assert "(a:`Company` {id: $owner})" in text and "(b:`Company` {id: $owned})" in text
    # the rows follow the label: a fund's owners, a government body's chain
    assert run(s, "ownership-chain", library=LIB, owner="gov:test-sasac", owned="company:test-jv").rows
    assert not run(s, "ownership-chain", library=LIB, owner="no-such-id", owned="company:test-jv").rows


@pytest.mark.parametrize("text,error", [
    ("/*\ntitle: t\ndescription: d\ntags: [x]\nparams:\n  c: {type: string, default: a, help: h}\n*/\n"
     "MATCH (n:label($c) {id: $c}) RETURN n.id", "label($c) needs $c under `anchors:`"),
    ("/*\ntitle: t\ndescription: d\ntags: [x]\nanchors:\n  c: [Company, Nope]\n"
     "params:\n  c: {type: string, default: a, help: h}\n*/\nMATCH (n:label($c) {id: $c}) RETURN n.id",
     "needs a list of node labels"),
    ("/*\ntitle: t\ndescription: d\ntags: [x]\nanchors:\n  d: [Company]\n"
     "params:\n  c: {type: string, default: a, help: h}\n*/\nMATCH (n {id: $c}) RETURN n.id",
     "'d' is not a declared string parameter"),
    ("/*\ntitle: t\ndescription: d\ntags: [x]\nanalytical: [a]\n*/\nMATCH (n) RETURN n.id",
     "`analytical` is a text"),
])
def test_anchor_and_analytical_headers_are_checked(text, error):
    with pytest.raises(QueryError, match=re.escape(error)):
        parse_text(text, "q", "q.cypher")


def test_analytical_queries_say_why_and_what_to_use_instead():
    """The exemptions from the 1 s target live in the query files, each with its reason and an
    alternative; the benchmark reads them from there (no list of its own)."""
    import bench.phases
    analytical = {q.name: q.analytical for q in LIB if q.analytical}
    assert set(analytical) == {"changes-since", "entities-since", "single-source-facts", "most-sourced",
                               "find-entity", "investors-in-listed", "us-investors-in-listed",
                               "subsidiaries-not-listed"}
    for name, why in analytical.items():
        assert ("use " in why.lower() or "narrow" in why.lower()) and len(why) > 80, name
    assert not hasattr(bench.phases, "ANALYTICAL")
    assert "Analytical (reads the whole graph)" in L.markdown_table(LIB)


def test_a_good_user_query_loads(tmp_path):
    p = write(tmp_path, "my-query.cypher", GOOD)
    q = parse_file(p)
    assert (q.name, q.tags, q.params[0].default, q.builtin) == ("my-query", ["custom"], "CN", False)
    assert q.cypher_for("neo4j") == q.cypher_for("ladybug") == "MATCH (c:Company) WHERE c.country = $country\nRETURN c.id AS id ORDER BY id"
    assert q.lines["default"] == 11


@pytest.mark.parametrize("text,error", [
    (GOOD.replace("$country", "$cuntry"), r"my-query.cypher:11: \$cuntry is used but not declared"),
    (GOOD.replace("WHERE c.country = $country", ""), r"my-query.cypher:6: parameter 'country' is declared but the query never uses \$country"),
    (GOOD.replace("    default: CN\n", ""), r"my-query.cypher:6: parameter 'country': missing `default`"),
    (GOOD.replace("type: string", "type: text"), r"my-query.cypher:6: parameter 'country': type must be one of"),
    (GOOD.replace("type: string", "type: int"), r"default does not fit type int"),
    (GOOD.replace("tags: [custom]", "tags: [custom"), r"my-query.cypher:\d+: YAML error in the header"),
    (GOOD.replace("tags: [custom]", "tags: [custom]\ntitel: x"), r"my-query.cypher:5: unknown header key 'titel'"),
    (GOOD.replace("title: A test query\n", ""), r"my-query.cypher:\d+: header needs a non-empty `title`"),
    (GOOD.replace("    help: Country code.\n", ""), r"missing `help`"),
    (GOOD.replace("RETURN c.id", "SET c.x = 1 RETURN c.id"), r"my-query.cypher:12: refused at line 12, column \d+: SET writes"),
    (GOOD.replace("/*\n", "", 1), r"my-query.cypher:1: a query file starts with its header"),
    (GOOD + "// variant: oracle\nRETURN 1\n", r"my-query.cypher:13: unknown variant 'oracle'"),
    (GOOD + "// variant: ladybug\n\n", r"the ladybug variant has no Cypher"),
    (GOOD + "// variant: ladybug\nMATCH (c:Company) RETURN c.id AS id\n", r"declared but the ladybug variant never uses"),
    (GOOD.replace("default: CN", "default: CN\n    choices: [US, GB]"), r"default 'CN' is not among the choices"),
    (GOOD.replace("  country:", "  limit:").replace("$country", "$limit"), r"'limit' is reserved"),
    (GOOD.replace("help: Country code.", "help: Country code.\n    choices_query: \"MATCH (n) DELETE n\""), r"choices_query of 'country'.*DELETE writes"),
])
def test_broken_files_are_named_with_their_line(tmp_path, text, error):
    p = write(tmp_path, "my-query.cypher", text)
    with pytest.raises(QueryError, match=error):
        parse_file(p)


def test_variant_sections(tmp_path):
    text = GOOD + "// variant: ladybug\nMATCH (c:Company)\nWHERE c.country = $country RETURN label(c) AS kind\n"
    q = parse_file(write(tmp_path, "v.cypher", text))
    assert q.cypher_for("ladybug").startswith("MATCH (c:Company)\nWHERE") and "label(c)" in q.cypher_for("ladybug")
    assert "label(c)" not in q.cypher_for("neo4j")
    assert q.lines["ladybug"] == 14


def test_windows_line_ends_and_text_input():
    q = parse_text(GOOD.replace("\n", "\r\n"), "crlf")
    assert q.cypher == "MATCH (c:Company) WHERE c.country = $country\nRETURN c.id AS id ORDER BY id"
    assert q.lines["default"] == 11


def test_bad_file_names(tmp_path):
    with pytest.raises(QueryError, match="file name"):
        parse_file(write(tmp_path, "My Query.cypher", GOOD))


def test_user_folder_adds_queries_and_a_broken_file_does_not_break_the_rest(tmp_path, monkeypatch):
    write(tmp_path, "my-query.cypher", GOOD)
    write(tmp_path, "broken.cypher", GOOD.replace("$country", "$nope"))
    write(tmp_path, "ultimate-owners.cypher", GOOD)  # shadows a built-in
    monkeypatch.setenv("TECHGIANTS_QUERIES", str(tmp_path))
    lib = load_library()
    assert "my-query" in lib and not lib["my-query"].builtin
    assert "broken" not in lib
    assert lib["ultimate-owners"].builtin
    assert len(lib.errors) == 2
    assert any("broken.cypher:11: $nope is used but not declared" in e for e in lib.errors)
    assert any("ultimate-owners.cypher: a query named 'ultimate-owners' already exists" in e for e in lib.errors)
    assert len(lib) == len(LIB) + 1
    with pytest.raises(QueryError, match="broken.cypher"):
        load_library(strict=True)
    monkeypatch.setenv("TECHGIANTS_QUERIES", str(tmp_path / "missing"))
    assert "names no folder" in load_library().errors[0]


def test_syntax_errors_are_found_with_explain(answers, tmp_path):
    q = parse_file(write(tmp_path, "typo.cypher", GOOD.replace("RETURN c.id", "RETRUN c.id")))
    errs = L.check_syntax(answers("ladybug")["store"], [q])
    assert len(errs) == 1 and "typo.cypher:12: ladybug says:" in errs[0]
    q = parse_file(write(tmp_path, "prop.cypher", GOOD.replace("c.country", "c.cuntry")))
    assert L.check_syntax(answers("ladybug")["store"], [q])  # the binder knows the properties


def test_syntax_errors_are_found_with_explain_on_neo4j(answers, tmp_path):
    q = parse_file(write(tmp_path, "typo.cypher", GOOD.replace("RETURN c.id", "RETRUN c.id")))
    errs = L.check_syntax(answers("neo4j")["store"], [q])
    assert len(errs) == 1 and "typo.cypher:12: neo4j says:" in errs[0]


# ---------------------------------------------------------------- the command line
@pytest.fixture(scope="module")
def cli_app():
    import typer
    from queries.commands import register
    app = typer.Typer()

    @app.callback()
    def _main():
        pass
    register(app)
    return app


@pytest.fixture(scope="module")
def cli_store(tmp_path_factory):
    from graph.stores.ladybug import LadybugStore
    path = tmp_path_factory.mktemp("cli") / "graph.lbdb"
    s = LadybugStore(path)
    s.create_schema()
    pipeline.run(s, ingest.curated.parse(ROOT / "data" / "curated"))
    s.close()
    return str(path)


def test_cli_list_reads_like_a_table_of_contents(cli_app):
    res = CliRunner().invoke(cli_app, ["query", "--list"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    out = res.output
    assert out.index("1. Find the entity") < out.index("2. Who is restricted") < out.index("3. Who owns whom")
    for q in LIB:
        assert q.name in out and q.title in out


def test_cli_runs_a_saved_query(cli_app, cli_store):
    r = CliRunner().invoke(cli_app, ["query", "ultimate-owners", "-s", cli_store, "-p", "company=company:sensetime",
                                     "--format", "json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert "company:fidelity-investments" in [row["owner_id"] for row in data["rows"]]
    r = CliRunner().invoke(cli_app, ["query", "listed-entities", "-s", cli_store, "-f", "csv", "--limit", "2"])
    assert r.exit_code == 0
    assert r.stdout.splitlines()[0].startswith("kind,id,name")
    assert len(r.stdout.splitlines()) == 3
    r = CliRunner().invoke(cli_app, ["query", "ownership-chain", "-s", cli_store], env={"COLUMNS": "250"})
    assert r.exit_code == 0 and "Fidelity Investments > Fidelity International > SenseTime" in r.stdout


def test_cli_query_errors_are_one_line(cli_app, cli_store):
    for args, code in ((["query", "ultimate-owner", "-s", cli_store], 1),
                       (["query", "most-sourced", "-s", cli_store, "-p", "top=lots"], 2),
                       (["query", "most-sourced", "-s", cli_store, "-p", "colour=red"], 2),
                       (["query", "most-sourced", "-s", cli_store, "-p", "colour"], 2)):
        r = CliRunner().invoke(cli_app, args)
        assert r.exit_code == code, (args, r.output)
        assert len(r.output.strip().splitlines()) == 1 and r.output.startswith("error:")


def test_cli_describe_and_markdown(cli_app, cli_store):
    r = CliRunner().invoke(cli_app, ["query", "projects-of-listed-by-country", "--describe", "-s", cli_store],
                           env={"COLUMNS": "200"})
    assert r.exit_code == 0 and "ZW (Zimbabwe)" in r.output
    r = CliRunner().invoke(cli_app, ["query", "--markdown"])
    assert r.exit_code == 0 and r.stdout == L.markdown_table(LIB) + "\n"


def test_docs_table_is_up_to_date():
    doc = (ROOT / "docs" / "queries.md").read_text(encoding="utf-8")
    start, end = "<!-- queries:begin -->", "<!-- queries:end -->"
    generated = doc[doc.index(start) + len(start):doc.index(end)].strip()
    assert generated == L.markdown_table(LIB).strip(), "run `techgiants query --markdown` and paste it into docs/queries.md"


def test_cli_cypher(cli_app, cli_store):
    r = CliRunner().invoke(cli_app, ["cypher", "MATCH (c:Company)-[:LISTED_ON]->(l) RETURN c.id AS id ORDER BY id",
                                     "-s", cli_store, "-f", "csv", "-n", "3"])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == ["id", "company:dahua", "company:hikvision", "company:huawei"]
    r = CliRunner().invoke(cli_app, ["cypher", "RETURN $x AS x, $y AS y", "-s", cli_store, "-p", "x=5",
                                     "-p", "y=CREATE (n)", "-f", "json"])
    assert json.loads(r.stdout)["rows"] == [{"x": 5, "y": "CREATE (n)"}]
    r = CliRunner().invoke(cli_app, ["cypher", "MATCH (n) DETACH DELETE n", "-s", cli_store])
    assert r.exit_code == 1
    assert r.output.strip().splitlines() == ["error: refused at line 1, column 11: DETACH writes to the graph; "
                                             "the query box is read-only"]
