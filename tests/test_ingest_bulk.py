"""Bulk ingest (ingest/bulk.py, `techgiants ingest bulk DIR`) on both stores, with real data: a small
graph written by bench/generate.py, the bundled graph exported and written back as a bulk folder
(Parquet and CSV), merges compared with the record pipeline, quarantine, atomicity, and the column
checks proved equivalent to graph.schema's per-record validator (bad-input corpus and hypothesis)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.names import search_key
from graph.schema import SCHEMA, SchemaError, validate_node, validate_rel
from ingest import bulk, pipeline
from ingest.records import Node, Rel
from tests.test_bad_input_matrix import assert_consistent

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "badinput" / "jsonl"


# ---------------------------------------------------------------- data

@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """A 2,000-company graph in the bulk layout, written by the benchmark generator."""
    from bench.generate import generate, write_parquet
    out = tmp_path_factory.mktemp("tiny") / "ladybug"
    write_parquet(generate(2000, 7), out)
    return out


@pytest.fixture(scope="module")
def bundled_export(tmp_path_factory) -> list[dict]:
    """The bundled graph, ingested by the record pipeline into a Ladybug store, exported."""
    from graph.stores.ladybug import LadybugStore
    from ingest.bundled import DEFAULT_PATHS
    from ingest.resolve import Resolver
    from ingest.run import records
    s = LadybugStore(tmp_path_factory.mktemp("bundled") / "b.lbdb")
    try:
        s.create_schema()
        rep = pipeline.run(s, records("bundled", DEFAULT_PATHS), resolver=Resolver.from_store(s))
        assert rep.total_rejected == 0
        return list(s.iter_export())
    finally:
        s.close()


def _rows(folder: Path) -> dict[str, int]:
    return {p.name: pq.read_metadata(p).num_rows for p in sorted(folder.glob("*/*.parquet"))}


# ---------------------------------------------------------------- loads

def test_generated_folder_loads(store, tiny, tmp_path):
    rows = _rows(tiny)
    seen = []
    rep = bulk.load(store, tiny, quarantine=str(tmp_path / "q.jsonl"), on_file=lambda p, n: seen.append((p.path.name, n)))
    assert rep.total_rejected == 0 and not (tmp_path / "q.jsonl").exists()
    assert dict(seen) == rows  # progress: every file, with its row count
    counts = store.counts()
    for name, n in rows.items():
        key = name.split(".")[0].split("__")[0]
        assert rep.written[key].created == sum(v for k, v in rows.items() if k.split(".")[0].split("__")[0] == key)
    assert sum(counts["nodes"].values()) + sum(counts["relationships"].values()) == sum(rows.values())
    # values as in the file; search_key recomputed (the store's search finds the company)
    first = pq.read_table(tiny / "nodes" / "Company.parquet").slice(0, 1).to_pylist()[0]
    got = store.get(first["id"])
    assert got == {"label": "Company", **{k: v for k, v in first.items() if v is not None and k != "search_key"}}
    key = store.read("MATCH (n:Company {id: $id}) RETURN n.search_key", {"id": first["id"]}).rows[0][0]
    assert key == search_key(first)
    assert first["id"] in [h["id"] for h in store.search(first["name"], limit=5)]
    assert_consistent(store)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_bundled_graph_round_trip(store, bundled_export, tmp_path, fmt):
    """export (JSONL records) -> bulk folder -> bulk load into a fresh store: the same export."""
    bulk.write_folder(bundled_export, tmp_path / "bulk", fmt=fmt)
    rep = bulk.load(store, tmp_path / "bulk", quarantine=str(tmp_path / "q.jsonl"))
    assert rep.total_rejected == 0
    assert list(store.iter_export()) == bundled_export


def _merge_input() -> tuple[list, list]:
    """Two loads: a base, and an update with an id twice in it and ids already stored (list union,
    scalar overwrite), plus new rows."""
    s = ["src:a"]
    base = [Node("Source", {"id": "src:a", "name": "A", "sources": s}),
            Node("Source", {"id": "src:b", "name": "B", "sources": s}),
            Node("Company", {"id": "co:1", "name": "One Ltd", "aliases": ["One"], "country": "CN", "sources": s}),
            Node("Company", {"id": "co:2", "name": "Two Ltd", "sources": s, "founded": "2001-02-03"}),
            Node("Person", {"id": "p:1", "name": "Li Wei", "sources": s}),
            Rel("OWNS", "co:1", "Company", "co:2", "Company", {"id": "owns:1", "share": 0.3, "sources": s}),
            Rel("OFFICER_OF", "p:1", "Person", "co:2", "Company", {"id": "off:1", "role": "CEO", "sources": s})]
    t = ["src:b"]
    update = [Node("Company", {"id": "co:2", "name": "Two Group", "aliases": ["Two"], "sources": t}),
              Node("Company", {"id": "co:3", "name": "Three Ltd", "sources": t, "kind": "bank"}),
              Node("Company", {"id": "co:3", "name": "Three Bank", "aliases": ["3B"], "sources": s}),
              Node("Company", {"id": "co:1", "name": "One Ltd", "aliases": ["One", "Uno"], "sources": s}),
              Rel("OWNS", "co:1", "Company", "co:2", "Company", {"id": "owns:1", "share": 0.35, "sources": t}),
              Rel("OWNS", "co:3", "Company", "co:1", "Company", {"id": "owns:2", "sources": t}),
              Rel("OWNS", "co:3", "Company", "co:1", "Company", {"id": "owns:2", "direct": True, "sources": s}),
              Rel("OFFICER_OF", "p:1", "Person", "co:3", "Company", {"id": "off:2", "sources": t})]
    return base, update


def _as_folder(records: list, folder: Path) -> Path:
    export = [{"node": r.label, "props": r.props} if isinstance(r, Node) else
              {"rel": r.type, "src": r.src, "src_label": r.src_label, "dst": r.dst, "dst_label": r.dst_label,
               "props": r.props} for r in records]
    bulk.write_folder(export, folder)
    return folder


def test_merges_equal_the_record_pipeline(store, tmp_path):
    base, update = _merge_input()
    for recs in (base, update):
        assert pipeline.run(store, recs).total_rejected == 0
    expected = list(store.iter_export())
    store.clear()
    assert bulk.load(store, _as_folder(base, tmp_path / "base")).total_rejected == 0
    rep = bulk.load(store, _as_folder(update, tmp_path / "update"))
    assert rep.total_rejected == 0
    assert list(store.iter_export()) == expected
    assert store.get("co:3")["aliases"] == ["3B"] and store.get("co:2")["sources"] == ["src:a", "src:b"]
    # and again: loading the same folder twice changes nothing
    bulk.load(store, tmp_path / "update")
    assert list(store.iter_export()) == expected


# ---------------------------------------------------------------- quarantine

def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_bad_rows_are_quarantined_with_the_pipelines_reason(store, tmp_path):
    d = tmp_path / "bad"
    _write(d / "nodes" / "Source.csv", 'id,name,sources\n"src:x","X","[""src:x""]"\n')
    _write(d / "nodes" / "Company.csv",
           'id,name,sources,country,founded,kind,us_based\n'
           '"co:ok","Good Ltd","[""src:x""]","cn","2001-01-01","bank",true\n'      # normalised: country CN
           '"co:date","Bad Date Ltd","[""src:x""]","CN","2019-02-30",,\n'
           '"co:kind","Bad Kind Ltd","[""src:x""]",,,"spaceship",\n'
           '"co:noname",,"[""src:x""]",,,,\n'
           '"co:country","Atlantis Ltd","[""src:x""]","Atlantis",,,\n')
    pq.write_table(pa.table({"from": ["co:ok", "co:ok", "co:ok", "co:date"], "to": ["co:ok", "co:nowhere", "co:ok", "co:ok"],
                             "id": ["owns:1", "owns:2", "owns:3", "owns:4"], "sources": [["src:x"]] * 4,
                             "share": [0.5, 0.1, 1.5, 0.2]}), _mk(d / "rels" / "OWNS__Company__Company.parquet"))
    q = tmp_path / "q.jsonl"
    rep = bulk.load(store, d, quarantine=str(q))
    got = [json.loads(x) for x in q.read_text(encoding="utf-8").splitlines()]
    by_row = {(Path(g["file"]).name, g["record"]): g for g in got}
    assert rep.rejected == {"Company": 4, "OWNS": 3}
    for row, props in ((2, {"id": "co:date", "name": "Bad Date Ltd", "sources": ["src:x"], "country": "CN",
                            "founded": "2019-02-30"}),
                       (3, {"id": "co:kind", "name": "Bad Kind Ltd", "sources": ["src:x"], "kind": "spaceship"}),
                       (4, {"id": "co:noname", "sources": ["src:x"]}),
                       (5, {"id": "co:country", "name": "Atlantis Ltd", "sources": ["src:x"], "country": "Atlantis"})):
        with pytest.raises(SchemaError) as e:
            validate_node("Company", props)
        g = by_row[("Company.csv", str(row))]
        assert (g["field"], g["reason"]) == (e.value.field, str(e.value))
    assert by_row[("OWNS__Company__Company.parquet", "2")]["field"] == "dst"
    assert "co:nowhere" in by_row[("OWNS__Company__Company.parquet", "2")]["reason"]
    assert by_row[("OWNS__Company__Company.parquet", "3")]["field"] == "share"
    assert by_row[("OWNS__Company__Company.parquet", "4")]["field"] == "src"  # co:date was rejected
    assert store.get("co:ok")["country"] == "CN" and store.get("co:ok")["us_based"] is True
    assert store.counts()["relationships"]["OWNS"] == 1
    assert_consistent(store)


def _mk(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def test_cli_exit_codes(tiny, tmp_path):
    from rich.console import Console
    from ingest.run import ingest_paths
    con = Console(file=open(tmp_path / "out.txt", "w"), width=200)
    assert ingest_paths("bulk", [str(tiny)], store=str(tmp_path / "a.lbdb"), quarantine=str(tmp_path / "q1.jsonl"),
                        console=con, progress=False) == 0
    bad = tmp_path / "bad"
    shutil.copytree(tiny, bad)
    t = pq.read_table(bad / "nodes" / "Index.parquet")
    pq.write_table(t.set_column(t.schema.get_field_index("name"), "name", pa.array([None] * t.num_rows, pa.string())),
                   bad / "nodes" / "Index.parquet")
    assert ingest_paths("bulk", [str(bad)], store=str(tmp_path / "b.lbdb"), quarantine=str(tmp_path / "q2.jsonl"),
                        console=con, progress=False) == 3
    assert len((tmp_path / "q2.jsonl").read_text().splitlines()) >= t.num_rows
    _write(bad / "nodes" / "Spaceship.parquet", "")
    assert ingest_paths("bulk", [str(bad)], store=str(tmp_path / "c.lbdb"), quarantine=str(tmp_path / "q3.jsonl"),
                        console=con, progress=False) == 2


# ---------------------------------------------------------------- layout errors

@pytest.mark.parametrize("name,content,message", [
    ("nodes/Spaceship.parquet", None, "unknown label 'Spaceship'"),
    ("rels/FLIES__Company__Company.parquet", None, "unknown relationship type 'FLIES'"),
    ("rels/OWNS__Company__Index.parquet", None, "OWNS cannot go from Company to Index"),
    ("nodes/Company.txt", "x", "not a .parquet or .csv file"),
    ("nodes/Company.csv", "id,name,sources,favourite_colour\n", "column 'favourite_colour' is not a property of Company"),
    ("rels/OWNS__Company__Company.csv", "id,to,sources\n", "column 'from' missing"),
])
def test_layout_errors_name_the_file_and_write_nothing(store, tiny, tmp_path, name, content, message):
    d = tmp_path / "f"
    shutil.copytree(tiny, d)
    if content is None:
        shutil.copy(tiny / "nodes" / "Source.parquet", _mk(d / name))
    else:
        _write(d / name, content)
    with pytest.raises(bulk.BulkError) as e:
        bulk.load(store, d)
    assert message in str(e.value) and name.split("/")[1] in str(e.value) and "\n" not in str(e.value)
    assert sum(store.counts()["nodes"].values()) == 0


# ---------------------------------------------------------------- atomicity

def test_a_failure_mid_load_leaves_the_store_unchanged(store, tiny, tmp_path):
    base, _ = _merge_input()
    pipeline.run(store, base)
    before = list(store.iter_export())
    # 1. a later file is corrupt in its body (footer fine: the layout check passes, the read fails)
    d = tmp_path / "corrupt"
    shutil.copytree(tiny, d)
    last = sorted((d / "rels").glob("*.parquet"), key=lambda p: p.stat().st_size)[-1]
    raw = bytearray(last.read_bytes())
    raw[len(raw) // 4: len(raw) // 2] = b"\xff" * (len(raw) // 2 - len(raw) // 4)
    last.write_bytes(bytes(raw))
    written = []
    with pytest.raises(Exception):
        bulk.load(store, d, on_file=lambda p, n: written.append(p.path.name))
    assert len(written) >= 10  # every node file (and some relationship files) had been written
    assert list(store.iter_export()) == before
    # 2. stopped after some relationship files, merges into stored nodes included
    d2 = _as_folder(_merge_input()[1], tmp_path / "update")
    shutil.copytree(tiny / "rels", d2 / "rels", dirs_exist_ok=True)
    shutil.copytree(tiny / "nodes", d2 / "more" / "nodes")
    for f in (d2 / "more" / "nodes").iterdir():
        if not (d2 / "nodes" / f.name).exists():
            shutil.move(str(f), d2 / "nodes" / f.name)

    def stop(part, n):
        if part.kind == "rel" and part.name == "OWNS":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        bulk.load(store, d2, on_file=stop)
    assert list(store.iter_export()) == before


def test_a_failed_first_load_leaves_the_store_empty(store, tiny, tmp_path):
    """A first load into an empty graph commits file by file (no giant transaction) and, on failure,
    empties the tables it wrote: the store is as empty as before."""
    d = tmp_path / "corrupt"
    shutil.copytree(tiny, d)
    last = sorted((d / "rels").glob("*.parquet"), key=lambda p: p.stat().st_size)[-1]
    raw = bytearray(last.read_bytes())
    raw[len(raw) // 4: len(raw) // 2] = b"\xff" * (len(raw) // 2 - len(raw) // 4)
    last.write_bytes(bytes(raw))
    written = []
    with pytest.raises(Exception):
        bulk.load(store, d, on_file=lambda p, n: written.append(p.path.name))
    assert len(written) >= 10 and last.name not in written
    counts = store.counts()
    assert sum(counts["nodes"].values()) + sum(counts["relationships"].values()) == 0
    # and the store still takes the good folder afterwards
    assert bulk.load(store, tiny).total_rejected == 0
    assert sum(store.counts()["nodes"].values()) == sum(n for f, n in _rows(tiny).items() if "__" not in f)


# ---------------------------------------------------------------- equivalence with the per-record validator

def _bulk_outcome(part: bulk.Part, rows: list[dict]) -> list:
    t, typed = bulk.table_from_rows(part, rows)
    mask, fixed, bad = bulk.validate_table(t, part, typed)
    out = []
    for i, r in enumerate(rows):
        if i in bad:
            out.append(("reject", bad[i][0], bad[i][1]))
        elif i in fixed:
            out.append(("accept", fixed[i]))
        else:
            assert mask[i].as_py()
            out.append(("accept", {k: v for k, v in r.items() if v is not None and k not in ("from", "to")}))
    return out


def _record_outcome(part: bulk.Part, row: dict):
    props = {k: v for k, v in row.items() if v is not None and k not in ("from", "to")}
    try:
        if part.kind == "node":
            return ("accept", validate_node(part.name, props))
        return ("accept", validate_rel(part.name, part.src, part.dst, props))
    except SchemaError as e:
        return ("reject", e.field, str(e))


def test_bad_input_corpus_equivalence():
    """Every node and relationship line of tests/badinput/jsonl that names a known label (or type and
    allowed ends): the bulk path accepts, normalises and rejects exactly as the record validator."""
    checked = 0
    for f in sorted(BAD.glob("*.jsonl")):
        for line in f.read_bytes().splitlines():
            try:
                obj = json.loads(line.decode("utf-8"))
            except (ValueError, RecursionError):
                continue  # not a record: the JSONL parser's business, not a bulk row
            if not isinstance(obj, dict) or not isinstance(obj.get("props"), dict):
                continue
            node, rel = obj.get("node"), obj.get("rel")
            if isinstance(node, str) and node in SCHEMA.nodes:
                part = bulk.Part(f, "node", obj["node"])
                row = dict(obj["props"])
            elif isinstance(rel, str) and rel in SCHEMA.rels and obj.get("src_label") in SCHEMA.rels[obj["rel"]].sources \
                    and obj.get("dst_label") in SCHEMA.rels[obj["rel"]].targets:
                part = bulk.Part(f, "rel", obj["rel"], obj["src_label"], obj["dst_label"])
                row = {"from": str(obj.get("src")), "to": str(obj.get("dst")), **obj["props"]}
            else:
                continue
            if any(k not in part.props for k in obj["props"]):  # an unknown column: a layout error
                with pytest.raises(bulk.BulkError, match="is not a property"):
                    bulk.table_from_rows(part, [row])
                continue
            row = {k: (v.replace("@@HUGE@@", "x" * 5000) if isinstance(v, str) else v) for k, v in row.items()}
            assert _bulk_outcome(part, [row]) == [_record_outcome(part, row)], (f.name, row)
            checked += 1
    assert checked >= 20


TEXT = st.one_of(st.text(max_size=12), st.sampled_from(["", "\x00", "a\x00b", "x" * 4001, "Ünïcode 中文"]))
DATE = st.one_of(st.sampled_from(["2020-02-29", "2021-02-29", "2020-1-05", "20200105", "2020-W01-1", "0000-01-01",
                                  "9999-12-31", " 2020-01-01", "2020-01-01T00:00", "２０２０-01-01"]), st.text(max_size=10))
FLOAT = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 3), st.sampled_from([0.0, 1.0, -0.0]))
LIST = st.lists(st.one_of(st.none(), TEXT, st.sampled_from(["a", "a", "b"])), max_size=4)
WRONG = st.one_of(st.integers(), st.booleans(), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(), max_size=1))


def _value(p):
    base = {"string": TEXT, "date": DATE, "float": FLOAT, "bool": st.booleans(), "list": LIST}[p.type]
    if p.choices:
        base = st.one_of(st.sampled_from(p.choices), base)
    if p.format == "country":
        base = st.one_of(st.sampled_from(["CN", "cn", "US", "XK", "zz", "ZZZ", "Atlantis"]), base)
    return st.one_of(st.none(), base, base, base, WRONG) if not p.required else st.one_of(base, base, base, st.none(), WRONG)


def _rows_strategy(part: bulk.Part):
    props = {n: _value(p) for n, p in part.props.items() if n != "search_key"}
    row = st.fixed_dictionaries({}, optional=props)
    if part.kind == "rel":
        row = row.map(lambda r: {"from": "a", "to": "b", **r})
    return st.lists(row, min_size=1, max_size=8)


PARTS = [bulk.Part(Path("Company.parquet"), "node", "Company"), bulk.Part(Path("Project.parquet"), "node", "Project"),
         bulk.Part(Path("Person.parquet"), "node", "Person"),
         bulk.Part(Path("OWNS__Company__Company.parquet"), "rel", "OWNS", "Company", "Company"),
         bulk.Part(Path("LISTED_ON__Person__SanctionsList.parquet"), "rel", "LISTED_ON", "Person", "SanctionsList")]


@pytest.mark.parametrize("part", PARTS, ids=lambda p: p.path.stem)
def test_column_checks_equal_the_record_validator(part):
    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(_rows_strategy(part))
    def check(rows):
        assert _bulk_outcome(part, rows) == [_record_outcome(part, r) for r in rows]
    check()


@pytest.mark.parametrize("n_col,n_ids", [(5, 1000), (1000, 5), (300, 300), (0, 50), (50, 0)])
def test_member_is_is_in_whichever_side_is_hashed(n_col, n_ids):
    """The id check hashes the smaller side; the answer is is_in's either way (nulls are not members)."""
    import random
    import pyarrow as pa
    import pyarrow.compute as pc
    from ingest.bulk import _member
    rnd = random.Random(n_col * 7 + n_ids)
    ids = pa.array([f"co:{i}" for i in rnd.sample(range(3 * max(n_ids, 1)), n_ids)], pa.string())
    col = pa.array([None if rnd.random() < 0.1 else f"co:{rnd.randrange(3 * max(n_ids, 1))}" for _ in range(n_col)],
                   pa.string())
    want = pc.fill_null(pc.is_in(col, value_set=ids), False)
    assert _member(col, ids).to_pylist() == want.to_pylist()
    assert _member(pa.chunked_array([col]), ids).to_pylist() == want.to_pylist()
