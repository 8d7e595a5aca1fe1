"""Crashes: `techgiants ingest` killed with SIGKILL at random (seeded) points, then recovery.

Ladybug: the writer process is killed while it writes (the kill point is a random fraction of the
WAL a full run writes, so kills land inside transactions); the store must open (Ladybug replays its
WAL), be consistent, hold whole batches only (a batch lands completely or not at all), and a re-run
must end exactly where an uninterrupted run into a fresh store ends (same counts, same export).
Neo4j: the client is killed while one of its write transactions is open on the server (seen in
SHOW TRANSACTIONS); the server rolls the transaction back; same checks.

Every round after the first re-ingests the same records with new values in one property per label
and type (description, start, role), so every round writes and a torn batch would show as a batch
with mixed values. The last run uses the first input again, whose values win (scalars take the new
value; lists are the same in every round).

Also: a reader process keeps answering while a writer process ingests into the same embedded file
(read-only handles; see docs/reliability.md for what Ladybug allows and the retry the reader needs).
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections import defaultdict
from pathlib import Path

from graph.stores.ladybug import LadybugStore
from ingest import pipeline
from ingest.run import records
from tests.test_bad_input_matrix import assert_consistent

ROOT = Path(__file__).resolve().parent.parent
SEED = 20260707
KILLS = 5
SIZES = {"Company": 8000, "Person": 2000, "OWNS": 6000, "OFFICER_OF": 4000}   # 20,000 records
NEO4J_SIZES = {"Company": 2000, "Person": 400, "OWNS": 1600, "OFFICER_OF": 400}   # 4,400: four write transactions
MARK = {"Company": "description", "Person": "description", "OWNS": "start", "OFFICER_OF": "role"}
SRC = ["src:crash-test"]


# ---------------------------------------------------------------- input and its transactions

def _marker(kind: str, tag: int) -> str:
    return f"{2000 + tag:04d}-01-01" if kind == "OWNS" else f"crash round {tag}"


def write_input(path: Path, tag: int, sizes: dict) -> list[tuple[str, list[str]]]:
    """Write the JSONL input for round `tag`; return its write transactions as (label/type, ids),
    by the batching rule of ingest.pipeline (BATCH records; nodes before the relationships)."""
    nc, npers, no, nf = sizes["Company"], sizes["Person"], sizes["OWNS"], sizes["OFFICER_OF"]
    recs = []
    for i in range(nc):
        recs.append({"node": "Company", "props": {"id": f"crash:c{i:05d}", "name": f"Crash Test Company {i}",
                                                  "aliases": [f"CTC {i}"], "country": "CN", "sources": SRC,
                                                  "description": _marker("Company", tag)}})
    for i in range(npers):
        recs.append({"node": "Person", "props": {"id": f"crash:p{i:05d}", "name": f"Crash Test Person {i}",
                                                 "sources": SRC, "description": _marker("Person", tag)}})
    for i in range(no):
        a, b = i % nc, (i * 7 + 1) % nc
        recs.append({"rel": "OWNS", "src": f"crash:c{a:05d}", "src_label": "Company", "dst": f"crash:c{b:05d}",
                     "dst_label": "Company", "props": {"id": f"owns:crash{i:05d}", "share": (i % 100) / 100,
                                                       "sources": SRC, "start": _marker("OWNS", tag)}})
    for i in range(nf):
        recs.append({"rel": "OFFICER_OF", "src": f"crash:p{i % npers:05d}", "src_label": "Person",
                     "dst": f"crash:c{i % nc:05d}", "dst_label": "Company",
                     "props": {"id": f"officer_of:crash{i:05d}", "sources": SRC, "role": _marker("OFFICER_OF", tag)}})
    with open(path, "w", encoding="utf-8") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")
    return _transactions(recs)


def _transactions(recs: list[dict]) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    nodes: dict[str, list[str]] = defaultdict(list)
    rels: list[tuple[str, str]] = []
    pending = 0

    def flush_nodes():
        nonlocal pending
        out.extend((label, ids) for label, ids in nodes.items())
        nodes.clear()
        pending = 0

    def flush_rels():
        flush_nodes()
        by_type: dict[str, list[str]] = defaultdict(list)
        for t, i in rels:
            by_type[t].append(i)
        out.extend(by_type.items())
        rels.clear()

    for r in recs:
        if "node" in r:
            nodes[r["node"]].append(r["props"]["id"])
            pending += 1
            if pending >= pipeline.BATCH:
                flush_nodes()
        else:
            rels.append((r["rel"], r["props"]["id"]))
            if len(rels) >= pipeline.BATCH:
                flush_rels()
    flush_rels()
    return out


def assert_whole_batches(export: list[dict], transactions: list[tuple[str, list[str]]]) -> None:
    """Every write transaction of the input landed completely or not at all, with one round's values."""
    value: dict[str, str] = {}
    for r in export:
        kind = r.get("node") or r.get("rel")
        if kind in MARK:
            value[r["props"]["id"]] = r["props"].get(MARK[kind])
    for name, ids in transactions:
        present = [i for i in ids if i in value]
        assert len(present) in (0, len(ids)), f"{name}: {len(present)} of the {len(ids)} records of one batch landed"
        rounds = {value[i] for i in present}
        assert len(rounds) <= 1, f"{name}: one batch holds values of several rounds: {sorted(rounds)[:4]}"


def reference_export(path: Path, tmp_path: Path) -> tuple[list[dict], dict, int]:
    """An uninterrupted run into a fresh embedded store: (export, counts, WAL bytes it wrote)."""
    s = LadybugStore(tmp_path / "reference.lbdb")
    s.create_schema()
    rep = pipeline.run(s, records("jsonl", [str(path)]), file=str(path))
    assert rep.total_rejected == 0
    wal = os.path.getsize(tmp_path / "reference.lbdb.wal")
    export, counts = list(s.iter_export()), s.counts()
    s.close()
    return export, counts, wal


def _ingest_cmd(store: str, path: Path, q: Path) -> list[str]:
    return [sys.executable, "-c", "import cli; cli.main()", "--store", store, "ingest", "jsonl", str(path),
            "--no-resolve", "--quarantine", str(q)]


def _env(tmp_path: Path) -> dict:
    return {**os.environ, "TECHGIANTS_REVIEW_QUEUE": str(tmp_path / "review-queue.jsonl")}


# ---------------------------------------------------------------- Ladybug

def _run_and_kill_at_wal(cmd: list[str], wal: Path, kill_at: int, env: dict, timeout: float = 120) -> dict:
    """Start the ingest; SIGKILL it once its WAL holds `kill_at` bytes. Returns what happened."""
    p = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    size = 0
    while p.poll() is None and time.monotonic() < deadline:
        try:
            size = wal.stat().st_size
        except FileNotFoundError:
            size = 0
        if size >= kill_at:
            p.send_signal(signal.SIGKILL)
            break
        time.sleep(0.002)
    rc = p.wait(timeout=60)
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    return {"killed": rc == -signal.SIGKILL, "rc": rc, "wal_bytes": size, "stderr": err[-2000:]}


def test_ladybug_ingest_survives_sigkill(tmp_path):
    rng = random.Random(SEED)
    env = _env(tmp_path)
    final = tmp_path / "round-0.jsonl"
    transactions = write_input(final, 0, SIZES)
    ref_export, ref_counts, wal_bytes = reference_export(final, tmp_path)
    db = tmp_path / "crash.lbdb"
    wal = Path(str(db) + ".wal")
    kills, rounds = [], 0
    while len(kills) < KILLS and rounds < 2 * KILLS:
        rounds += 1
        path = tmp_path / f"round-{rounds}.jsonl"
        write_input(path, rounds, SIZES)
        kill_at = int(rng.uniform(0.03, 0.97) * wal_bytes)
        res = _run_and_kill_at_wal(_ingest_cmd(str(db), path, tmp_path / "q.jsonl"), wal, kill_at, env)
        assert res["killed"] or res["rc"] == 0, res
        if res["killed"]:
            kills.append(res)
            assert wal.exists(), "killed while writing, yet no WAL left to recover from"
        s = LadybugStore(db)  # opening recovers from the WAL
        try:
            export = assert_consistent(s)
            assert_whole_batches(export, transactions)
        finally:
            s.close()
        path.unlink()
    assert len(kills) >= KILLS, f"only {len(kills)} of {rounds} rounds were killed before they finished"

    out = subprocess.run(_ingest_cmd(str(db), final, tmp_path / "q.jsonl"), cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    s = LadybugStore(db, read_only=True)
    try:
        assert s.counts() == ref_counts
        assert list(s.iter_export()) == ref_export
    finally:
        s.close()


# ---------------------------------------------------------------- Neo4j

def _write_transactions(store) -> set[str]:
    """Ids of the write transactions open on the server (the ingest's UNWIND ... CREATE / SET)."""
    with store.driver.session(database=store.database) as ses:
        rows = ses.run("SHOW TRANSACTIONS YIELD transactionId, currentQuery").data()
    return {r["transactionId"] for r in rows
            if r["currentQuery"] and "UNWIND $rows" in r["currentQuery"]
            and ("CREATE" in r["currentQuery"] or "SET" in r["currentQuery"])}


def _run_and_kill_in_transaction(cmd, store, nth: int, delay: float, env, timeout: float = 180) -> dict:
    """Start the ingest; SIGKILL it `delay` s after its `nth` write transaction shows up on the server."""
    p = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    killed_in: str | None = None
    while p.poll() is None and time.monotonic() < deadline:
        open_now = _write_transactions(store)
        new = open_now - seen
        seen |= open_now
        if new and len(seen) >= nth:
            time.sleep(delay)
            killed_in = sorted(new)[0]
            p.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    rc = p.wait(timeout=60)
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    settle(store)
    assert not _write_transactions(store), "the killed client's transaction is still open on the server"
    return {"killed": rc == -signal.SIGKILL, "rc": rc, "transaction": killed_in, "stderr": err[-2000:]}


def settle(store, timeout: float = 30.0) -> None:
    """Wait until a killed client's work is over on the server: no write transaction of it open
    (the server rolls it back when it notices the dropped connection, or finishes the commit the
    client had sent before it died) and the counts no longer move."""
    end, before = time.monotonic() + timeout, None
    while time.monotonic() < end:
        now = None if _write_transactions(store) else store.counts()
        if now is not None and now == before:
            return
        before = now
        time.sleep(0.3)


def test_neo4j_client_killed_mid_transaction(request, tmp_path):
    from tests.conftest import NEO4J_URI, make_store
    store = make_store("neo4j", tmp_path, request)  # skips without a Neo4j
    rng = random.Random(SEED + 1)
    env = _env(tmp_path)
    final = tmp_path / "round-0.jsonl"
    transactions = write_input(final, 0, NEO4J_SIZES)
    ref_export, ref_counts, _ = reference_export(final, tmp_path)
    kills, rounds = [], 0
    while len(kills) < KILLS and rounds < 2 * KILLS:
        rounds += 1
        path = tmp_path / f"round-{rounds}.jsonl"
        write_input(path, rounds, NEO4J_SIZES)
        res = _run_and_kill_in_transaction(_ingest_cmd(NEO4J_URI, path, tmp_path / "q.jsonl"), store,
                                           nth=rng.randint(1, len(transactions)), delay=rng.uniform(0, 0.05), env=env)
        assert res["killed"] or res["rc"] == 0, res
        if res["killed"]:
            kills.append(res)
        export = assert_consistent(store)
        assert_whole_batches(export, transactions)
        path.unlink()
    assert len(kills) >= KILLS, f"only {len(kills)} of {rounds} rounds were killed before they finished"

    out = subprocess.run(_ingest_cmd(NEO4J_URI, final, tmp_path / "q.jsonl"), cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert store.counts() == ref_counts
    assert list(store.iter_export()) == ref_export


# ---------------------------------------------------------------- a reader next to a writer

READER = textwrap.dedent('''
    import json, sys, time
    from graph.store import StoreError
    from graph.stores.ladybug import LadybugStore

    path, stop_file, budget = sys.argv[1], sys.argv[2], float(sys.argv[3])

    def open_reader(timeout=20.0):
        """Open read-only, retrying while the writer is mid-commit or mid-checkpoint."""
        end, errors = time.monotonic() + timeout, []
        while True:
            try:
                return LadybugStore(path, read_only=True), errors
            except StoreError as e:
                errors.append(str(e).splitlines()[0][:160])
                if time.monotonic() > end:
                    raise
                time.sleep(0.05)

    def counts(s):
        c = s.counts()
        return {k: v for k, v in {**c["nodes"], **c["relationships"]}.items() if v}

    held, _ = open_reader()            # one long-lived handle: a snapshot as of its opening
    snapshot = counts(held)
    end = time.monotonic() + budget
    while time.monotonic() < end:
        stopping = __import__("os").path.exists(stop_file)
        s, errors = open_reader()
        try:
            c = counts(s)
            hits = len(s.search("crash test company 42", limit=3))
            out = {"counts": c, "hits": hits, "retried": errors}
        except StoreError as e:       # a query on a fresh handle failed: report, reopen next time
            out = {"query_error": str(e).splitlines()[0][:160], "retried": errors}
        finally:
            s.close()
        out["held"] = counts(held)
        print(json.dumps(out), flush=True)
        if stopping:
            break
        time.sleep(0.05)
    held.close()
    print(json.dumps({"snapshot": snapshot, "done": True}), flush=True)
''')


def test_ladybug_reader_keeps_answering_while_a_writer_ingests(tmp_path):
    env = _env(tmp_path)
    path = tmp_path / "input.jsonl"
    transactions = write_input(path, 0, SIZES)
    db = tmp_path / "shared.lbdb"
    s = LadybugStore(db)          # the reader needs a store to open; the writer fills it
    s.create_schema()
    s.close()
    stop = tmp_path / "writer-done"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(db), str(stop), "120"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)  # the reader is up and holds its snapshot before the writer starts
    writer = subprocess.run(_ingest_cmd(str(db), path, tmp_path / "q.jsonl"), cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    stop.touch()
    out, err = reader.communicate(timeout=120)
    assert writer.returncode == 0, writer.stdout[-2000:] + writer.stderr[-2000:]
    assert reader.returncode == 0, f"the reader died (rc {reader.returncode}): {err[-3000:]}"

    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    reads = [x for x in lines if "counts" in x]
    assert len(reads) >= 3, lines
    final = reads[-1]["counts"]
    assert final == {label: n for label, n in SIZES.items()}, "the reader's last answer is not the writer's result"
    allowed: dict[str, set[int]] = defaultdict(lambda: {0})
    for name, ids in transactions:   # committed states: sums of whole batches, per label/type
        allowed[name] |= {n + len(ids) for n in allowed[name]}
    for x in reads:
        for name, n in x["counts"].items():
            assert n in allowed[name], f"a reader saw {n} {name}: not a state between whole batches"
    snapshot = lines[-1]["snapshot"]
    assert all(x["held"] == snapshot for x in lines if "held" in x), \
        "a long-lived read-only handle changed its answers while the writer committed"
