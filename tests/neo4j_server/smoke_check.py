#!/usr/bin/env python3
"""Manual smoke check of a running test server (needs the `neo4j` driver; not collected by pytest).

    python tests/neo4j_server/smoke_check.py bolt://127.0.0.1:PORT
"""

from __future__ import annotations

import sys
import time

import neo4j
from neo4j import GraphDatabase, Query
from neo4j.exceptions import ClientError, Neo4jError


def main(uri: str) -> int:
    with GraphDatabase.driver(uri, auth=None) as driver:
        driver.verify_connectivity()
        info = driver.get_server_info()
        print("server:", info.agent, "protocol", info.protocol_version)
        with driver.session(database="neo4j") as s:
            comp = s.run("CALL dbms.components() YIELD name, versions, edition "
                         "RETURN name, versions, edition").single()
            print("components:", comp.data())

            rec = s.run("CREATE (n:Test {id:'x'}) RETURN n.id AS id").single()
            assert rec["id"] == "x", rec
            s.run("MATCH (n:Test) DELETE n").consume()
            s.run("CREATE CONSTRAINT IF NOT EXISTS FOR (n:Test) REQUIRE n.id IS UNIQUE").consume()
            s.run("CREATE CONSTRAINT IF NOT EXISTS FOR (n:Test) REQUIRE n.id IS UNIQUE").consume()
            cons = s.run("SHOW CONSTRAINTS YIELD name, labelsOrTypes, properties, type "
                         "RETURN name, labelsOrTypes, properties, type").data()
            print("constraints:", cons)
            assert any(c["labelsOrTypes"] == ["Test"] and c["type"] == "UNIQUENESS" for c in cons), cons
            s.run("CREATE (n:Test {id:'x'})").consume()
            try:
                s.run("CREATE (n:Test {id:'x'})").consume()
                raise AssertionError("unique constraint not enforced")
            except ClientError as e:
                print("constraint enforced:", e.code)

            labels = [r["label"] for r in s.run("CALL db.labels() YIELD label RETURN label")]
            print("db.labels():", labels)
            assert "Test" in labels, labels

            summary = s.run("EXPLAIN MATCH (n) RETURN n").consume()
            print("EXPLAIN query_type:", summary.query_type, "plan op:", summary.plan["operatorType"])
            assert summary.query_type == "r", summary.query_type
            assert s.run("EXPLAIN CREATE (n:X)").consume().query_type == "w"

            # APOC must not be needed (and is not installed)
            procs = s.run("SHOW PROCEDURES YIELD name WHERE name STARTS WITH 'apoc' RETURN count(*) AS c").single()
            print("apoc procedures:", procs["c"])

            # transaction timeout via Query(timeout=...) (auto-commit)
            slow = "UNWIND range(1, 100000000) AS x RETURN count(x) AS c"
            t0 = time.monotonic()
            try:
                r = s.run(Query(slow, timeout=1)).single()
                raise AssertionError(f"slow query was not cancelled: {r}")
            except Neo4jError as e:
                print(f"Query(timeout=1) cancelled after {time.monotonic() - t0:.1f}s: {e.code}")

        # ... and via managed transactions with unit_of_work(timeout=...)
        @neo4j.unit_of_work(timeout=1)
        def work(tx):
            return tx.run(slow).single()["c"]

        with driver.session(database="neo4j") as s:
            t0 = time.monotonic()
            try:
                s.execute_read(work)
                raise AssertionError("slow tx was not cancelled")
            except Neo4jError as e:
                print(f"unit_of_work(timeout=1) cancelled after {time.monotonic() - t0:.1f}s: {e.code}")
            # session still usable after the timeout
            assert s.run("RETURN 1 AS one").single()["one"] == 1
            s.run("MATCH (n) DETACH DELETE n").consume()
            s.run("DROP CONSTRAINT `" + cons[0]["name"] + "` IF EXISTS").consume()
    print("SMOKE OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
