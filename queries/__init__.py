"""Saved queries and the custom query box.

    from queries import load_library, run
    lib = load_library()                         # built-ins + $TECHGIANTS_QUERIES
    res = run(store, "ultimate-owners", company="company:hikvision")

    from queries.guard import run_readonly
    res = run_readonly(store, "MATCH (c:Company) RETURN c.name AS name", timeout=10, limit=1000)

See docs/queries.md.
"""
from __future__ import annotations

from queries.library import (Library, Param, Query, QueryError, QueryParamError, check_syntax, explain,
                             load_library, markdown_table, parse_file, run)

__all__ = ["Library", "Param", "Query", "QueryError", "QueryParamError", "check_syntax", "explain",
           "load_library", "markdown_table", "parse_file", "run", "run_readonly"]


def run_readonly(store, cypher, params=None, timeout=None, limit=None):
    """See queries.guard.run_readonly."""
    from queries.guard import run_readonly as _run
    return _run(store, cypher, params, timeout, limit)
