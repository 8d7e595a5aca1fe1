"""Ingest any table (CSV, Excel, JSON) through a YAML mapping.

A mapping says, for every row of a data file, which nodes and relationships to
create, from which columns, with which deterministic ids, which values to clean
how, which rows to keep, and which Source each fact cites. It is in the spirit
of followthemoney's CSV mappings; docs/mapping.md is the full reference and
data/examples/ holds worked examples.

    techgiants ingest mapping MAPPING.yaml [DATA ...]
    techgiants mapping check MAPPING.yaml [DATA ...] --rows 5

Entry points
- `load_mapping(path_or_text)` -> Mapping, or MappingError listing every
  problem with the mapping line it is on (YAML node marks).
- `parse_many([mapping, data...])`: records for the ingest pipeline. Without
  data paths, the files named by the mapping's `data:` are read.
- `parse(path, as_of=None, mapping=None, data=None)`: the one-path form
  (`path` is the mapping, or a data file when `mapping=` is given).
- `preview(mapping_text_or_path, data_path=None, rows=10)` ->
  (nodes, rels, rejected) for the first rows, without a store (the app's
  Data page and `techgiants mapping check`).
- `check(mapping, data_paths)` -> problems: the mapping against each file's
  columns.

Rejects, per row (each goes to the quarantine with the data file, `row N`,
the column and the mapping line):
- a bad cell rejects the entity or relationship whose property, id or key
  it feeds; everything else of the row that does not depend on it still
  lands;
- a relationship is rejected when one of its ends was rejected (it depends
  on it), and skipped silently when an end is absent from the row (its id
  columns are empty or its `where` is false);
- an entity or relationship is rejected when a Source it cites was rejected,
  or when none of its sources is present in the row.
Ids are deterministic, so re-running a file changes nothing.
"""
from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import pycountry
import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from graph.ids import slug
from graph.schema import SCHEMA, SchemaError, validate_node, validate_rel
from ingest.records import Node, Rejected, Rel
from ingest.textutil import Batch, clean, country_code, read_text, undecodable

__all__ = ["Mapping", "MappingError", "Problem", "load_mapping", "parse", "parse_many", "preview", "check",
           "to_country"]

# ---------------------------------------------------------------- problems


@dataclass
class Problem:
    """Something wrong with a mapping: where (mapping name and line) and what."""
    where: str
    line: int | None
    message: str
    column: str | None = None  # the data column concerned, for column problems

    def __str__(self) -> str:
        return f"{self.where} line {self.line}: {self.message}" if self.line else f"{self.where}: {self.message}"


class MappingError(ValueError):
    """The mapping cannot be used. `problems` lists every problem found, each with its line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    @property
    def line(self) -> int | None:
        return self.problems[0].line if self.problems else None


class CellError(ValueError):
    """A data cell that cannot become the value the mapping asks for."""

    def __init__(self, column: str | None, message: str):
        super().__init__(message)
        self.column = column


# ---------------------------------------------------------------- YAML with line numbers


class _Resolver(BaseResolver):
    """YAML 1.2-like scalars: only true/false are booleans (NO is Norway, not False),
    dates stay strings, numbers are plain decimals."""


_Resolver.yaml_implicit_resolvers = {}
_Resolver.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                list("tTfF"))
_Resolver.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"),
                                ["~", "n", "N", ""])
_Resolver.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"),
                                list("-+0123456789"))
_Resolver.add_implicit_resolver("tag:yaml.org,2002:float",
                                re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
                                list("-+0123456789."))
_Resolver.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


class _Map(dict):
    """A YAML mapping that remembers its line and the line of each key."""
    line: int = 0
    lines: dict


class _Seq(list):
    line: int = 0
    lines: list


class _Loader(Reader, Scanner, Parser, Composer, SafeConstructor, _Resolver):
    def __init__(self, stream):
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        _Resolver.__init__(self)
        self.duplicates: list[tuple[int, str]] = []


def _construct_map(loader: _Loader, node) -> _Map:
    explicit = {id(k) for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"}
    loader.flatten_mapping(node)  # `<<: *anchor` keys first, explicit keys override them
    m = _Map()
    m.line = node.start_mark.line + 1
    m.lines = {}
    seen = set()
    for k_node, v_node in node.value:
        key = loader.construct_object(k_node, deep=True)
        if isinstance(key, (list, dict)):
            key = str(key)
        if id(k_node) in explicit:
            if key in seen:
                loader.duplicates.append((k_node.start_mark.line + 1, f"duplicate key {key!r}"))
            seen.add(key)
        m[key] = loader.construct_object(v_node, deep=True)
        m.lines[key] = k_node.start_mark.line + 1
    return m


def _construct_seq(loader: _Loader, node) -> _Seq:
    s = _Seq(loader.construct_object(n, deep=True) for n in node.value)
    s.line = node.start_mark.line + 1
    s.lines = [n.start_mark.line + 1 for n in node.value]
    return s


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def _line(obj: Any, key: Any = None, default: int | None = None) -> int | None:
    if key is not None and isinstance(obj, _Map) and key in obj.lines:
        return obj.lines[key]
    if key is not None and isinstance(obj, _Seq) and isinstance(key, int) and key < len(obj.lines):
        return obj.lines[key]
    return getattr(obj, "line", None) or default


# ---------------------------------------------------------------- value cleaning

COMMON_COUNTRIES = {
    # names and codes people write that are not ISO and that rigour does not know, or knows differently
    "uk": "GB", "u.k": "GB", "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB",
    "great britain": "GB", "britain": "GB", "united kingdom of great britain and northern ireland": "GB",
    "republic of korea": "KR", "korea, republic of": "KR", "korea, south": "KR", "korea (south)": "KR", "rok": "KR",
    "korea, north": "KP", "korea (north)": "KP", "dprk": "KP",
    "democratic people's republic of korea": "KP",
    "prc": "CN", "p.r.c": "CN", "p.r. china": "CN", "pr china": "CN", "mainland china": "CN",
    "people's republic of china": "CN", "peoples republic of china": "CN", "china (mainland)": "CN",
    "russian federation": "RU", "russia (federation)": "RU",
    "usa": "US", "u.s.a": "US", "us": "US", "u.s": "US", "america": "US", "united states of america": "US",
    "uae": "AE", "u.a.e": "AE", "drc": "CD", "dr congo": "CD", "congo-kinshasa": "CD", "congo-brazzaville": "CG",
    "ivory coast": "CI", "holland": "NL", "czech republic": "CZ", "turkey": "TR", "burma": "MM",
    "laos": "LA", "lao pdr": "LA", "vietnam": "VN", "viet nam": "VN", "iran": "IR", "syria": "SY",
    "hong kong sar": "HK", "macau": "MO", "macao sar": "MO", "taiwan, province of china": "TW",
    "kosovo": "XK", "swaziland": "SZ", "cape verde": "CV", "east timor": "TL", "vatican": "VA",
}


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", text).strip().casefold()


def to_country(value: Any) -> str | None:
    """ISO 3166-1 alpha-2 code for a country code or name, None when empty; ValueError when unknown.

    Order: an alpha-2 or alpha-3 code; the common names above ("UK", "South Korea" via
    rigour, "Russia", "PRC"); rigour's territory names ("Burma", "Ivory Coast", "Deutschland");
    then pycountry names, official names and common names that contain the text (or are
    contained in it) when exactly one country matches ("Saudi" -> SA). Subdivisions
    ("Texas", "Sichuan") are not countries and stay unknown.
    """
    text = clean(value)
    if not text:
        return None
    key = _fold(text).rstrip(".")
    if re.fullmatch(r"[A-Za-z]{2}", text):
        code = text.upper()
        if code == "UK":
            return "GB"
        if code == "XK" or pycountry.countries.get(alpha_2=code) is not None:
            return code
        raise ValueError(f"unknown country code {text!r}")
    if key in COMMON_COUNTRIES:
        return COMMON_COUNTRIES[key]
    if re.fullmatch(r"[A-Za-z]{3}", text):
        c = pycountry.countries.get(alpha_3=text.upper())
        if c is not None:
            return c.alpha_2
    code = country_code(text)
    if code:
        return code
    hits = set()
    for c in pycountry.countries:
        for name in (c.name, getattr(c, "official_name", None), getattr(c, "common_name", None)):
            if not name:
                continue
            n = _fold(name)
            if (len(key) >= 4 and key in n) or (len(n) >= 4 and re.search(rf"\b{re.escape(n)}\b", key)):
                hits.add(c.alpha_2)
    if len(hits) == 1:
        return hits.pop()
    if hits:
        raise ValueError(f"ambiguous country {text!r} (could be {', '.join(sorted(hits))})")
    raise ValueError(f"unknown country {text!r}")


def country_name(code: str) -> str:
    """A short English name for an ISO code: the one rigour uses (`Russia`, `United Kingdom`)."""
    try:
        from rigour.territories import get_territory
        t = get_territory(code.lower())
        if t is not None:
            return t.name
    except Exception:  # pragma: no cover - rigour missing or changed
        pass
    c = pycountry.countries.get(alpha_2=code)
    return getattr(c, "common_name", None) or (c.name if c else code)


_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?|[+-]?\.\d+")


_NUMBER_COMMA = re.compile(r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?")


def to_number(value: Any, decimal: str = ".") -> float | None:
    """A float from 1234.5, "1,234.5", "$1,234", "US$ 12", "1.5e6"; ValueError otherwise.
    With decimal=",": "1.234,5" and "12,5" (thousands dots, decimal comma)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, (int, float)):
        x = float(value)
    else:
        text = clean(value)
        if not text:
            return None
        t = re.sub(r"^(?:US\$|USD|\$)\s*|\s*(?:USD)$", "", text, flags=re.I).replace("\u00a0", "").replace(" ", "")
        if decimal == ",":
            if not _NUMBER_COMMA.fullmatch(t):
                raise ValueError(f"not a number: {text!r} (decimal comma)")
            x = float(t.replace(".", "").replace(",", "."))
        else:
            if not _NUMBER.fullmatch(t):
                raise ValueError(f"not a number: {text!r}")
            x = float(t.replace(",", ""))
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError(f"not a number: {value!r}")
    return x


def to_share(value: Any, unit: str = "fraction", decimal: str = ".") -> float | None:
    """A fraction 0-1: "38.88%" -> 0.3888; 0.3888 -> 0.3888; 38.88 with unit percent -> 0.3888.

    A plain number above 1 read as a fraction, anything above 100 %, and negative
    numbers are errors, never guesses.
    """
    if value is None:
        return None
    pct = unit == "percent"
    if isinstance(value, str):
        text = clean(value) or ""
        if not text:
            return None
        if text.endswith("%"):
            text, pct = text[:-1].strip(), True
        x = to_number(text, decimal)
    else:
        x = to_number(value, decimal)
    if x is None:
        return None
    if x < 0:
        raise ValueError(f"negative share {value!r}")
    if pct:
        if x > 100:
            raise ValueError(f"share {value!r} is more than 100%")
        x = x / 100
    elif x > 1:
        raise ValueError(f"share {value!r} is more than 1 as a fraction: write {value}% or set `unit: percent`")
    return round(x, 10)


DEFAULT_DATE_FORMATS = ["%Y-%m-%d", "%Y-%m", "%Y"]


def _partial(fmt: str) -> bool:
    return not any(d in fmt for d in ("%d", "%j", "%x", "%c"))


def to_date(value: Any, formats: list[str] | None = None, partial: str = "drop") -> str | None:
    """ISO YYYY-MM-DD from a cell: Excel/JSON dates as they are, text by the first format that
    reads it. A partial date (read by a format without a day: `%Y`, `%m/%Y`) is dropped
    (None) or, with partial="reject", an error; the schema only holds full days."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        raise ValueError(f"not a date: {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = clean(value)
    if not text:
        return None
    fmts = formats or DEFAULT_DATE_FORMATS
    if not formats:  # ISO timestamps from JSON APIs: the date part
        m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?", text)
        if m:
            text = m.group(1)
    for fmt in fmts:
        try:
            d = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        if _partial(fmt):
            if partial == "reject":
                raise ValueError(f"partial date {text!r} (format {fmt}): the graph holds full days only")
            return None
        return d.date().isoformat()
    raise ValueError(f"unreadable date {text!r} (formats: {', '.join(fmts)})")


_TRUE = {"true", "yes", "y", "1", "x", "t"}
_FALSE = {"false", "no", "n", "0", "f"}


def to_bool(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = (clean(value) or "").casefold()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"not a yes/no value: {value!r}")


def cell_text(value: Any) -> str | None:
    """A cell as text: whitespace normalised, dates ISO, whole floats without `.0`."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (list, tuple)):
        return "; ".join(t for t in (cell_text(v) for v in value) if t) or None
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return clean(value)


# ---------------------------------------------------------------- templates

def _country_fn(text: str) -> str:
    return to_country(text) or ""


FUNCTIONS = {
    "slug": slug,
    "lower": str.lower,
    "upper": str.upper,
    "country": _country_fn,
    "country_name": lambda t: country_name(_country_fn(t)),
    "digits": lambda t: re.sub(r"\D", "", t),
}
SPECIAL = {"_row", "_file", "_as_of"}  # placeholders that are not columns


@dataclass
class Placeholder:
    funcs: list[str]  # outermost first
    column: str


class Template:
    """`project:{slug(Project name)}`: literal text and `{Column}` / `{fn(Column)}` placeholders.

    Functions: slug, lower, upper, country (ISO code), country_name, digits; they nest
    (`{slug(lower(Name))}`). `{{` and `}}` are literal braces. `{_row}` is the row
    number, `{_file}` the data file name, `{_as_of}` the `--as-of` date. When a
    placeholder is empty, the whole template is empty (an optional id or key vanishes).
    """

    def __init__(self, text: str, line: int | None, problems: list, where: str):
        self.text = text
        self.line = line
        self.parts: list[str | Placeholder] = []
        pos = 0
        for m in re.finditer(r"\{\{|\}\}|\{([^{}]*)\}|[{}]", text):
            if m.start() > pos:
                self.parts.append(text[pos:m.start()])
            pos = m.end()
            tok = m.group(0)
            if tok in ("{{", "}}"):
                self.parts.append(tok[0])
            elif tok in ("{", "}"):
                problems.append(Problem(where, line, f"unbalanced brace in template {text!r} "
                                        "(write {{ or }} for a literal brace)"))
                return
            else:
                ph = self._placeholder(m.group(1), problems, where)
                if ph is None:
                    return
                self.parts.append(ph)
        if pos < len(text):
            self.parts.append(text[pos:])

    def _placeholder(self, expr: str, problems: list, where: str) -> Placeholder | None:
        funcs = []
        e = expr.strip()
        while True:
            m = re.fullmatch(r"(\w+)\((.*)\)", e)
            if not m:
                break
            if m.group(1) not in FUNCTIONS:
                problems.append(Problem(where, self.line, f"unknown function {m.group(1)!r} in {{{expr}}} "
                                        f"(known: {', '.join(FUNCTIONS)})"))
                return None
            funcs.append(m.group(1))
            e = m.group(2).strip()
        if not e:
            problems.append(Problem(where, self.line, f"empty placeholder {{{expr}}} in template {self.text!r}"))
            return None
        return Placeholder(funcs, e)

    @property
    def columns(self) -> list[str]:
        return [p.column for p in self.parts if isinstance(p, Placeholder) and p.column not in SPECIAL]

    @property
    def constant(self) -> bool:
        return not any(isinstance(p, Placeholder) for p in self.parts)

    def render(self, row: "Row") -> str | None:
        out = []
        for p in self.parts:
            if isinstance(p, str):
                out.append(p)
                continue
            text = row.text(p.column)
            if not text:
                return None
            for fn in reversed(p.funcs):
                try:
                    text = FUNCTIONS[fn](text)
                except ValueError as e:
                    raise CellError(p.column, str(e)) from None
                if not text:
                    return None
            out.append(text)
        result = "".join(out)
        return clean(result)


# ---------------------------------------------------------------- specs

TYPES = ("string", "date", "share", "number", "int", "bool", "country")
# schema type -> value types a mapping may ask for
ALLOWED_TYPES = {"string": {"string", "date", "country"}, "date": {"date"}, "float": {"number", "share", "int"},
                 "int": {"int", "number"}, "bool": {"bool"}, "list": {"string", "country", "date"}}
VALUE_KEYS = {"column", "columns", "template", "value", "type", "split", "formats", "format", "partial", "unit",
              "scale", "map", "default", "required"}
SOURCE_PROPS = ("name", "title", "url", "date", "kind", "publisher", "locator", "parent")
TOP_KEYS = {"title", "description", "data", "format", "sheet", "header_row", "delimiter", "encoding", "rows_key",
            "decimal",
            "null_values", "where", "sources", "source", "entities", "relationships"}
ENTITY_KEYS = {"label", "id", "properties", "where", "source", "required", "description"}
REL_KEYS = {"type", "from", "to", "properties", "key", "where", "source", "description"}
DEFAULT_NULLS = ["-", "–", "—", "n/a", "N/A", "#N/A", "null", "NULL"]


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


@dataclass
class ValueSpec:
    """How one property gets its value in a row."""
    prop: str
    line: int | None
    columns: list[str] = field(default_factory=list)
    template: Template | None = None
    const: Any = None
    type: str = "string"
    split: str | None = None
    formats: list[str] | None = None
    partial: str = "drop"
    unit: str = "fraction"
    scale: float | None = None
    map: dict | None = None
    default: Any = None
    required: bool = False
    is_list: bool = False
    has_const: bool = False
    decimal: str = "."
    alternatives: list["ValueSpec"] = field(default_factory=list)  # a YAML list of value specs

    @property
    def all_columns(self) -> list[str]:
        cols = list(self.columns) + (self.template.columns if self.template else [])
        for a in self.alternatives:
            cols += a.all_columns
        return cols

    @property
    def first_column(self) -> str | None:
        cols = self.all_columns
        return cols[0] if cols else None

    def _convert(self, value: Any) -> Any:
        t = self.type
        if t == "string":
            return cell_text(value)
        if t == "date":
            return to_date(value, self.formats, self.partial)
        if t == "country":
            return to_country(cell_text(value))
        if t == "share":
            return to_share(value, self.unit, self.decimal)
        if t in ("number", "int"):
            x = to_number(value, self.decimal)
            if x is not None and self.scale is not None:
                x = x * self.scale
            if t == "int" and x is not None:
                if not float(x).is_integer():
                    raise ValueError(f"not a whole number: {value!r}")
                return int(x)
            return x
        if t == "bool":
            return to_bool(value)
        raise ValueError(f"unknown type {t}")  # pragma: no cover - checked when loading

    def evaluate(self, row: "Row") -> Any:
        if self.alternatives:  # list properties: all of them; one-value properties: the first non-empty
            vals: list = []
            for a in self.alternatives:
                v = a.evaluate(row)
                if v is not None:
                    vals.extend(v if isinstance(v, list) else [v])
            if not vals and self.required:
                raise CellError(self.first_column or self.prop, f"{self.prop} is empty")
            if self.is_list:
                return list(dict.fromkeys(str(v) for v in vals)) or None
            return vals[0] if vals else None
        raw: list[tuple[str | None, Any]] = []
        if self.has_const:
            raw = [(None, self.const)]
        elif self.template is not None:
            raw = [(self.first_column, self.template.render(row))]
        else:
            raw = [(c, row.cell(c)) for c in self.columns]
        items: list[tuple[str | None, Any]] = []
        for col, v in raw:
            vals = v if isinstance(v, (list, tuple)) else [v]
            for x in vals:
                if isinstance(x, str):
                    x = clean(x)
                    if self.split and x:
                        items.extend((col, clean(s)) for s in x.split(self.split))
                        continue
                items.append((col, x))
        if self.map is not None:
            mapped = []
            for col, x in items:
                key = _fold(cell_text(x) or "") if x is not None else ""
                mapped.append((col, self.map[key] if key in self.map else x))
            items = mapped
        items = [(c, x) for c, x in items if x is not None and x != ""]
        if not items and self.default is not None:
            items = [(None, self.default)]
        out = []
        for col, x in items:
            try:
                v = self._convert(x)
            except ValueError as e:
                raise CellError(col or self.prop, str(e)) from None
            if v is not None and v != "":
                out.append(v)
        if not out and self.required:
            raise CellError(self.first_column or self.prop, f"{self.prop} is empty")
        if self.is_list:
            return list(dict.fromkeys(str(v) for v in out)) or None
        return out[0] if out else None


@dataclass
class Cond:
    """A row filter: `{column: X, equals|not_equals|in|not_in|regex: ..., not_empty|empty: true}`,
    `{all: [...]}`, `{any: [...]}`, `{not: {...}}`, or a list (all must hold)."""
    op: str
    line: int | None
    column: str | None = None
    arg: Any = None
    subs: list["Cond"] = field(default_factory=list)

    def ok(self, row: "Row") -> bool:
        if self.op == "all":
            return all(c.ok(row) for c in self.subs)
        if self.op == "any":
            return any(c.ok(row) for c in self.subs)
        if self.op == "not":
            return not self.subs[0].ok(row)
        text = row.text(self.column, strict=False)
        if self.op == "not_empty":
            return bool(text) == bool(self.arg)
        if self.op == "empty":
            return (not text) == bool(self.arg)
        if self.op == "regex":
            return bool(text) and self.arg.search(text) is not None
        t = _fold(text or "")
        if self.op == "equals":
            return t == self.arg
        if self.op == "not_equals":
            return t != self.arg
        if self.op == "in":
            return t in self.arg
        if self.op == "not_in":
            return t not in self.arg
        raise AssertionError(self.op)  # pragma: no cover

    @property
    def columns(self) -> list[tuple[str, int | None]]:
        if self.column:
            return [(self.column, self.line)]
        return [c for s in self.subs for c in s.columns]


@dataclass
class EntitySpec:
    name: str
    label: str
    line: int | None
    id: Template
    props: dict[str, ValueSpec]
    where: Cond | None = None
    sources: list[str] | None = None
    required: bool = False


@dataclass
class RelSpec:
    index: int
    type: str
    src: str
    dst: str
    line: int | None
    props: dict[str, ValueSpec]
    key: Template | None = None
    where: Cond | None = None
    sources: list[str] | None = None

    @property
    def title(self) -> str:
        return f"{self.type} {self.src} -> {self.dst}"


@dataclass
class SourceSpec:
    name: str
    line: int | None
    id: Template
    props: dict[str, ValueSpec]
    where: Cond | None = None


# ---------------------------------------------------------------- the mapping


@dataclass
class Mapping:
    """A parsed, checked mapping. Build with `load_mapping`."""
    where: str  # name used in messages: the mapping file's name, or "mapping"
    base_dir: Path
    raw: dict
    data: list[tuple[str, int | None]] = field(default_factory=list)  # (path as written, line)
    format: str | None = None
    sheet: Any = None
    header_row: int = 1
    delimiter: str | None = None
    encoding: str | None = None
    rows_key: str | None = None
    null_values: set = field(default_factory=set)
    where_row: Cond | None = None
    sources: dict[str, SourceSpec] = field(default_factory=dict)
    default_sources: list[str] | None = None
    entities: dict[str, EntitySpec] = field(default_factory=dict)
    relationships: list[RelSpec] = field(default_factory=list)
    column_refs: list[tuple[str, int | None]] = field(default_factory=list)
    path: str | None = None

    def data_paths(self) -> list[str]:
        out = []
        for p, line in self.data:
            full = p if os.path.isabs(p) else str(self.base_dir / p)
            if not os.path.exists(full):
                raise FileNotFoundError(str(Problem(self.where, line, f"data file {p!r} not found ({full})")))
            out.append(full)
        return out

    # -------------------------------------------------------- columns

    def column_problems(self, header: list[str]) -> tuple[dict[str, str], list[Problem]]:
        """Resolve every column the mapping names onto the file's header: exact name first,
        then ignoring case, accents and spacing. Returns (mapping name -> header name, problems)."""
        resolved: dict[str, str] = {}
        problems: list[Problem] = []
        folded: dict[str, str] = {}
        for h in header:
            folded.setdefault(_fold(h), h)
        seen = set()
        for col, line in self.column_refs:
            if col in resolved or (col, line) in seen or col in SPECIAL:
                continue
            seen.add((col, line))
            if col in header:
                resolved[col] = col
            elif _fold(col) in folded:
                resolved[col] = folded[_fold(col)]
            elif "." in col and col.split(".", 1)[0] in header:  # JSON: a key inside an object
                resolved[col] = col
            else:
                problems.append(Problem(self.where, line, f"unknown column {col!r}{_suggest(col, header)} "
                                        f"(columns: {', '.join(header) or 'none'})", column=col))
        return resolved, problems

    # -------------------------------------------------------- rows

    def row_records(self, row: "Row") -> list:
        """Nodes, relationships and Rejected records of one row (not yet merged with other rows)."""
        if self.where_row is not None:
            try:
                if not self.where_row.ok(row):
                    return []
            except CellError as e:
                return [row.reject(e.column, f"{self._at(self.where_row.line)}row filter: {e}")]
        out: list = []
        # state per name: ("ok", id, label) | ("absent",) | ("failed", column, reason)
        src_state: dict[str, tuple] = {}
        for name, s in self.sources.items():
            src_state[name] = self._source(s, row, out)
        ent_state: dict[str, tuple] = {}
        for name, e in self.entities.items():
            ent_state[name] = self._entity(e, row, src_state, out)
        for r in self.relationships:
            self._relationship(r, row, ent_state, src_state, out)
        return out

    def _at(self, line: int | None) -> str:
        return f"{self.where} line {line}: " if line else f"{self.where}: "

    def _props(self, specs: dict[str, ValueSpec], row: "Row") -> dict:
        props = {}
        for prop, spec in specs.items():
            v = spec.evaluate(row)  # CellError propagates
            if v is not None:
                props[prop] = v
        return props

    def _source(self, s: SourceSpec, row: "Row", out: list) -> tuple:
        what = f"source `{s.name}`"
        try:
            if s.where is not None and not s.where.ok(row):
                return ("absent", None)
            sid = s.id.render(row)
        except CellError as e:
            out.append(row.reject(e.column, f"{self._at(s.id.line)}{what} id: {e}"))
            return ("failed", e.column, f"{what} was rejected ({e})")
        if not sid:
            return ("absent", s.id.columns[0] if s.id.columns else None)
        try:
            props = self._props(s.props, row)
        except CellError as e:
            line = self._prop_line(s.props, e)
            out.append(row.reject(e.column, f"{self._at(line)}{what}: {e}"))
            return ("failed", e.column, f"{what} was rejected ({e})")
        props.setdefault("name", props.get("title") or sid)
        props.update({"id": sid, "sources": [sid]})
        try:
            props = validate_node("Source", props)
        except SchemaError as e:
            col = self._schema_column(s.props, e)
            out.append(row.reject(col, f"{self._at(self._schema_line(s.props, e, s.line))}{what}: {e}"))
            return ("failed", col, f"{what} was rejected ({e})")
        out.append(Node("Source", props, origin=row.origin))
        return ("ok", sid, "Source")

    def _cites(self, names: list[str] | None, src_state: dict) -> tuple[list[str] | None, tuple | None]:
        """(source ids, failure) for a fact citing `names` (default: the mapping's sources)."""
        names = names if names is not None else self.default_sources
        if names is None:
            names = list(self.sources)
        ids, absent_cols = [], []
        for n in names:
            st = src_state.get(n)
            if st is None:  # the automatic file source
                continue
            if st[0] == "failed":
                return None, (st[1], st[2])
            if st[0] == "ok":
                ids.append(st[1])
            elif st[1]:
                absent_cols.append(st[1])
        if not names:
            return [], None
        if not ids:
            cols = ", ".join(dict.fromkeys(absent_cols)) or "its id columns"
            return None, (absent_cols[0] if absent_cols else None,
                          f"no source for this fact: the id of source {', '.join(f'`{n}`' for n in names)} is empty "
                          f"(column {cols})")
        return ids, None

    def _entity(self, e: EntitySpec, row: "Row", src_state: dict, out: list) -> tuple:
        what = f"entity `{e.name}` ({e.label})"
        try:
            if e.where is not None and not e.where.ok(row):
                return ("absent",)
            nid = e.id.render(row)
            if nid and e.label == "Country" and not _is_country_code(nid):
                raise CellError(e.id.columns[0] if e.id.columns else None,
                                f"Country id {nid!r} is not an ISO 3166-1 alpha-2 code (use {{country(Column)}})")
        except CellError as ex:
            out.append(row.reject(ex.column, f"{self._at(e.id.line)}{what} id: {ex}"))
            return ("failed", ex.column, f"entity `{e.name}` was rejected ({ex})")
        if not nid:
            if e.required:
                col = e.id.columns[0] if e.id.columns else None
                out.append(row.reject(col, f"{self._at(e.id.line)}{what}: required, but its id is empty "
                                           f"(column {', '.join(e.id.columns)})"))
                return ("failed", col, f"entity `{e.name}` was rejected (empty id)")
            return ("absent",)
        try:
            props = self._props(e.props, row)
        except CellError as ex:
            out.append(row.reject(ex.column, f"{self._at(self._prop_line(e.props, ex))}{what} {nid}: {ex}"))
            return ("failed", ex.column, f"entity `{e.name}` was rejected ({ex})")
        if e.label == "Country" and "name" not in props:
            props["name"] = country_name(nid)
        sources, fail = self._cites(e.sources, src_state)
        if fail:
            out.append(row.reject(fail[0], f"{self._at(e.line)}{what} {nid} not created: {fail[1]}"))
            return ("failed", fail[0], f"entity `{e.name}` was rejected ({fail[1]})")
        props.update({"id": nid, "sources": sources or [row.file_source_id]})
        try:
            props = validate_node(e.label, props)
        except SchemaError as ex:
            col = self._schema_column(e.props, ex)
            out.append(row.reject(col, f"{self._at(self._schema_line(e.props, ex, e.line))}{what} {nid}: {ex}"))
            return ("failed", col, f"entity `{e.name}` was rejected ({ex})")
        if not sources:
            row.use_file_source = True
        out.append(Node(e.label, props, origin=row.origin))
        return ("ok", nid, e.label)

    def _relationship(self, r: RelSpec, row: "Row", ent_state: dict, src_state: dict, out: list) -> None:
        ends = [ent_state[r.src], ent_state[r.dst]]
        if any(s[0] == "absent" for s in ends):
            return
        failed = [s for s in ends if s[0] == "failed"]
        if failed:
            out.append(row.reject(failed[0][1], f"{self._at(r.line)}{r.title} not created: {failed[0][2]}"))
            return
        (_, src, src_label), (_, dst, dst_label) = ends
        try:
            if r.where is not None and not r.where.ok(row):
                return
            key = r.key.render(row) if r.key is not None else ""
        except CellError as ex:
            out.append(row.reject(ex.column, f"{self._at(r.key.line if r.key else r.line)}{r.title} key: {ex}"))
            return
        try:
            props = self._props(r.props, row)
        except CellError as ex:
            out.append(row.reject(ex.column, f"{self._at(self._prop_line(r.props, ex))}{r.title}: {ex}"))
            return
        sources, fail = self._cites(r.sources, src_state)
        if fail:
            out.append(row.reject(fail[0], f"{self._at(r.line)}{r.title} not created: {fail[1]}"))
            return
        if not sources:
            row.use_file_source = True
        props["sources"] = sources or [row.file_source_id]
        rel = Rel(r.type, src, src_label, dst, dst_label, props, key=key or "", origin=row.origin)
        try:
            rel.props = validate_rel(r.type, src_label, dst_label, rel.props)
        except SchemaError as ex:
            col = self._schema_column(r.props, ex)
            out.append(row.reject(col, f"{self._at(self._schema_line(r.props, ex, r.line))}{r.title}: {ex}"))
            return
        out.append(rel)

    @staticmethod
    def _prop_line(specs: dict[str, ValueSpec], err: CellError) -> int | None:
        for s in specs.values():
            if err.column in s.all_columns or err.column == s.prop:
                return s.line
        return None

    @staticmethod
    def _schema_column(specs: dict[str, ValueSpec], err: SchemaError) -> str | None:
        s = specs.get(err.field or "")
        return (s.first_column or s.prop) if s else err.field

    @staticmethod
    def _schema_line(specs: dict[str, ValueSpec], err: SchemaError, default: int | None) -> int | None:
        s = specs.get(err.field or "")
        return s.line if s else default


def _is_country_code(code: str) -> bool:
    return code in ("XK", "EU", "ZZ") or (len(code) == 2 and pycountry.countries.get(alpha_2=code) is not None)


# ---------------------------------------------------------------- loading a mapping


class _Builder:
    """Turns the YAML into a Mapping, collecting every problem with its line."""

    def __init__(self, where: str):
        self.where = where
        self.decimal = "."
        self.problems: list[Problem] = []
        self.columns: list[tuple[str, int | None]] = []

    def err(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(self.where, line, message))

    def unknown_keys(self, d: _Map, allowed: set, what: str) -> None:
        for k in d:
            if k not in allowed:
                self.err(_line(d, k), f"unknown key {k!r} in {what}{_suggest(k, sorted(allowed))} "
                                      f"(allowed: {', '.join(sorted(allowed))})")

    def template(self, value: Any, line: int | None, what: str) -> Template | None:
        if isinstance(value, dict) and len(value) == 1 and next(iter(value.values())) is None:
            k = next(iter(value))
            self.err(line, f"{what}: {{{k}}} without quotes is a YAML mapping; write \"{{{k}}}\" in quotes")
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            self.err(line, f"{what}: expected a template string such as \"company:{{slug(Company)}}\", "
                           f"got {value!r}")
            return None
        t = Template(value, line, self.problems, self.where)
        for c in t.columns:
            self.columns.append((c, line))
        return t

    def cond(self, value: Any, line: int | None, what: str) -> Cond | None:
        if isinstance(value, list):
            subs = [self.cond(v, _line(value, i, line), what) for i, v in enumerate(value)]
            return Cond("all", line, subs=[s for s in subs if s]) if all(subs) else None
        if not isinstance(value, dict):
            self.err(line, f"{what}: a filter is a mapping like {{column: Status, equals: signed}}")
            return None
        line = _line(value, default=line)
        for op in ("all", "any"):
            if op in value:
                subs = value[op]
                if not isinstance(subs, list) or not subs:
                    self.err(_line(value, op, line), f"{what}: `{op}` takes a list of filters")
                    return None
                c = self.cond(subs, _line(value, op, line), what)
                return Cond(op, line, subs=c.subs) if c else None
        if "not" in value:
            c = self.cond(value["not"], _line(value, "not", line), what)
            return Cond("not", line, subs=[c]) if c else None
        ops = [k for k in value if k != "column"]
        allowed = {"equals", "not_equals", "in", "not_in", "regex", "not_empty", "empty"}
        if "column" not in value:
            self.err(line, f"{what}: filter needs `column`")
            return None
        col = value["column"]
        if not isinstance(col, str) or not col.strip():
            self.err(_line(value, "column", line), f"{what}: `column` must be a column name")
            return None
        if len(ops) != 1 or ops[0] not in allowed:
            bad = [o for o in ops if o not in allowed]
            hint = _suggest(bad[0], allowed) if bad else ""
            self.err(line, f"{what}: filter on {col!r} needs exactly one of {', '.join(sorted(allowed))}"
                           f"{(' (got ' + ', '.join(map(str, ops)) + ')') if ops else ''}{hint}")
            return None
        op, arg = ops[0], value[ops[0]]
        oline = _line(value, op, line)
        if op in ("equals", "not_equals"):
            arg = _fold(cell_text(arg) or "")
        elif op in ("in", "not_in"):
            if not isinstance(arg, list):
                self.err(oline, f"{what}: `{op}` takes a list of values")
                return None
            arg = {_fold(cell_text(a) or "") for a in arg}
        elif op == "regex":
            try:
                arg = re.compile(str(arg))
            except re.error as e:
                self.err(oline, f"{what}: bad regular expression {arg!r}: {e}")
                return None
        elif not isinstance(arg, bool):
            self.err(oline, f"{what}: `{op}` takes true or false")
            return None
        self.columns.append((col.strip(), _line(value, "column", line)))
        return Cond(op, line, column=col.strip(), arg=arg)

    def value(self, spec: Any, line: int | None, prop: str, sprop, what: str) -> ValueSpec | None:
        """A property value: a template string, a constant, or {column|columns|template|value: ..., options}."""
        vs = ValueSpec(prop=prop, line=line, is_list=sprop.type == "list", decimal=self.decimal)
        schema_type = sprop.type
        if isinstance(spec, dict) and len(spec) == 1 and next(iter(spec.values())) is None:
            k = next(iter(spec))
            self.err(line, f"{what}: {{{k}}} without quotes is a YAML mapping; write \"{{{k}}}\" in quotes "
                           f"or {{column: {k}}}")
            return None
        if isinstance(spec, str):
            vs.template = self.template(spec, line, what)
            if vs.template is None:
                return None
            if vs.template.constant:
                vs.const, vs.has_const, vs.template = vs.template.render(_NO_ROW), True, None
            opts: dict = {}
        elif isinstance(spec, list):
            if not spec:
                self.err(line, f"{what}: an empty list")
                return None
            subs = [self.value(item, _line(spec, i, line), prop, sprop, f"{what} item {i + 1}")
                    for i, item in enumerate(spec)]
            if any(x is None for x in subs):
                return None
            vs.alternatives = subs
            return vs
        elif isinstance(spec, (int, float, bool)):
            vs.const, vs.has_const = spec, True
            opts = {}
        elif isinstance(spec, dict):
            self.unknown_keys(spec, VALUE_KEYS, what)
            given = [k for k in ("column", "columns", "template", "value") if k in spec]
            if len(given) > 1:
                self.err(line, f"{what}: give only one of column, columns, template, value (got {', '.join(given)})")
                return None
            if not given and "default" not in spec:
                self.err(line, f"{what}: say where the value comes from: column, columns, template or value")
                return None
            if "column" in spec:
                c = spec["column"]
                if not isinstance(c, (str, int)) or not str(c).strip():
                    self.err(_line(spec, "column", line), f"{what}: `column` must be a column name")
                    return None
                vs.columns = [str(c).strip()]
            elif "columns" in spec:
                cs = spec["columns"]
                if not isinstance(cs, list) or not cs or not all(isinstance(c, (str, int)) for c in cs):
                    self.err(_line(spec, "columns", line), f"{what}: `columns` must be a list of column names")
                    return None
                vs.columns = [str(c).strip() for c in cs]
            elif "template" in spec:
                vs.template = self.template(spec["template"], _line(spec, "template", line), what)
                if vs.template is None:
                    return None
            elif "value" in spec:
                vs.const, vs.has_const = spec["value"], True
            for c in vs.columns:
                self.columns.append((c, _line(spec, "column" if "column" in spec else "columns", line)))
            opts = spec
        else:
            self.err(line, f"{what}: expected a template string, a constant or a mapping, got {spec!r}")
            return None
        # type
        default_type = {"date": "date", "float": "number", "int": "int", "bool": "bool"}.get(schema_type, "string")
        if schema_type == "float" and sprop.range == (0, 1):
            default_type = "share"
        if getattr(sprop, "format", None) == "country":
            default_type = "country"
        vs.type = opts.get("type", default_type)
        tline = _line(opts, "type", line) if isinstance(opts, _Map) else line
        if vs.type not in TYPES:
            self.err(tline, f"{what}: unknown type {vs.type!r}{_suggest(vs.type, TYPES)} (types: {', '.join(TYPES)})")
            return None
        if vs.type not in ALLOWED_TYPES[schema_type] and not (default_type == "country" and vs.type == "country"):
            self.err(tline, f"{what}: type {vs.type} does not fit {prop}, a {schema_type} property "
                            f"(use {', '.join(sorted(ALLOWED_TYPES[schema_type]))})")
            return None
        if schema_type == "float" and sprop.range is None and vs.type == "share":
            self.err(tline, f"{what}: type share is for fractions 0-1; {prop} is a plain number (use number)")
            return None
        if "split" in opts:
            if not vs.is_list:
                self.err(_line(opts, "split", line), f"{what}: `split` needs a list property "
                                                     f"({prop} holds one value)")
                return None
            if not isinstance(opts["split"], str) or not opts["split"]:
                self.err(_line(opts, "split", line), f"{what}: `split` must be a separator string such as \";\"")
                return None
            vs.split = opts["split"]
        fmts = opts.get("formats", opts.get("format"))
        if fmts is not None:
            fl = _line(opts, "formats" if "formats" in opts else "format", line)
            if isinstance(fmts, str):
                fmts = [fmts]
            if vs.type != "date":
                self.err(fl, f"{what}: `formats` is for dates (type date)")
            elif not isinstance(fmts, list) or not fmts or not all(isinstance(f, str) and "%" in f for f in fmts):
                self.err(fl, f"{what}: `formats` must be a list of strptime formats such as [\"%d/%m/%Y\", \"%Y\"]")
            else:
                vs.formats = list(fmts)
        if "partial" in opts:
            if opts["partial"] not in ("drop", "reject"):
                self.err(_line(opts, "partial", line), f"{what}: `partial` is drop or reject")
            vs.partial = opts["partial"]
        if "unit" in opts:
            if vs.type != "share" or opts["unit"] not in ("fraction", "percent"):
                self.err(_line(opts, "unit", line), f"{what}: `unit` (fraction or percent) is for type share")
            vs.unit = opts["unit"]
        if "scale" in opts:
            if vs.type not in ("number", "int") or isinstance(opts["scale"], bool) \
                    or not isinstance(opts["scale"], (int, float)):
                self.err(_line(opts, "scale", line), f"{what}: `scale` is a number multiplying a number value")
            else:
                vs.scale = float(opts["scale"])
        if "map" in opts:
            mp = opts["map"]
            if not isinstance(mp, dict):
                self.err(_line(opts, "map", line), f"{what}: `map` must be a mapping of cell value -> value")
            else:
                vs.map = {_fold(cell_text(k) or ""): v for k, v in mp.items()}
                for k, v in mp.items():
                    self._check_const(vs, sprop, v, _line(mp, k, line), f"{what}: map value for {k!r}")
        if "default" in opts:
            vs.default = opts["default"]
            self._check_const(vs, sprop, vs.default, _line(opts, "default", line), f"{what}: default")
        if "required" in opts:
            vs.required = bool(opts["required"])
        if vs.has_const:
            if isinstance(vs.const, (list, dict)):
                self.err(line, f"{what}: `value` is one constant; for several, write a YAML list of values")
            else:
                self._check_const(vs, sprop, vs.const, line, what)
        return vs

    def _check_const(self, vs: ValueSpec, sprop, value: Any, line: int | None, what: str) -> None:
        if value is None:
            return
        try:
            v = vs._convert(value)
        except ValueError as e:
            self.err(line, f"{what}: {e}")
            return
        if v is not None and sprop.choices and v not in sprop.choices:
            self.err(line, f"{what}: {v!r} is not one of {', '.join(sprop.choices)}{_suggest(v, sprop.choices)}")

    def properties(self, spec: Any, line: int | None, props_schema: dict, what: str,
                   reserved: tuple = ("id", "sources", "search_key")) -> dict[str, ValueSpec]:
        out: dict[str, ValueSpec] = {}
        if spec is None:
            return out
        if not isinstance(spec, dict):
            self.err(line, f"{what}: `properties` must be a mapping of property -> value")
            return out
        known = [p for p, sp in props_schema.items() if p not in reserved and not sp.internal]
        for prop, v in spec.items():
            pl = _line(spec, prop, line)
            if prop in reserved:
                self.err(pl, f"{what}: {prop!r} is set by the mapping itself"
                             + (" (use `id:`)" if prop == "id" else " (use `source:`)" if prop == "sources" else ""))
                continue
            if prop not in known:
                self.err(pl, f"{what}: unknown property {prop!r}{_suggest(prop, known)} (known: {', '.join(known)})")
                continue
            vs = self.value(v, pl, prop, props_schema[prop], f"{what} property {prop!r}")
            if vs is not None:
                out[prop] = vs
        return out

    def source_refs(self, value: Any, line: int | None, known: Iterable[str], what: str) -> list[str] | None:
        if value is None:
            return None
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            self.err(line, f"{what}: `source` is a source name or a list of names")
            return None
        known = list(known)
        for n in names:
            if n not in known:
                self.err(line, f"{what}: unknown source {n!r}{_suggest(n, known)} "
                               f"(defined under `sources:`: {', '.join(known) or 'none'})")
        return names


class _NoRow:
    """Renders constant templates (no placeholders) when loading."""

    def text(self, column, strict=True):  # pragma: no cover - never called for constants
        return None


_NO_ROW = _NoRow()


def load_mapping(source: str | bytes | Path, base_dir: str | Path | None = None) -> Mapping:
    """Read and check a mapping from a path or from YAML text. Raises MappingError."""
    text, where, path = None, "mapping", None
    if isinstance(source, bytes):  # an uploaded file
        source = source.decode("utf-8-sig")
    if isinstance(source, Path) or ("\n" not in str(source) and os.path.exists(str(source))):
        path = str(source)
        where = os.path.basename(path)
        text, _ = read_text(path)
        base = Path(base_dir) if base_dir else Path(path).resolve().parent
    else:
        text = str(source)
        base = Path(base_dir) if base_dir else Path.cwd()
        if "\n" not in text and re.search(r"\.ya?ml$", text, re.I):
            raise FileNotFoundError(f"{text}: no such mapping file")
    loader = _Loader(text)
    try:
        raw = loader.get_single_data()
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        msg = " ".join(x for x in (getattr(e, "context", None), getattr(e, "problem", None)) if x) or str(e)
        raise MappingError([Problem(where, mark.line + 1 if mark else None, f"not valid YAML: {msg}")]) from None
    finally:
        loader.dispose()
    b = _Builder(where)
    for line, msg in loader.duplicates:
        b.err(line, msg)
    if not isinstance(raw, dict):
        raise MappingError([Problem(where, _line(raw, default=1), "a mapping is a YAML mapping with `entities:` "
                                    "(and optionally `relationships:`, `sources:`, `data:`)")])
    m = Mapping(where=where, base_dir=base, raw=raw, path=path)
    b.unknown_keys(raw, TOP_KEYS, "the mapping")

    # files and reading options
    data = raw.get("data")
    if data is not None:
        items = [data] if isinstance(data, str) else data
        if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
            b.err(_line(raw, "data"), "`data` is a file name or a list of file names")
        else:
            m.data = [(x, _line(items, i, _line(raw, "data"))) for i, x in enumerate(items)]
    if raw.get("format") is not None:
        if raw["format"] not in ("csv", "tsv", "xlsx", "json", "jsonl"):
            b.err(_line(raw, "format"), f"format {raw['format']!r} is not csv, tsv, xlsx, json or jsonl")
        m.format = raw["format"]
    m.sheet = raw.get("sheet")
    hr = raw.get("header_row", 1)
    if isinstance(hr, bool) or not isinstance(hr, int) or hr < 1:
        b.err(_line(raw, "header_row"), "`header_row` is the 1-based row number of the header")
    else:
        m.header_row = hr
    if raw.get("delimiter") is not None:
        d = raw["delimiter"]
        d = "\t" if d in ("\\t", "tab") else d
        if not isinstance(d, str) or len(d) != 1:
            b.err(_line(raw, "delimiter"), "`delimiter` is one character, e.g. \";\" or \"\\t\"")
        m.delimiter = d
    if raw.get("encoding") is not None:
        import codecs
        try:
            codecs.lookup(str(raw["encoding"]))
            m.encoding = str(raw["encoding"])
        except LookupError:
            b.err(_line(raw, "encoding"), f"unknown encoding {raw['encoding']!r}")
    m.rows_key = raw.get("rows_key")
    if raw.get("decimal") is not None:
        if raw["decimal"] not in (".", ","):
            b.err(_line(raw, "decimal"), "`decimal` is \".\" (1,234.5, the default) or \",\" (1.234,5)")
        else:
            b.decimal = raw["decimal"]
    nulls = raw.get("null_values", DEFAULT_NULLS)
    if not isinstance(nulls, list):
        b.err(_line(raw, "null_values"), "`null_values` is a list of cell values that mean empty")
        nulls = DEFAULT_NULLS
    m.null_values = {str(x) for x in nulls if x is not None}
    if raw.get("where") is not None:
        m.where_row = b.cond(raw["where"], _line(raw, "where"), "row filter")

    # sources
    sources = raw.get("sources") or {}
    if not isinstance(sources, dict):
        b.err(_line(raw, "sources"), "`sources` is a mapping of name -> {id, title, url, date, ...}")
        sources = {}
    src_schema = SCHEMA.nodes["Source"].props
    for name, spec in sources.items():
        sl = _line(sources, name)
        what = f"source `{name}`"
        if not isinstance(spec, dict):
            b.err(sl, f"{what}: expected a mapping with at least `id`")
            continue
        b.unknown_keys(spec, {"id", "where", *SOURCE_PROPS}, what)
        tid = None
        if "id" not in spec:
            b.err(sl, f"{what}: no `id` (an id template such as \"src:{{slug(Link)}}\" or a fixed \"src:my-file\")")
        else:
            tid = b.template(spec["id"], _line(spec, "id", sl), f"{what} id")
        sub = _Map({k: v for k, v in spec.items() if k in SOURCE_PROPS})
        sub.line, sub.lines = sl, {k: _line(spec, k, sl) for k in sub}
        props = b.properties(sub, sl, src_schema, what)
        where_c = b.cond(spec["where"], _line(spec, "where", sl), what) if "where" in spec else None
        if tid is not None:
            m.sources[str(name)] = SourceSpec(str(name), sl, tid, props, where_c)
    m.default_sources = b.source_refs(raw.get("source"), _line(raw, "source"), sources, "the mapping")

    # entities
    ents = raw.get("entities")
    if not isinstance(ents, dict) or not ents:
        b.err(_line(raw, "entities", _line(raw)), "`entities` is required: a mapping of name -> "
                                                  "{label, id, properties}")
        ents = {}
    for name, spec in ents.items():
        el = _line(ents, name)
        what = f"entity `{name}`"
        if not isinstance(spec, dict):
            b.err(el, f"{what}: expected a mapping with `label`, `id` and `properties`")
            continue
        b.unknown_keys(spec, ENTITY_KEYS, what)
        label = spec.get("label")
        if label is None:
            b.err(el, f"{what}: no `label` (one of {', '.join(SCHEMA.labels)})")
            continue
        if label not in SCHEMA.nodes:
            b.err(_line(spec, "label", el), f"{what}: unknown label {label!r}{_suggest(label, SCHEMA.labels)} "
                                            f"(labels: {', '.join(SCHEMA.labels)})")
            continue
        if label == "Source":
            b.err(_line(spec, "label", el), f"{what}: declare sources under `sources:`, not as entities")
            continue
        what = f"entity `{name}` ({label})"
        tid = None
        if "id" not in spec:
            b.err(el, f"{what}: no `id` template (e.g. \"{label.lower()}:{{slug(Name)}}\"); "
                      "ids must be deterministic so re-runs change nothing")
        else:
            tid = b.template(spec["id"], _line(spec, "id", el), f"{what} id")
        props = b.properties(spec.get("properties"), _line(spec, "properties", el), SCHEMA.nodes[label].props, what)
        pspec = spec.get("properties") if isinstance(spec.get("properties"), dict) else {}
        if "name" not in pspec and label != "Country":
            b.err(el, f"{what}: no `name` property; every node needs a name (e.g. name: \"{{Company}}\")")
        for p, sp in SCHEMA.nodes[label].props.items():
            if sp.required and p not in ("id", "name", "sources") and p not in pspec:
                b.err(el, f"{what}: {label} requires `{p}`; map it or give a value"
                          + (f" (one of {', '.join(sp.choices)})" if sp.choices else ""))
        where_c = b.cond(spec["where"], _line(spec, "where", el), what) if "where" in spec else None
        srcs = b.source_refs(spec.get("source"), _line(spec, "source", el), sources, what)
        if tid is not None:
            m.entities[str(name)] = EntitySpec(str(name), label, el, tid, props, where_c, srcs,
                                               bool(spec.get("required", False)))

    # relationships
    rels = raw.get("relationships") or []
    if not isinstance(rels, list):
        b.err(_line(raw, "relationships"), "`relationships` is a list of {type, from, to, properties}")
        rels = []
    for i, spec in enumerate(rels):
        rl = _line(rels, i)
        if not isinstance(spec, dict):
            b.err(rl, f"relationship {i + 1}: expected a mapping with `type`, `from` and `to`")
            continue
        rl = _line(spec, default=rl)
        b.unknown_keys(spec, REL_KEYS, f"relationship {i + 1}")
        rtype = spec.get("type")
        what = f"relationship {i + 1} ({rtype})"
        if rtype not in SCHEMA.rels:
            b.err(_line(spec, "type", rl), f"relationship {i + 1}: "
                  + (f"unknown type {rtype!r}{_suggest(rtype, SCHEMA.rel_types)}" if rtype else "no `type`")
                  + f" (types: {', '.join(SCHEMA.rel_types)})")
            continue
        rt = SCHEMA.rels[rtype]
        ok = True
        labels = {}
        for end, allowed in (("from", rt.sources), ("to", rt.targets)):
            ref = spec.get(end)
            if ref is None:
                b.err(rl, f"{what}: no `{end}` (the name of an entity of this mapping)")
                ok = False
            elif ref not in ents:
                b.err(_line(spec, end, rl), f"{what}: `{end}: {ref}` is not an entity of this mapping"
                      f"{_suggest(ref, [str(k) for k in ents])} (entities: {', '.join(map(str, ents))})")
                ok = False
            elif str(ref) in m.entities:
                lab = m.entities[str(ref)].label
                labels[end] = lab
                if lab not in allowed:
                    b.err(_line(spec, end, rl), f"{what}: {rtype} cannot {'start at' if end == 'from' else 'end at'} "
                                                f"{lab} (`{ref}`); allowed: {', '.join(allowed)}")
                    ok = False
            else:
                ok = False
        props = b.properties(spec.get("properties"), _line(spec, "properties", rl), rt.props, what,
                             reserved=("id", "sources", "derived"))
        key = b.template(spec["key"], _line(spec, "key", rl), f"{what} key") if "key" in spec else None
        where_c = b.cond(spec["where"], _line(spec, "where", rl), what) if "where" in spec else None
        srcs = b.source_refs(spec.get("source"), _line(spec, "source", rl), sources, what)
        if ok:
            m.relationships.append(RelSpec(i + 1, rtype, str(spec["from"]), str(spec["to"]), rl, props, key, where_c,
                                           srcs))
    m.column_refs = b.columns
    if b.problems:
        b.problems.sort(key=lambda p: (p.line or 0))
        raise MappingError(b.problems)
    return m


# ---------------------------------------------------------------- reading data files


@dataclass
class Table:
    file: str
    header: list[str]
    rows: Iterator[tuple[int, dict | None, str | None]]  # (row number, cells, error)
    encoding: str | None = None
    sheet: str | None = None


def _unique_header(cells: list[Any]) -> list[str]:
    out: list[str] = []
    for i, h in enumerate(cells, 1):
        name = cell_text(h) or f"column {i}"
        base, k = name, 2
        while name in out:
            name, k = f"{base} ({k})", k + 1
        out.append(name)
    return out


def _format(path: str, m: Mapping) -> str:
    if m.format:
        return m.format
    ext = Path(path).suffix.lower()
    if ext in (".xlsx", ".xlsm"):
        return "xlsx"
    if ext == ".xls":
        raise ValueError(f"{path}: old-style .xls is not supported; save it as .xlsx")
    if ext == ".json":
        return "json"
    if ext in (".jsonl", ".ndjson"):
        return "jsonl"
    if ext == ".tsv":
        return "tsv"
    return "csv"


def read_table(path: str, m: Mapping) -> Table:
    fmt = _format(path, m)
    if fmt == "xlsx":
        return _read_xlsx(path, m)
    if fmt in ("json", "jsonl"):
        return _read_json(path, m, fmt)
    return _read_csv(path, m, "\t" if fmt == "tsv" and not m.delimiter else m.delimiter)


def _csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """(line number, fields, error) per CSV record; a broken quote costs one line, not the file
    (textutil.csv_records with a delimiter)."""
    lines = io.StringIO(text, newline="").readlines()
    i = 0
    while i < len(lines):
        if not lines[i].strip() or lines[i].strip() == "\x1a":
            i += 1
            continue
        error = None
        for j in range(i + 1, min(i + 30, len(lines)) + 1):
            try:
                rows = list(csv.reader(lines[i:j], delimiter=delimiter, strict=True))
            except csv.Error as e:
                if "unexpected end of data" in str(e) and j < len(lines):
                    continue
                error = f"broken CSV quoting: {e}"
                break
            if len(rows) == 1:
                yield i + 1, rows[0], None
                i = j
                break
            error = "broken CSV quoting"
            break
        else:
            error = "broken CSV quoting: unterminated quoted field"
        if error:
            yield i + 1, None, error
            i += 1


# Encodings a table in this project is likely to come in when it is not UTF-8: Chinese
# (GBK/GB18030, Big5), Western Windows, Cyrillic, Japanese, Korean, UTF-16 exports.
LIKELY_ENCODINGS = ["gb18030", "big5", "cp1252", "cp1251", "shift_jis", "euc_kr", "utf_16"]


def read_data_text(path: str, encoding: str | None = None) -> tuple[str, str]:
    """A data file's text and encoding: the mapping's `encoding:` when given; else UTF-8 (with
    or without BOM) as textutil.read_text decides, else charset-normalizer's best guess among
    LIKELY_ENCODINGS (an unrestricted guess takes short cp1252 files for Baltic code pages)."""
    if encoding:
        return Path(path).read_bytes().decode(encoding, "surrogateescape").lstrip("\ufeff"), encoding
    text, enc = read_text(path)
    if enc in ("utf-8", "utf-8-sig"):
        return text, enc
    import charset_normalizer
    data = Path(path).read_bytes()
    best = charset_normalizer.from_bytes(data, cp_isolation=LIKELY_ENCODINGS).best()
    if best is None:
        return text, enc
    return data.decode(best.encoding, "surrogateescape").lstrip("\ufeff"), best.encoding


def _read_csv(path: str, m: Mapping, delimiter: str | None) -> Table:
    text, enc = read_data_text(path, m.encoding)
    if delimiter is None:
        first = next((ln for ln in text.splitlines() if ln.strip()), "")
        counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
        delimiter = max(counts, key=lambda d: (counts[d], d == ","))
        if counts[delimiter] == 0:
            delimiter = ","
    records = _csv_rows(text, delimiter)
    header = None
    for n, (line, fields, err) in enumerate(records, 1):
        if n < m.header_row:
            continue
        if err:
            raise ValueError(f"unreadable header (line {line}): {err}")
        header = _unique_header(fields)
        break
    if header is None:
        return Table(path, [], iter(()), enc)
    width = len(header)

    def rows():
        for line, fields, err in records:
            if err:
                yield line, None, err
                continue
            if len(fields) > width and any((f or "").strip() for f in fields[width:]):
                yield line, None, f"expected {width} columns, found {len(fields)}"
                continue
            yield line, dict(zip(header, fields)), None
    return Table(path, header, rows(), enc)


def _read_xlsx(path: str, m: Mapping) -> Table:
    import openpyxl
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:
        raise ValueError(f"not a readable .xlsx workbook: {type(e).__name__}: {e}") from None
    if m.sheet is None:
        ws = wb.worksheets[0]
    elif isinstance(m.sheet, int) and not isinstance(m.sheet, bool):
        if not 1 <= m.sheet <= len(wb.worksheets):
            raise ValueError(f"{Problem(m.where, _line(m.raw, 'sheet'), f'no sheet {m.sheet}')} "
                             f"(the workbook has {len(wb.worksheets)})")
        ws = wb.worksheets[m.sheet - 1]
    elif str(m.sheet) in wb.sheetnames:
        ws = wb[str(m.sheet)]
    else:
        raise ValueError(f"{Problem(m.where, _line(m.raw, 'sheet'), f'no sheet {m.sheet!r}')} "
                         f"(sheets: {', '.join(wb.sheetnames)})")
    it = ws.iter_rows(min_row=m.header_row, values_only=True)
    first = next(it, None)
    if first is None:
        wb.close()
        return Table(path, [], iter(()), sheet=ws.title)
    while first and first[-1] is None:
        first = first[:-1]
    header = _unique_header(list(first))
    width = len(header)

    def rows():
        try:
            for n, values in enumerate(it, m.header_row + 1):
                values = list(values or ())
                if len(values) > width and any(v not in (None, "") for v in values[width:]):
                    yield n, None, f"expected {width} columns, found a value in column {width + 1}"
                    continue
                yield n, dict(zip(header, values + [None] * (width - len(values)))), None
        finally:
            wb.close()
    return Table(path, header, rows(), sheet=ws.title)


def _read_json(path: str, m: Mapping, fmt: str) -> Table:
    text, enc = read_data_text(path, m.encoding)
    rows: list[tuple[int, Any]] = []
    if fmt == "jsonl":
        for n, ln in enumerate(text.splitlines(), 1):
            if ln.strip():
                try:
                    rows.append((n, json.loads(ln)))
                except ValueError as e:
                    rows.append((n, ValueError(f"not JSON: {e}")))
    else:
        try:
            data = json.loads(text)
        except ValueError as e:
            raise ValueError(f"not a JSON file: {e}") from None
        if isinstance(data, dict):
            key = m.rows_key or next((k for k in ("rows", "data", "records", "items") if k in data), None)
            if key is None or not isinstance(data.get(key), list):
                raise ValueError("expected a list of objects or an object with a list under `rows` "
                                 "(or name the key with `rows_key:`)")
            data = data[key]
        if not isinstance(data, list):
            raise ValueError("expected a list of objects")
        rows = list(enumerate(data, 1))
    header: list[str] = []
    for _, r in rows:
        if isinstance(r, dict):
            for k in r:
                if str(k) not in header:
                    header.append(str(k))

    def gen():
        for n, r in rows:
            if isinstance(r, Exception):
                yield n, None, str(r)
            elif not isinstance(r, dict):
                yield n, None, "row is not a JSON object"
            else:
                yield n, {str(k): v for k, v in r.items()}, None
    return Table(path, header, gen(), enc)


class Row:
    """One data row as the mapping sees it."""

    def __init__(self, cells: dict, number: int, file: str, columns: dict[str, str], nulls: set,
                 as_of: str | None, encoding: str | None, raw: Any = None):
        self.cells = cells
        self.number = number
        self.file = file
        self.columns = columns
        self.nulls = nulls
        self.as_of = as_of
        self.encoding = encoding
        self.origin = f"{os.path.basename(file)} row {number}"
        self.file_source_id = file_source_id(file)
        self.use_file_source = False

    def cell(self, column: str) -> Any:
        if column == "_row":
            return str(self.number)
        if column == "_file":
            return os.path.basename(self.file)
        if column == "_as_of":
            return self.as_of
        key = self.columns.get(column, column)
        if key in self.cells:
            v = self.cells[key]
        else:  # a.b: a key inside a JSON object
            v = self.cells
            for part in key.split("."):
                v = v.get(part) if isinstance(v, dict) else None
        if isinstance(v, str):
            if undecodable(v):
                raise CellError(column, f"bytes that are not {self.encoding or 'valid'} text in {v!r}")
            s = v.strip()
            if not s or s in self.nulls:
                return None
        return v

    def text(self, column: str, strict: bool = True) -> str | None:
        try:
            return cell_text(self.cell(column))
        except CellError:
            if strict:
                raise
            return None

    def empty(self) -> bool:
        return all(v is None or (isinstance(v, str) and not v.strip()) for v in self.cells.values())

    def reject(self, column: str | None, reason: str) -> Rejected:
        return Rejected(self.file, f"row {self.number}", column, reason, raw=_jsonable(self.cells))


def _jsonable(cells: dict) -> dict:
    return {k: (v if isinstance(v, (str, int, float, bool, type(None), list, dict)) else cell_text(v))
            for k, v in cells.items()}


def file_source_id(path: str) -> str:
    return f"src:file:{slug(os.path.basename(path))}"


def _file_source(path: str, m: Mapping) -> Node:
    name = os.path.basename(path)
    sid = file_source_id(path)
    props = {"id": sid, "name": f"File {name}" + (f" (mapping {m.where})" if m.where != "mapping" else ""),
             "title": name, "kind": "file", "locator": name, "sources": [sid]}
    return Node("Source", validate_node("Source", props))


# ---------------------------------------------------------------- records


def _file_records(m: Mapping, path: str, as_of: str | None, limit: int | None = None) -> Iterator:
    """Records of one data file, row by row (not merged across rows)."""
    try:
        table = read_table(path, m)
    except (ValueError, OSError, UnicodeError) as e:
        yield Rejected(path, "file", None, f"{m.where}: cannot read {os.path.basename(path)}: {e}")
        return
    columns, problems = m.column_problems(table.header)
    if problems:
        yield Rejected(path, "file", problems[0].column, "; ".join(str(p) for p in problems) + " - no row was read",
                       raw=table.header)
        return
    used_file_source = False
    for count, (number, cells, err) in enumerate(table.rows, 1):
        if limit is not None and count > limit:
            break
        if err:
            yield Rejected(path, f"row {number}", None, err)
            continue
        row = Row(cells, number, path, columns, m.null_values, as_of, table.encoding)
        if row.empty():
            continue
        try:
            recs = m.row_records(row)
        except Exception as e:  # never let one odd row stop the file
            recs = [row.reject(None, f"{m.where}: unreadable row: {type(e).__name__}: {e}")]
        if row.use_file_source and not used_file_source:
            used_file_source = True
            yield _file_source(path, m)
        yield from recs


def _records(m: Mapping, paths: list[str], as_of: str | None, limit: int | None = None) -> Iterator:
    batch = Batch()
    for p in paths:
        batch.add(_file_records(m, p, as_of, limit))
    yield from batch


def _split_paths(paths: list[str]) -> tuple[str, list[str]]:
    paths = [str(p) for p in paths]
    if not paths:
        raise ValueError("ingest mapping: give the mapping file first, then the data files")
    maps = [p for p in paths if re.search(r"\.ya?ml$", p, re.I)]
    if len(maps) != 1 or not re.search(r"\.ya?ml$", paths[0], re.I):
        raise ValueError("ingest mapping: give exactly one mapping (.yaml), first, then the data files "
                         f"(got {', '.join(paths)})")
    return paths[0], paths[1:]


def parse_many(paths: list[str], as_of: str | None = None) -> Iterator:
    """Records for `techgiants ingest mapping MAPPING.yaml [DATA ...]`: the mapping first, then the
    data files (default: the mapping's `data:`). Raises MappingError for a broken mapping
    before yielding anything."""
    mapping_path, data = _split_paths(list(paths))
    m = load_mapping(mapping_path)
    data = data or m.data_paths()
    if not data:
        raise ValueError(f"{m.where}: no data file: name one after the mapping or under `data:`")
    return _records(m, data, as_of)


def parse(path: str | Path, as_of: str | None = None, mapping: str | Path | Mapping | None = None,
          data: list[str] | None = None) -> Iterator:
    """One-path form. `parse(mapping.yaml)` reads the files under the mapping's `data:` (or
    `data=`); `parse(data.csv, mapping=mapping.yaml)` reads one data file."""
    if mapping is None:
        m = load_mapping(str(path))
        files = [str(d) for d in data] if data else m.data_paths()
        if not files:
            raise ValueError(f"{m.where}: no data file: name one under `data:` or use parse_many")
    else:
        m = mapping if isinstance(mapping, Mapping) else load_mapping(str(mapping))
        files = [str(path), *[str(d) for d in (data or [])]]
    yield from _records(m, files, as_of)


def preview(mapping_text_or_path: str | Path | Mapping, data_path: str | Path | None = None, rows: int = 10,
            as_of: str | None = None) -> tuple[list[Node], list[Rel], list[Rejected]]:
    """Nodes, relationships and rejects the first `rows` data rows give, without a store.

    `mapping_text_or_path`: a Mapping, a path to a mapping file, or the YAML text
    itself (an uploaded file). `data_path` defaults to the mapping's first `data:`
    file. Raises MappingError when the mapping itself is broken.
    """
    m = mapping_text_or_path if isinstance(mapping_text_or_path, Mapping) else load_mapping(mapping_text_or_path)
    files = [str(data_path)] if data_path else m.data_paths()[:1]
    if not files:
        raise ValueError(f"{m.where}: no data file to preview")
    nodes, rels, rejected = [], [], []
    for r in _records(m, files, as_of, limit=rows):
        (nodes if isinstance(r, Node) else rels if isinstance(r, Rel) else rejected).append(r)
    return nodes, rels, rejected


def check(mapping: str | Path | Mapping, data_paths: list[str] | None = None) -> list[Problem]:
    """Problems of a mapping against data files: unreadable files and unknown columns, each naming
    the mapping line. A broken mapping raises MappingError."""
    m = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    files = [str(p) for p in data_paths] if data_paths else m.data_paths()
    problems = []
    for f in files:
        try:
            table = read_table(f, m)
        except (ValueError, OSError, UnicodeError) as e:
            problems.append(Problem(m.where, None, f"cannot read {f}: {e}"))
            continue
        problems += [Problem(p.where, p.line, f"{os.path.basename(f)}: {p.message}")
                     for p in m.column_problems(table.header)[1]]
    return problems
