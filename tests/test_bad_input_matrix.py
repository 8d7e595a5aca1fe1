"""The bad-input matrix: every malformed file of tests/badinput (listed, with its expected outcome,
in tests/badinput/manifest.yaml) goes through the real ingest pipeline into both stores.

For each file: no exception escapes; every rejected record is in the quarantine with the file, the
record and a reason (and the expected field names); the good records land (exact counts per label and
type); the store stays consistent (unique ids, every relationship end exists, counts agree with the
export, a normal query works); `techgiants ingest` exits with the expected code.

`assert_consistent` is shared with the fuzz, crash and backup tests.
"""
from __future__ import annotations

import io
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from ingest import pipeline
from ingest.run import ingest_paths, records

BAD = Path(__file__).parent / "badinput"
MANIFEST = yaml.safe_load((BAD / "manifest.yaml").read_text(encoding="utf-8"))
HUGE = "@@HUGE@@"
HUGE_SIZE = 5_000_000
PASSWD_MARK = "root:x:0:0"  # what /etc/passwd would leak into the graph if an XXE were expanded


def assert_consistent(store, export: list[dict] | None = None) -> list[dict]:
    """The store invariants every test here relies on; returns the export it checked."""
    export = list(store.iter_export()) if export is None else export
    nodes = [r for r in export if "node" in r]
    rels = [r for r in export if "rel" in r]
    ids = Counter(n["props"]["id"] for n in nodes)
    dup = [i for i, c in ids.items() if c > 1]
    assert not dup, f"node ids used more than once (across labels): {dup[:5]}"
    label_of = {n["props"]["id"]: n["node"] for n in nodes}
    for n in nodes:  # required properties (the schema accepts an empty name: see the report)
        assert isinstance(n["props"].get("name"), str), f"node without a name: {n['props']['id']}"
        assert isinstance(n["props"].get("sources"), list), f"node without sources: {n['props']['id']}"
    rel_ids = Counter(r["props"]["id"] for r in rels)
    assert not [i for i, c in rel_ids.items() if c > 1], "relationship ids used more than once"
    for r in rels:
        for end, lab in (("src", "src_label"), ("dst", "dst_label")):
            assert r[end] in label_of, f"{r['rel']} {r['props']['id']}: {end} {r[end]} is not a node"
            assert label_of[r[end]] == r[lab], f"{r['rel']} {r['props']['id']}: {end} label {r[lab]} != {label_of[r[end]]}"
    counts = store.counts()
    assert counts["nodes"] == {**{k: 0 for k in counts["nodes"]}, **Counter(n["node"] for n in nodes)}
    assert counts["relationships"] == {**{k: 0 for k in counts["relationships"]}, **Counter(r["rel"] for r in rels)}
    assert all(v >= 0 for v in [*counts["nodes"].values(), *counts["relationships"].values()])
    # a normal query still works
    assert store.read("MATCH (n:Company) RETURN count(n) AS c").rows[0][0] == counts["nodes"]["Company"]
    store.search("example technology", limit=5)
    return export


def landed(store) -> dict[str, int]:
    c = store.counts()
    return {k: v for k, v in {**c["nodes"], **c["relationships"]}.items() if v}


def materialise(case: dict, tmp_path: Path) -> Path:
    """The input path; files holding the @@HUGE@@ placeholder are copied with it expanded."""
    src = BAD / case["file"]
    files = [src] if src.is_file() else [p for p in src.rglob("*") if p.is_file()]
    if not any(HUGE.encode() in p.read_bytes() for p in files):
        return src
    dst = tmp_path / "input" / src.name
    if src.is_dir():
        shutil.copytree(src, dst)
        targets = [p for p in dst.rglob("*") if p.is_file()]
    else:
        dst.parent.mkdir(parents=True)
        shutil.copy(src, dst)
        targets = [dst]
    for p in targets:
        data = p.read_bytes()
        if HUGE.encode() in data:
            p.write_bytes(data.replace(HUGE.encode(), b"N" * HUGE_SIZE))
    return dst


def _names_input(entry_file: str, path: Path) -> bool:
    """A quarantine entry's file is the input, a file inside it, or (curated) a file name inside it."""
    f = Path(entry_file)
    if f == path or path in f.parents:
        return True
    return path.is_dir() and (path / f.name).exists()


def _case_id(case: dict) -> str:
    return case["file"]


def test_manifest_lists_enough_files_of_every_format():
    kinds = Counter(c["kind"] for c in MANIFEST)
    assert len(MANIFEST) >= 40
    assert set(kinds) >= {"csl", "ofac", "uslists", "ftm", "bods", "gleif", "holdings", "13f", "jsonl", "curated", "dod1260h"}
    for c in MANIFEST:
        assert (BAD / c["file"]).exists(), c["file"]
        assert {"file", "kind", "about", "rejected", "fields", "landed", "exit"} <= set(c), c["file"]
    listed = {c["file"] for c in MANIFEST}
    assert len(listed) == len(MANIFEST), "a file is listed twice"


@pytest.mark.parametrize("case", MANIFEST, ids=_case_id)
def test_bad_input(store, case, tmp_path, request, monkeypatch):
    if case.get("pending"):
        request.applymarker(pytest.mark.xfail(strict=True, reason="pending: " + case["pending"]))
    monkeypatch.setenv("TECHGIANTS_REVIEW_QUEUE", str(tmp_path / "review-queue.jsonl"))
    path = materialise(case, tmp_path)
    q = tmp_path / "quarantine.jsonl"

    rep = pipeline.run(store, records(case["kind"], [str(path)]), file=str(path), quarantine=str(q))

    entries = [json.loads(line) for line in q.read_text(encoding="utf-8").splitlines()] if q.exists() else []
    assert len(entries) == rep.total_rejected
    for e in entries:
        assert e["file"] and e["record"] and e["reason"], e
        assert _names_input(e["file"], path), f"quarantine entry names {e['file']}, not the input {path}"
    seen_fields = {e["field"] for e in entries}
    assert set(case["fields"]) <= seen_fields, f"fields {sorted(set(case['fields']) - seen_fields)} not in {seen_fields}"
    assert rep.total_rejected == case["rejected"], [(e["record"], e["field"], e["reason"][:80]) for e in entries]
    assert landed(store) == case["landed"]
    export = assert_consistent(store)
    assert PASSWD_MARK not in json.dumps(export) + json.dumps(entries)

    if store.kind == "ladybug":  # the command's exit code (once: it opens a store of its own)
        out = io.StringIO()
        code = ingest_paths(case["kind"], [str(path)], store=str(tmp_path / "cli.lbdb"),
                            quarantine=str(tmp_path / "cli-quarantine.jsonl"),
                            console=Console(file=out, width=200), progress=False)
        assert code == case["exit"], out.getvalue()[-2000:]
        if code == 3:
            assert "rejected" in out.getvalue() and "cli-quarantine.jsonl" in out.getvalue()


def test_reloading_a_bad_file_changes_nothing(store, tmp_path):
    """Idempotence survives bad input: the good records of a mixed file load once, whatever the reruns."""
    path = BAD / "jsonl" / "mixed-bad.jsonl"
    pipeline.run(store, records("jsonl", [str(path)]), file=str(path))
    before = assert_consistent(store)
    rep = pipeline.run(store, records("jsonl", [str(path)]), file=str(path))
    assert sum(w.created + w.updated for w in rep.written.values()) == 0
    assert list(store.iter_export()) == before
