"""The custom query box against a hostile user, on both stores.

Every input below goes through `queries.guard.run_readonly` on the curated graph plus a
sentinel node. After each one: nothing was written (node and relationship counts, the
sentinel node unchanged), no file content came back, and the process still answers a
normal query. Some inputs are refused by the static check, some by the store (EXPLAIN
classification on Neo4j, the read-only handle on Ladybug), some are harmless and run.
"""
from __future__ import annotations

import time

import pytest

import ingest.curated
from graph.store import QueryTimeout, StoreError
from ingest import pipeline
from ingest.records import Node
from queries import guard
from queries.guard import QueryRefused, check_readonly, run_readonly, tokenize
from tests.conftest import ROOT

SECRET = "techgiants-secret-7f3a9c"
SENTINEL = "company:sentinel"

REFUSED, ERROR, OK, TIMEOUT, STOPPED = "refused", "error", "ok", "timeout", "stopped"

# (label, query, params, expected outcome). STOPPED: a timeout or a memory/allocation error.
HOSTILE: list[tuple[str, str, dict, str]] = [
    # plain writes
    ("create", "CREATE (n:Company {id: 'company:evil', name: 'evil', sources: []})", {}, REFUSED),
    ("set", f"MATCH (n:Company {{id: '{SENTINEL}'}}) SET n.name = 'pwned' RETURN n", {}, REFUSED),
    ("detach-delete", "MATCH (n) DETACH DELETE n", {}, REFUSED),
    ("merge", f"MERGE (n:Company {{id: '{SENTINEL}'}}) ON MATCH SET n.name = 'pwned'", {}, REFUSED),
    ("remove", f"MATCH (n:Company {{id: '{SENTINEL}'}}) REMOVE n.description RETURN n", {}, REFUSED),
    ("delete-rel", "MATCH ()-[r:LISTED_ON]->() DELETE r", {}, REFUSED),
    ("foreach", "MATCH (n:Company) FOREACH (x IN [1] | SET n.name = 'x')", {}, REFUSED),
    ("drop-table", "DROP TABLE Company", {}, REFUSED),
    ("alter-table", "ALTER TABLE Company ADD pwned STRING", {}, REFUSED),
    ("create-macro", "CREATE MACRO evil(x) AS x", {}, REFUSED),
    ("comment-on", "COMMENT ON TABLE Company IS 'pwned'", {}, REFUSED),
    ("insert-gql", "INSERT (n:Company {id: 'company:evil'})", {}, REFUSED),
    ("union-create", "MATCH (n:Company) RETURN n.id AS id UNION CREATE (m:Company {id: 'x'}) RETURN m.id AS id", {}, REFUSED),
    ("subquery-write", "MATCH (n:Company) WITH n LIMIT 1 CALL { WITH n SET n.name = 'x' } RETURN n", {}, REFUSED),
    # case and spacing tricks
    ("lower-case", "match (n) create (m:Company {id:'x'})", {}, REFUSED),
    ("mixed-case", "MATCH (n) cReAtE (m:Company {id:'x'})", {}, REFUSED),
    ("tabs-newlines", "MATCH (n)\n\tDETACH\n\tDELETE\nn", {}, REFUSED),
    ("digit-glued", "RETURN 1CREATE (m:Company {id: 'x'})", {}, REFUSED),
    # comments
    ("comment-before", "MATCH (n) /* harmless */ CREATE (m:Company {id: 'x'})", {}, REFUSED),
    ("comment-glued", "MATCH (n)/**/DETACH/**/DELETE/**/n", {}, REFUSED),
    ("line-comment-then-write", "MATCH (n) RETURN n // just reading\nCREATE (m:Company {id: 'x'})", {}, REFUSED),
    ("comment-splits-keyword", "MATCH (n) DE/**/LETE n", {}, ERROR),      # two names, not a keyword: a syntax error
    ("nested-comment", "MATCH (n) /* /* */ CREATE (m) */ RETURN n", {}, REFUSED),
    ("keyword-in-comment", "MATCH (n:Company) /* CREATE DELETE */ RETURN count(n) AS n // SET", {}, OK),
    # strings
    ("keyword-in-string", "MATCH (n) WHERE n.name = 'CREATE' RETURN count(n) AS c", {}, OK),
    ("escaped-quote", "RETURN 'it\\'s' AS a CREATE (m:Company {id: 'x'})", {}, REFUSED),
    ("escaped-backslash", "RETURN 'a\\\\' CREATE (m:Company {id:'x'}) //' AS b", {}, REFUSED),
    ("write-inside-string", "RETURN 'a\\' CREATE (m) //' AS x", {}, OK),
    ("unterminated-string", "RETURN 'abc CREATE (m)", {}, REFUSED),
    # unicode
    ("fullwidth", "ＣＲＥＡＴＥ (m:Company {id: 'x'})", {}, REFUSED),
    ("fullwidth-delete", "MATCH (n) ＤＥＴＡＣＨ ＤＥＬＥＴＥ n", {}, REFUSED),
    ("cyrillic-e", "MATCH (n) DETACH D\u0415LETE n", {}, REFUSED),
    ("zero-width", "MATCH (n) DETACH DE\u200bLETE n", {}, REFUSED),
    ("nbsp", "MATCH\u00a0(n)\u00a0DETACH\u00a0DELETE\u00a0n", {}, REFUSED),
    ("line-separator-in-comment", "MATCH (n) RETURN n // x\u2028CREATE (m:Company {id: 'x'})", {}, REFUSED),
    ("lone-cr-in-comment", "MATCH (n) RETURN n // x\rCREATE (m:Company {id: 'x'})", {}, REFUSED),
    ("nul", "MATCH (n) RETURN n\x00CREATE (m)", {}, REFUSED),
    # backticks
    ("backticked-keyword", "MATCH (n) `CREATE` (m:Company {id: 'x'})", {}, ERROR),
    ("backtick-names-ok", "MATCH (n:`Company`) RETURN n.`name` AS `CREATE (m)` ORDER BY `CREATE (m)` LIMIT 1", {}, OK),
    ("after-backtick", "RETURN 1 AS `x` CREATE (m:Company {id: 'x'})", {}, REFUSED),
    ("unterminated-backtick", "MATCH (n) RETURN `x CREATE (m)", {}, REFUSED),
    ("doubled-backtick", "RETURN 1 AS `a``b` CREATE (m:Company {id: 'x'})", {}, REFUSED),
    # several statements
    ("two-statements", "MATCH (n) RETURN n; CREATE (m:Company {id: 'x'})", {}, REFUSED),
    ("two-semicolons", "MATCH (n) RETURN count(n) AS c;;", {}, REFUSED),
    ("read-then-delete", "RETURN 1 AS x; MATCH (n) DETACH DELETE n", {}, REFUSED),
    ("semicolon-after-string", "RETURN ';' AS x; DROP TABLE Company", {}, REFUSED),
    ("semicolon-in-string-ok", "RETURN 'a; CREATE (m)' AS x", {}, OK),
    # transactions and administration
    ("begin", "BEGIN TRANSACTION", {}, REFUSED),
    ("commit", "COMMIT", {}, REFUSED),
    ("rollback", "ROLLBACK", {}, REFUSED),
    ("checkpoint", "CHECKPOINT", {}, REFUSED),
    ("show-users", "SHOW USERS", {}, REFUSED),
    ("show-databases", "SHOW DATABASES YIELD name RETURN name", {}, REFUSED),
    ("create-user", "CREATE USER evil SET PASSWORD 'secret123' CHANGE NOT REQUIRED", {}, REFUSED),
    ("grant", "GRANT ALL ON DATABASE * TO PUBLIC", {}, REFUSED),
    ("stop-database", "STOP DATABASE neo4j", {}, REFUSED),
    ("terminate", "TERMINATE TRANSACTIONS 'neo4j-transaction-1'", {}, REFUSED),
    ("use-system", "USE system MATCH (n) RETURN n", {}, REFUSED),
    ("in-transactions", "CALL { MATCH (n:Company) SET n.name = 'x' } IN TRANSACTIONS", {}, REFUSED),
    ("explain-prefix", "EXPLAIN MATCH (n) RETURN n", {}, REFUSED),
    ("profile-prefix", "PROFILE MATCH (n) RETURN n", {}, REFUSED),
    ("cypher-options", "CYPHER runtime=slotted MATCH (n) RETURN count(n) AS n", {}, REFUSED),
    ("ladybug-setting", "CALL threads=1", {}, REFUSED),
    # procedures
    ("create-user-proc", "CALL dbms.security.createUser('evil', 'secret123', false)", {}, REFUSED),
    ("kill-queries", "CALL dbms.killQueries(['query-1'])", {}, REFUSED),
    ("create-label-proc", "CALL db.createLabel('Evil')", {}, REFUSED),
    ("apoc-write", "CALL apoc.cypher.runWrite('CREATE (n)', {})", {}, REFUSED),
    ("backticked-proc", "CALL `dbms`.`security`.`createUser`('evil', 'secret123', false)", {}, REFUSED),
    ("project-graph", "CALL project_graph('g', ['Company'], ['OWNS'])", {}, REFUSED),
    # files and network
    ("load-csv-file", f"LOAD CSV FROM 'file://{{secret}}' AS line RETURN line", {}, REFUSED),
    ("load-csv-passwd", "LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line", {}, REFUSED),
    ("load-csv-http", "LOAD CSV WITH HEADERS FROM 'http://127.0.0.1:9/x.csv' AS line RETURN line", {}, REFUSED),
    ("load-from", "LOAD FROM '{secret}' RETURN *", {}, REFUSED),
    ("copy-from", "COPY Company FROM '{secret}'", {}, REFUSED),
    ("copy-to", "COPY (MATCH (n:Company) RETURN n.id) TO '/tmp/techgiants-exfil.csv'", {}, REFUSED),
    ("export-database", "EXPORT DATABASE '/tmp/techgiants-export'", {}, REFUSED),
    ("import-database", "IMPORT DATABASE '/tmp/techgiants-export'", {}, REFUSED),
    ("install-extension", "INSTALL httpfs", {}, REFUSED),
    ("load-extension", "LOAD EXTENSION httpfs", {}, REFUSED),
    ("attach", "ATTACH '/tmp/other.lbdb' AS other (dbtype lbug)", {}, REFUSED),
    ("read-csv-call", "CALL read_csv('{secret}') RETURN *", {}, REFUSED),
    ("read-csv-function", "RETURN read_csv('{secret}') AS x", {}, REFUSED),
    ("file-info", "CALL file_info('{secret}') RETURN *", {}, REFUSED),
    ("nextval", "RETURN nextval('seq') AS x", {}, REFUSED),
    # slow queries and huge results: the timeout and the limit hold
    ("slow-unwind", "UNWIND range(1, 100000000) AS x WITH x WHERE x % 7 = 13 RETURN count(*) AS n", {}, TIMEOUT),
    ("cartesian", "MATCH (a), (b), (c), (d) WHERE a.name + b.name + c.name + d.name = 'x' RETURN count(*) AS n", {}, TIMEOUT),
    ("memory-bomb", "UNWIND range(1, 3000000000) AS x RETURN count(*) AS n", {}, STOPPED),
    ("huge-value", "RETURN range(1, 50000000) AS xs", {}, STOPPED),
    # empty and odd inputs
    ("empty", "", {}, REFUSED),
    ("only-comment", "// nothing here", {}, REFUSED),
    ("only-semicolon", ";", {}, REFUSED),
    ("too-long", "RETURN 1 AS x " + "/* pad */" * 12000, {}, REFUSED),
]


def _expand(q: str, secret_path: str) -> str:
    return q.replace("{secret}", secret_path)


# ---------------------------------------------------------------- the graph under attack
@pytest.fixture(scope="module")
def secret_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("secret") / "secret.csv"
    p.write_text(f"id,name\n1,{SECRET}\n", encoding="utf-8")
    return str(p)


@pytest.fixture(scope="module")
def graphs(request, tmp_path_factory):
    """graphs(kind) -> (store, counts, sentinel node): the curated graph plus a sentinel."""
    cache: dict = {}
    opened = []

    def get(kind: str):
        if kind not in cache:
            if kind == "ladybug":
                from graph.stores.ladybug import LadybugStore
                s = LadybugStore(tmp_path_factory.mktemp("hostile") / "graph.lbdb")
                s.create_schema()
                opened.append(s)
            else:
                s = request.getfixturevalue("_neo4j_session")
                s.clear()
            records = list(ingest.curated.parse(ROOT / "data" / "curated"))
            records.append(Node("Company", {"id": SENTINEL, "name": "Sentinel", "description": "must not change",
                                            "sources": ["src:aspi-2021"]}))
            assert pipeline.run(s, records).total_rejected == 0
            cache[kind] = (s, s.counts(), s.get(SENTINEL))
        return cache[kind]

    yield get
    for s in opened:
        s.close()


def _assert_untouched(graphs, kind):
    s, counts, sentinel = graphs(kind)
    assert s.get(SENTINEL) == sentinel
    assert s.counts() == counts
    # the process (and the query worker) still answers
    res = run_readonly(s, "MATCH (n:Company {id: $id}) RETURN n.name AS name", {"id": SENTINEL}, timeout=30)
    assert res.rows == [["Sentinel"]]


@pytest.mark.parametrize("kind", ["ladybug", "neo4j"])
@pytest.mark.parametrize("label,query,params,expected", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_input(graphs, secret_file, kind, label, query, params, expected):
    s = graphs(kind)[0]
    text = _expand(query, secret_file)
    timeout = 1.5 if expected in (TIMEOUT, STOPPED) else 10
    started = time.monotonic()
    outcome, res = None, None
    try:
        res = run_readonly(s, text, params, timeout=timeout, limit=50)
        outcome = OK
    except QueryRefused as e:
        outcome = REFUSED
        assert str(e).startswith("refused") and "\n" not in str(e)
    except QueryTimeout:
        outcome = TIMEOUT
    except StoreError as e:
        outcome = ERROR
        assert "\n" not in str(e)
    elapsed = time.monotonic() - started
    if expected == STOPPED:
        assert outcome in (TIMEOUT, ERROR), f"{label}: {outcome}"
    elif expected == ERROR:
        assert outcome in (ERROR, REFUSED), f"{label}: {outcome}"
    else:
        assert outcome == expected, f"{label}: expected {expected}, got {outcome}"
    if expected in (TIMEOUT, STOPPED):
        assert elapsed < timeout + guard.KILL_GRACE + 8, f"{label} took {elapsed:.1f} s"
    if res is not None:
        assert SECRET not in repr(res.rows)
    _assert_untouched(graphs, kind)


# ---------------------------------------------------------------- the store layer holds on its own
BYPASS = [
    ("create", "CREATE (n:Company {id: 'company:evil', name: 'evil', sources: []}) RETURN n.id AS id"),
    ("set", f"MATCH (n:Company {{id: '{SENTINEL}'}}) SET n.name = 'pwned' RETURN n.name AS name"),
    ("delete", "MATCH (n:Company) DETACH DELETE n"),
    ("merge", f"MERGE (n:Company {{id: '{SENTINEL}'}}) SET n.name = 'pwned' RETURN n.name AS name"),
]


@pytest.mark.parametrize("kind", ["ladybug", "neo4j"])
@pytest.mark.parametrize("label,query", BYPASS, ids=[b[0] for b in BYPASS])
def test_store_refuses_writes_without_the_token_check(graphs, kind, label, query):
    """Skip the static check (guard._execute): EXPLAIN classification on Neo4j, the read-only
    handle and read-only transaction on Ladybug still refuse, and nothing is written."""
    s = graphs(kind)[0]
    with pytest.raises(StoreError) as e:
        guard._execute(s, query, {}, 10, 50)
    if kind == "neo4j":
        assert isinstance(e.value, QueryRefused) and "classifies this query as" in str(e.value)
    else:
        assert "read-only" in str(e.value) or "write" in str(e.value).lower()
    _assert_untouched(graphs, kind)


# ---------------------------------------------------------------- parameters are data
@pytest.mark.parametrize("kind", ["ladybug", "neo4j"])
def test_parameter_values_are_data(graphs, kind):
    s = graphs(kind)[0]
    for value in ("x' OR 1=1 //", f"{SENTINEL}'}}) DETACH DELETE n //", "'); MATCH (n) DETACH DELETE n; //",
                  "MATCH (n) DETACH DELETE n"):
        res = run_readonly(s, "MATCH (n:Company) WHERE n.name = $name RETURN n.id AS id", {"name": value})
        assert res.rows == []
        res = run_readonly(s, "RETURN $q AS q", {"q": value})
        assert res.rows == [[value]]
    res = run_readonly(s, "MATCH (n:Company) WHERE n.id IN $ids RETURN n.id AS id ORDER BY id",
                       {"ids": [SENTINEL, "x') DETACH DELETE n //"]})
    assert res.rows == [[SENTINEL]]
    _assert_untouched(graphs, kind)


@pytest.mark.parametrize("kind", ["ladybug", "neo4j"])
def test_limit_and_truncation(graphs, kind):
    s = graphs(kind)[0]
    res = run_readonly(s, "UNWIND range(1, 1000000) AS x RETURN x", limit=10)
    assert len(res.rows) == 10 and res.truncated
    res = run_readonly(s, "MATCH (c:Company) RETURN c.id AS id ORDER BY id", limit=1000)
    assert not res.truncated and [SENTINEL] in res.rows


@pytest.mark.parametrize("kind", ["ladybug", "neo4j"])
def test_defaults_come_from_the_environment(graphs, kind, monkeypatch):
    s = graphs(kind)[0]
    monkeypatch.setenv("TECHGIANTS_QUERY_LIMIT", "3")
    res = run_readonly(s, "UNWIND range(1, 10) AS x RETURN x")
    assert len(res.rows) == 3 and res.truncated
    monkeypatch.setenv("TECHGIANTS_QUERY_TIMEOUT", "1")
    started = time.monotonic()
    with pytest.raises(QueryTimeout):
        run_readonly(s, "MATCH (a), (b), (c), (d) WHERE a.name + b.name + c.name + d.name = 'x' RETURN count(*) AS n")
    assert time.monotonic() - started < 1 + guard.KILL_GRACE + 8
    monkeypatch.setenv("TECHGIANTS_QUERY_TIMEOUT", "soon")
    with pytest.raises(StoreError, match="TECHGIANTS_QUERY_TIMEOUT"):
        run_readonly(s, "RETURN 1 AS x")


@pytest.mark.parametrize("kind", ["ladybug", "neo4j"])
def test_allowed_catalogue_procedures(graphs, kind):
    s = graphs(kind)[0]
    if kind == "neo4j":
        res = run_readonly(s, "CALL db.labels() YIELD label RETURN label ORDER BY label")
        assert ["Company"] in res.rows
    else:
        res = run_readonly(s, "CALL show_tables() RETURN name ORDER BY name")
        assert ["Company"] in res.rows


def test_url_targets(graphs):
    s = graphs("ladybug")[0]
    res = run_readonly(s.path, "MATCH (n:Company {id: $id}) RETURN n.name AS name", {"id": SENTINEL})
    assert res.rows == [["Sentinel"]]
    with pytest.raises(StoreError, match="no graph at"):
        run_readonly(s.path + ".missing", "RETURN 1 AS x")
    with pytest.raises(StoreError, match="unsupported store URL"):
        run_readonly("http://example.org/graph", "RETURN 1 AS x")


def test_ladybug_sees_new_data(graphs):
    """The worker's read-only handle is reopened when the file changes."""
    s = graphs("ladybug")[0]
    s.upsert_nodes("Company", [{"id": "company:late", "name": "Late arrival", "sources": ["src:aspi-2021"]}])
    try:
        res = run_readonly(s, "MATCH (n:Company {id: 'company:late'}) RETURN n.name AS name")
        assert res.rows == [["Late arrival"]]
    finally:
        s.delete_nodes("Company", ["company:late"])
    assert run_readonly(s, "MATCH (n:Company {id: 'company:late'}) RETURN n.name AS name").rows == []


def test_params_must_be_plain_values(graphs):
    s = graphs("ladybug")[0]
    with pytest.raises(QueryRefused, match="plain values"):
        run_readonly(s, "RETURN $x AS x", {"x": object()})
    with pytest.raises(QueryRefused):
        run_readonly(s, None)


# ---------------------------------------------------------------- the tokeniser itself
@pytest.mark.parametrize("text,kinds", [
    ("MATCH (n) RETURN n", ["word", "punct", "word", "punct", "word", "word"]),
    ("RETURN 'a\\'b' AS `x``y`, $p, $`q r`, 1.5e3, .5, 0x1F", None),
])
def test_tokenize(text, kinds):
    toks = tokenize(text)
    if kinds:
        assert [t.kind for t in toks] == kinds
    else:
        assert [(t.kind, t.value) for t in toks if t.kind != "punct"] == [
            ("word", "RETURN"), ("string", "'a\\'b'"), ("word", "AS"), ("ident", "x`y"), ("param", "p"),
            ("param", "q r"), ("number", "1.5e3"), ("number", ".5"), ("number", "0x1F")]


def test_check_keeps_the_query_and_drops_one_trailing_semicolon():
    assert check_readonly("MATCH (n) RETURN n ;  ") == "MATCH (n) RETURN n   "
    assert check_readonly("MATCH (n)\r\nRETURN n") == "MATCH (n)\nRETURN n"
    assert check_readonly("MATCH (p:Project) RETURN p.start AS start, p.`end` AS e")  # start/end are names
    with pytest.raises(QueryRefused, match="line 2, column 1: CREATE writes"):
        check_readonly("MATCH (n)\nCREATE (m)")
    with pytest.raises(QueryRefused, match="U\\+FF23 .*reads as 'C'"):
        check_readonly("ＣREATE (m)")
    with pytest.raises(QueryRefused, match="back-quote"):
        check_readonly("MATCH (n) RETURN n.set AS x")
