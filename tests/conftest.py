"""Test bed: every store test runs on the embedded Ladybug store and on a real Neo4j.

`make test` starts Neo4j 5.26 Community from Maven artifacts (tests/neo4j_server) and
passes its Bolt URI in TECHGIANTS_TEST_NEO4J. Without it, Neo4j tests skip with the
reason shown, except under CI=true, where a missing Neo4j fails the run.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from graph.stores.ladybug import LadybugStore

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("TECHGIANTS_SHARED", ROOT.parent / "shared"))
NEO4J_URI = os.environ.get("TECHGIANTS_TEST_NEO4J")
IN_CI = os.environ.get("CI", "").lower() == "true"
NEO4J_SKIP_REASON = os.environ.get("TECHGIANTS_TEST_NEO4J_REASON",
                                   "no Neo4j for tests: run `make test` (needs Java 17 and Maven)")

STORES = ["ladybug", "neo4j"]

# the resolver's review queue is a working file: keep test runs from writing into the repo
os.environ.setdefault("TECHGIANTS_REVIEW_QUEUE", os.path.join(tempfile.mkdtemp(prefix="tg-review-"), "queue.jsonl"))


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.exists():
        pytest.skip(f"shared data not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def _neo4j_session():
    if not NEO4J_URI:
        if IN_CI:
            pytest.fail("CI=true but no Neo4j was started (TECHGIANTS_TEST_NEO4J unset): " + NEO4J_SKIP_REASON)
        pytest.skip(NEO4J_SKIP_REASON)
    from graph.stores.neo4j import Neo4jStore
    s = Neo4jStore(NEO4J_URI)
    s.create_schema()
    yield s
    s.close()


def make_store(kind: str, tmp_path: Path, request):
    """A fresh, empty store of the given kind, with the schema created."""
    if kind == "ladybug":
        s = LadybugStore(tmp_path / f"graph-{os.getpid()}.lbdb")
        s.create_schema()
        return s
    s = request.getfixturevalue("_neo4j_session")
    s.clear()
    return s


@pytest.fixture(params=STORES)
def store(request, tmp_path):
    s = make_store(request.param, tmp_path, request)
    yield s
    if request.param == "ladybug":
        s.close()


@pytest.fixture(params=STORES)
def store_kind(request):
    """Just the kind, for tests that open several stores themselves."""
    if request.param == "neo4j":
        request.getfixturevalue("_neo4j_session")
    return request.param
