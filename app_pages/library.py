"""Bridge to the saved-query library (`queries` package) and its read-only guard, imported
lazily: when they are not there yet, the pages say so instead of failing."""
from __future__ import annotations

import datetime as dt
import importlib
import urllib.parse
from dataclasses import dataclass
from typing import Any

from graph.store import GraphStore, Result

NOT_AVAILABLE = "The saved-query library (the `queries` package) is not available yet in this build."
GUARD_NOT_AVAILABLE = "The read-only query guard (`queries.guard`) is not available yet in this build."


def _import(name: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name and (e.name == name or name.startswith(e.name + ".") or e.name.startswith("queries")):
            return None
        raise


def queries_module():
    m = _import("queries")
    return m if m is not None and hasattr(m, "load_library") and hasattr(m, "run") else None


def guard_module():
    m = _import("queries.guard")
    return m if m is not None and hasattr(m, "run_readonly") else None


@dataclass
class Param:
    name: str
    type: str
    default: Any
    help: str
    choices: list | None
    choices_query: str | None


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def params_of(query: Any) -> list[Param]:
    out = []
    raw = _get(query, "params") or []
    if isinstance(raw, dict):
        raw = [{"name": k, **(v if isinstance(v, dict) else {"default": v})} for k, v in raw.items()]
    for p in raw:
        out.append(Param(name=str(_get(p, "name")), type=str(_get(p, "type") or "string").lower(),
                         default=_get(p, "default"), help=str(_get(p, "help") or _get(p, "doc") or ""),
                         choices=list(_get(p, "choices") or []) or None, choices_query=_get(p, "choices_query")))
    return out


def load_library() -> list[Any]:
    return load_library_with_errors()[0]


def load_library_with_errors() -> tuple[list[Any], list[str]]:
    """The queries sorted by title, and the library's load errors (broken user files)."""
    m = queries_module()
    if m is None:
        return [], []
    lib = m.load_library()
    errors = [str(e) for e in getattr(lib, "errors", []) or []]
    if isinstance(lib, dict):
        lib = list(lib.values())
    return sorted(lib, key=lambda q: (str(_get(q, "title") or _get(q, "name"))).lower()), errors


def query_info(q: Any) -> dict:
    tags = _get(q, "tags") or []
    return {"name": str(_get(q, "name")), "title": str(_get(q, "title") or _get(q, "name")),
            "description": str(_get(q, "description") or ""), "tags": list(tags) if not isinstance(tags, str) else [tags]}


def cypher_of(q: Any, kind: str) -> str:
    f = getattr(q, "cypher_for", None)
    if callable(f):
        try:
            return str(f(kind))
        except Exception as e:  # noqa: BLE001
            return f"// no Cypher for {kind}: {e}"
    return str(_get(q, "cypher") or "")


def choices_for(store: GraphStore, p: Param, limit: int = 500, query: Any = None) -> list:
    """Dropdown values: the parameter's own choices, or its choices_query (project code) run read-only.
    With the library's Query.choices() the values come as (value, label) pairs."""
    if p.choices:
        return p.choices
    if not p.choices_query:
        return []
    f = getattr(query, "choices", None)
    if callable(f):
        try:
            pairs = f(store, p.name).get(p.name, [])
            return [(v, lab) for v, lab in pairs][:10_000]
        except Exception:  # noqa: BLE001 - a broken choices query leaves a free-text box
            return []
    g = guard_module()
    try:
        if g is not None:
            res = g.run_readonly(store, p.choices_query, {}, 10, limit)
        else:
            res = store.read(p.choices_query, {}, timeout=10, limit=limit)
    except Exception:  # noqa: BLE001 - a broken choices query leaves a free-text box
        return []
    return [r[0] for r in _result(res).rows if r and r[0] is not None]


def coerce(p: Param, value: Any) -> Any:
    """A form or URL value as the parameter's type; raises ValueError with a clear message."""
    if value is None or value == "":
        return None
    t = p.type
    try:
        if t in ("int", "integer"):
            return int(value)
        if t in ("float", "number", "share", "fraction"):
            return float(value)
        if t in ("bool", "boolean"):
            if isinstance(value, bool):
                return value
            return str(value).strip().lower() in ("1", "true", "yes", "on")
        if t == "date":
            if isinstance(value, (dt.date, dt.datetime)):
                return value.isoformat()[:10]
            return dt.date.fromisoformat(str(value)).isoformat()
        if t in ("list", "list[str]", "strings"):
            if isinstance(value, (list, tuple)):
                return [str(v) for v in value]
            return [v.strip() for v in str(value).split(",") if v.strip()]
    except (TypeError, ValueError):
        raise ValueError(f"parameter {p.name!r}: {value!r} is not a valid {t}") from None
    return str(value)


def share_query(name: str, values: dict[str, Any]) -> str:
    """'?q=name&p.key=value' for st.query_params / a shareable link."""
    pairs = [("q", name)]
    for k, v in values.items():
        if v is None:
            continue
        if isinstance(v, (list, tuple)):
            v = ",".join(str(x) for x in v)
        elif isinstance(v, bool):
            v = "true" if v else "false"
        pairs.append((f"p.{k}", str(v)))
    return "?" + urllib.parse.urlencode(pairs)


def params_from_url(qp: dict[str, Any]) -> dict[str, str]:
    return {k[2:]: (v[-1] if isinstance(v, list) else v) for k, v in qp.items() if k.startswith("p.")}


def run_saved(store: GraphStore, name: str, values: dict[str, Any]) -> Result:
    m = queries_module()
    if m is None:
        raise RuntimeError(NOT_AVAILABLE)
    return _result(m.run(store, name, **{k: v for k, v in values.items() if v is not None}))


def run_cypher(store: GraphStore, cypher: str, params: dict, timeout: float | None, limit: int | None) -> Result:
    g = guard_module()
    if g is None:
        raise RuntimeError(GUARD_NOT_AVAILABLE)
    return _result(g.run_readonly(store, cypher, params, timeout, limit))


def guard_limits() -> dict[str, Any]:
    """The guard's limits, for display and for bounding the form: default timeout (s), default
    row limit, memory per query (MB, Ladybug worker), longest query text (characters)."""
    g = guard_module()
    if g is None:
        return {}
    out: dict[str, Any] = {}
    for key, fn, const in (("timeout", "default_timeout", "DEFAULT_TIMEOUT"), ("rows", "default_limit", "DEFAULT_LIMIT"),
                           ("memory_mb", "memory_limit_mb", "DEFAULT_MEMORY_MB"),
                           ("query_chars", None, "MAX_QUERY_CHARS")):
        try:
            v = getattr(g, fn)() if fn and callable(getattr(g, fn, None)) else getattr(g, const, None)
        except Exception:  # noqa: BLE001
            v = getattr(g, const, None)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[key] = v
    return out


def _result(res: Any) -> Result:
    """Whatever the library returns, as a graph.store.Result."""
    if isinstance(res, Result):
        return res
    if hasattr(res, "columns") and hasattr(res, "rows"):
        return Result(list(res.columns), [list(r) for r in res.rows], bool(getattr(res, "truncated", False)))
    if isinstance(res, tuple) and len(res) == 2:
        return Result(list(res[0]), [list(r) for r in res[1]])
    if isinstance(res, list):
        if res and isinstance(res[0], dict):
            cols = list(dict.fromkeys(k for r in res for k in r))
            return Result(cols, [[r.get(c) for c in cols] for r in res])
        return Result(["value"], [[r] for r in res])
    raise TypeError(f"unexpected query result {type(res).__name__}")
