"""The vocabulary, read from graph/schema.yaml, and the pydantic models derived from it.

Nothing else in the project lists labels or properties by hand: stores build
DDL from `SCHEMA`, ingesters validate through `validate_node` / `validate_rel`,
and the docs page is `schema_markdown()`.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

import pycountry
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, create_model, field_validator

SCHEMA_PATH = Path(__file__).with_name("schema.yaml")

PY_TYPES = {"string": str, "float": float, "int": int, "bool": bool, "date": str, "list": list[str]}


@dataclass(frozen=True)
class Prop:
    name: str
    type: str
    doc: str = ""
    required: bool = False
    choices: tuple = ()
    range: tuple | None = None
    format: str | None = None
    internal: bool = False


@dataclass
class NodeType:
    label: str
    doc: str
    entity: bool
    props: dict[str, Prop] = field(default_factory=dict)


@dataclass
class RelType:
    type: str
    doc: str
    sources: list[str]
    targets: list[str]
    temporal: bool
    props: dict[str, Prop] = field(default_factory=dict)

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return [(a, b) for a in self.sources for b in self.targets]


def _props(spec: dict) -> dict[str, Prop]:
    out = {}
    for name, p in (spec or {}).items():
        out[name] = Prop(
            name=name,
            type=p["type"],
            doc=p.get("doc", ""),
            required=bool(p.get("required", False)),
            choices=tuple(p.get("choices", ()) or ()),
            range=tuple(p["range"]) if p.get("range") else None,
            format=p.get("format"),
            internal=bool(p.get("internal", False)),
        )
    return out


@dataclass
class Schema:
    nodes: dict[str, NodeType]
    rels: dict[str, RelType]
    raw: dict

    @property
    def labels(self) -> list[str]:
        return list(self.nodes)

    @property
    def rel_types(self) -> list[str]:
        return list(self.rels)

    @property
    def entity_labels(self) -> list[str]:
        return [l for l, n in self.nodes.items() if n.entity]


@lru_cache(maxsize=None)
def load_schema(path: str | None = None) -> Schema:
    raw = yaml.safe_load(Path(path or SCHEMA_PATH).read_text(encoding="utf-8"))
    common = _props(raw["common_node_properties"])
    entity = _props(raw["common_entity_properties"])
    groups = raw.get("groups", {})
    nodes: dict[str, NodeType] = {}
    for label, spec in raw["nodes"].items():
        props = dict(common)
        if spec.get("entity"):
            props.update(entity)
        props.update(_props(spec.get("properties")))
        nodes[label] = NodeType(label, spec.get("doc", ""), bool(spec.get("entity")), props)

    def expand(names):
        out = []
        for n in names:
            for m in groups.get(n, [n]):
                if m not in nodes:
                    raise ValueError(f"schema.yaml: unknown label {m!r} in relationship endpoints")
                if m not in out:
                    out.append(m)
        return out

    rcommon = _props(raw["common_relationship_properties"])
    temporal = _props(raw.get("temporal_properties"))
    rels: dict[str, RelType] = {}
    for rtype, spec in raw["relationships"].items():
        props = dict(rcommon)
        props.update(_props(spec.get("properties")))
        if spec.get("temporal"):
            props.update(temporal)
        rels[rtype] = RelType(rtype, spec.get("doc", ""), expand(spec["from"]), expand(spec["to"]),
                              bool(spec.get("temporal")), props)
    return Schema(nodes, rels, raw)


SCHEMA = load_schema()


# ---------------------------------------------------------------- validation

# Longest text a property may hold: far above any real name or address, far below what breaks
# an index (Neo4j's text index refuses values over ~32 KB).
MAX_TEXT = {"description": 100_000, "address": 20_000}
MAX_TEXT_DEFAULT = 4_000
MAX_LIST_ITEM = 4_000


def _check_text(s: str, limit: int) -> str:
    if len(s) > limit:
        raise ValueError(f"text of {len(s):,} characters is longer than the {limit:,} allowed")
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode (lone surrogate)") from None
    if "\x00" in s:
        raise ValueError("contains a NUL character")
    return s


def _check_value(p: Prop, v: Any) -> Any:
    """Normalise and check one value against its declared property; raise ValueError."""
    if v is None:
        return None
    if isinstance(v, str):
        _check_text(v, MAX_TEXT.get(p.name, MAX_TEXT_DEFAULT))
    if p.type == "date":
        v = str(v)
        try:
            _dt.date.fromisoformat(v)
        except ValueError:
            raise ValueError(f"not an ISO date YYYY-MM-DD: {v!r}") from None
        if len(v) != 10:
            raise ValueError(f"not an ISO date YYYY-MM-DD: {v!r}")
    if p.type == "list":
        if not isinstance(v, (list, tuple)):
            raise ValueError("expected a list of strings")
        v = [_check_text(str(x), MAX_LIST_ITEM) for x in v if x is not None and str(x) != ""]
        # stable de-duplication keeps the first spelling
        v = list(dict.fromkeys(v))
    if p.type == "float":
        if isinstance(v, bool):
            raise ValueError("expected a number")
        try:
            v = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"expected a number, not {type(v).__name__}") from None
        if v != v:
            raise ValueError("NaN is not a value")
    if p.range is not None and not (p.range[0] <= v <= p.range[1]):
        raise ValueError(f"{v!r} outside [{p.range[0]}, {p.range[1]}]")
    if p.choices and v not in p.choices:
        raise ValueError(f"{v!r} not one of {', '.join(p.choices)}")
    if p.format == "country":
        v = str(v).upper()
        if v not in COUNTRY_CODES:
            raise ValueError(f"{v!r} is not an ISO 3166-1 alpha-2 code")
    return v


def _model(name: str, props: dict[str, Prop]) -> type[BaseModel]:
    fields = {}
    for p in props.values():
        t = PY_TYPES[p.type]
        fields[p.name] = (t, ...) if p.required else (Optional[t], None)

    def check_all(cls, v, info):
        return _check_value(props[info.field_name], v)

    validators = {"check_all": field_validator("*", mode="before")(check_all)}
    return create_model(name, __config__=ConfigDict(extra="forbid"), __validators__=validators, **fields)


@lru_cache(maxsize=None)
def node_model(label: str) -> type[BaseModel]:
    if label not in SCHEMA.nodes:
        raise KeyError(f"unknown label {label!r}")
    return _model(label, SCHEMA.nodes[label].props)


@lru_cache(maxsize=None)
def rel_model(rtype: str) -> type[BaseModel]:
    if rtype not in SCHEMA.rels:
        raise KeyError(f"unknown relationship type {rtype!r}")
    return _model(rtype, SCHEMA.rels[rtype].props)


class SchemaError(ValueError):
    """A record does not fit the schema. `field` names the offending property."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _raise(e: ValidationError, what: str) -> None:
    err = e.errors()[0]
    loc = ".".join(str(x) for x in err.get("loc", ())) or None
    msg = err.get("msg", "invalid").removeprefix("Value error, ")
    if err.get("type") == "extra_forbidden":
        msg = f"property not in the schema for {what}"
    raise SchemaError(f"{what}.{loc}: {msg}" if loc else f"{what}: {msg}", field=loc) from None


# ---------------------------------------------------------------- fast path
# A bulk ingest validates millions of records, nearly all clean and of exactly the declared Python
# types. `_fast` checks such a record against a plan computed once per label or type, without
# pydantic, and gives up (None) on anything else: an unknown or missing key, a value of another
# type (bytes, a str subclass, a tuple...), any failing check. The caller then runs the pydantic
# model, which returns what it always returned or raises the error it always raised: the rules and
# messages stay in one place (_check_value and the model); the fast path can only be faster.
# tests/test_schema_fast.py compares both paths with the pre-plan implementation.

_STR, _DATE, _FLOAT, _INT, _BOOL, _LIST, _OTHER = range(7)
_KIND = {"string": _STR, "date": _DATE, "float": _FLOAT, "int": _INT, "bool": _BOOL, "list": _LIST}
# ISO 3166-1 alpha-2 codes, plus Kosovo, the EU and "unknown" (ZZ)
COUNTRY_CODES = frozenset(c.alpha_2 for c in pycountry.countries) | {"XK", "EU", "ZZ"}


@dataclass(frozen=True)
class _Plan:
    names: frozenset
    # per property, in schema order: (name, kind, required, text limit, choices, range, is_country)
    fields: tuple


def _plan(props: dict[str, Prop]) -> _Plan:
    fields = []
    for p in props.values():
        kind = _KIND[p.type]
        plain = p.format is None and not p.choices and p.range is None
        # the combinations the schema uses; anything else always takes the model
        if ((kind == _STR and p.range is not None) or p.format not in (None, "country")
                or (kind in (_DATE, _BOOL, _LIST) and not plain)
                or (kind in (_FLOAT, _INT) and (p.choices or p.format))):
            kind = _OTHER
        fields.append((p.name, kind, p.required, MAX_TEXT.get(p.name, MAX_TEXT_DEFAULT), frozenset(p.choices),
                       p.range, p.format == "country"))
    return _Plan(frozenset(props), tuple(fields))


def _utf8(s: str) -> bool:
    try:
        s.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _fast(plan: _Plan, props: Any) -> dict | None:
    """The validated properties of a plain, valid record, or None: let the model decide."""
    if type(props) is not dict or not plan.names.issuperset(props):
        return None
    out = {}
    for name, kind, required, limit, choices, rng, country in plan.fields:
        v = props.get(name)
        if v is None:
            if required:
                return None
            continue
        if kind == _STR:
            if type(v) is not str or len(v) > limit or "\x00" in v or not (v.isascii() or _utf8(v)):
                return None
            if choices and v not in choices:
                return None
            if country:
                v = v.upper()
                if v not in COUNTRY_CODES:
                    return None
        elif kind == _LIST:
            if type(v) is not list:
                return None
            items = []
            for x in v:
                if x is None:
                    continue
                if type(x) is not str or len(x) > MAX_LIST_ITEM or "\x00" in x or not (x.isascii() or _utf8(x)):
                    return None
                if x:
                    items.append(x)
            v = list(dict.fromkeys(items)) if len(items) > 1 else items  # most lists hold one item
        elif kind == _DATE:
            if type(v) is not str or len(v) != 10 or not v.isascii() or "\x00" in v:
                return None
            try:
                _dt.date.fromisoformat(v)
            except ValueError:
                return None
        elif kind == _FLOAT:
            t = type(v)
            if t is int:
                try:
                    v = float(v)
                except OverflowError:
                    return None
            elif t is not float:
                return None
            if v != v or rng is not None and not (rng[0] <= v <= rng[1]):
                return None
        elif kind == _BOOL:
            if type(v) is not bool:
                return None
        elif kind == _INT:
            if type(v) is not int or rng is not None and not (rng[0] <= v <= rng[1]):
                return None
        else:
            return None
        out[name] = v
    return out


_NODE_PLANS = {label: _plan(n.props) for label, n in SCHEMA.nodes.items()}
_REL_PLANS = {rtype: _plan(r.props) for rtype, r in SCHEMA.rels.items()}


def validate_node(label: str, props: dict) -> dict:
    """Return the normalised properties (nulls dropped) or raise SchemaError."""
    plan = _NODE_PLANS.get(label)
    if plan is None:
        raise SchemaError(f"unknown label {label!r}", field="label")
    out = _fast(plan, props)
    if out is not None:
        return out
    try:
        m = node_model(label).model_validate(props)
    except ValidationError as e:
        _raise(e, label)
    return {k: v for k, v in m.model_dump().items() if v is not None}


def validate_rel(rtype: str, src_label: str, dst_label: str, props: dict) -> dict:
    rt = SCHEMA.rels.get(rtype)
    if rt is None:
        raise SchemaError(f"unknown relationship type {rtype!r}", field="type")
    if src_label not in rt.sources:
        raise SchemaError(f"{rtype} cannot start at {src_label} (allowed: {', '.join(rt.sources)})", field="src_label")
    if dst_label not in rt.targets:
        raise SchemaError(f"{rtype} cannot end at {dst_label} (allowed: {', '.join(rt.targets)})", field="dst_label")
    out = _fast(_REL_PLANS[rtype], props)
    if out is None:
        try:
            m = rel_model(rtype).model_validate(props)
        except ValidationError as e:
            _raise(e, rtype)
        out = {k: v for k, v in m.model_dump().items() if v is not None}
    if "share_min" in out and "share_max" in out and out["share_min"] > out["share_max"]:
        raise SchemaError(f"{rtype}.share_min {out['share_min']} greater than share_max {out['share_max']}",
                          field="share_min")
    if rt.temporal and out.get("start") and out.get("end") and out["end"] < out["start"]:
        raise SchemaError(f"{rtype}.end {out['end']} before start {out['start']}", field="end")
    return out


# ---------------------------------------------------------------- docs

def schema_markdown(schema: Schema = SCHEMA) -> str:
    """The schema page for docs/schema.md, generated from schema.yaml."""
    out = ["# Schema", "", "Generated from `graph/schema.yaml` by `techgiants schema-doc`; do not edit by hand.", "",
           "One label per node. Dates are ISO `YYYY-MM-DD` strings; lists are lists of strings.", ""]
    out.append("## Node labels\n")
    for label, n in schema.nodes.items():
        out.append(f"### {label}\n\n{n.doc}\n\n| property | type | required | notes |\n|---|---|---|---|")
        for p in n.props.values():
            out.append(f"| `{p.name}` | {p.type} | {'yes' if p.required else ''} | {_notes(p)} |")
        out.append("")
    out.append("## Relationships\n")
    for rtype, r in schema.rels.items():
        out.append(f"### {rtype}\n\n{r.doc}\n\nFrom: {', '.join(r.sources)}  \nTo: {', '.join(r.targets)}\n")
        out.append("| property | type | required | notes |\n|---|---|---|---|")
        for p in r.props.values():
            out.append(f"| `{p.name}` | {p.type} | {'yes' if p.required else ''} | {_notes(p)} |")
        out.append("")
    return "\n".join(out) + "\n"


def _notes(p: Prop) -> str:
    bits = [p.doc.replace("|", "\\|")]
    if p.choices:
        bits.append("one of: " + ", ".join(f"`{c}`" for c in p.choices))
    if p.range:
        bits.append(f"range [{p.range[0]}, {p.range[1]}]")
    if p.format == "country":
        bits.append("ISO 3166-1 alpha-2")
    return " ".join(b for b in bits if b)
