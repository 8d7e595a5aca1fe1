"""Hand-curated facts (data/curated/*.yaml) as Nodes and Rels.

One file per node label (`companies.yaml` -> Company, ...) and one per relationship type
(`owns.yaml` -> OWNS, ...). Node entries carry schema properties plus `id`, `name`,
`sources`; relationship entries carry `from`, `to`, `sources`, an optional `key` and
schema properties. Endpoint labels are resolved from the curated node ids, the Country
ids and the SanctionsList ids of ingest.lists. Every entry is validated against
graph/schema.yaml; bad entries (and whole files with YAML syntax errors) come out as
Rejected, never as exceptions. SanctionsList nodes for the lists referenced, and the
lists' Source node, are emitted too.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pycountry
import yaml

from graph.ids import rel_id
from graph.schema import SCHEMA, SchemaError, validate_node, validate_rel
from ingest.lists import LISTS, list_node, source_node
from ingest.records import Node, Rejected, Rel

NODE_FILES = {
    "sources.yaml": "Source", "companies.yaml": "Company", "funds.yaml": "Fund", "indexes.yaml": "Index",
    "government_bodies.yaml": "GovernmentBody", "people.yaml": "Person", "universities.yaml": "University",
    "projects.yaml": "Project", "countries.yaml": "Country", "sanctions_lists.yaml": "SanctionsList",
}
REL_FILES = {f"{t.lower()}.yaml": t for t in SCHEMA.rels if t != "CAPTURED_BY"}  # CAPTURED_BY is derived


class _Loader(yaml.SafeLoader):
    """Keeps dates as written (the schema checks them; 2019-13-45 must not crash) and reads only
    true/false as booleans (YAML 1.1 would turn the country code `NO` into False)."""


_DROP = ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
_Loader.yaml_implicit_resolvers = {k: [(tag, rx) for tag, rx in v if tag not in _DROP]
                                   for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _load(path: Path) -> tuple[list | None, Rejected | None]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f"line {mark.line + 1}" if mark else "file"
        return None, Rejected(path.name, line, None, f"YAML syntax error: {getattr(e, 'problem', e)}")
    except UnicodeDecodeError as e:
        return None, Rejected(path.name, "file", None, f"not UTF-8: {e.reason} at byte {e.start}")
    except RecursionError:
        return None, Rejected(path.name, "file", None, "YAML nested too deeply to read")
    if not isinstance(data, list | None):
        return None, Rejected(path.name, "file", None, "expected a YAML list of entries")
    return data or [], None


def parse(path: str | Path = "data/curated", as_of: str | None = None) -> Iterator[Node | Rel | Rejected]:
    root = Path(path)
    files = {p.name: p for p in sorted(root.glob("*.yaml"))}
    loaded: dict[str, list] = {}
    for name, p in files.items():
        if name not in NODE_FILES and name not in REL_FILES:
            yield Rejected(name, "file", None, "unknown curated file (no label or relationship type)")
            continue
        data, err = _load(p)
        if err:
            yield err
        else:
            loaded[name] = data

    labels: dict[str, str] = {}  # id -> label of every accepted node
    source_ids = {e.get("id") for e in loaded.get("sources.yaml", []) if isinstance(e, dict)}
    used_lists: set[str] = set()

    def check_sources(fname, where, props) -> Rejected | None:
        missing = [s for s in props.get("sources") or [] if s not in source_ids]
        if missing:
            return Rejected(fname, where, "sources", f"unknown source id(s): {', '.join(map(str, missing))}")
        return None

    for fname, label in NODE_FILES.items():
        for i, entry in enumerate(loaded.get(fname, []), 1):
            if not isinstance(entry, dict):
                yield Rejected(fname, f"entry {i}", None, "expected a mapping", entry)
                continue
            props = dict(entry)
            where = f"entry {i} (id {props.get('id')})"
            if label == "Source":
                props.setdefault("sources", [props.get("parent") or props.get("id")])
            if props.get("id") in labels or props.get("id") in LISTS and label != "SanctionsList":
                yield Rejected(fname, where, "id", "duplicate id", entry)
                continue
            if label == "Country" and pycountry.countries.get(alpha_2=str(props.get("id"))) is None:
                yield Rejected(fname, where, "id", "Country id must be an ISO 3166-1 alpha-2 code", entry)
                continue
            bad = check_sources(fname, where, props)
            if bad:
                yield bad
                continue
            try:
                props = validate_node(label, props)
            except SchemaError as e:
                yield Rejected(fname, where, e.field, str(e), entry)
                continue
            labels[props["id"]] = label
            yield Node(label, props)

    rels: list[tuple[Rel, str, str]] = []
    for fname, rtype in REL_FILES.items():
        for i, entry in enumerate(loaded.get(fname, []), 1):
            if not isinstance(entry, dict):
                yield Rejected(fname, f"entry {i}", None, "expected a mapping", entry)
                continue
            props = dict(entry)
            src, dst, key = props.pop("from", None), props.pop("to", None), str(props.pop("key", "") or "")
            where = f"entry {i} ({src} -> {dst})"
            ends = []
            for end, nid in (("from", src), ("to", dst)):
                lab = labels.get(nid) or ("SanctionsList" if nid in LISTS else None)
                ends.append(lab)
                if lab is None:
                    yield Rejected(fname, where, end, f"unknown node id {nid!r}", entry)
            if None in ends:
                continue
            props["id"] = rel_id(rtype, src, dst, key)
            bad = check_sources(fname, where, props)
            if bad:
                yield bad
                continue
            try:
                props = validate_rel(rtype, ends[0], ends[1], props)
            except SchemaError as e:
                yield Rejected(fname, where, e.field, str(e), entry)
                continue
            if dst in LISTS and labels.get(dst) is None:
                used_lists.add(dst)
            rels.append((Rel(rtype, src, ends[0], dst, ends[1], props, key), fname, where))

    for lid in sorted(used_lists):
        yield list_node(lid)
    if used_lists:
        yield source_node()
    seen: set[str] = set()
    for r, fname, where in rels:
        if r.id in seen:
            yield Rejected(fname, where, "key", "duplicate relationship; add a distinguishing `key`")
            continue
        seen.add(r.id)
        yield r
