"""validate_node / validate_rel (plan-based fast path + pydantic fallback) against the
implementation they replaced, kept below verbatim as the reference: on generated valid and
invalid values for every label and type, both must return the same properties (same keys in the
same order, same values of the same types) or raise the same exception with the same message
and field."""
from __future__ import annotations

import datetime as _dt
from typing import Any, Optional

import pycountry
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, ValidationError, create_model, field_validator

from graph import schema
from graph.schema import MAX_LIST_ITEM, MAX_TEXT, MAX_TEXT_DEFAULT, PY_TYPES, SCHEMA, Prop, SchemaError

# ------------------------------------------------------------------ the reference (graph/schema.py before the plans)


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
        if pycountry.countries.get(alpha_2=v) is None and v not in ("XK", "EU", "ZZ"):
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


NODE_MODELS = {label: _model(label, n.props) for label, n in SCHEMA.nodes.items()}
REL_MODELS = {rtype: _model(rtype, r.props) for rtype, r in SCHEMA.rels.items()}


def _raise(e: ValidationError, what: str) -> None:
    err = e.errors()[0]
    loc = ".".join(str(x) for x in err.get("loc", ())) or None
    msg = err.get("msg", "invalid").removeprefix("Value error, ")
    if err.get("type") == "extra_forbidden":
        msg = f"property not in the schema for {what}"
    raise SchemaError(f"{what}.{loc}: {msg}" if loc else f"{what}: {msg}", field=loc) from None


def old_validate_node(label: str, props: dict) -> dict:
    if label not in SCHEMA.nodes:
        raise SchemaError(f"unknown label {label!r}", field="label")
    try:
        m = NODE_MODELS[label].model_validate(props)
    except ValidationError as e:
        _raise(e, label)
    return {k: v for k, v in m.model_dump().items() if v is not None}


def old_validate_rel(rtype: str, src_label: str, dst_label: str, props: dict) -> dict:
    if rtype not in SCHEMA.rels:
        raise SchemaError(f"unknown relationship type {rtype!r}", field="type")
    rt = SCHEMA.rels[rtype]
    if src_label not in rt.sources:
        raise SchemaError(f"{rtype} cannot start at {src_label} (allowed: {', '.join(rt.sources)})", field="src_label")
    if dst_label not in rt.targets:
        raise SchemaError(f"{rtype} cannot end at {dst_label} (allowed: {', '.join(rt.targets)})", field="dst_label")
    try:
        m = REL_MODELS[rtype].model_validate(props)
    except ValidationError as e:
        _raise(e, rtype)
    out = {k: v for k, v in m.model_dump().items() if v is not None}
    for lo, hi in (("share_min", "share_max"),):
        if lo in out and hi in out and out[lo] > out[hi]:
            raise SchemaError(f"{rtype}.{lo} {out[lo]} greater than {hi} {out[hi]}", field=lo)
    if rt.temporal and out.get("start") and out.get("end") and out["end"] < out["start"]:
        raise SchemaError(f"{rtype}.end {out['end']} before start {out['start']}", field="end")
    return out


# ------------------------------------------------------------------ generated values

ANY_CHAR = st.characters(blacklist_categories=())  # surrogates and NUL included
LONG = ["x" * 4_001, "é" * 4_001, "y" * 20_001, "z" * 100_001]


def text() -> st.SearchStrategy:
    return st.one_of(st.text(max_size=12), st.text(ANY_CHAR, max_size=6), st.sampled_from(LONG),
                     st.sampled_from(["", " ", "a\x00b", "\ud800", "ok"]))


def junk() -> st.SearchStrategy:
    return st.one_of(st.none(), st.integers(), st.floats(allow_nan=True), st.booleans(), st.binary(max_size=4),
                     st.lists(st.text(max_size=3), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(),
                                                                                max_size=1),
                     st.builds(_dt.date, st.integers(1, 9999), st.integers(1, 12), st.integers(1, 28)))


def value_for(p: Prop) -> st.SearchStrategy:
    if p.type == "string":
        own = [text()]
        if p.choices:
            own.append(st.sampled_from(list(p.choices) + [c.upper() for c in p.choices]))
        if p.format == "country":
            own.append(st.sampled_from(["CN", "cn", "Us", "XK", "eu", "zz", "QQ", "USA", "", "C\x00"]))
            own.append(st.sampled_from(sorted(schema.COUNTRY_CODES)))
        return st.one_of(*own, junk())
    if p.type == "date":
        dates = st.dates().map(str)
        return st.one_of(dates, dates, st.sampled_from(["2020-1-1", "20200101", "2020-W01-1", "2020-02-30",
                                                        "２０２０-01-01", "2020-01-01T00", "0000-01-01", "2020-01\x0001"]),
                         st.dates(), text(), junk())
    if p.type == "float":
        lo, hi = p.range or (-1e12, 1e12)
        return st.one_of(st.floats(lo, hi), st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 3),
                         st.just(10 ** 400), st.sampled_from(["0.5", "nan", "x", "1e3"]), junk())
    if p.type == "int":
        return st.one_of(st.integers(), junk())
    if p.type == "bool":
        return st.one_of(st.booleans(), st.booleans(), st.sampled_from([0, 1, 2, "yes", "true", "no", 1.0]), junk())
    if p.type == "list":
        items = st.one_of(st.text(max_size=8), st.text(ANY_CHAR, max_size=3), st.none(), st.just(""),
                          st.sampled_from(["a", "a", "x" * 4_001]), st.integers(), st.binary(max_size=2))
        return st.one_of(st.lists(st.text(max_size=8), max_size=4), st.lists(items, max_size=4),
                         st.lists(items, max_size=3).map(tuple), text(), junk())
    raise AssertionError(p.type)


def valid_for(p: Prop) -> st.SearchStrategy:
    if p.choices:
        return st.sampled_from(p.choices)
    if p.format == "country":
        return st.sampled_from(["CN", "us", "DE"])
    return {"string": st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20),
            "date": st.dates().map(str), "float": st.floats(*(p.range or (-1e9, 1e9))), "int": st.integers(),
            "bool": st.booleans(),
            "list": st.lists(st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=8), max_size=4)}[p.type]


@st.composite
def props_for(draw, props: dict[str, Prop], clean: bool) -> dict:
    """A property dict: mostly valid values (so the fast path is exercised), with invalid values,
    extra and missing keys and nulls mixed in unless `clean`."""
    out = {}
    names = list(props)
    for name in draw(st.permutations(names)):
        p = props[name]
        if not p.required and not draw(st.booleans()):
            continue
        if clean:
            out[name] = draw(valid_for(p))
        else:
            out[name] = draw(st.one_of(valid_for(p), valid_for(p), value_for(p)))
    if not clean:
        if draw(st.integers(0, 9)) == 0:
            out[draw(st.sampled_from(["bogus", "Name", "search_key"]))] = draw(st.one_of(st.none(), st.text(max_size=3)))
        if names and draw(st.integers(0, 9)) == 0:
            out.pop(draw(st.sampled_from(names)), None)
        if draw(st.integers(0, 9)) == 0 and out:
            out[draw(st.sampled_from(sorted(out)))] = None
    return out


def outcome(fn, *args) -> tuple:
    try:
        res = fn(*args)
    except Exception as e:  # noqa: BLE001 - the exception itself is what is compared
        return ("raised", type(e), str(e), getattr(e, "field", None))
    # repr: same keys in the same order, same values of the same types (1.0 vs 1, -0.0 vs 0.0)
    return ("ok", repr(res))


SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize("label", SCHEMA.labels)
@SETTINGS
@given(data=st.data())
def test_validate_node_same_as_before(label, data):
    props = data.draw(props_for(SCHEMA.nodes[label].props, clean=data.draw(st.booleans())))
    assert outcome(schema.validate_node, label, dict(props)) == outcome(old_validate_node, label, dict(props))


@pytest.mark.parametrize("rtype", SCHEMA.rel_types)
@SETTINGS
@given(data=st.data())
def test_validate_rel_same_as_before(rtype, data):
    rt = SCHEMA.rels[rtype]
    props = data.draw(props_for(rt.props, clean=data.draw(st.booleans())))
    src = data.draw(st.one_of(st.sampled_from(rt.sources), st.sampled_from(SCHEMA.labels)))
    dst = data.draw(st.one_of(st.sampled_from(rt.targets), st.sampled_from(SCHEMA.labels)))
    assert outcome(schema.validate_rel, rtype, src, dst, dict(props)) == \
        outcome(old_validate_rel, rtype, src, dst, dict(props))


def test_clean_records_take_the_fast_path():
    """The speed is real only if ordinary records never reach pydantic."""
    node = {"id": "co:1", "name": "Acme", "sources": ["src:x"], "aliases": ["ACME", "", None, "ACME"], "country": "cn",
            "founded": "2001-02-03", "us_based": False, "kind": "company"}
    assert schema._fast(schema._NODE_PLANS["Company"], node) == old_validate_node("Company", node)
    rel = {"id": "owns:1", "sources": ["src:x"], "share": 0.5, "direct": True, "start": "2020-01-01"}
    assert schema._fast(schema._REL_PLANS["OWNS"], rel) == old_validate_rel("OWNS", "Company", "Company", rel)
    assert schema._fast(schema._NODE_PLANS["Company"], {**node, "bogus": 1}) is None  # the model words the error


@pytest.mark.parametrize("label,props", [
    ("Nope", {}),
    ("Company", {"id": "c", "name": "n"}),
    ("Company", {"id": "c", "name": "n", "sources": ["s"], "country": "QQ"}),
    ("Company", {"id": "c", "name": "n", "sources": ["s"], "name_zh": "\ud800"}),
    ("Company", {"id": "c", "name": "x" * 4_001, "sources": ["s"]}),
    ("Company", {"id": "c", "name": "n", "sources": ["s"], "founded": "2020-1-1"}),
    ("Company", {"id": "c", "name": "n", "sources": ("s", 1)}),
    ("Company", {"id": "c", "name": b"n", "sources": ["s"]}),
    ("Company", {"id": "c", "name": "n", "sources": ["s"], "extra": 1}),
])
def test_known_bad_nodes_same_as_before(label, props):
    assert outcome(schema.validate_node, label, props) == outcome(old_validate_node, label, props)


@pytest.mark.parametrize("rtype,props", [
    ("OWNS", {"id": "o", "sources": ["s"], "share": float("nan")}),
    ("OWNS", {"id": "o", "sources": ["s"], "share": 1.5}),
    ("OWNS", {"id": "o", "sources": ["s"], "share_min": 0.6, "share_max": 0.2}),
    ("OWNS", {"id": "o", "sources": ["s"], "start": "2020-01-02", "end": "2020-01-01"}),
    ("OWNS", {"id": "o", "sources": ["s"], "share": 10 ** 400}),
    ("HOLDS", {"id": "h", "sources": ["s"], "shares": True}),
])
def test_known_bad_rels_same_as_before(rtype, props):
    assert outcome(schema.validate_rel, rtype, "Company", "Company", props) == \
        outcome(old_validate_rel, rtype, "Company", "Company", props)
