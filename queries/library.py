"""The saved-query library: one query per `.cypher` file, a YAML header, optional store variants.

File format (docs/queries.md has the full story):

    /*
    title: Ultimate owners of a company
    description: Who sits at the top of the ownership chains above a company?
    tags: [ownership]
    params:
      company:
        type: string
        default: company:hikvision
        help: Id of the company.
        choices_query: "MATCH (c:Company) RETURN c.id AS value, c.name AS label ORDER BY label, value"
    */
    MATCH ...                      <- the Cypher both stores run
    // variant: ladybug
    MATCH ...                      <- optional: what Ladybug runs instead (also `// variant: neo4j`)

Built-in queries live next to this module; users add theirs in the folder(s) named by
$TECHGIANTS_QUERIES (os.pathsep-separated). Every file is validated when loaded: the header
(YAML, known keys, parameter types and defaults), the parameters the Cypher uses against
those declared, and the read-only check of the query box; `check_syntax(store)` adds an
EXPLAIN on a store. Errors name the file and the line.

Two optional header keys serve speed on big graphs (docs/queries.md, "Fast at scale"):

    anchors:                       # id parameters -> the labels their node can have
      company: [Company, Fund]
    analytical: >                  # the query reads the whole graph by design: why no index
      ...                          # can serve it and what to use instead

In the Cypher, `(c:label($company) {id: $company})` is the node whose id is $company: before
running, `run` looks the id up under each anchor label (an index lookup each) and writes the
label that holds it, through `graph.store._q`. An unlabelled `(c {id: $company})` would scan
every node table on Ladybug and keep the planner from starting its expansions there.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml

from graph.store import GraphStore, Result, StoreError
from queries import guard

BUILTIN_DIR = Path(__file__).resolve().parent
STORE_KINDS = ("ladybug", "neo4j")
PARAM_TYPES = ("string", "int", "float", "bool", "date", "list")
HEADER_KEYS = {"title", "description", "tags", "params", "order", "anchors", "analytical"}
PARAM_KEYS = {"type", "default", "help", "choices", "choices_query"}
RESERVED_PARAMS = {"store", "name", "timeout", "limit", "library", "query"}
# `$limit` needs no declaration: `run` binds it to the rows it will read (limit + 1), so that a
# query can sort and cut before it fetches its display columns (Ladybug keeps every row of a sort
# input that a later OPTIONAL MATCH or cross product still needs).
ROW_LIMIT = "limit"
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_PARAM_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_VARIANT_RE = re.compile(r"^[ \t]*//[ \t]*variant:[ \t]*(\S+)[ \t]*$")
_ANCHOR_RE = re.compile(r":label\(\$([A-Za-z_][A-Za-z0-9_]*)\)")

# How `techgiants query --list` orders and introduces the primary tags: the steps of an investigation.
TAG_GUIDE: list[tuple[str, str]] = [
    ("start", "Find the entity: names, identifiers, everything the graph knows"),
    ("lists", "Who is restricted: lists, designations, Federal Register notices"),
    ("ownership", "Who owns whom: chains, ultimate and state owners, the 50% rule"),
    ("investors", "Who finances them: funds, investors, index exposure"),
    ("projects", "What they do, where and for whom: projects, clients, suppliers, partners"),
    ("people", "Who runs them: officers and roles"),
    ("evidence", "How solid is it: sources, single-source facts, what changed"),
]


class QueryError(ValueError):
    """A query file is broken, or a query was asked for wrongly. One line, naming file and line."""


class QueryParamError(QueryError):
    pass


def _loc(path: Path | str, line: int | None = None) -> str:
    return f"{path}:{line}" if line else f"{path}"


# =====================================================================================
# Parameters
# =====================================================================================

@dataclass
class Param:
    name: str
    type: str
    default: Any
    help: str
    choices: list | None = None
    choices_query: str | None = None

    def coerce(self, value: Any, query: str = "") -> Any:
        """A value from Python or from the command line (text) as this parameter's type."""
        where = f"{query}: parameter {self.name}" if query else f"parameter {self.name}"
        try:
            v = _coerce(self.type, value)
        except (TypeError, ValueError) as e:
            raise QueryParamError(f"{where}: {e}") from None
        if self.choices is not None and v not in self.choices:
            raise QueryParamError(f"{where}: {v!r} is not one of {', '.join(map(str, self.choices))}")
        return v


def _coerce(kind: str, value: Any) -> Any:
    if value is None:
        raise ValueError("a value is required (null is not accepted)")
    if kind == "string":
        if isinstance(value, (dict, list, tuple, set)):
            raise ValueError(f"expected text, got {type(value).__name__}")
        return value if isinstance(value, str) else str(value)
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError("expected a whole number, got a boolean")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
            return int(value)
        raise ValueError(f"expected a whole number, got {value!r}")
    if kind == "float":
        if isinstance(value, bool):
            raise ValueError("expected a number, got a boolean")
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise ValueError(f"expected a number, got {value!r}")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "on"):
            return True
        if isinstance(value, str) and value.strip().lower() in ("false", "no", "0", "off"):
            return False
        raise ValueError(f"expected true or false, got {value!r}")
    if kind == "date":
        if isinstance(value, _dt.datetime):
            value = value.date()
        if isinstance(value, _dt.date):
            return value.isoformat()
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            try:
                return _dt.date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                pass
        raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}")
    if kind == "list":
        if isinstance(value, str):
            s = value.strip()
            if s.startswith("["):
                try:
                    value = json.loads(s)
                except json.JSONDecodeError:
                    raise ValueError(f"expected a list: comma-separated text or a JSON list, got {value!r}") from None
            else:
                return [x.strip() for x in s.split(",") if x.strip()]
        if isinstance(value, (list, tuple)):
            if not all(isinstance(x, (str, int, float)) and not isinstance(x, bool) for x in value):
                raise ValueError("a list holds text values")
            return [str(x) for x in value]
        raise ValueError(f"expected a list, got {value!r}")
    raise ValueError(f"unknown type {kind!r}")


# =====================================================================================
# Queries
# =====================================================================================

@dataclass
class Query:
    name: str
    title: str
    description: str
    tags: list[str]
    params: list[Param]
    cypher: str                                   # what every store runs unless it has a variant
    variants: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    builtin: bool = True
    lines: dict[str, int] = field(default_factory=dict)  # first line of each Cypher section ("default", kinds)
    order: int = 100                              # place within its tag in `query --list`
    anchors: dict[str, list[str]] = field(default_factory=dict)  # id parameter -> labels its node can have
    analytical: str | None = None                 # why it reads the whole graph, and what to use instead

    @property
    def tag(self) -> str:
        """The primary tag: where `query --list` files it."""
        return self.tags[0]

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise QueryParamError(f"{self.name}: no parameter {name!r}; "
                              f"parameters: {', '.join(p.name for p in self.params) or 'none'}")

    def cypher_for(self, store_kind: str) -> str:
        return self.variants.get(store_kind, self.cypher)

    def bind(self, params: dict | None = None, **kw) -> dict:
        """Declared parameters with defaults filled in and values coerced; unknown ones are an error."""
        given = {**(params or {}), **kw}
        for k in given:
            self.param(k)
        return {p.name: p.coerce(given[p.name], self.name) if p.name in given else p.default for p in self.params}

    def choices(self, store: GraphStore | None = None, name: str | None = None) -> dict[str, list[tuple[Any, str]]]:
        """Options for each parameter that has them, as (value, label) pairs: fixed ones, and
        those of `choices_query` when a store is given."""
        out = {}
        for p in self.params:
            if name and p.name != name:
                continue
            if p.choices is not None:
                out[p.name] = [(c, str(c)) for c in p.choices]
            elif p.choices_query and store is not None:
                res = store.read(p.choices_query, {}, timeout=guard.default_timeout(), limit=10_000)
                out[p.name] = [(row[0], str(row[1]) if len(row) > 1 and row[1] is not None else str(row[0]))
                               for row in res.rows]
        return out

    def where(self, section: str = "default") -> str:
        return _loc(self.path or self.name, self.lines.get(section))


# =====================================================================================
# Loading
# =====================================================================================

class _Loader(yaml.SafeLoader):
    """YAML with dates kept as text (the `date` type checks them)."""


_Loader.yaml_implicit_resolvers = {k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
                                   for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def parse_file(path: str | Path, builtin: bool = False) -> Query:
    """Read and validate one query file. Raises QueryError naming the file and line."""
    path = Path(path)
    name = path.name[:-len(".cypher")] if path.name.endswith(".cypher") else path.stem
    if not _NAME_RE.match(name):
        raise QueryError(f"{path}: file name {path.name!r}: use lower-case letters, digits, - and _ "
                         f"(the name is how users call the query)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise QueryError(f"{path}: not UTF-8 text ({e.reason})") from None
    except OSError as e:
        raise QueryError(f"{path}: cannot read: {e.strerror}") from None
    return parse_text(text, name, path, builtin)


def parse_text(text: str, name: str, path: Path | str = "<text>", builtin: bool = False) -> Query:
    text = text.replace("\r\n", "\n")
    stripped = text.lstrip()
    if not stripped.startswith("/*"):
        raise QueryError(f"{_loc(path, 1)}: a query file starts with its header, a /* ... */ comment holding YAML "
                         f"(title, description, tags, params)")
    start = len(text) - len(stripped)
    end = text.find("*/", start)
    if end < 0:
        raise QueryError(f"{_loc(path, 1)}: the header comment /* is never closed with */")
    header_line = text.count("\n", 0, start) + 1   # the line of "/*"
    yaml_text = text[start + 2:end]
    try:
        meta = yaml.load(yaml_text, Loader=_Loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = header_line + mark.line if mark else header_line
        raise QueryError(f"{_loc(path, line)}: YAML error in the header: {getattr(e, 'problem', None) or e}") from None
    if not isinstance(meta, dict):
        raise QueryError(f"{_loc(path, header_line)}: the header must be a YAML mapping "
                         f"(title, description, tags, params)")

    def key_line(key: str) -> int:
        m = re.search(rf"^[ \t]*{re.escape(key)}[ \t]*:", yaml_text, re.M)
        return header_line + yaml_text.count("\n", 0, m.start()) if m else header_line

    unknown = set(meta) - HEADER_KEYS
    if unknown:
        k = sorted(map(str, unknown))[0]
        raise QueryError(f"{_loc(path, key_line(k))}: unknown header key {k!r}; "
                         f"known: {', '.join(sorted(HEADER_KEYS))}")
    for k in ("title", "description"):
        if not isinstance(meta.get(k), str) or not meta[k].strip():
            raise QueryError(f"{_loc(path, key_line(k))}: header needs a non-empty `{k}` (text)")
    tags = meta.get("tags")
    if isinstance(tags, str):
        tags = [tags]
    if not isinstance(tags, list) or not tags or not all(isinstance(t, str) and t.strip() for t in tags):
        raise QueryError(f"{_loc(path, key_line('tags'))}: header needs `tags`, a list of words, e.g. [ownership]")
    params = _parse_params(meta.get("params"), path, key_line)
    anchors = _parse_anchors(meta.get("anchors"), params, path, key_line)
    analytical = meta.get("analytical")
    if analytical is not None and (not isinstance(analytical, str) or not analytical.strip()):
        raise QueryError(f"{_loc(path, key_line('analytical'))}: `analytical` is a text: why the query reads the "
                         f"whole graph, why no index can serve it, and what to use instead")
    order = meta.get("order", 100)
    if not isinstance(order, int) or isinstance(order, bool):
        raise QueryError(f"{_loc(path, key_line('order'))}: `order` must be a whole number (its place in --list)")

    # the Cypher sections: default, then `// variant: <kind>` sections
    body_start = end + 2
    body_first_line = text.count("\n", 0, body_start) + 1
    sections: dict[str, list[str]] = {"default": []}
    lines: dict[str, int] = {"default": body_first_line}
    current = "default"
    for offset, line in enumerate(text[body_start:].split("\n")):
        m = _VARIANT_RE.match(line)
        lineno = body_first_line + offset
        if m:
            kind = m.group(1).lower()
            if kind not in STORE_KINDS:
                raise QueryError(f"{_loc(path, lineno)}: unknown variant {m.group(1)!r}; "
                                 f"known: {', '.join(STORE_KINDS)}")
            if kind in sections:
                raise QueryError(f"{_loc(path, lineno)}: a second `// variant: {kind}` section")
            current = kind
            sections[kind] = []
            lines[kind] = lineno + 1
            continue
        sections[current].append(line)
    cyphers: dict[str, str] = {}
    for sec, body in sections.items():
        joined = "\n".join(body)
        cypher = joined.strip("\n")
        if not cypher.strip():
            raise QueryError(f"{_loc(path, lines[sec])}: the {'query' if sec == 'default' else sec + ' variant'} "
                             f"has no Cypher")
        lines[sec] += joined[:len(joined) - len(joined.lstrip("\n"))].count("\n")  # leading blank lines
        cyphers[sec] = cypher
    declared = {p.name for p in params}
    for sec, cypher in cyphers.items():
        first = lines[sec]
        try:
            guard.check_readonly(cypher)
        except guard.QueryRefused as e:
            raise QueryError(f"{_loc(path, first + (e.line or 1) - 1)}: {_shift_lines(str(e), first - 1)}") from None
        used = guard.params_used(cypher)
        for m in _ANCHOR_RE.finditer(cypher):
            if m.group(1) not in anchors:
                line = first + cypher.count("\n", 0, m.start())
                raise QueryError(f"{_loc(path, line)}: label(${m.group(1)}) needs ${m.group(1)} under `anchors:` "
                                 f"with the labels its node can have")
        for p, line in used.items():
            if p not in declared and p != ROW_LIMIT:
                raise QueryError(f"{_loc(path, first + line - 1)}: ${p} is used but not declared under `params:`")
        for p in params:
            if p.name not in used:
                label = "the query" if sec == "default" else f"the {sec} variant"
                raise QueryError(f"{_loc(path, key_line(p.name))}: parameter {p.name!r} is declared but "
                                 f"{label} never uses ${p.name}")
    for p in params:
        if p.choices_query:
            try:
                guard.check_readonly(p.choices_query)
                if guard.params_used(p.choices_query):
                    raise QueryError("a choices_query takes no parameters")
            except (guard.QueryRefused, QueryError) as e:
                raise QueryError(f"{_loc(path, key_line(p.name))}: choices_query of {p.name!r}: {e}") from None
    return Query(name=name, title=meta["title"].strip(), description=" ".join(meta["description"].split()),
                 tags=[t.strip() for t in tags], params=params, cypher=cyphers["default"],
                 variants={k: v for k, v in cyphers.items() if k != "default"}, path=Path(path) if path else None,
                 builtin=builtin, lines=lines, order=order, anchors=anchors,
                 analytical=" ".join(analytical.split()) if analytical else None)


def _shift_lines(msg: str, by: int) -> str:
    return re.sub(r"line (\d+)", lambda m: f"line {int(m.group(1)) + by}", msg, count=1)


def _parse_anchors(raw: Any, params: list[Param], path, key_line) -> dict[str, list[str]]:
    if raw is None:
        return {}
    from graph.schema import SCHEMA
    where = f"{_loc(path, key_line('anchors'))}: `anchors`"
    if not isinstance(raw, dict):
        raise QueryError(f"{where} must be a mapping: id parameter -> list of node labels")
    kinds = {p.name: p.type for p in params}
    out = {}
    for name, labels in raw.items():
        if kinds.get(name) != "string":
            raise QueryError(f"{where}: {name!r} is not a declared string parameter")
        if isinstance(labels, str):
            labels = [labels]
        if not isinstance(labels, list) or not labels or any(lb not in SCHEMA.labels for lb in labels):
            raise QueryError(f"{where}: {name!r} needs a list of node labels among {', '.join(SCHEMA.labels)}")
        out[name] = list(labels)
    return out


def _parse_params(raw: Any, path, key_line) -> list[Param]:
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise QueryError(f"{_loc(path, key_line('params'))}: `params` must be a mapping: name -> "
                         f"{{type, default, help, choices | choices_query}}")
    out = []
    for name, spec in raw.items():
        line = key_line(str(name))
        where = f"{_loc(path, line)}: parameter {name!r}"
        if not isinstance(name, str) or not _PARAM_RE.match(name):
            raise QueryError(f"{where}: a parameter name is a Cypher identifier (letters, digits, _)")
        if name in RESERVED_PARAMS:
            raise QueryError(f"{where}: {name!r} is reserved (it is an option of `query`); pick another name")
        if not isinstance(spec, dict):
            raise QueryError(f"{where}: expected a mapping with type, default, help")
        unknown = set(spec) - PARAM_KEYS
        if unknown:
            raise QueryError(f"{where}: unknown key {sorted(map(str, unknown))[0]!r}; known: {', '.join(sorted(PARAM_KEYS))}")
        kind = spec.get("type")
        if kind not in PARAM_TYPES:
            raise QueryError(f"{where}: type must be one of {', '.join(PARAM_TYPES)}, not {kind!r}")
        if "default" not in spec:
            raise QueryError(f"{where}: missing `default` (every parameter has one, so every query runs as is)")
        if not isinstance(spec.get("help"), str) or not spec["help"].strip():
            raise QueryError(f"{where}: missing `help` (one line saying what to give)")
        choices, cq = spec.get("choices"), spec.get("choices_query")
        if choices is not None and cq is not None:
            raise QueryError(f"{where}: give `choices` or `choices_query`, not both")
        if choices is not None:
            if not isinstance(choices, list) or not choices:
                raise QueryError(f"{where}: `choices` must be a non-empty list")
            try:
                choices = [_coerce(kind, c) for c in choices]
            except ValueError as e:
                raise QueryError(f"{where}: a choice does not fit type {kind}: {e}") from None
        if cq is not None and (not isinstance(cq, str) or not cq.strip()):
            raise QueryError(f"{where}: `choices_query` must be a Cypher text returning value, label")
        try:
            default = _coerce(kind, spec["default"])
        except ValueError as e:
            raise QueryError(f"{where}: default does not fit type {kind}: {e}") from None
        if choices is not None and default not in choices:
            raise QueryError(f"{where}: default {default!r} is not among the choices")
        out.append(Param(name, kind, default, " ".join(spec["help"].split()), choices, cq.strip() if cq else None))
    return out


@dataclass
class Library:
    """The loaded queries (name -> Query) and the user files that could not be loaded."""
    queries: dict[str, Query]
    errors: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> Query:
        try:
            return self.queries[name]
        except KeyError:
            close = [n for n in self.queries if name in n or n in name]
            hint = f"; did you mean {', '.join(close[:3])}?" if close else "; `techgiants query --list` shows them all"
            raise QueryError(f"no saved query named {name!r}{hint}") from None

    def __contains__(self, name: str) -> bool:
        return name in self.queries

    def __iter__(self) -> Iterator[Query]:
        return iter(self.queries.values())

    def __len__(self) -> int:
        return len(self.queries)

    def by_tag(self) -> list[tuple[str, str, list[Query]]]:
        """(tag, heading, queries) in investigation order: known tags first, then the others."""
        groups: dict[str, list[Query]] = {}
        for q in self.queries.values():
            groups.setdefault(q.tag, []).append(q)
        out = []
        known = dict(TAG_GUIDE)
        for tag, heading in TAG_GUIDE:
            if tag in groups:
                out.append((tag, heading, sorted(groups.pop(tag), key=lambda q: (q.order, q.name))))
        for tag in sorted(groups):
            out.append((tag, known.get(tag, tag), sorted(groups[tag], key=lambda q: (q.order, q.name))))
        return out


def user_dirs() -> list[Path]:
    raw = os.environ.get("TECHGIANTS_QUERIES", "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


def load_library(dirs: Iterable[str | Path] | None = None, strict: bool = False) -> Library:
    """Built-in queries plus those in $TECHGIANTS_QUERIES (or `dirs`). A broken built-in is a
    bug and raises; a broken user file is reported in `.errors` (strict=True raises) and
    leaves the others usable."""
    queries: dict[str, Query] = {}
    for path in sorted(BUILTIN_DIR.glob("*.cypher")):
        q = parse_file(path, builtin=True)
        queries[q.name] = q
    errors: list[str] = []
    for d in (user_dirs() if dirs is None else [Path(x) for x in dirs]):
        if not d.is_dir():
            errors.append(f"{d}: TECHGIANTS_QUERIES names no folder")
            continue
        for path in sorted(d.glob("*.cypher")):
            try:
                q = parse_file(path, builtin=False)
                if q.name in queries:
                    other = queries[q.name]
                    raise QueryError(f"{path}: a query named {q.name!r} already exists "
                                     f"({'built in' if other.builtin else other.path}); rename the file")
            except QueryError as e:
                errors.append(str(e))
                continue
            queries[q.name] = q
    if strict and errors:
        raise QueryError(errors[0])
    return Library(queries, errors)


# =====================================================================================
# Running and checking
# =====================================================================================

def run(store: GraphStore, name: str | Query, *, timeout: float | None = None, limit: int | None = None,
        library: Library | None = None, **params) -> Result:
    """Run a saved query on a store: parameters are checked against the declared ones and
    coerced to their types; values come back as plain Python (see graph/store.py for nodes,
    relationships and paths)."""
    q = name if isinstance(name, Query) else (library or _default_library())[name]
    limit = limit or guard.default_limit()
    cypher, bound = statement(store, q, q.bind(params), limit)
    res = store.read(cypher, bound, timeout=timeout or guard.default_timeout(), limit=limit)
    return Result(res.columns, guard.plain(res.rows), res.truncated)


def statement(store: GraphStore, q: Query, bound: dict, limit: int) -> tuple[str, dict]:
    """The Cypher and parameters this store runs for a saved query that returns at most `limit`
    rows: anchors resolved, `LIMIT limit + 1` at the end, and `$limit` bound when the text uses it."""
    cypher = with_limit(anchored(store, q, bound), limit + 1)
    if ROW_LIMIT in guard.params_used(cypher):
        bound = {**bound, ROW_LIMIT: limit + 1}
    return cypher, bound


_LIMIT_RE = re.compile(r"\bLIMIT\s+(\$?\w+)\s*;?\s*$", re.I)


def with_limit(cypher: str, n: int) -> str:
    """The query with `LIMIT n` at its end (unless it ends with a LIMIT already): the rows we
    would read anyway (one more tells truncation), and the stores then keep the top n of an
    ORDER BY instead of sorting every row in memory (whole-graph queries at 1M companies)."""
    lines = cypher.rstrip().split("\n")
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith("//")):
        lines.pop()  # trailing comments: the LIMIT goes after the last clause, not into a comment
    text = "\n".join(lines).rstrip().rstrip(";").rstrip()
    if _LIMIT_RE.search(re.sub(r"//[^'\"]*$", "", text.split("\n")[-1]).rstrip()):
        return text
    return f"{text}\nLIMIT {int(n)}"


def anchored(store: GraphStore, q: Query, bound: dict) -> str:
    """The Cypher this store runs, with each `label($p)` replaced by the label of the node whose
    id is $p: the first anchor label holding it (one index lookup per label tried), or the first
    label when none does (then the query finds nothing, as the unlabelled pattern would)."""
    cypher = q.cypher_for(store.kind)
    names = set(_ANCHOR_RE.findall(cypher))
    if not names:
        return cypher
    from graph.store import _q
    chosen = {}
    for name in names:
        labels = q.anchors[name]
        chosen[name] = labels[0]
        for lb in labels:
            if store.read(_q("MATCH (n:{L} {{id: $id}}) RETURN n.id LIMIT 1", L=lb), {"id": bound[name]}).rows:
                chosen[name] = lb
                break
    return _ANCHOR_RE.sub(lambda m: ":" + _q("{L}", L=chosen[m.group(1)]), cypher)


_LIB: Library | None = None


def _default_library() -> Library:
    global _LIB
    if _LIB is None:
        _LIB = load_library()
    return _LIB


def explain(store: GraphStore, cypher: str, params: dict | None = None) -> None:
    """Ask the store to parse and plan a query without running it (raises StoreError)."""
    params = params or {}
    if store.kind == "neo4j":
        import neo4j
        from neo4j.exceptions import Neo4jError
        try:
            with store.driver.session(database=store.database, default_access_mode=neo4j.READ_ACCESS) as s:
                s.run("EXPLAIN " + cypher, params).consume()
        except Neo4jError as e:
            raise StoreError((e.message or str(e)).splitlines()[0]) from None
    elif store.kind == "ladybug":
        try:
            store.conn.execute("EXPLAIN " + cypher, params)
        except RuntimeError as e:
            msg = str(e)
            m = re.search(r"\(line: \d+, offset: \d+\)", msg)  # after it: the query echoed with a caret
            raise StoreError(" ".join((msg[:m.end()] if m else msg.splitlines()[0]).split())) from None
    else:
        store.read(cypher, params, limit=0)


def check_syntax(store: GraphStore, queries: Iterable[Query] | Library) -> list[str]:
    """EXPLAIN every query (the text this store runs) and every choices_query on a store;
    returns the errors, each naming the file and line."""
    errors = []
    for q in queries:
        sec = store.kind if store.kind in q.variants else "default"
        try:
            explain(store, *statement(store, q, q.bind(), guard.default_limit()))
        except StoreError as e:
            first = q.lines.get(sec, 1)
            m = re.search(r"line:? (\d+)", str(e))
            line = first + int(m.group(1)) - 1 if m else first
            errors.append(f"{_loc(q.path or q.name, line)}: {store.kind} says: {_shift_lines(str(e), first - 1)}")
        for p in q.params:
            if p.choices_query:
                try:
                    explain(store, p.choices_query)
                except StoreError as e:
                    errors.append(f"{q.path or q.name}: choices_query of {p.name!r}: {store.kind} says: {e}")
    return errors


# =====================================================================================
# Documentation
# =====================================================================================

def markdown_table(library: Library | None = None) -> str:
    """The generated part of docs/queries.md: every query by tag, with its parameters."""
    lib = library or load_library(dirs=[])
    out = []
    for tag, heading, qs in lib.by_tag():
        out.append(f"### {heading} (`{tag}`)\n")
        out.append("| query | question | parameters |")
        out.append("|---|---|---|")
        for q in qs:
            ps = "<br>".join(f"`{p.name}` ({p.type}, default `{_md_default(p.default)}`): {_md(p.help)}"
                             for p in q.params) or "none"
            variants = f" <br>*variant: {', '.join(sorted(q.variants))}*" if q.variants else ""
            why = f"<br>*Analytical (reads the whole graph):* {_md(q.analytical)}" if q.analytical else ""
            out.append(f"| `{q.name}`<br>**{_md(q.title)}**{variants} | {_md(q.description)}{why} | {ps} |")
        out.append("")
    return "\n".join(out)


def _md(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def _md_default(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return ",".join(v)
    return _md(str(v)) if v != "" else '""'
