"""The investigation workspace (app.py, app_pages/): every page through Streamlit's AppTest on
the bundled graph in a temporary Ladybug store, and the page logic on both stores."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from app_pages import geo, library, logic as L, screening as S, text as T
from app_pages.graphviz import to_svg
from graph.stores.ladybug import LadybugStore
from ingest import curated, pipeline
from ingest.records import Node, Rel

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
XSS = "<script>alert(1)</script> **bold**"
SRC = "src:app-test"

CSV = ("fund,issuer_name,isin,ticker,weight\n"
       "Test Fund,Alibaba Group Holding Ltd,KYG017191142,9988,2.5%\n"
       "Test Fund,China Electronics Technology Group,,,0.01\n"
       "Test Fund,Hikvision,,,0.003\n"
       "Test Fund,Test Subsidiary Ltd,,,0.002\n"
       "Test Fund,Completely Unknown Widgets,,,0.001\n")


def app_records() -> list:
    """Test-only facts on top of the bundled graph: a listing with a Federal Register notice, a
    50% rule capture, an identifier for screening, and an entity whose name is markup."""
    s = [SRC]
    return [
        Node("Source", {"id": SRC, "name": "App test snapshot", "title": "App test snapshot", "kind": "list",
                        "publisher": "Test publisher", "url": "https://example.org/snapshot", "date": "2025-06-30",
                        "sources": s}),
        Node("Company", {"id": "company:alibaba", "name": "Alibaba Group Holding Ltd",
                         "identifiers": ["isin:KYG017191142"], "sources": s}),
        Node("Company", {"id": "company:xss-test", "name": XSS, "aliases": ["[click](javascript:alert(1))"],
                         "country": "CN", "sources": s}),
        Node("Company", {"id": "company:test-parent", "name": "Test Parent Holdings", "country": "CN", "sources": s}),
        Node("Company", {"id": "company:test-sub", "name": "Test Subsidiary Ltd", "country": "CN", "sources": s}),
        Rel("OWNS", "company:test-parent", "Company", "company:test-sub", "Company", {"share": 0.6, "sources": s}),
        Rel("LISTED_ON", "company:test-parent", "Company", "us-bis-entity-list", "SanctionsList",
            {"since": "2020-12-22", "notice": "85 FR 83416", "reason": "test listing", "sources": s}),
        Rel("LISTED_ON", "company:xss-test", "Company", "us-bis-entity-list", "SanctionsList",
            {"since": "2021-01-01", "reason": "<b>markup</b>", "sources": s}),
        Rel("CAPTURED_BY", "company:test-sub", "Company", "us-bis-entity-list", "SanctionsList",
            {"rule": "bis-affiliates", "aggregate": 0.6, "certainty": "definite", "via": ["company:test-parent"],
             "as_of": "2025-10-01", "rule_in_force": True, "derived": True, "sources": s}),
    ]


def load_app_graph(store) -> None:
    rep = pipeline.run(store, curated.parse(ROOT / "data" / "curated"))
    assert rep.total_rejected == 0
    rep = pipeline.run(store, app_records())
    assert rep.total_rejected == 0, rep.as_dict()


@pytest.fixture(scope="session")
def app_store_path(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("app") / "bundled.lbdb"
    s = LadybugStore(path)
    s.create_schema()
    load_app_graph(s)
    s.close()
    return str(path)


@pytest.fixture
def at(app_store_path, monkeypatch):
    from streamlit.testing.v1 import AppTest
    monkeypatch.setenv("TECHGIANTS_STORE", app_store_path)
    t = AppTest.from_file(APP, default_timeout=60)
    t.run()
    assert not t.exception, [e.value for e in t.exception]
    return t


def goto(at, page: str, **params):
    at.query_params.clear()
    at.query_params.update(params)
    at.switch_page(f"app_pages/views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at) -> str:
    """Everything shown as text or Markdown, joined."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "error", "warning", "info",
                 "success", "code"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def frames(at):
    return [d.value for d in at.dataframe]


# ================================================================ AppTest: every page

def test_search_shows_type_country_designations(at):
    at.text_input(key="search_q").set_value("hikvision").run()
    assert not at.exception
    df = frames(at)[0]
    top = df.iloc[0]
    assert top["id"] == "company:hikvision" and top["type"] == "Company" and top["country"] == "CN"
    assert "Entity List" in top["designations"]
    assert at.query_params.get("q") == "hikvision"


def test_search_chinese_and_accents(at):
    at.text_input(key="search_q").set_value("Société Générale zzzz").run()   # nothing: a clear message
    assert not at.exception
    at.text_input(key="search_q").set_value("huawei").run()
    assert frames(at)[0].iloc[0]["id"] == "company:huawei"


def test_profile_hikvision_designations_owners_sources(at):
    goto(at, "profile", id="company:hikvision")
    shown = texts(at)
    assert "Hikvision" in at.title[0].value
    assert "Listed" in shown and "Entity List" in shown
    dfs = frames(at)
    des = next(d for d in dfs if "list" in d.columns and "status" in d.columns)
    assert des.iloc[0]["list"] == "Entity List (BIS)" and des.iloc[0]["status"] == "in force"
    owners = next(d for d in dfs if "share" in d.columns)
    assert "company:cetc" in set(owners["id"])
    sources = next(d for d in dfs if "#" in d.columns)
    assert len(sources) >= 3 and sources["title"].str.contains("technology giants").any()
    # every fact row cites footnotes that exist in the sources table
    marks = {int(m) for d in dfs if "sources" in d.columns for v in d["sources"] for m in re.findall(r"\[(\d+)\]", str(v))}
    assert marks and marks <= set(sources["#"])


def test_profile_federal_register_link_and_capture(at):
    goto(at, "profile", id="company:test-parent")
    des = next(d for d in frames(at) if "Federal Register" in d.columns)
    assert des.iloc[0]["notice"] == "85 FR 83416"
    assert des.iloc[0]["Federal Register"].startswith("https://www.federalregister.gov/documents/search?")
    assert "85%20FR%2083416" in des.iloc[0]["Federal Register"]
    goto(at, "profile", id="company:test-sub")
    shown = texts(at)
    assert "Captured under the 50% rule" in shown
    caps = next(d for d in frames(at) if "certainty" in d.columns)
    assert caps.iloc[0]["rule"] == "bis-affiliates" and caps.iloc[0]["via"] == "Test Parent Holdings"
    assert caps.iloc[0]["aggregate"] == "60%"
    assert "Test Parent Holdings" in shown and "owns 60%" in shown   # the explanation, with names


def test_profile_unknown_and_empty_id(at):
    goto(at, "profile", id="company:does-not-exist")
    assert "No entity with id" in texts(at)
    goto(at, "profile")
    assert at.text_input(key="profile_find_q") is not None


def test_markup_in_names_shows_as_text(at):
    at.text_input(key="search_q").set_value("script alert bold").run()
    df = frames(at)[0]
    assert XSS in set(df["name"])                     # the dataframe holds the raw text
    goto(at, "profile", id="company:xss-test")
    title = at.title[0].value
    assert title == T.md_escape(XSS)                  # escaped: ** and <script> can't become markup
    assert "<script>" not in title and "**bold**" not in title
    for kind in ("markdown", "title", "caption", "subheader", "error", "warning", "info"):
        for el in getattr(at, kind):
            assert not getattr(el.proto, "allow_html", False), (kind, el.value)
    assert re.sub(r"\\(.)", r"\1", title) == XSS   # which Markdown displays as exactly the name
    des = next(d for d in frames(at) if "reason" in d.columns)
    assert des.iloc[0]["reason"] == "<b>markup</b>"   # table cells are text


def test_no_unsafe_html_anywhere_in_the_app_code():
    files = [ROOT / "app.py", *sorted((ROOT / "app_pages").rglob("*.py"))]
    for f in files:
        src = f.read_text(encoding="utf-8")
        assert not re.search(r"unsafe_allow_html\s*=\s*True", src), f
        assert "st.html(" not in src and "components.html(" not in src, f


def test_explorer_expand_path_export(at):
    goto(at, "explorer", id="company:hikvision")
    assert "nodes" in texts(at)
    ss = at.session_state
    sg = ss["xg"]
    assert "company:hikvision" in sg.nodes and "company:cetc" in sg.nodes
    n0 = len(sg.nodes)
    at.selectbox(key="xg_target").set_value("company:cetc").run()
    at.button(key="xg_expand").click().run()
    assert not at.exception
    assert len(at.session_state["xg"].nodes) >= n0
    # path between two shown entities
    at.selectbox(key="xg_pa").set_value("company:cetc").run()
    at.selectbox(key="xg_pb").set_value("company:hikvision").run()
    at.button(key="xg_path_btn").click().run()
    assert not at.exception
    assert at.session_state["xg"].path_nodes >= {"company:cetc", "company:hikvision"}
    labels = [b.label for b in at.get("download_button")]
    assert "Download JSON" in labels and "Download SVG" in labels


def test_saved_queries_page(at):
    goto(at, "saved_queries")
    if library.queries_module() is None:
        assert "not available yet" in texts(at)
        return
    lib = {library.query_info(q)["name"]: q for q in library.load_library()}
    if not lib:
        assert "library is empty" in texts(at)
        return
    name = "ultimate-owners" if "ultimate-owners" in lib else next(iter(lib))
    goto(at, "saved_queries", q=name, **{"p.company": "company:hikvision"} if name == "ultimate-owners" else {})
    shown = texts(at)
    assert f"?q={name}" in shown and "row(s)" in shown, shown        # a shared link runs the query at once
    if name == "ultimate-owners":
        assert "p.company=company%3Ahikvision" in shown
        assert "China Electronics Technology Group" in frames(at)[0].to_string()
    assert {"Download CSV", "Download JSON"} <= {b.label for b in at.get("download_button")}
    # the form: pick a query, change nothing, run it
    if "designations" in lib:
        at.selectbox(key="sq_name").set_value("designations").run()
        at.form_submit_button[0].click().run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert "row(s)" in texts(at) and "?q=designations" in texts(at)


def test_cypher_refuses_writes(at, app_store_path):
    goto(at, "cypher")
    if library.guard_module() is None:
        assert "not available yet" in texts(at)
        return
    before = LadybugStore(app_store_path, read_only=True)
    n = before.counts()["nodes"]["Company"]
    before.close()
    at.text_area(key="cy_query").set_value("CREATE (c:Company {id: 'company:evil', name: 'Evil'}) RETURN c")
    at.form_submit_button[0].click().run()
    assert not at.exception
    assert at.error, "a write must be refused with an error"
    at.text_area(key="cy_query").set_value("MATCH (c:Company {id: 'company:hikvision'}) RETURN c.name AS name, c")
    at.form_submit_button[0].click().run()
    assert not at.exception and not at.error
    df = frames(at)[0]
    assert df.iloc[0]["name"] == "Hikvision"
    assert {"Download CSV", "Download JSON"} <= {b.label for b in at.get("download_button")}
    after = LadybugStore(app_store_path, read_only=True)
    assert after.counts()["nodes"]["Company"] == n
    after.close()


def test_screening_small_csv(at):
    goto(at, "screening")
    at.file_uploader(key="scr_file").set_value(("holdings.csv", CSV.encode(), "text/csv")).run() \
        if hasattr(at, "file_uploader") else pytest.skip("AppTest without file_uploader support")
    assert not at.exception, [e.value for e in at.exception]
    dfs = frames(at)
    match = next(d for d in dfs if "matched id" in d.columns)
    by_issuer = dict(zip(match["issuer"], match["matched id"]))
    assert by_issuer["Alibaba Group Holding Ltd"] == "company:alibaba"
    assert by_issuer["Hikvision"] == "company:hikvision"
    assert by_issuer["Completely Unknown Widgets"] in ("", None)
    exp = next(d for d in dfs if "exposed id" in d.columns)
    vias = set(zip(exp["position"], exp["exposed id"], exp["via"]))
    assert ("Hikvision", "company:hikvision", "direct") in vias
    assert any(p == "Alibaba Group Holding Ltd" and e == "company:sensetime" and v == "subsidiary" for p, e, v in vias)
    assert any(e == "company:test-sub" and "50% rule" in v for _, e, v in vias)
    labels = {b.label for b in at.get("download_button")}
    assert "Download CSV" in labels and "Download printable report (HTML)" in labels
    # correct a match: Hikvision -> no match removes its direct exposure
    sel = at.selectbox(key="scr_sel_3")
    sel.set_value("")
    next(b for b in at.form_submit_button if b.label == "Apply corrections").click().run()
    exp = next((d for d in frames(at) if "exposed id" in d.columns), None)
    assert exp is None or not ((exp["position"] == "Hikvision") & (exp["via"] == "direct")).any()


def test_map_page(at):
    goto(at, "map")
    shown = texts(at)
    assert "Projects (" in shown
    projects = next(d for d in frames(at) if "project" in d.columns)
    assert {"Zimbabwe", "Australia"} <= set(projects["country"])
    if geo.available():
        assert at.get("vega_lite_chart"), "the offline world map is drawn"
    at.multiselect(key="map_kinds").set_value(["ground_station"]).run()
    projects = next(d for d in frames(at) if "project" in d.columns)
    assert set(projects["kind"]) == {"ground_station"}


def test_data_page(at):
    goto(at, "data")
    dfs = frames(at)
    lists = next(d for d in dfs if "designations" in d.columns)
    row = lists[lists["id"] == "us-bis-entity-list"].iloc[0]
    assert row["designations"] >= 10 and row["last refreshed"] == "2025-06-30"
    sources = next(d for d in dfs if "publisher" in d.columns)
    assert sources["publisher"].str.contains("ASPI").any()


def test_missing_and_empty_store(monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest
    monkeypatch.setenv("TECHGIANTS_STORE", str(tmp_path / "nowhere.lbdb"))
    t = AppTest.from_file(APP, default_timeout=60).run()
    assert not t.exception
    assert "techgiants ingest bundled" in texts(t)
    empty = tmp_path / "empty.lbdb"
    s = LadybugStore(empty)
    s.create_schema()
    s.close()
    monkeypatch.setenv("TECHGIANTS_STORE", str(empty))
    t = AppTest.from_file(APP, default_timeout=60).run()
    assert "is empty" in texts(t) and "techgiants ingest bundled" in texts(t)


def test_pages_render_fast(at):
    """Each page renders in under 2 s on the bundled graph once its caches are warm."""
    pages = [("search", {}), ("profile", {"id": "company:hikvision"}), ("explorer", {"id": "company:cetc"}),
             ("map", {}), ("saved_queries", {}), ("cypher", {}), ("screening", {}), ("data", {})]
    for page, params in pages:
        goto(at, page, **params)            # warm
        t = time.perf_counter()
        goto(at, page, **params)
        took = time.perf_counter() - t
        assert took < 2.0, f"{page} took {took:.2f} s"


# ================================================================ page logic on both stores

@pytest.fixture
def graph(store):
    load_app_graph(store)
    return store


def test_logic_search_and_designations(graph):
    hits = L.search_entities(graph, "Hikvision")
    assert hits[0]["id"] == "company:hikvision" and "Entity List (BIS)" in hits[0]["designations"]
    assert L.search_entities(graph, "company:test-sub")[0]["captured"].startswith("Entity List")
    assert L.search_entities(graph, "  ") == []
    d = L.designations(graph, ["company:test-parent", "company:hikvision", "company:nope"])
    assert d["company:test-parent"][0]["notice"] == "85 FR 83416"
    assert "company:nope" not in d


def test_logic_profile_sections(graph):
    prof = L.entity_profile(graph, "company:hikvision")
    sec = L.profile_sections(prof)
    assert sec["Designations"][0]["list"] == "Entity List (BIS)"
    assert [r["id"] for r in sec["Owners"]] == ["company:cetc"]
    assert any(r["country"] == "China" for r in sec["Projects by country"])
    assert {r["id"] for r in sec["Investors"]} >= {"fund:calstrs"}
    foot = L.footnote_rows(prof)
    assert [f["#"] for f in foot] == list(range(1, len(foot) + 1))
    sub = L.entity_profile(graph, "company:test-sub")
    caps = L.capture_rows(graph, "company:test-sub", sub)
    assert caps[0]["via"] == "Test Parent Holdings" and caps[0]["certainty"] == "definite"
    assert L.entity_profile(graph, "company:nope") is None
    gov = L.profile_sections(L.entity_profile(graph, "company:cetc"))
    assert gov["Subsidiaries and stakes"]


def test_logic_fifty_percent_explanation(graph):
    ctx = L.ownership_context(graph)
    if not ctx.available:
        pytest.skip(ctx.error)
    assert "company:test-sub" in ctx.findings
    lines = L.explain_capture(ctx, "company:test-sub", {"company:test-parent": "Test Parent Holdings"})
    assert any("Test Parent Holdings (company:test-parent) owns 60%" in x for x in lines)


def test_logic_shortest_path_and_graph(graph):
    p = L.shortest_path(graph, "company:test-sub", "company:hikvision", max_depth=4)
    assert p is not None and p["nodes"][0]["id"] == "company:test-sub" and p["nodes"][-1]["id"] == "company:hikvision"
    assert len(p["rels"]) == len(p["nodes"]) - 1
    assert L.shortest_path(graph, "company:test-sub", "company:hikvision", max_depth=1) is None
    sg = L.SubGraph()
    left = sg.add(graph.neighbourhood("us-bis-entity-list", 1, 100), cap=5, origin="us-bis-entity-list")
    assert len(sg.nodes) == 5 and left > 0 and sg.more["us-bis-entity-list"] == left
    el = L.elements(sg)
    assert all("<" not in str(v) for n in el["nodes"] for v in n["data"].values())
    assert len(el["nodes"]) == 5
    svg = to_svg(sg)
    assert svg.startswith("<svg") and "<script" not in svg


def test_logic_results_to_table_and_graph(graph):
    res = graph.read("MATCH (a:Company)-[r:OWNS]->(b:Company) WHERE b.id = 'company:hikvision' RETURN a, r, b.name")
    rows = L.table_rows(res.columns, res.rows)
    assert rows[0][res.columns[0]] == "China Electronics Technology Group (company:cetc)"
    sg = L.collect_graph(res.rows, graph)
    assert set(sg.nodes) == {"company:cetc", "company:hikvision"} and len(sg.rels) == 1
    assert '"company:cetc"' in L.json_rows(res.columns, res.rows)


def test_logic_data_and_map(graph):
    d = L.data_overview(graph)
    el = next(x for x in d["lists"] if x["id"] == "us-bis-entity-list")
    assert el["designations"] >= 10 and el["last refreshed"] == "2025-06-30"
    assert d["counts"]["nodes"]["Company"] >= 40
    md = L.map_data(graph)
    rows = L.filter_projects(md)
    assert {"ZW", "AU"} <= {r["iso2"] for r in rows}
    only = L.filter_projects(md, kinds=["ground_station"])
    assert only and {r["kind"] for r in only} == {"ground_station"}
    cw = L.filter_projects(md, companies=["company:cloudwalk"])
    assert cw and all("CloudWalk" in r["parties"] for r in cw)


def test_logic_screening(graph):
    parsed = S.parse_holdings(CSV.encode(), "h.csv")
    assert len(parsed.positions) == 5 and not parsed.rejected
    cands = S.match_positions(graph, parsed.positions)
    choices = S.default_choices(cands)
    assert choices[1] == "company:alibaba" and cands[1][0].confidence == 1.0 and cands[1][0].method == "isin"
    assert choices[3] == "company:hikvision"
    assert choices[5] is None
    facts = S.graph_facts(graph)
    rows, note = S.exposure_rows(graph, parsed.positions, choices, facts)
    vias = {(r["position"], r["exposed id"], r["via"]) for r in rows}
    assert ("Hikvision", "company:hikvision", "direct") in vias
    assert ("China Electronics Technology Group", "company:hikvision", "subsidiary") in vias
    assert ("Test Subsidiary Ltd", "company:test-sub", "direct + 50% rule") in vias
    html = S.report_html("test", parsed.positions, rows, S.match_rows(parsed.positions, cands, choices), "now")
    assert "<script>" not in html.split("<body>", 1)[1]
    assert S.report_csv(rows).decode("utf-8-sig").startswith("fund,row,position")


def test_screening_reads_the_holdings_template(graph):
    data = (ROOT / "data" / "templates" / "holdings-template.csv").read_bytes()
    parsed = S.parse_holdings(data, "holdings-template.csv")
    assert len(parsed.positions) >= 6
    assert any("isin:KYG017191142" in p.identifiers for p in parsed.positions)
    cands = S.match_positions(graph, parsed.positions)
    alibaba = next(p for p in parsed.positions if "isin:KYG017191142" in p.identifiers)
    assert cands[alibaba.row][0].id == "company:alibaba"


# ================================================================ pure helpers

def test_text_helpers():
    assert T.md_escape("**x** <b>") == r"\*\*x\*\* \<b\>"
    assert T.graph_safe("<img src=x onerror=alert(1)>") == "\u2039img src=x onerror=alert(1)\u203a"
    assert T.safe_url("javascript:alert(1)") is None and T.safe_url("https://a.b/c") == "https://a.b/c"
    assert T.fr_citations("84 FR 54002; 85 F.R. 36719") == ["84 FR 54002", "85 FR 36719"]
    assert T.fr_search_url("84 FR 54002").endswith("%2284%20FR%2054002%22")
    assert T.share_text({"share_min": 0.25, "share_max": 0.5}) == "25%–50%"
    assert "&lt;script&gt;" in T.html_report("t", [("s", ["a"], [["<script>"]])])


def test_library_helpers():
    p = library.Param("n", "int", 5, "", None, None)
    assert library.coerce(p, "7") == 7
    with pytest.raises(ValueError):
        library.coerce(p, "x")
    assert library.share_query("owners", {"id": "company:hikvision", "depth": 2, "x": None}) == \
        "?q=owners&p.id=company%3Ahikvision&p.depth=2"
    assert library.params_from_url({"q": "a", "p.id": "b"}) == {"id": "b"}


def test_offline_map_spec():
    if not geo.available():
        pytest.skip("countryinfo not installed: the map page falls back to tables")
    spec = geo.world_spec([{"iso2": "ZW", "project": "x"}])
    import json
    text = json.dumps(spec)
    assert "http" not in text              # nothing fetched at run time: no tiles, no CDN
    zw = next(f for f in spec["layer"][2]["data"]["values"] if f["properties"]["iso2"] == "ZW")
    assert zw["properties"]["projects"] == 1


def test_reload_data_sees_an_ingest_from_elsewhere(monkeypatch, tmp_path):
    """An embedded store's read-only handle keeps the snapshot it opened: Reload data replaces it."""
    from streamlit.testing.v1 import AppTest
    path = tmp_path / "reload.lbdb"
    s = LadybugStore(path)
    s.create_schema()
    load_app_graph(s)
    s.close()
    monkeypatch.setenv("TECHGIANTS_STORE", str(path))
    t = AppTest.from_file(APP, default_timeout=60).run()
    t.text_input(key="search_q").set_value("Late Arrival Widgets").run()
    assert not frames(t) or "company:late-arrival" not in set(frames(t)[0]["id"])
    w = LadybugStore(path)            # "another terminal" (the same process here: Ladybug allows it)
    pipeline.run(w, [Node("Company", {"id": "company:late-arrival", "name": "Late Arrival Widgets",
                                      "sources": [SRC]})])
    w.close()
    next(b for b in t.sidebar.button if b.label == "Reload data").click().run()
    t.text_input(key="search_q").set_value("Late Arrival Widgets").run()
    assert not t.exception
    assert frames(t)[0].iloc[0]["id"] == "company:late-arrival"
