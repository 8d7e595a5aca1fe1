"""The app as a shared deployment (docs/deployment.md): sign-in, read-only mode, secrets kept
out of the page, markup shown as text, hostile Cypher and hostile parameters through the
pages, and loading a spreadsheet through a mapping from the Data page (Ladybug and Neo4j)."""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from app_pages import auth, loading
from graph.store import StoreError
from graph.stores.ladybug import LadybugStore
from ingest.records import Node
from tests.conftest import NEO4J_URI
from tests.test_app import APP, XSS, frames, load_app_graph, texts
from tests.test_hostile_cypher import ERROR, HOSTILE, OK, REFUSED, SECRET, SENTINEL, _expand

PASSWORD = "correct horse battery staple 7Q"
NEO4J_SECRET = "neo4j-secret-Zx81!"
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "data" / "examples"

# the hostile inputs that answer at once (the slow ones: one timeout and one truncation below)
FAST_HOSTILE = [h for h in HOSTILE if h[3] in (REFUSED, ERROR, OK)]
PARAM_ATTACKS = ["company:hikvision'}) DETACH DELETE n //", "x' OR 1=1 //", "'); MATCH (n) DETACH DELETE n; //"]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for k in ("TECHGIANTS_APP_PASSWORD", "TECHGIANTS_ALLOW_WRITES", "TECHGIANTS_READ_ONLY"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setattr(auth, "FAIL_DELAY", 0.0)
    yield


def _sentinel_records():
    return [Node("Company", {"id": SENTINEL, "name": "Sentinel", "description": "must not change",
                             "sources": ["src:aspi-2021"]})]


def _fresh_ladybug(tmp_path) -> str:
    from ingest import pipeline
    path = tmp_path / "app.lbdb"
    s = LadybugStore(path)
    s.create_schema()
    load_app_graph(s)
    pipeline.run(s, _sentinel_records())
    s.close()
    return str(path)


def _fresh_neo4j(request) -> str:
    from ingest import pipeline
    s = request.getfixturevalue("_neo4j_session")
    s.clear()
    load_app_graph(s)
    pipeline.run(s, _sentinel_records())
    return NEO4J_URI


@pytest.fixture(params=["ladybug", "neo4j"])
def app_url(request, tmp_path):
    """A store with the app's test graph plus a sentinel node, fresh for each test."""
    if request.param == "ladybug":
        return _fresh_ladybug(tmp_path)
    return _fresh_neo4j(request)


@pytest.fixture
def lb_url(tmp_path):
    return _fresh_ladybug(tmp_path)


def _snapshot(url: str):
    from graph.stores import open_store
    s = open_store(url, read_only=True)
    try:
        return s.counts(), s.get(SENTINEL)
    finally:
        s.close()


def make_app(monkeypatch, url: str, **env):
    from streamlit.testing.v1 import AppTest
    monkeypatch.setenv("TECHGIANTS_STORE", url)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    t = AppTest.from_file(APP, default_timeout=90)
    t.run()
    assert not t.exception, [e.value for e in t.exception]
    return t


def rendered(at) -> str:
    """Every element's protobuf, sidebar included: all the text a browser could be sent."""
    out: list[str] = []

    def walk(node):
        p = getattr(node, "proto", None)
        if p is not None:
            out.append(str(p))
        for c in (getattr(node, "children", None) or {}).values():
            walk(c)
    walk(at._tree)
    return "\n".join(out)


def goto(at, page: str, **params):
    at.query_params.clear()
    at.query_params.update(params)
    at.switch_page(f"app_pages/views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def sign_in(at, password: str = PASSWORD):
    at.text_input(key="signin_pw").set_value(password)
    next(b for b in at.button if b.label == "Sign in").click().run()
    return at


def gated(at) -> bool:
    return any(t.key == "signin_pw" for t in at.text_input) and not at.dataframe


# ================================================================ sign-in

def test_open_without_a_password(monkeypatch, lb_url):
    at = make_app(monkeypatch, lb_url)
    assert not gated(at)
    at.text_input(key="search_q").set_value("hikvision").run()
    assert frames(at)[0].iloc[0]["id"] == "company:hikvision"
    assert "Read-only deployment." in texts(at)
    assert not [b for b in at.button if b.label == "Sign out"]


def test_sign_in_required_when_a_password_is_set(monkeypatch, lb_url):
    at = make_app(monkeypatch, lb_url, TECHGIANTS_APP_PASSWORD=PASSWORD)
    assert gated(at)
    assert "Search" not in [t.value for t in at.title]
    # no page runs before signing in, whichever the URL asks for
    for page, params in (("profile", {"id": "company:hikvision"}), ("cypher", {}), ("data", {})):
        at.query_params.clear()
        at.query_params.update(params)
        at.switch_page(f"app_pages/views/{page}.py").run()
        assert gated(at), page
        assert "Hikvision" not in rendered(at) and "Entity List" not in rendered(at)
    # a wrong password is refused
    sign_in(at, "wrong password")
    assert gated(at) and any("Wrong password" in e.value for e in at.error)
    sign_in(at, PASSWORD[:-1])
    assert gated(at)
    # the right one opens the app
    sign_in(at, PASSWORD)
    assert not gated(at), texts(at)
    goto(at, "profile", id="company:hikvision")
    assert "Hikvision" in at.title[0].value
    assert PASSWORD not in rendered(at)
    # sign out: gated again
    next(b for b in at.sidebar.button if b.label == "Sign out").click().run()
    assert gated(at)


def test_password_from_streamlit_secrets(monkeypatch, lb_url):
    from streamlit.testing.v1 import AppTest
    monkeypatch.setenv("TECHGIANTS_STORE", lb_url)
    at = AppTest.from_file(APP, default_timeout=90)
    at.secrets["app_password"] = PASSWORD
    at.run()
    assert gated(at)
    sign_in(at, "nope")
    assert gated(at)
    sign_in(at, PASSWORD)
    assert not gated(at)


def test_failed_attempts_are_rate_limited(monkeypatch, lb_url):
    at = make_app(monkeypatch, lb_url, TECHGIANTS_APP_PASSWORD=PASSWORD)
    for i in range(auth.MAX_FAILURES):
        sign_in(at, f"guess {i}")
    assert any("Too many failed attempts" in e.value for e in at.error)
    sign_in(at, PASSWORD)                      # locked out: even the right password is refused now
    assert gated(at) and any("Too many failed attempts" in e.value for e in at.error)
    fails = at.session_state["_tg_fail"]
    assert fails["n"] == auth.MAX_FAILURES and fails["until"] > 0
    at.session_state["_tg_fail"] = {"n": fails["n"], "until": 0.0}   # the lockout has passed
    sign_in(at, PASSWORD)
    assert not gated(at)


def test_address_rate_limit():
    addr, now = "198.51.100.7", 1000.0
    auth._ADDR_FAILS.pop(addr, None)
    for _ in range(auth.ADDRESS_MAX):
        assert not auth._address_blocked(addr, now)
        auth._address_failed(addr, now)
    assert auth._address_blocked(addr, now + 1)
    assert not auth._address_blocked(addr, now + auth.ADDRESS_WINDOW + 1)
    assert not auth._address_blocked(None, now)


def test_oidc_configuration_uses_st_login(monkeypatch, lb_url):
    from streamlit.testing.v1 import AppTest
    monkeypatch.setenv("TECHGIANTS_STORE", lb_url)
    monkeypatch.setenv("TECHGIANTS_APP_PASSWORD", PASSWORD)   # OIDC wins over the password
    at = AppTest.from_file(APP, default_timeout=90)
    at.secrets["auth"] = {"redirect_uri": "https://graph.example.org/oauth2callback",
                          "cookie_secret": "cookie-secret-value-123", "client_id": "techgiants",
                          "client_secret": "oidc-client-secret-456",
                          "server_metadata_url": "https://id.example.org/.well-known/openid-configuration"}
    at.run()
    assert not at.exception
    assert not at.text_input and not at.dataframe and not at.sidebar.button
    if auth.authlib_installed():
        assert [b.label for b in at.button] == ["Sign in"]
    else:                                   # fails closed, telling the admin what is missing
        assert not at.button and "Authlib" in at.error[0].value
    page = rendered(at)
    assert "oidc-client-secret-456" not in page and "cookie-secret-value-123" not in page


# ================================================================ read-only mode

def test_read_only_by_default_hides_loading(monkeypatch, lb_url):
    at = make_app(monkeypatch, lb_url)
    goto(at, "data")
    assert [t.label for t in at.tabs][:2] == ["Overview", "Load a spreadsheet (mapping)"]
    assert "Ingest a file" not in [t.label for t in at.tabs]
    at.radio(key="dl_map_src").set_value("Use an example").run()
    at.selectbox(key="dl_example").set_value("shareholders.mapping.yaml").run()
    assert not at.exception
    assert any("node(s)" in c.value for c in at.caption)                 # the preview still works
    assert not [b for b in at.button if b.key in ("dl_load", "ing_load")]
    assert any("read-only" in i.value for i in at.info)
    # TECHGIANTS_READ_ONLY=1 wins over TECHGIANTS_ALLOW_WRITES=1
    at = make_app(monkeypatch, lb_url, TECHGIANTS_ALLOW_WRITES="1", TECHGIANTS_READ_ONLY="1")
    goto(at, "data")
    assert "Ingest a file" not in [t.label for t in at.tabs]
    at.radio(key="dl_map_src").set_value("Use an example").run()
    assert not [b for b in at.button if b.key == "dl_load"]
    assert any("TECHGIANTS" in i.value and "READ" in i.value for i in at.info), [i.value for i in at.info] + [e.value for e in at.error]


def test_writes_need_the_explicit_switch(monkeypatch):
    monkeypatch.setenv("TECHGIANTS_READ_ONLY", "0")
    assert not auth.writes_allowed()                      # read-only off is not writes on
    monkeypatch.setenv("TECHGIANTS_ALLOW_WRITES", "1")
    assert auth.writes_allowed()
    monkeypatch.setenv("TECHGIANTS_READ_ONLY", "true")
    assert not auth.writes_allowed()


# ================================================================ secrets never shown

def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_secret_in_a_connection_error(monkeypatch, capfd, caplog):
    port = _closed_port()
    monkeypatch.setenv("NEO4J_USER", "neo4j")
    monkeypatch.setenv("NEO4J_PASSWORD", NEO4J_SECRET)
    for url in (f"bolt://127.0.0.1:{port}", f"bolt://neo4j:{NEO4J_SECRET}@127.0.0.1:{port}"):
        at = make_app(monkeypatch, url, TECHGIANTS_APP_PASSWORD=PASSWORD)
        sign_in(at, PASSWORD)
        assert not gated(at)
        for page in ("search", "cypher", "saved_queries", "data"):
            goto(at, page)
            page_text = rendered(at)
            assert at.error and "Cannot open the graph store" in at.error[0].value, page
            assert NEO4J_SECRET not in page_text and PASSWORD not in page_text, page
            assert not at.exception
    out, err = capfd.readouterr()
    logs = out + err + caplog.text
    assert NEO4J_SECRET not in logs and PASSWORD not in logs


def test_redact():
    os.environ.setdefault("NEO4J_PASSWORD", "")
    try:
        os.environ["NEO4J_PASSWORD"] = NEO4J_SECRET
        assert auth.redact(f"cannot reach bolt://u:{NEO4J_SECRET}@h:7687 ({NEO4J_SECRET})") == \
            "cannot reach bolt://u:***@h:7687 (***)"
        assert auth.redact("https://user:pw@example.org/x") == "https://user:***@example.org/x"
        assert auth.redact(None) == ""
    finally:
        os.environ.pop("NEO4J_PASSWORD", None)


def test_no_secret_in_query_errors(monkeypatch, app_url):
    """A failing query's message is shown, the passwords are not (both stores)."""
    if app_url.startswith("bolt"):
        monkeypatch.setenv("NEO4J_PASSWORD", NEO4J_SECRET)    # the test server ignores it (no auth)
    at = make_app(monkeypatch, app_url, TECHGIANTS_APP_PASSWORD=PASSWORD)
    sign_in(at, PASSWORD)
    goto(at, "cypher")
    # errors that echo the query text (a syntax error) still never show a password
    for q in (f"RETURN '{PASSWORD}' AS x CREATE (n)", f"RETURN '{PASSWORD}' AS x x x",
              f"MATCH (n) RETURN nosuchfunction(n, '{PASSWORD}') AS x"):
        at.text_area(key="cy_query").set_value(q)
        at.form_submit_button[0].click().run()
        assert at.error, q
        shown = "\n".join(e.value for e in at.error)
        assert PASSWORD not in shown and NEO4J_SECRET not in shown, shown
    assert "***" in shown or "nosuchfunction" in shown.lower()


# ================================================================ markup stays text

def test_markup_entity_is_text_after_sign_in(monkeypatch, lb_url):
    at = make_app(monkeypatch, lb_url, TECHGIANTS_APP_PASSWORD=PASSWORD)
    sign_in(at, PASSWORD)
    goto(at, "profile", id="company:xss-test")
    title = at.title[0].value
    assert "<script>" not in title and "**bold**" not in title
    for kind in ("markdown", "title", "caption", "subheader", "error", "warning", "info", "success"):
        for el in getattr(at, kind):
            assert not getattr(el.proto, "allow_html", False), (kind, el.value)
    goto(at, "cypher")
    at.text_area(key="cy_query").set_value("MATCH (c:Company {id: 'company:xss-test'}) RETURN c.name AS name")
    at.form_submit_button[0].click().run()
    assert frames(at)[0].iloc[0]["name"] == XSS          # a table cell: the raw text, never markup


def test_markup_in_an_uploaded_table_is_text(monkeypatch, lb_url):
    at = make_app(monkeypatch, lb_url)
    goto(at, "data")
    at.radio(key="dl_map_src").set_value("Use an example").run()
    at.selectbox(key="dl_example").set_value("shareholders.mapping.yaml").run()
    csv = (EXAMPLES / "shareholders.csv").read_text(encoding="utf-8").splitlines()
    head, first = csv[0], csv[1].split(",")
    first[2] = "<img src=x onerror=alert(1)>"
    at.file_uploader(key="dl_data").set_value(("evil.csv", (head + "\n" + ",".join(first) + "\n").encode(), "text/csv"))
    at.run()
    assert not at.exception
    nodes = next(d for d in frames(at) if "label" in d.columns and "name" in d.columns)
    assert "<img src=x onerror=alert(1)>" in set(nodes["name"])
    for kind in ("markdown", "caption", "error", "warning", "info", "success"):
        for el in getattr(at, kind):
            assert not getattr(el.proto, "allow_html", False)
            assert "<img" not in el.value


# ================================================================ hostile Cypher through the Cypher page

def _run_cypher(at, query: str, params: str = "{}", timeout: float | None = None, limit: int | None = None):
    at.text_area(key="cy_query").set_value(query)
    at.text_input(key="cy_params").set_value(params)
    if timeout is not None:
        at.number_input(key="cy_timeout").set_value(timeout)
    if limit is not None:
        at.number_input(key="cy_limit").set_value(limit)
    at.form_submit_button[0].click().run()
    assert not at.exception, (query, [e.value for e in at.exception])
    return at


def test_hostile_cypher_through_the_page(monkeypatch, app_url, tmp_path):
    secret_file = tmp_path / "secret.csv"
    secret_file.write_text(f"id,name\n1,{SECRET}\n", encoding="utf-8")
    before = _snapshot(app_url)
    at = make_app(monkeypatch, app_url)
    goto(at, "cypher")
    assert len(FAST_HOSTILE) >= 15
    for label, query, params, expected in FAST_HOSTILE:
        _run_cypher(at, _expand(query, str(secret_file)), limit=50)
        errors = [e.value for e in at.error]
        if expected == REFUSED:
            assert errors and "refused" in errors[0], (label, errors)
        elif expected == OK:
            assert not errors, (label, errors)
        else:
            assert errors, label
        assert SECRET not in rendered(at), label
    # the slow one times out, the huge one is cut at the row limit
    _run_cypher(at, "MATCH (a), (b), (c), (d) WHERE a.name + b.name + c.name + d.name = 'x' RETURN count(*) AS n",
                timeout=1.0)
    assert at.error and ("Timeout" in at.error[0].value or "stopped" in at.error[0].value)
    _run_cypher(at, "UNWIND range(1, 1000000) AS x RETURN x", timeout=30.0, limit=10)
    assert not at.error and "truncated" in texts(at) and len(frames(at)[0]) == 10
    # nothing was written, and the page still answers
    assert _snapshot(app_url) == before
    _run_cypher(at, "MATCH (n:Company {id: $id}) RETURN n.name AS name", params='{"id": "%s"}' % SENTINEL, limit=5)
    assert not at.error and frames(at)[0].iloc[0]["name"] == "Sentinel"


def test_parameters_are_data_through_the_pages(monkeypatch, app_url):
    before = _snapshot(app_url)
    at = make_app(monkeypatch, app_url)
    goto(at, "cypher")
    import json
    for value in PARAM_ATTACKS:
        _run_cypher(at, "RETURN $q AS q", params=json.dumps({"q": value}), timeout=30.0, limit=5)
        assert not at.error and frames(at)[0].iloc[0]["q"] == value
        _run_cypher(at, "MATCH (n:Company) WHERE n.id = $id RETURN n.id AS id", params=json.dumps({"id": value}),
                    timeout=30.0, limit=5)
        assert not at.error and "0 row(s)" in texts(at)
    # saved queries: the value from a shared link goes in as a parameter
    for name, param in (("sources-for", "entity"), ("find-entity", "text"), ("search-identifier", "identifier")):
        for value in PARAM_ATTACKS:
            goto(at, "saved_queries", q=name, **{f"p.{param}": value})
            assert not at.error, (name, value, [e.value for e in at.error])
            assert "row(s)" in texts(at)
            assert at.text_input(key=f"sq_{name}_{param}").value == value
    assert _snapshot(app_url) == before


# ================================================================ Data page: load a spreadsheet through a mapping

def test_load_an_example_mapping(monkeypatch, app_url):
    at = make_app(monkeypatch, app_url, TECHGIANTS_ALLOW_WRITES="1")
    goto(at, "data")
    assert "Ingest a file" in [t.label for t in at.tabs]
    at.radio(key="dl_map_src").set_value("Use an example").run()
    at.selectbox(key="dl_example").set_value("shareholders.mapping.yaml").run()
    nodes = next(d for d in frames(at) if "label" in d.columns and "name" in d.columns)
    assert "company:example-vision-technology-co-ltd" in set(nodes["id"])
    rels = next(d for d in frames(at) if "type" in d.columns and "from" in d.columns)
    assert set(rels["type"]) == {"OWNS"}
    n_before = _snapshot(app_url)[0]["nodes"].get("Company", 0)
    at.button(key="dl_load").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.success and "Loaded" in at.success[0].value
    report = next(d for d in frames(at) if "label / type" in d.columns)
    assert int(report[report["label / type"] == "OWNS"]["created"].iloc[0]) == 7
    assert _snapshot(app_url)[0]["nodes"]["Company"] == n_before + 3
    # the app reads the new data at once (the read-only handle was refreshed)
    goto(at, "search")
    at.text_input(key="search_q").set_value("Example Vision Technology").run()
    assert frames(at)[0].iloc[0]["id"] == "company:example-vision-technology-co-ltd"
    goto(at, "profile", id="company:example-vision-technology-co-ltd")
    assert "Example Vision Technology" in at.title[0].value
    # loading again changes nothing
    goto(at, "data")
    at.radio(key="dl_map_src").set_value("Use an example").run()
    at.selectbox(key="dl_example").set_value("shareholders.mapping.yaml").run()
    at.button(key="dl_load").click().run()
    report = next(d for d in frames(at) if "label / type" in d.columns)
    assert report["created"].sum() == 0


def test_upload_mapping_and_data_with_rejects(monkeypatch, app_url):
    at = make_app(monkeypatch, app_url, TECHGIANTS_ALLOW_WRITES="1")
    goto(at, "data")
    mapping = (EXAMPLES / "shareholders.mapping.yaml").read_bytes()
    lines = (EXAMPLES / "shareholders.csv").read_text(encoding="utf-8").splitlines()
    head = lines[0].split(",")
    bad = lines[1].split(",")
    bad[head.index("Shareholding")] = "lots"
    data = "\n".join([lines[0], ",".join(bad), *lines[2:]]) + "\n"
    at.file_uploader(key="dl_mapping").set_value(("shareholders.mapping.yaml", mapping, "application/x-yaml"))
    at.run()
    assert any("Upload the data file" in i.value for i in at.info)        # no server file is read for it
    at.file_uploader(key="dl_data").set_value(("filing.csv", data.encode(), "text/csv"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    rejected = next(d for d in frames(at) if "reason" in d.columns)
    assert list(rejected["row"]) == ["row 2"] and list(rejected["column"]) == ["Shareholding"]
    assert "lots" in rejected["reason"].iloc[0]
    at.button(key="dl_load").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.warning and "1 record(s) rejected" in at.warning[-1].value
    q = next(d for d in frames(at) if "reason" in d.columns and "record" in d.columns)
    assert list(q["column"]) == ["Shareholding"]
    assert any(b.label == "Download the quarantine (JSON lines)" for b in at.get("download_button"))


def test_ingest_a_standard_format(monkeypatch, lb_url):
    at = make_app(monkeypatch, lb_url, TECHGIANTS_ALLOW_WRITES="1")
    goto(at, "data")
    at.selectbox(key="ing_kind").set_value("holdings").run()
    data = (ROOT / "data" / "templates" / "holdings-template.csv").read_bytes()
    at.file_uploader(key="ing_file").set_value(("holdings-template.csv", data, "text/csv")).run()
    at.button(key="ing_load").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    report = next(d for d in frames(at) if "label / type" in d.columns)
    assert "HOLDS" in set(report["label / type"])
    assert _snapshot(lb_url)[0]["relationships"]["HOLDS"] > 0


def test_uploaded_mapping_is_never_a_server_path(tmp_path):
    from ingest.mapping import MappingError
    with pytest.raises(MappingError):
        loading.mapping_from_text(b"/etc/passwd", tmp_path)          # one line: YAML text, not a path
    m = loading.mapping_from_text(b"data: /etc/passwd\nentities:\n  c:\n    label: Company\n    id: 'company:{x}'\n"
                                  b"    properties: {name: '{x}'}\n", tmp_path)
    assert m.data == [("/etc/passwd", m.data[0][1])]     # kept as written, but the app never reads it
    assert loading.safe_name("../../etc/passwd") == "passwd"
    assert loading.safe_name("..\\x\\evil name.csv") == "evil_name.csv"


# ================================================================ the write handle beside the read-only one

def _example_records():
    return loading.mapping_records(loading.example_mapping("shareholders.mapping.yaml"), None)


def test_load_beside_an_open_read_only_handle(lb_url):
    ro = LadybugStore(lb_url, read_only=True)
    try:
        n = ro.counts()["nodes"]["Company"]
        res = loading.load(lb_url, _example_records(), file="shareholders.csv")
        assert not res.reopened and res.report.total_rejected == 0
        assert ro.counts()["nodes"]["Company"] == n          # the old handle keeps its snapshot
        fresh = LadybugStore(lb_url, read_only=True)
        assert fresh.counts()["nodes"]["Company"] == n + 3   # a new one sees the load
        fresh.close()
    finally:
        ro.close()


def test_load_closes_the_read_only_handle_when_it_must(lb_url, monkeypatch):
    import graph.stores as stores
    real = stores.open_store
    calls = {"open": 0, "closed": 0}
    ro = LadybugStore(lb_url, read_only=True)

    def flaky(url, read_only=False, **kw):
        calls["open"] += 1
        if not read_only and calls["open"] == 1:
            raise StoreError("cannot open: the database is locked")
        return real(url, read_only=read_only, **kw)

    def close_ro():
        calls["closed"] += 1
        ro.close()
    monkeypatch.setattr(stores, "open_store", flaky)
    res = loading.load(lb_url, _example_records(), file="shareholders.csv", on_conflict=close_ro)
    assert res.reopened and calls == {"open": 2, "closed": 1}
    s = LadybugStore(lb_url, read_only=True)
    assert s.get("company:example-vision-technology-co-ltd") is not None
    s.close()


def test_one_load_at_a_time(lb_url):
    assert loading.WRITE_LOCK.acquire(blocking=False)
    try:
        with pytest.raises(loading.LoadBusy):
            loading.load(lb_url, [], file="x")
    finally:
        loading.WRITE_LOCK.release()


def test_upload_size_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("TECHGIANTS_UPLOAD_MB", "0.001")
    with loading.Workdir() as wd:
        with pytest.raises(ValueError, match="TECHGIANTS_UPLOAD_MB"):
            wd.save("big.csv", b"x" * 5000)
        assert wd.save("small.csv", b"a,b\n").endswith("small.csv")
    assert not wd.path.exists()


def test_no_unsafe_html_in_new_code():
    for f in (ROOT / "app_pages" / "auth.py", ROOT / "app_pages" / "loading.py", ROOT / "app_pages" / "views" / "data.py"):
        src = f.read_text(encoding="utf-8")
        assert "unsafe_allow_html" not in src and "st.html(" not in src
