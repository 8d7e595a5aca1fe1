"""Open a store from a URL: a file path means embedded Ladybug, bolt:// or neo4j:// means Neo4j."""
from __future__ import annotations

import os

from graph.store import GraphStore, StoreError

DEFAULT_PATH = "techgiants.lbdb"
NEO4J_SCHEMES = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")


def store_url(url: str | None = None) -> str:
    return url or os.environ.get("TECHGIANTS_STORE") or DEFAULT_PATH


def open_store(url: str | None = None, read_only: bool = False, timeout: float = 30.0) -> GraphStore:
    """`open_store()` uses $TECHGIANTS_STORE or ./techgiants.lbdb. Credentials for Neo4j come only
    from NEO4J_USER / NEO4J_PASSWORD (never from the URL or the command line)."""
    url = store_url(url)
    if url.startswith(NEO4J_SCHEMES):
        from graph.stores.neo4j import Neo4jStore
        return Neo4jStore(url, user=os.environ.get("NEO4J_USER"), password=os.environ.get("NEO4J_PASSWORD"),
                          database=os.environ.get("NEO4J_DATABASE"), read_only=read_only, timeout=timeout)
    if "://" in url:
        raise StoreError(f"unsupported store URL {url!r}: use a file path or bolt://host:7687")
    from graph.stores.ladybug import LadybugStore
    return LadybugStore(url, read_only=read_only, timeout=timeout)


__all__ = ["open_store", "store_url", "GraphStore", "StoreError"]
