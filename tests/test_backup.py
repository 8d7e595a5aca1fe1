"""Backups and migration: the whole bundled graph survives `techgiants export jsonl` +
`techgiants ingest jsonl` exactly, on both stores and across them (Ladybug -> Neo4j -> Ladybug,
compared with iter_export()); `techgiants migrate` copies it between stores, and a migration
killed with SIGKILL resumes from its checkpoint and ends with the same graph.

The bundled graph is built once per module with the real command (`techgiants ingest bundled`).
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graph.stores.ladybug import LadybugStore
from ingest import pipeline
from ingest.migrate import checkpoint_path, migrate
from ingest.run import records
from tests.test_bad_input_matrix import assert_consistent
from tests.test_crash_recovery import settle

ROOT = Path(__file__).resolve().parent.parent
SEED = 20260708
CLI = "import cli; cli.main()"


def run_cli(*args: str, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CLI, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("env")
    return {**os.environ, "TECHGIANTS_REVIEW_QUEUE": str(d / "review-queue.jsonl")}


@pytest.fixture(scope="module")
def bundled(tmp_path_factory, env) -> dict:
    """The bundled graph in an embedded store (by `techgiants ingest bundled`), its export and backup file."""
    d = tmp_path_factory.mktemp("bundled")
    db = d / "bundled.lbdb"
    out = run_cli("--store", str(db), "ingest", "bundled", "--quarantine", str(d / "q.jsonl"), env=env)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    backup = d / "backup.jsonl"
    out = run_cli("--store", str(db), "export", "jsonl", str(backup), env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    s = LadybugStore(db, read_only=True)
    try:
        export = assert_consistent(s)
        counts = s.counts()
    finally:
        s.close()
    assert len(export) > 5000 and counts["nodes"]["Company"] > 1000
    assert sum(1 for _ in open(backup, encoding="utf-8")) == len(export)
    return {"db": db, "export": export, "counts": counts, "backup": backup}


def _export_of(path: Path) -> list[dict]:
    s = LadybugStore(path, read_only=True)
    try:
        return list(s.iter_export())
    finally:
        s.close()


# ---------------------------------------------------------------- backups

def test_backup_roundtrip_ladybug(bundled, env, tmp_path):
    """export jsonl -> ingest jsonl (default options: a backup is never re-resolved) into a fresh store:
    the same graph, the same backup bytes."""
    db = tmp_path / "restored.lbdb"
    out = run_cli("--store", str(db), "ingest", "jsonl", str(bundled["backup"]),
                  "--quarantine", str(tmp_path / "q.jsonl"), env=env)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    again = tmp_path / "again.jsonl"
    s = LadybugStore(db, read_only=True)
    try:
        assert list(s.iter_export()) == bundled["export"]
        s.export_jsonl(str(again))
    finally:
        s.close()
    assert again.read_bytes() == bundled["backup"].read_bytes()


def test_backup_ladybug_to_neo4j_to_ladybug(bundled, tmp_path, request):
    """Ladybug -> (backup) -> Neo4j -> (backup) -> Ladybug: every step the same graph, the same backup bytes."""
    from tests.conftest import make_store
    neo = make_store("neo4j", tmp_path, request)  # empty; skips without a Neo4j
    rep = pipeline.run(neo, records("jsonl", [str(bundled["backup"])]), file=str(bundled["backup"]))
    assert rep.total_rejected == 0
    assert neo.counts() == bundled["counts"]
    assert assert_consistent(neo) == bundled["export"]
    neo_backup = tmp_path / "neo4j-backup.jsonl"
    neo.export_jsonl(str(neo_backup))
    assert neo_backup.read_bytes() == bundled["backup"].read_bytes(), "the backup format depends on the store"
    back = LadybugStore(tmp_path / "back.lbdb")
    try:
        back.create_schema()
        rep = pipeline.run(back, records("jsonl", [str(neo_backup)]), file=str(neo_backup))
        assert rep.total_rejected == 0
        assert list(back.iter_export()) == bundled["export"]
    finally:
        back.close()


# ---------------------------------------------------------------- migration

def _interrupted_migrate(bundled, env, tmp_path, target: str, target_store) -> None:
    """`techgiants migrate` killed (SIGKILL) inside a batch, then `--resume`d to the end."""
    rng = random.Random(SEED)
    cp = tmp_path / "migrate.checkpoint.json"
    q = tmp_path / "q.jsonl"
    args = ["migrate", "--from", str(bundled["db"]), "--to", target, "--batch", "1000", "--checkpoint", str(cp),
            "--quarantine", str(q)]
    total = len(bundled["export"])
    kill_after = rng.randint(2, total // 1000 - 2) * 1000  # records done (checkpointed) before the kill
    p = subprocess.Popen([sys.executable, "-c", CLI, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    done = 0
    deadline = time.monotonic() + 300
    while p.poll() is None and time.monotonic() < deadline:
        try:
            done = json.loads(cp.read_text())["done"]
        except (OSError, ValueError, KeyError):
            done = 0
        if done >= kill_after:
            time.sleep(rng.uniform(0.0, 0.3))  # into the next batch
            p.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    rc = p.wait(timeout=60)
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    assert rc == -signal.SIGKILL, f"the migration ended (rc {rc}) before the kill point {kill_after}: {err[-2000:]}"
    state = json.loads(cp.read_text())
    assert kill_after <= state["done"] < total

    if not callable(target_store):  # Neo4j: the server may still commit what the client sent before it died
        settle(target_store)
    partial = target_store() if callable(target_store) else target_store
    try:
        export = assert_consistent(partial)  # the target opens and is consistent after the kill
        assert len(export) >= state["done"] - 1000  # everything checkpointed is there (the last batch may be re-sent)
    finally:
        if callable(target_store):
            partial.close()

    out = run_cli(*args, "--resume", env=env)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    said = " ".join(out.stdout.split())  # rich wraps the caption to the terminal width
    assert f"{state['done']} skipped (resumed from the checkpoint)" in said, said[-1500:]
    assert not cp.exists()


def test_interrupted_migrate_resumes_ladybug(bundled, env, tmp_path):
    target = tmp_path / "target.lbdb"
    _interrupted_migrate(bundled, env, tmp_path, str(target), lambda: LadybugStore(target))
    assert _export_of(target) == bundled["export"]


def test_interrupted_migrate_resumes_neo4j(bundled, env, tmp_path, request):
    from tests.conftest import NEO4J_URI, make_store
    neo = make_store("neo4j", tmp_path, request)
    _interrupted_migrate(bundled, env, tmp_path, NEO4J_URI, neo)
    assert neo.counts() == bundled["counts"]
    assert list(neo.iter_export()) == bundled["export"]
    # ... and back: Neo4j -> a fresh embedded store, with the Python API
    back = LadybugStore(tmp_path / "back.lbdb")
    seen: list[tuple[int, int]] = []
    try:
        rep = migrate(neo, back, batch=5000, progress=lambda done, total: seen.append((done, total)))
        assert rep.matches and rep.rejected == 0 and rep.sent == len(bundled["export"]) and rep.skipped == 0
        assert seen[0] == (0, rep.total) and seen[-1] == (rep.total, rep.total)
        assert not Path(rep.checkpoint).exists()
        assert list(back.iter_export()) == bundled["export"]
    finally:
        back.close()


def test_migrate_refuses_the_same_store_and_ignores_foreign_checkpoints(bundled, tmp_path):
    from ingest.migrate import _load_checkpoint, _save_checkpoint
    src = LadybugStore(bundled["db"], read_only=True)
    dst = LadybugStore(tmp_path / "t.lbdb")
    try:
        with pytest.raises(ValueError):
            migrate(src, src)
        cp = checkpoint_path(dst)
        assert cp == Path(str(tmp_path / "t.lbdb") + ".migrate.json")
        counts = src.counts()
        _save_checkpoint(cp, src, dst, counts, 5000, 8000)
        assert _load_checkpoint(cp, src, dst, counts) == 5000
        changed = {**counts, "nodes": {**counts["nodes"], "Company": counts["nodes"]["Company"] + 1}}
        assert _load_checkpoint(cp, src, dst, changed) == 0, "resumed although the source changed"
        cp.write_text(json.dumps({"src": "elsewhere.lbdb", "dst": dst.url, "src_counts": counts, "done": 5000}))
        assert _load_checkpoint(cp, src, dst, counts) == 0, "resumed from another migration's checkpoint"
        cp.write_text('{"src": ')  # torn
        assert _load_checkpoint(cp, src, dst, counts) == 0
    finally:
        src.close()
        dst.close()
