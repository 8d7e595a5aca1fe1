"""RDF for the techgiants graph: export (Turtle, JSON-LD, N-Triples), import, SHACL shapes.

The vocabulary is generated from graph/schema.yaml (see docs/rdf.md for the table):

- every label is a class `tg:<Label>` (namespace `https://techgiants.org/ns#`), typed in addition
  with the established class it fits (schema:Organization, schema:Person, prov:Entity, ...);
- every node is `https://techgiants.org/id/<percent-encoded id>`;
- every relationship is a *qualified* node `https://techgiants.org/rel/<rel id>` of a class such
  as `tg:Ownership`, with a role property per end (`tg:owner`, `tg:asset`), its properties
  (`tg:share`, `tg:start`, ...) and its sources (`prov:wasDerivedFrom`); a direct shortcut triple
  (`<owner> tg:owns <asset>`) is written alongside for simple queries;
- properties map to established predicates where they fit (schema:name, skos:altLabel,
  dcterms:title, dcterms:date, prov:wasDerivedFrom, org:member, ...) and to `tg:<camelCase>` otherwise;
- floats are xsd:decimal, dates xsd:date, booleans xsd:boolean, lists repeated triples (with an
  `tg:<prop>Order` RDF list when the stored order is not the sorted order, so import is exact).

`parse(path)` is the `techgiants ingest rdf` ingester: it reads this vocabulary back exactly and
Wikidata-style ownership (P127, P749, P355, P1830 with P1107, P580, P582 qualifiers). Bad input
comes out as Rejected records, never as exceptions.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import math
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Iterator
from urllib.parse import quote, unquote

from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCAT, DCTERMS, ORG, OWL, PROV, RDF, RDFS, SDO, SH, SKOS, XSD, Namespace

from graph.schema import SCHEMA, Prop, SchemaError, _check_value, validate_node
from ingest.records import Node, Rejected, Rel

# ---------------------------------------------------------------- namespaces

TG = Namespace("https://techgiants.org/ns#")
TGSH = Namespace("https://techgiants.org/shapes#")
ID_BASE = "https://techgiants.org/id/"
REL_BASE = "https://techgiants.org/rel/"
ACTIVITY_BASE = "https://techgiants.org/activity/"
ONTOLOGY_IRI = URIRef("https://techgiants.org/ns")

WD = Namespace("http://www.wikidata.org/entity/")
WDT = Namespace("http://www.wikidata.org/prop/direct/")
WDP = Namespace("http://www.wikidata.org/prop/")
PS = Namespace("http://www.wikidata.org/prop/statement/")
PQ = Namespace("http://www.wikidata.org/prop/qualifier/")
WIKIBASE = Namespace("http://wikiba.se/ontology#")

PREFIXES = {"tg": TG, "schema": SDO, "prov": PROV, "dcterms": DCTERMS, "skos": SKOS, "org": ORG,
            "dcat": DCAT, "owl": OWL, "rdf": RDF, "rdfs": RDFS, "xsd": XSD}

FORMATS = {"turtle": "turtle", "ttl": "turtle", "jsonld": "json-ld", "json-ld": "json-ld", "nt": "nt",
           "ntriples": "nt"}
EXTENSIONS = {".ttl": "turtle", ".turtle": "turtle", ".nt": "nt", ".ntriples": "nt", ".jsonld": "json-ld",
              ".json": "json-ld", ".rdf": "xml", ".xml": "xml", ".owl": "xml", ".n3": "n3", ".trig": "trig",
              ".nq": "nquads"}


class RdfError(ValueError):
    """An export or validation could not be done; the message is fit for a user."""


# ---------------------------------------------------------------- the mapping (generated from the schema)

def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def _pascal(name: str) -> str:
    return "".join(w.capitalize() for w in name.lower().split("_"))


# Established classes each label is typed with, in addition to tg:<Label>.
NODE_EXTRA_TYPES: dict[str, list[URIRef]] = {
    "Company": [SDO.Organization, ORG.FormalOrganization],
    "Fund": [SDO.InvestmentFund],
    "GovernmentBody": [SDO.GovernmentOrganization, ORG.FormalOrganization],
    "Person": [SDO.Person],
    "University": [SDO.EducationalOrganization, ORG.FormalOrganization],
    "Project": [SDO.Project],
    "Country": [SDO.Country],
    "SanctionsList": [DCAT.Dataset],
    "Source": [PROV.Entity],
}
# Labels whose rdfs:subClassOf (in the vocabulary) is one of these; used for PART_OF's shortcut.
ORG_LABELS = ("Company", "Fund", "GovernmentBody", "University")

# Node properties on established predicates: (label or None for any, property) -> predicate.
NODE_PREDICATES: dict[tuple[str | None, str], URIRef] = {
    (None, "id"): DCTERMS.identifier,
    (None, "name"): SDO.name,
    (None, "sources"): PROV.wasDerivedFrom,
    (None, "aliases"): SKOS.altLabel,
    (None, "description"): SDO.description,
    (None, "identifiers"): TG["identifier"],
    (None, "title"): DCTERMS.title,
    (None, "publisher"): DCTERMS.publisher,
    (None, "date"): DCTERMS.date,
    (None, "url"): SDO.url,
    (None, "parent"): DCTERMS.isPartOf,
    (None, "founded"): SDO.foundingDate,
    (None, "birth_date"): SDO.birthDate,
    (None, "address"): SDO.address,
    ("Project", "start"): SDO.startDate,
    ("Project", "end"): SDO.endDate,
}
REL_PREDICATES: dict[tuple[str | None, str], URIRef] = {
    (None, "id"): DCTERMS.identifier,
    (None, "sources"): PROV.wasDerivedFrom,
    (None, "date"): DCTERMS.date,
    (None, "via"): TG["via"],
}
# Properties whose values are node ids: written as IRIs.
REF_PROPS = {"sources", "parent", "via"}
# Properties written as language-tagged strings.
LANG_PROPS = {"name_zh": "zh"}
# Properties written as xsd:anyURI.
URI_PROPS = {"url"}


@dataclass(frozen=True)
class RelMapping:
    rtype: str
    cls: URIRef
    src_role: URIRef
    dst_role: URIRef
    shortcut: URIRef  # direct triple src -> dst (or dst -> src when `reverse`)
    reverse: bool = False
    extra_types: tuple = ()


# Qualified relationship classes: type -> (class, role of the start, role of the end, shortcut, reverse, extra types).
_REL_SPEC = {
    "OWNS": ("Ownership", TG["owner"], TG["asset"], TG["owns"]),
    "HOLDS": ("Holding", TG["holder"], TG["issuer"], TG["holds"]),
    "INVESTED_IN": ("Investment", TG["investor"], TG["investee"], TG["investedIn"]),
    "MANAGES": ("Management", TG["manager"], TG["managedFund"], TG["manages"]),
    "TRACKS": ("Tracking", TG["trackingFund"], TG["trackedIndex"], TG["tracks"]),
    "CONSTITUENT_OF": ("IndexMembership", TG["constituent"], TG["index"], TG["constituentOf"]),
    "LISTED_ON": ("Listing", TG["listedParty"], TG["list"], TG["listedOn"]),
    "CAPTURED_BY": ("Capture", TG["capturedParty"], TG["list"], TG["capturedBy"]),
    "PART_OF": ("PartWhole", TG["part"], TG["whole"], ORG.subOrganizationOf),  # dcterms:isPartOf unless org -> org
    "PARTY_TO": ("Participation", TG["participant"], TG["project"], TG["partyTo"]),
    "SUPPLIES": ("Supply", TG["supplier"], TG["customer"], TG["supplies"]),
    "PARTNERS_WITH": ("Partnership", TG["partner"], TG["counterpart"], TG["partnersWith"]),
    "LOCATED_IN": ("Presence", TG["locatedEntity"], TG["inCountry"], TG["locatedIn"]),
    "HEADQUARTERED_IN": ("Headquarters", TG["headquartered"], TG["inCountry"], TG["headquarteredIn"]),
    "OFFICER_OF": ("Officership", ORG.member, ORG.organization, ORG.hasMember, True, (ORG.Membership,)),
}


def rel_mapping(rtype: str) -> RelMapping:
    """The qualified-node mapping of a relationship type; types not listed above get generated names."""
    spec = _REL_SPEC.get(rtype)
    if spec is None:
        return RelMapping(rtype, TG[_pascal(rtype)], TG["from"], TG["to"], TG[_camel(rtype.lower())])
    cls, src, dst, short, *rest = spec
    reverse = rest[0] if rest else False
    extra = rest[1] if len(rest) > 1 else ()
    return RelMapping(rtype, TG[cls], src, dst, short, reverse, tuple(extra))


def shortcut(rtype: str, src_label: str, dst_label: str) -> tuple[URIRef, bool]:
    m = rel_mapping(rtype)
    if rtype == "PART_OF" and not (src_label in ORG_LABELS and dst_label in ORG_LABELS):
        return DCTERMS.isPartOf, False
    return m.shortcut, m.reverse


def node_predicate(label: str, prop: str) -> URIRef:
    return NODE_PREDICATES.get((label, prop)) or NODE_PREDICATES.get((None, prop)) or TG[_camel(prop)]


def rel_predicate(rtype: str, prop: str) -> URIRef:
    return REL_PREDICATES.get((rtype, prop)) or REL_PREDICATES.get((None, prop)) or TG[_camel(prop)]


def order_predicate(prop: str) -> URIRef:
    return TG[_camel(prop) + "Order"]


def _public(props: dict[str, Prop]) -> dict[str, Prop]:
    return {k: p for k, p in props.items() if not p.internal}


def node_predicates(label: str) -> dict[str, URIRef]:
    return {p: node_predicate(label, p) for p in _public(SCHEMA.nodes[label].props)}


def rel_predicates(rtype: str) -> dict[str, URIRef]:
    return {p: rel_predicate(rtype, p) for p in _public(SCHEMA.rels[rtype].props)}


def _check_mapping() -> None:
    """Within one class, predicates must be distinct (the mapping has to be reversible)."""
    for label in SCHEMA.labels:
        preds = list(node_predicates(label).values())
        if len(set(preds)) != len(preds):
            raise RuntimeError(f"graph/rdf.py: two properties of {label} map to one predicate")
    for rtype in SCHEMA.rel_types:
        m = rel_mapping(rtype)
        preds = [*rel_predicates(rtype).values(), m.src_role, m.dst_role]
        if len(set(preds)) != len(preds):
            raise RuntimeError(f"graph/rdf.py: two properties of {rtype} map to one predicate")
    literal = {node_predicate(l, n) for l in SCHEMA.labels for n in SCHEMA.nodes[l].props if n not in REF_PROPS}
    literal |= {rel_predicate(t, n) for t in SCHEMA.rel_types for n in SCHEMA.rels[t].props if n not in REF_PROPS}
    roles = {x for t in SCHEMA.rel_types for x in (rel_mapping(t).src_role, rel_mapping(t).dst_role)}
    if literal & roles:
        raise RuntimeError(f"graph/rdf.py: {sorted(literal & roles)} used both for values and for ends")
    classes = [TG[l] for l in SCHEMA.labels] + [rel_mapping(t).cls for t in SCHEMA.rel_types]
    if len(set(classes)) != len(classes):
        raise RuntimeError("graph/rdf.py: two labels or types map to one class")


_check_mapping()
CLASS_TO_LABEL = {TG[l]: l for l in SCHEMA.labels}
CLASS_TO_REL = {rel_mapping(t).cls: t for t in SCHEMA.rel_types}
SHORTCUTS = {rel_mapping(t).shortcut for t in SCHEMA.rel_types} | {DCTERMS.isPartOf}
KNOWN_PREDICATES = ({p for l in SCHEMA.labels for p in node_predicates(l).values()}
                    | {p for t in SCHEMA.rel_types for p in rel_predicates(t).values()}
                    | {x for t in SCHEMA.rel_types for x in (rel_mapping(t).src_role, rel_mapping(t).dst_role)})
IGNORED_PREDICATES = {RDF.type, OWL.sameAs, PROV.wasGeneratedBy, RDFS.label, RDFS.comment} | SHORTCUTS


def curie(term) -> str:
    s = str(term)
    for pfx, ns in PREFIXES.items():
        if s.startswith(str(ns)) and len(s) > len(str(ns)):
            return f"{pfx}:{s[len(str(ns)):]}"
    return f"<{s}>"


# ---------------------------------------------------------------- IRIs

def node_iri(node_id: str) -> URIRef:
    return URIRef(ID_BASE + quote(str(node_id), safe=":"))


def rel_iri(rel_id: str) -> URIRef:
    return URIRef(REL_BASE + quote(str(rel_id), safe=":"))


def iri_to_id(term) -> str:
    """The node id an IRI stands for: ours decode to the id, Wikidata items to `wd:Q…`, others stay as they are."""
    s = str(term)
    for base in (ID_BASE, REL_BASE):
        if s.startswith(base):
            return unquote(s[len(base):])
    q = _wikidata_qid(term)
    if q:
        return f"wd:{q}"
    return s


def _wikidata_qid(term) -> str | None:
    m = re.fullmatch(r"https?://www\.wikidata\.org/entity/(Q\d+)", str(term))
    return m.group(1) if m else None


# ---------------------------------------------------------------- export

def _float_literal(v: float) -> Literal:
    if not math.isfinite(v):
        # xsd:decimal has no infinity. xsd:float rather than xsd:double: rdflib's JSON-LD writer turns
        # doubles into JSON numbers, and JSON has no Infinity (SHACL flags these: not an xsd:decimal)
        return Literal("INF" if v > 0 else "-INF", datatype=XSD.float)
    return Literal(format(Decimal(repr(float(v))), "f"), datatype=XSD.decimal)


def _literal(prop: Prop, v: Any) -> Literal | URIRef:
    if prop.name in REF_PROPS:
        return node_iri(v)
    if prop.name in LANG_PROPS:
        return Literal(str(v), lang=LANG_PROPS[prop.name])
    if prop.name in URI_PROPS:
        return Literal(str(v), datatype=XSD.anyURI)
    t = prop.type
    if t == "float":
        return _float_literal(v)
    if t == "int":
        return Literal(str(int(v)), datatype=XSD.integer)
    if t == "bool":
        return Literal("true" if v else "false", datatype=XSD.boolean)
    if t == "date":
        return Literal(str(v), datatype=XSD.date)
    return Literal(str(v))


def _bnode(*parts: str) -> BNode:
    return BNode("b" + hashlib.sha1("|".join(parts).encode("utf-8")).hexdigest()[:20])


def _add_values(g: Graph, s: URIRef, prop: Prop, pred: URIRef, v: Any) -> None:
    if v is None:
        return
    if prop.type == "list":
        items = [x for x in v if x is not None and x != ""]
        terms = [_literal(prop, x) for x in items]
        for t in terms:
            g.add((s, pred, t))
        if len(items) > 1 and list(items) != sorted(items):
            # RDF values are unordered: keep the stored order as an RDF list for an exact round trip
            nodes = [_bnode(str(s), prop.name, str(i)) for i in range(len(terms))]
            for i, (n, t) in enumerate(zip(nodes, terms)):
                g.add((n, RDF.first, t))
                g.add((n, RDF.rest, nodes[i + 1] if i + 1 < len(nodes) else RDF.nil))
            g.add((s, order_predicate(prop.name), nodes[0]))
        return
    g.add((s, pred, _literal(prop, v)))


def new_graph() -> Graph:
    g = Graph(bind_namespaces="core")
    for pfx, ns in PREFIXES.items():
        g.bind(pfx, ns, override=True)
    return g


def add_node(g: Graph, label: str, props: dict) -> URIRef:
    if label not in SCHEMA.nodes:
        raise RdfError(f"unknown label {label!r}")
    nt = SCHEMA.nodes[label]
    s = node_iri(props["id"])
    g.add((s, RDF.type, TG[label]))
    for t in NODE_EXTRA_TYPES.get(label, ()):
        g.add((s, RDF.type, t))
    for name, v in props.items():
        prop = nt.props.get(name)
        if prop is None:
            raise RdfError(f"{label} {props['id']}: property {name!r} is not in the schema")
        if prop.internal:
            continue
        _add_values(g, s, prop, node_predicate(label, name), v)
    for ident in props.get("identifiers") or ():
        if str(ident).startswith("wikidata:Q"):
            g.add((s, OWL.sameAs, WD[str(ident).split(":", 1)[1]]))
    return s


def add_rel(g: Graph, rtype: str, src: str, src_label: str, dst: str, dst_label: str, props: dict) -> URIRef:
    if rtype not in SCHEMA.rels:
        raise RdfError(f"unknown relationship type {rtype!r}")
    rt = SCHEMA.rels[rtype]
    m = rel_mapping(rtype)
    r = rel_iri(props["id"])
    a, b = node_iri(src), node_iri(dst)
    g.add((r, RDF.type, m.cls))
    for t in m.extra_types:
        g.add((r, RDF.type, t))
    g.add((r, m.src_role, a))
    g.add((r, m.dst_role, b))
    for name, v in props.items():
        prop = rt.props.get(name)
        if prop is None:
            raise RdfError(f"{rtype} {props['id']}: property {name!r} is not in the schema")
        _add_values(g, r, prop, rel_predicate(rtype, name), v)
    pred, rev = shortcut(rtype, src_label, dst_label)
    g.add((b, pred, a) if rev else (a, pred, b))
    if props.get("derived"):
        act = URIRef(ACTIVITY_BASE + quote(str(props.get("rule") or rtype.lower()), safe=""))
        g.add((r, PROV.wasGeneratedBy, act))
        g.add((act, RDF.type, PROV.Activity))
        g.add((act, RDFS.label, Literal(f"techgiants analysis: {props.get('rule') or rtype}")))
    return r


def to_graph(records: Iterable[dict]) -> Graph:
    """An rdflib Graph from `GraphStore.iter_export()`-shaped records."""
    g = new_graph()
    for rec in records:
        if "node" in rec:
            add_node(g, rec["node"], rec["props"])
        else:
            add_rel(g, rec["rel"], rec["src"], rec.get("src_label") or "", rec["dst"], rec.get("dst_label") or "",
                    rec["props"])
    return g


def _sort_jsonld(x):
    if isinstance(x, dict):
        return {k: (_sort_jsonld(v) if k != "@list" else [_sort_jsonld(i) for i in v]) for k, v in x.items()}
    if isinstance(x, list):
        return sorted((_sort_jsonld(i) for i in x), key=lambda i: json.dumps(i, sort_keys=True, ensure_ascii=False))
    return x


def serialize(g: Graph, fmt: str) -> str:
    """Deterministic text: Turtle (sorted by rdflib), N-Triples (sorted lines), JSON-LD (sorted)."""
    f = FORMATS.get(fmt)
    if f is None:
        raise RdfError(f"unknown RDF format {fmt!r}; use turtle, jsonld or nt")
    if f == "turtle":
        return g.serialize(format="turtle")
    if f == "nt":
        # split on "\n" only: str.splitlines() would also cut at \x1c-\x1e, \x85, \u2028 inside literals
        lines = sorted(l for l in g.serialize(format="nt").split("\n") if l.strip())
        return "\n".join(lines) + ("\n" if lines else "")
    context = {k: str(v) for k, v in PREFIXES.items()}
    doc = json.loads(g.serialize(format="json-ld", context=context, auto_compact=True))
    if "@graph" not in doc:
        ctx = doc.pop("@context", context)
        doc = {"@context": ctx, "@graph": [doc] if doc else []}
    doc["@graph"] = _sort_jsonld(doc["@graph"])
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def query_records(store, name: str, params: dict | None = None) -> list[dict]:
    """The nodes, relationships and paths found in a saved query's rows, with the relationships' end
    nodes and the Source nodes they cite (recursively), as iter_export-shaped records. A query that
    returns only values contributes the nodes named in its `id` / `*_id` columns."""
    try:
        import queries
    except ImportError:
        queries = None
    run = getattr(queries, "run", None)
    if run is None:
        hint = ""
        if queries is not None and getattr(queries, "__file__", None) is None:
            hint = " (queries/ is a bare namespace here: an editable install made before queries/__init__.py " \
                   "existed; run `pip install -e .` again)"
        raise RdfError("saved queries are not available in this build: the `queries` package (queries.run) is "
                       f"missing{hint}; export the whole graph instead")
    result = run(store, name, **(params or {}))
    nodes: dict[str, dict] = {}
    rels: dict[str, dict] = {}

    def visit(cell):
        if isinstance(cell, dict):
            if "nodes" in cell and "rels" in cell and "id" not in cell:
                for x in [*cell["nodes"], *cell["rels"]]:
                    visit(x)
            elif "label" in cell and "id" in cell:
                nodes.setdefault(cell["id"], cell)
            elif "type" in cell and "src" in cell and "dst" in cell and "id" in cell:
                rels.setdefault(cell["id"], cell)
        elif isinstance(cell, (list, tuple)):
            for x in cell:
                visit(x)

    for row in result.rows:
        visit(row)
    if not nodes and not rels:
        # a query of plain values: the entities it names in `id` / `*_id` columns
        cols = [i for i, c in enumerate(result.columns) if c == "id" or c.endswith("_id")]
        for row in result.rows:
            for i in cols:
                if isinstance(row[i], str) and row[i] not in nodes:
                    n = store.get(row[i])
                    if n is not None:
                        nodes[row[i]] = n
        if not nodes:
            raise RdfError(f"query {name!r} returned no nodes, relationships or paths, and no node ids in "
                           f"`id` / `*_id` columns (columns: {', '.join(result.columns) or 'none'}): "
                           "nothing to export as RDF")
    out_rels = []
    for rid, r in rels.items():
        props = {k: v for k, v in r.items() if k not in ("type", "src", "dst") and v is not None}
        ends = []
        for nid in (r["src"], r["dst"]):
            if nid not in nodes:
                n = store.get(nid)
                if n is not None:
                    nodes[nid] = n
            ends.append(nodes[nid]["label"] if nid in nodes else (store.node_label(nid) or ""))
        out_rels.append({"rel": r["type"], "src": r["src"], "src_label": ends[0], "dst": r["dst"],
                         "dst_label": ends[1], "props": props})
    # the Source nodes cited, and the Sources those are part of
    todo = [s for x in [*nodes.values(), *(r["props"] for r in out_rels)] for s in (x.get("sources") or [])]
    while todo:
        sid = todo.pop()
        if sid in nodes:
            continue
        n = store.get(sid)
        if n is None:
            continue
        nodes[sid] = n
        todo.extend([*(n.get("sources") or []), *([n["parent"]] if n.get("parent") else [])])
    order = {l: i for i, l in enumerate(SCHEMA.labels)}
    out = [{"node": n["label"], "props": {k: v for k, v in n.items() if k != "label" and v is not None}}
           for n in sorted(nodes.values(), key=lambda n: (order.get(n["label"], 99), n["id"]))]
    rorder = {t: i for i, t in enumerate(SCHEMA.rel_types)}
    out.extend(sorted(out_rels, key=lambda r: (rorder.get(r["rel"], 99), r["props"]["id"])))
    return out


@dataclass
class ExportStats:
    nodes: int = 0
    rels: int = 0
    triples: int = 0


def export_graph(store, query: str | None = None, params: dict | None = None) -> tuple[Graph, ExportStats]:
    recs = query_records(store, query, params) if query else list(store.iter_export())
    g = to_graph(recs)
    return g, ExportStats(sum(1 for r in recs if "node" in r), sum(1 for r in recs if "rel" in r), len(g))


def export(store, path: str, fmt: str = "turtle", query: str | None = None,
           params: dict | None = None) -> ExportStats:
    """Write the whole graph (or a saved query's result) to `path` ('-' for stdout) as RDF."""
    if FORMATS.get(fmt) is None:
        raise RdfError(f"unknown RDF format {fmt!r}; use turtle, jsonld or nt")
    g, stats = export_graph(store, query, params)
    text = serialize(g, fmt)
    if path == "-":
        import sys
        sys.stdout.write(text)
    else:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text, encoding="utf-8")
    return stats


# ---------------------------------------------------------------- reading files

@contextmanager
def _quiet_rdflib():
    """rdflib logs a warning per ill-typed literal; we report those as Rejected records instead."""
    log = logging.getLogger("rdflib")
    old = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(old)


def format_for(path: str | Path) -> str | None:
    p = Path(path)
    if p.suffix.lower() == ".gz":
        p = p.with_suffix("")
    return EXTENSIONS.get(p.suffix.lower())


def load(path: str | Path, fmt: str | None = None) -> tuple[Graph, list[Rejected]]:
    """Parse one RDF file into a Graph. Syntax errors come back as Rejected; for N-Triples the
    good lines are kept and each bad line is rejected on its own."""
    path = str(path)
    fmt = fmt or format_for(path)
    g = new_graph()
    if fmt is None:
        return g, [Rejected(path, "file", None, f"unknown RDF file extension {Path(path).suffix!r}; known: "
                                               + ", ".join(sorted(EXTENSIONS)) + " (optionally .gz)")]
    try:
        data = Path(path).read_bytes()
        if path.lower().endswith(".gz"):
            import gzip
            data = gzip.decompress(data)
    except (OSError, EOFError) as e:
        return g, [Rejected(path, "file", None, f"cannot read: {getattr(e, 'strerror', None) or e}")]
    with _quiet_rdflib():
        try:
            if fmt in ("trig", "nquads"):
                ds = Dataset()
                ds.parse(data=data, format=fmt)
                for s, p, o, _c in ds.quads():
                    g.add((s, p, o))
            else:
                g.parse(data=data, format=fmt)
            return g, []
        except Exception as e:  # rdflib raises many kinds; all are syntax problems here
            reason = _syntax_reason(e)
            if fmt != "nt":
                return new_graph(), [Rejected(path, "file", None, f"RDF syntax error ({fmt}): {reason}")]
        rejected = []
        g = new_graph()
        text = data.decode("utf-8", errors="replace")
        for lineno, line in enumerate(text.split("\n"), 1):
            line = line.rstrip("\r")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                g.parse(data=line + "\n", format="nt")
            except Exception as e:
                rejected.append(Rejected(path, f"line {lineno}", None, f"RDF syntax error (nt): {_syntax_reason(e)}",
                                         raw=line[:500]))
        return g, rejected


def _syntax_reason(e: Exception) -> str:
    msg = " ".join(str(e).split()).split(" at ^ in:")[0]
    return (msg[:300] + "…") if len(msg) > 300 else (msg or type(e).__name__)


# ---------------------------------------------------------------- import: the techgiants vocabulary

class _Bad(ValueError):
    def __init__(self, field: str | None, reason: str):
        super().__init__(reason)
        self.field = field


def _scalar(prop: Prop, term, resolve=iri_to_id) -> Any:
    """One RDF term as a schema value, or raise _Bad. `resolve` turns a node IRI into its id."""
    if prop.name in REF_PROPS:
        if isinstance(term, URIRef):
            return resolve(term)
        if isinstance(term, Literal) and str(term):
            return str(term)
        raise _Bad(prop.name, f"expected an IRI, got {_show(term)}")
    if not isinstance(term, Literal):
        if isinstance(term, URIRef) and prop.name in URI_PROPS:
            return str(term)
        raise _Bad(prop.name, f"expected a literal, got {_show(term)}")
    lex = str(term)
    t = prop.type
    try:
        if t == "float":
            if term.datatype == XSD.boolean:
                raise ValueError
            v = float(lex)
            if v != v:
                raise ValueError
        elif t == "int":
            v = int(lex)
        elif t == "bool":
            if lex not in ("true", "false", "1", "0"):
                raise ValueError
            v = lex in ("true", "1")
        elif t == "date":
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", lex):
                raise ValueError
            _dt.date.fromisoformat(lex)
            v = lex
        else:
            v = lex
    except ValueError:
        what = {"float": "a number", "int": "an integer", "bool": "a boolean (true/false)",
                "date": "an ISO date YYYY-MM-DD"}[t]
        raise _Bad(prop.name, f"{lex!r} is not {what}") from None
    if prop.type != "list":
        try:
            v = _check_value(prop, v)
        except ValueError as e:
            raise _Bad(prop.name, str(e)) from None
    return v


def _show(term) -> str:
    if isinstance(term, BNode):
        return "a blank node"
    if isinstance(term, URIRef):
        return f"IRI <{term}>"
    return repr(str(term))


def _list_items(g: Graph, head) -> list | None:
    try:
        return list(Collection(g, head))
    except Exception:
        return None


def _read_props(g: Graph, s, props: dict[str, Prop], preds: dict[str, URIRef], what: str, skip=(),
                resolve=iri_to_id) -> dict:
    """Properties of subject `s` (raises _Bad). Unknown vocabulary predicates are errors; others are ignored."""
    by_pred = {v: k for k, v in preds.items()}
    values: dict[str, list] = {}
    orders: dict[str, list] = {}
    order_preds = {order_predicate(n): n for n, p in props.items() if p.type == "list"}
    for p, o in sorted(g.predicate_objects(s)):
        if p in by_pred:
            values.setdefault(by_pred[p], []).append(o)
        elif p in order_preds:
            items = _list_items(g, o)
            if items is None:
                raise _Bad(order_preds[p], f"{curie(p)} is not a well-formed RDF list")
            orders[order_preds[p]] = items
        elif p in IGNORED_PREDICATES or p in skip:
            continue
        elif p in KNOWN_PREDICATES or str(p).startswith(str(TG)):
            raise _Bad(curie(p), f"{curie(p)} is not a property of {what}")
    out: dict[str, Any] = {}
    for name, terms in values.items():
        prop = props[name]
        if prop.type == "list":
            if name in orders:
                rank = {t: i for i, t in enumerate(orders[name])}
                terms = sorted(set(terms), key=lambda t: (rank.get(t, len(rank)), str(t)))
            vals = [_scalar(prop, t, resolve) for t in terms]
            if name not in orders:
                vals = sorted(vals)
            out[name] = list(dict.fromkeys(vals))
        else:
            if len(set(terms)) > 1:
                raise _Bad(name, f"{len(set(terms))} values for {curie(preds[name])}; expected one")
            out[name] = _scalar(prop, terms[0], resolve)
    return out


def _check_id(s, props: dict, base: str) -> None:
    """Fill the id from the IRI when absent; an id that contradicts one of our IRIs is an error
    (relationships point at the IRI, so they would miss the node)."""
    from_iri = iri_to_id(s)
    if "id" not in props:
        props["id"] = from_iri
    elif str(s).startswith(base) and props["id"] != from_iri:
        raise _Bad("id", f"dcterms:identifier {props['id']!r} does not match the IRI (id {from_iri!r})")


def _tg_subjects(g: Graph) -> list:
    subs = set()
    for s, p, o in g:
        if isinstance(s, BNode):
            continue
        if p == RDF.type and str(o).startswith(str(TG)):
            subs.add(s)
        elif str(s).startswith((ID_BASE, REL_BASE)) and (p in KNOWN_PREDICATES or str(p).startswith(str(TG))):
            subs.add(s)
    return sorted(subs)


def records_from_graph(g: Graph, file: str) -> Iterator[Node | Rel | Rejected]:
    """The techgiants-vocabulary resources in `g` as Node and Rel records."""
    nodes_out: list[Node] = []
    rels_out: list[Rel] = []
    labels: dict = {}  # subject IRI -> label, for relationship ends
    statements: list = []
    subjects = _tg_subjects(g)
    # IRI -> node id: ours decode to the id; a foreign IRI takes its dcterms:identifier
    ids = {}
    for s in subjects:
        if not str(s).startswith((ID_BASE, REL_BASE)):
            idents = sorted({str(o) for o in g.objects(s, DCTERMS.identifier) if isinstance(o, Literal)})
            if len(idents) == 1:
                ids[s] = idents[0]

    def resolve(term) -> str:
        return ids.get(term) or iri_to_id(term)

    for s in subjects:
        where = str(s)
        classes = sorted(o for o in g.objects(s, RDF.type) if str(o).startswith(str(TG)))
        known = [c for c in classes if c in CLASS_TO_LABEL or c in CLASS_TO_REL]
        unknown = [c for c in classes if c not in CLASS_TO_LABEL and c not in CLASS_TO_REL]
        if unknown:
            yield Rejected(file, where, "rdf:type", f"unknown class {', '.join(map(curie, unknown))}")
            continue
        if not known:
            yield Rejected(file, where, "rdf:type", "no techgiants class (rdf:type tg:…)")
            continue
        if len(known) > 1:
            yield Rejected(file, where, "rdf:type", f"more than one class: {', '.join(map(curie, known))}")
            continue
        cls = known[0]
        if cls in CLASS_TO_LABEL:
            label = CLASS_TO_LABEL[cls]
            try:
                props = _read_props(g, s, _public(SCHEMA.nodes[label].props), node_predicates(label), curie(cls),
                                    resolve=resolve)
                _check_id(s, props, ID_BASE)
            except _Bad as e:
                yield Rejected(file, where, e.field, f"{label}: {e}")
                continue
            try:
                props = validate_node(label, props)
            except SchemaError as e:
                yield Rejected(file, where, e.field, str(e))
                continue
            labels[s] = label
            nodes_out.append(Node(label, props, origin=where))
        else:
            statements.append((s, CLASS_TO_REL[cls]))
    yield from nodes_out
    made_shortcuts = set()
    for s, rtype in statements:
        where = str(s)
        m = rel_mapping(rtype)
        ends = []
        bad = None
        for role in (m.src_role, m.dst_role):
            objs = sorted(set(g.objects(s, role)))
            if len(objs) != 1 or not isinstance(objs[0], URIRef):
                bad = Rejected(file, where, curie(role),
                               f"{rtype}: needs exactly one IRI for {curie(role)}, found {len(objs)}"
                               + ("" if len(objs) != 1 or isinstance(objs[0], URIRef) else " (not an IRI)"))
                break
            ends.append(objs[0])
        if bad:
            yield bad
            continue
        rt = SCHEMA.rels[rtype]
        try:
            props = _read_props(g, s, _public(rt.props), rel_predicates(rtype), curie(m.cls),
                                skip=(m.src_role, m.dst_role), resolve=resolve)
            if "id" in props or str(s).startswith(REL_BASE):
                _check_id(s, props, REL_BASE)
        except _Bad as e:
            yield Rejected(file, where, e.field, f"{rtype}: {e}")
            continue
        src, dst = resolve(ends[0]), resolve(ends[1])
        sl, dl = labels.get(ends[0], ""), labels.get(ends[1], "")
        pred, rev = shortcut(rtype, sl or "Company", dl or "Company")
        made_shortcuts.add((ends[1], pred, ends[0]) if rev else (ends[0], pred, ends[1]))
        rels_out.append(Rel(rtype, src, sl, dst, dl, props, origin=where))
    yield from rels_out
    # a tg: shortcut with no qualified statement behind it carries no id and no sources: say so
    tg_shortcuts = {rel_mapping(t).shortcut: t for t in SCHEMA.rel_types if str(rel_mapping(t).shortcut).startswith(str(TG))}
    for pred, rtype in sorted(tg_shortcuts.items()):
        for a, b in sorted(g.subject_objects(pred)):
            if (a, pred, b) not in made_shortcuts:
                yield Rejected(file, str(a), curie(pred),
                               f"{curie(pred)} <{b}> without a qualified {curie(rel_mapping(rtype).cls)} statement "
                               "(no id, no sources): not imported")


# ---------------------------------------------------------------- import: Wikidata-style ownership

# Ownership claims: property -> True when the claim's value owns the subject (owned by, parent organization).
WD_OWNERSHIP = {"P127": True, "P749": True, "P355": False, "P1830": False}
WD_PROPORTION, WD_START, WD_END = "P1107", "P580", "P582"
WD_HUMAN = "Q5"
WD_GOVERNMENT = {"Q327333", "Q2659904", "Q192350"}  # government agency, government organization, ministry
WD_IDS = {"P1278": "lei", "P946": "isin"}
NAME_PREDICATES = (RDFS.label, SDO.name, URIRef("http://schema.org/name"), SKOS.prefLabel)
DESCRIPTION_PREDICATES = (SDO.description, URIRef("http://schema.org/description"))
WIKIDATA_SOURCE = "src:wikidata"


def _wd(term) -> str | None:
    return _wikidata_qid(term)


def _lang_pick(lits: list, langs=("en", "", None)) -> Literal | None:
    lits = sorted((l for l in lits if isinstance(l, Literal)), key=lambda l: (str(l.language or ""), str(l)))
    for lang in langs:
        for l in lits:
            if (l.language or "") == (lang or ""):
                return l
    return None


def _wd_date(term) -> str:
    m = re.match(r"^\+?(\d{4})-(\d{2})-(\d{2})", str(term))
    if not m:
        raise ValueError(f"{str(term)!r} is not a date")
    d = "-".join(m.groups())
    try:
        _dt.date.fromisoformat(d)
    except ValueError:
        raise ValueError(f"{str(term)!r} is not a full date (Wikidata month/day 00 has no day precision)") from None
    return d


def _has_wikidata(g: Graph) -> bool:
    for p in g.predicates(unique=True):
        s = str(p)
        if s.startswith((str(WDT), str(WDP))):
            return True
    return False


def wikidata_records(g: Graph, file: str, as_of: str | None = None) -> Iterator[Node | Rel | Rejected]:
    """Ownership claims (P127, P749, P355, P1830) as OWNS, and the items they link as nodes."""
    claims = []  # (owner IRI, asset IRI, share, start, end, subject IRI, where)
    stated = set()  # (subject, P, value) covered by a statement node
    for pid, value_owns in sorted(WD_OWNERSHIP.items()):
        for subj, st in sorted(g.subject_objects(WDP[pid])):
            where = str(st)
            if (st, WIKIBASE.rank, WIKIBASE.DeprecatedRank) in g:
                continue
            vals = sorted(set(g.objects(st, PS[pid])))
            if len(vals) != 1 or not _wd(vals[0]) or not _wd(subj):
                yield Rejected(file, where, f"ps:{pid}", f"{pid} statement without exactly one Wikidata item "
                                                         "as its value (unknown or no value?)")
                continue
            val = vals[0]
            stated.add((subj, pid, val))
            share = start = end = None
            try:
                shares = sorted(set(g.objects(st, PQ[WD_PROPORTION])))
                if len(shares) > 1:
                    raise _Bad("share", f"{len(shares)} proportions (pq:{WD_PROPORTION}); expected one")
                if shares:
                    share = _scalar(SCHEMA.rels["OWNS"].props["share"], shares[0])
                for q, fld in ((WD_START, "start"), (WD_END, "end")):
                    ds = sorted(set(g.objects(st, PQ[q])))
                    if len(ds) > 1:
                        raise _Bad(fld, f"{len(ds)} values for pq:{q}; expected one")
                    if ds:
                        try:
                            d = _wd_date(ds[0])
                        except ValueError as e:
                            raise _Bad(fld, f"pq:{q}: {e}") from None
                        if fld == "start":
                            start = d
                        else:
                            end = d
            except _Bad as e:
                yield Rejected(file, where, e.field, f"OWNS from {pid}: {e}")
                continue
            owner, asset = (val, subj) if value_owns else (subj, val)
            claims.append((owner, asset, share, start, end, subj, where))
        for subj, val in sorted(g.subject_objects(WDT[pid])):
            if (subj, pid, val) in stated:
                continue
            if not _wd(val) or not _wd(subj):
                yield Rejected(file, str(subj), f"wdt:{pid}", f"wdt:{pid} value {_show(val)} is not a Wikidata item")
                continue
            owner, asset = (val, subj) if value_owns else (subj, val)
            claims.append((owner, asset, None, None, None, subj, str(subj)))

    items = {c[0] for c in claims} | {c[1] for c in claims}
    items |= {s for s in g.subjects(WDT.P31) if _wd(s)}
    if not items:
        return

    def instance_of(item) -> set[str]:
        out = {_wd(o) for o in g.objects(item, WDT.P31)}
        for st in g.objects(item, WDP.P31):
            out |= {_wd(o) for o in g.objects(st, PS.P31)}
        return {x for x in out if x}

    def iso(item, pid: str) -> str | None:
        for c in sorted(g.objects(item, WDT[pid])):
            codes = sorted(str(x) for x in g.objects(c, WDT.P297) if isinstance(x, Literal))
            if codes:
                return codes[0].upper()
        return None

    def src_id(item) -> str:
        return f"src:wikidata:{_wd(item)}"

    yield Node("Source", {"id": WIKIDATA_SOURCE, "name": "Wikidata", "title": "Wikidata",
                          "publisher": "Wikimedia Foundation", "url": "https://www.wikidata.org/", "kind": "dataset",
                          "sources": [WIKIDATA_SOURCE], **({"date": as_of} if as_of else {})},
               origin=file)
    labels: dict = {}
    for item in sorted(items):
        q = _wd(item)
        where = str(item)
        names = [o for p in NAME_PREDICATES for o in g.objects(item, p)]
        name = _lang_pick(names)
        if name is None:
            name = _lang_pick(names, langs=sorted({str(l.language or "") for l in names if isinstance(l, Literal)}))
        zh = _lang_pick(names, langs=("zh", "zh-hans", "zh-cn", "zh-hant"))
        aliases = sorted({str(a) for a in g.objects(item, SKOS.altLabel) if isinstance(a, Literal)})
        desc = _lang_pick([o for p in DESCRIPTION_PREDICATES for o in g.objects(item, p)])
        kinds = instance_of(item)
        label = "Person" if WD_HUMAN in kinds else "GovernmentBody" if kinds & WD_GOVERNMENT else "Company"
        ids = [f"wikidata:{q}"]
        for pid, scheme in sorted(WD_IDS.items()):
            ids += sorted(f"{scheme}:{v}" for v in g.objects(item, WDT[pid]) if isinstance(v, Literal))
        props: dict[str, Any] = {"id": f"wd:{q}", "name": str(name) if name is not None else q,
                                 "sources": [src_id(item)], "identifiers": ids}
        if zh is not None and str(zh) != props["name"]:
            props["name_zh"] = str(zh)
        other = [str(n) for n in names if isinstance(n, Literal) and str(n) not in (props["name"], props.get("name_zh"))]
        if aliases or other:
            props["aliases"] = sorted(set(aliases) | set(other))
        if desc is not None:
            props["description"] = str(desc)
        if label == "Person":
            nat = iso(item, "P27")
            if nat:
                props["nationality"] = nat
            dates = sorted(g.objects(item, WDT.P569))
        else:
            c = iso(item, "P17")
            if c:
                props["country"] = c
            dates = sorted(g.objects(item, WDT.P571)) if label == "Company" else []
        if dates:
            try:
                props["birth_date" if label == "Person" else "founded"] = _wd_date(dates[0])
            except ValueError:
                pass  # year- or month-precision dates do not fit the schema's full dates; left out
        title = q if props["name"] == q else f"{props['name']} ({q})"
        yield Node("Source", {"id": src_id(item), "name": f"Wikidata: {title}", "title": title, "publisher": "Wikimedia Foundation",
                              "url": f"https://www.wikidata.org/wiki/{q}", "kind": "dataset",
                              "parent": WIKIDATA_SOURCE, "sources": [WIKIDATA_SOURCE],
                              **({"date": as_of} if as_of else {})}, origin=where)
        try:
            props = validate_node(label, props)
        except SchemaError as e:
            yield Rejected(file, where, e.field, str(e), raw=props)
            continue
        labels[item] = label
        yield Node(label, props, origin=where)

    # one OWNS per (owner, asset, period); claims without share or dates fold into a dated one
    groups: dict[tuple, list] = {}
    for c in claims:
        groups.setdefault((c[0], c[1]), []).append(c)
    for (owner, asset), cs in sorted(groups.items()):
        qualified = [c for c in cs if c[2] is not None or c[3] or c[4]]
        plain = [c for c in cs if c not in qualified]
        periods: dict[tuple, list] = {}
        for c in qualified:
            periods.setdefault((c[3] or "", c[4] or ""), []).append(c)
        if not periods:
            periods[("", "")] = []
        first = sorted(periods)[0]
        periods[first] = periods[first] + plain
        for (start, end), group in sorted(periods.items()):
            group = sorted(group, key=lambda c: (c not in qualified, c[6]))  # a statement node first
            share = next((c[2] for c in group if c[2] is not None), None)
            props = {"sources": sorted({src_id(c[5]) for c in group})}
            if share is not None:
                props["share"] = share
            if start:
                props["start"] = start
            if end:
                props["end"] = end
            key = f"{start}/{end}" if (start or end) else ""
            yield Rel("OWNS", f"wd:{_wd(owner)}", labels.get(owner, ""), f"wd:{_wd(asset)}", labels.get(asset, ""),
                      props, key=key, origin=group[0][6])


# ---------------------------------------------------------------- the ingester

def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and format_for(p))
    return [path]


def parse(path: str | Path, as_of: str | None = None) -> Iterator[Node | Rel | Rejected]:
    """`techgiants ingest rdf PATH`: a file (format by extension) or a folder of RDF files.

    Reads the techgiants vocabulary (what `techgiants export turtle|jsonld|nt` writes) back exactly,
    and Wikidata-style ownership claims; `as_of` dates the Wikidata Source nodes."""
    for f in _files(Path(path)):
        g, rejected = load(f)
        yield from rejected
        if not len(g):
            continue
        with _quiet_rdflib():
            yield from records_from_graph(g, str(f))
            if _has_wikidata(g):
                yield from wikidata_records(g, str(f), as_of=as_of)


# ---------------------------------------------------------------- the vocabulary as RDF

def vocabulary() -> Graph:
    """The generated ontology: classes, properties, their mappings to established vocabularies."""
    g = new_graph()
    g.add((ONTOLOGY_IRI, RDF.type, OWL.Ontology))
    g.add((ONTOLOGY_IRI, RDFS.label, Literal("techgiants vocabulary (generated from graph/schema.yaml)")))
    g.add((TG["Statement"], RDF.type, OWL.Class))
    g.add((TG["Statement"], RDFS.comment, Literal("A qualified relationship: one fact with its properties and sources.")))
    for p, c in ((TG["from"], "The start of a qualified relationship."), (TG["to"], "The end of a qualified relationship.")):
        g.add((p, RDF.type, OWL.ObjectProperty))
        g.add((p, RDFS.comment, Literal(c)))
    declared: set = set()

    def prop(pred: URIRef, p: Prop, domain: URIRef):
        if not str(pred).startswith(str(TG)):
            return
        g.add((pred, SDO.domainIncludes, domain))  # one predicate serves several classes
        if pred in declared:
            return
        declared.add(pred)
        is_ref = p.name in REF_PROPS
        g.add((pred, RDF.type, OWL.ObjectProperty if is_ref else OWL.DatatypeProperty))
        g.add((pred, RDFS.label, Literal(p.name)))
        if p.doc:
            g.add((pred, RDFS.comment, Literal(p.doc)))
        if not is_ref:
            g.add((pred, RDFS.range, _DATATYPE.get(p.type, XSD.string)))

    for label, nt in SCHEMA.nodes.items():
        c = TG[label]
        g.add((c, RDF.type, OWL.Class))
        g.add((c, RDFS.label, Literal(label)))
        g.add((c, RDFS.comment, Literal(nt.doc)))
        for t in NODE_EXTRA_TYPES.get(label, ()):
            g.add((c, RDFS.subClassOf, t))
        for name, p in _public(nt.props).items():
            prop(node_predicate(label, name), p, c)
            if p.type == "list":
                g.add((order_predicate(name), RDF.type, OWL.ObjectProperty))
                g.add((order_predicate(name), RDFS.comment,
                       Literal(f"The stored order of `{name}` as an RDF list (only when not sorted).")))
    for rtype, rt in SCHEMA.rels.items():
        m = rel_mapping(rtype)
        g.add((m.cls, RDF.type, OWL.Class))
        g.add((m.cls, RDFS.label, Literal(rtype)))
        g.add((m.cls, RDFS.comment, Literal(rt.doc)))
        g.add((m.cls, RDFS.subClassOf, TG["Statement"]))
        for t in m.extra_types:
            g.add((m.cls, RDFS.subClassOf, t))
        for role, sup in ((m.src_role, TG["from"]), (m.dst_role, TG["to"])):
            if str(role).startswith(str(TG)):
                g.add((role, RDF.type, OWL.ObjectProperty))
                g.add((role, RDFS.subPropertyOf, sup))
        if str(m.shortcut).startswith(str(TG)):
            g.add((m.shortcut, RDF.type, OWL.ObjectProperty))
            g.add((m.shortcut, RDFS.comment, Literal(f"Shortcut of {rtype}: {rt.doc}")))
        for name, p in _public(rt.props).items():
            prop(rel_predicate(rtype, name), p, m.cls)
            if p.type == "list":
                g.add((order_predicate(name), RDF.type, OWL.ObjectProperty))
    return g


_DATATYPE = {"string": XSD.string, "float": XSD.decimal, "int": XSD.integer, "bool": XSD.boolean,
             "date": XSD.date, "list": XSD.string}


def mapping_markdown() -> str:
    """The vocabulary table for docs/rdf.md."""
    out = ["| schema | RDF class | also typed | properties (schema → predicate) |", "|---|---|---|---|"]
    for label, nt in SCHEMA.nodes.items():
        props = ", ".join(f"`{n}`→`{curie(node_predicate(label, n))}`" for n in _public(nt.props))
        extra = ", ".join(f"`{curie(t)}`" for t in NODE_EXTRA_TYPES.get(label, ())) or "—"
        out.append(f"| node `{label}` | `{curie(TG[label])}` | {extra} | {props} |")
    out += ["", "| relationship | qualified node | start role | end role | shortcut triple | properties (schema → predicate) |",
            "|---|---|---|---|---|---|"]
    for rtype, rt in SCHEMA.rels.items():
        m = rel_mapping(rtype)
        cls = f"`{curie(m.cls)}`" + "".join(f" + `{curie(t)}`" for t in m.extra_types)
        sc = f"`{curie(m.shortcut)}`" + (" (end → start)" if m.reverse else "")
        if rtype == "PART_OF":
            sc += " between organisations, else `dcterms:isPartOf`"
        props = ", ".join(f"`{n}`→`{curie(rel_predicate(rtype, n))}`" for n in _public(rt.props))
        out.append(f"| `{rtype}` | {cls} | `{curie(m.src_role)}` | `{curie(m.dst_role)}` | {sc} | {props} |")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- SHACL

def _rdf_list(g: Graph, items: list, *key: str):
    if not items:
        return RDF.nil
    nodes = [_bnode("list", *key, str(i)) for i in range(len(items))]
    for i, (n, t) in enumerate(zip(nodes, items)):
        g.add((n, RDF.first, t))
        g.add((n, RDF.rest, nodes[i + 1] if i + 1 < len(nodes) else RDF.nil))
    return nodes[0]


def shapes_graph() -> Graph:
    """SHACL shapes, generated from the schema, that a valid export satisfies: ids, names and sources
    present, one value for scalars, datatypes (xsd:date, xsd:decimal, ...), choices, share ranges [0, 1],
    relationship ends of the allowed classes, and a source on every statement."""
    g = new_graph()
    g.bind("sh", SH)
    g.bind("tgsh", TGSH)

    def pshape(owner: str, name: str, path: URIRef, prop: Prop | None, *, min_count=0, max_count=None,
               kind=None, classes=(), message=None):
        ps = TGSH[f"{owner}-{name}"]
        g.add((ps, RDF.type, SH.PropertyShape))
        g.add((ps, SH.path, path))
        if min_count:
            g.add((ps, SH.minCount, Literal(min_count)))
        if max_count is not None:
            g.add((ps, SH.maxCount, Literal(max_count)))
        if kind is not None:
            g.add((ps, SH.nodeKind, kind))
        if len(classes) == 1:
            g.add((ps, SH["class"], classes[0]))
        elif classes:
            alts = []
            for i, c in enumerate(classes):
                b = _bnode("or", owner, name, str(i))
                g.add((b, SH["class"], c))
                alts.append(b)
            g.add((ps, SH["or"], _rdf_list(g, alts, "orlist", owner, name)))
        if prop is not None and prop.name not in REF_PROPS:
            if prop.name in LANG_PROPS:
                g.add((ps, SH.datatype, RDF.langString))
            elif prop.name in URI_PROPS:
                g.add((ps, SH.datatype, XSD.anyURI))
            else:
                g.add((ps, SH.datatype, _DATATYPE[prop.type]))
            if prop.type == "date":
                g.add((ps, SH.pattern, Literal(r"^\d{4}-\d{2}-\d{2}$")))
            if prop.range:
                g.add((ps, SH.minInclusive, Literal(Decimal(str(prop.range[0])))))
                g.add((ps, SH.maxInclusive, Literal(Decimal(str(prop.range[1])))))
            if prop.choices:
                g.add((ps, SH["in"], _rdf_list(g, [Literal(c) for c in prop.choices], "in", owner, name)))
            if prop.format == "country":
                g.add((ps, SH.pattern, Literal("^[A-Z]{2}$")))
            if prop.type in ("string", "list") and prop.name not in LANG_PROPS:
                g.add((ps, SH.minLength, Literal(1)))
        if message is None:  # one readable line per property: what a valid value looks like
            bits = ["required" if min_count else "optional"]
            if max_count == 1:
                bits.append("one value")
            if classes:
                bits.append("a " + " or ".join(curie(c) for c in classes))
            if prop is not None and prop.name not in REF_PROPS:
                dt = (RDF.langString if prop.name in LANG_PROPS else XSD.anyURI if prop.name in URI_PROPS
                      else _DATATYPE[prop.type])
                bits.append(curie(dt) + (" YYYY-MM-DD" if prop.type == "date" else ""))
                if prop.range:
                    bits.append(f"in [{prop.range[0]}, {prop.range[1]}]")
                if prop.choices:
                    bits.append("one of " + ", ".join(prop.choices))
                if prop.format == "country":
                    bits.append("an ISO 3166-1 alpha-2 code")
            message = f"{owner}.{name} ({curie(path)}): " + ", ".join(bits)
        g.add((ps, SH.message, Literal(message)))
        return ps

    for label, nt in SCHEMA.nodes.items():
        shape = TGSH[f"{label}Shape"]
        g.add((shape, RDF.type, SH.NodeShape))
        g.add((shape, SH.targetClass, TG[label]))
        g.add((shape, SH.nodeKind, SH.IRI))
        for name, p in _public(nt.props).items():
            required = p.required or name in ("id", "name", "sources")
            msg = None
            if name == "sources":
                msg = f"{label}: at least one source (prov:wasDerivedFrom a tg:Source)"
            ps = pshape(label, name, node_predicate(label, name), p, min_count=1 if required else 0,
                        max_count=None if p.type == "list" else 1,
                        kind=SH.IRI if name in REF_PROPS else SH.Literal,
                        classes=(TG["Source"],) if name in ("sources", "parent") else (), message=msg)
            g.add((shape, SH.property, ps))
    for rtype, rt in SCHEMA.rels.items():
        m = rel_mapping(rtype)
        owner = rtype
        shape = TGSH[f"{rtype}Shape"]
        g.add((shape, RDF.type, SH.NodeShape))
        g.add((shape, SH.targetClass, m.cls))
        g.add((shape, SH.nodeKind, SH.IRI))
        for role, ends, which in ((m.src_role, rt.sources, "start"), (m.dst_role, rt.targets, "end")):
            ps = pshape(owner, f"role-{which}", role, None, min_count=1, max_count=1, kind=SH.IRI,
                        classes=tuple(TG[l] for l in ends),
                        message=f"{rtype}: exactly one {which} ({curie(role)}), a {' or '.join(ends)}")
            g.add((shape, SH.property, ps))
        for name, p in _public(rt.props).items():
            required = p.required or name in ("id", "sources")
            msg = f"{rtype}: every statement needs a source (prov:wasDerivedFrom a tg:Source)" if name == "sources" else None
            ps = pshape(owner, name, rel_predicate(rtype, name), p, min_count=1 if required else 0,
                        max_count=None if p.type == "list" else 1,
                        kind=SH.IRI if name in REF_PROPS else SH.Literal,
                        classes=(TG["Source"],) if name == "sources" else (), message=msg)
            if name == "share_min" and "share_max" in rt.props:
                g.add((ps, SH.lessThanOrEquals, rel_predicate(rtype, "share_max")))
            if name == "start" and "end" in rt.props:
                g.add((ps, SH.lessThanOrEquals, rel_predicate(rtype, "end")))
            g.add((shape, SH.property, ps))
    return g


@dataclass
class Violation:
    focus: str
    path: str
    message: str
    value: str = ""
    severity: str = "Violation"

    def line(self) -> str:
        v = f" (value {self.value})" if self.value else ""
        return f"{self.focus} {self.path}: {self.message}{v}"


@dataclass
class ValidationReport:
    conforms: bool
    violations: list[Violation] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)  # files that did not parse


def validate(data: Graph | str | Path) -> ValidationReport:
    """Check an export (a Graph or a file) against the generated SHACL shapes with pyshacl."""
    import pyshacl
    rejected: list[Rejected] = []
    if not isinstance(data, Graph):
        paths = _files(Path(data))
        if not paths or not Path(data).exists():
            raise RdfError(f"{data}: no such file or folder")
        g = new_graph()
        for p in paths:
            one, rej = load(p)
            rejected += rej
            for t in one:
                g.add(t)
        data = g
    if rejected:
        return ValidationReport(False, [], rejected)
    with _quiet_rdflib():
        conforms, results, _text = pyshacl.validate(data, shacl_graph=shapes_graph(), inference="none",
                                                    abort_on_first=False, allow_warnings=True)
    out = []
    for r in results.subjects(RDF.type, SH.ValidationResult):
        def one(p):
            v = results.value(r, p)
            return "" if v is None else (curie(v) if isinstance(v, URIRef) and p != SH.focusNode else str(v))
        out.append(Violation(focus=one(SH.focusNode), path=one(SH.resultPath), message=one(SH.resultMessage),
                             value=one(SH.value), severity=str(results.value(r, SH.resultSeverity) or SH.Violation)
                             .rsplit("#", 1)[-1]))
    out.sort(key=lambda v: (v.focus, v.path, v.message, v.value))
    return ValidationReport(bool(conforms), out)


# ---------------------------------------------------------------- SPARQL examples (docs/rdf.md, tests)

SPARQL_PREFIXES = """PREFIX tg: <https://techgiants.org/ns#>
PREFIX schema: <https://schema.org/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX org: <http://www.w3.org/ns/org#>
"""


@dataclass(frozen=True)
class Example:
    name: str
    title: str
    sparql: str  # without the PREFIX lines
    cypher: str  # the same question on a store, same columns


EXAMPLES = [
    Example("owners-of-hikvision", "Owners of Hikvision, with stake, dates and sources",
            """SELECT ?owner ?name ?share ?start ?source WHERE {
  ?o a tg:Ownership ;
     tg:asset <https://techgiants.org/id/company:hikvision> ;
     tg:owner ?ownerNode ;
     prov:wasDerivedFrom ?sourceNode .
  OPTIONAL { ?o tg:share ?share }
  OPTIONAL { ?o tg:start ?start }
  ?ownerNode dcterms:identifier ?owner ; schema:name ?name .
  ?sourceNode dcterms:identifier ?source .
}
ORDER BY ?owner ?source""",
            """MATCH (o)-[r:OWNS]->(c:Company {id: 'company:hikvision'})
UNWIND r.sources AS source
RETURN o.id AS owner, o.name AS name, r.share AS share, r.start AS start, source
ORDER BY owner, source"""),
    Example("entity-list-companies", "Companies on the US Entity List",
            """SELECT ?company ?name WHERE {
  ?c a schema:Organization ;
     tg:listedOn <https://techgiants.org/id/us-bis-entity-list> ;
     dcterms:identifier ?company ;
     schema:name ?name .
}
ORDER BY ?company""",
            """MATCH (c:Company)-[:LISTED_ON]->(l:SanctionsList {id: 'us-bis-entity-list'})
RETURN c.id AS company, c.name AS name
ORDER BY company"""),
    Example("projects-by-country", "Number of projects by country",
            """SELECT ?country (COUNT(DISTINCT ?p) AS ?projects) WHERE {
  ?p a tg:Project ; tg:locatedIn ?c .
  ?c a tg:Country ; dcterms:identifier ?country .
}
GROUP BY ?country
ORDER BY ?country""",
            """MATCH (p:Project)-[:LOCATED_IN]->(c:Country)
RETURN c.id AS country, count(DISTINCT p) AS projects
ORDER BY country"""),
    Example("sensetime-investors", "Owners of and investors in SenseTime",
            """SELECT DISTINCT ?investor ?name WHERE {
  ?i tg:owns|tg:investedIn <https://techgiants.org/id/company:sensetime> ;
     dcterms:identifier ?investor ;
     schema:name ?name .
}
ORDER BY ?investor""",
            """MATCH (i)-[:OWNS|INVESTED_IN]->(c:Company {id: 'company:sensetime'})
RETURN DISTINCT i.id AS investor, i.name AS name
ORDER BY investor"""),
    Example("bytedance-holdings", "Everything ByteDance owns, directly or through subsidiaries",
            """SELECT DISTINCT ?company WHERE {
  <https://techgiants.org/id/company:bytedance> tg:owns+ ?c .
  ?c dcterms:identifier ?company .
}
ORDER BY ?company""",
            """MATCH (a:Company {id: 'company:bytedance'})-[:OWNS*1..10]->(b)
RETURN DISTINCT b.id AS company
ORDER BY company"""),
    Example("officers", "People and their roles in organisations (org:Membership)",
            """SELECT ?person ?organisation ?role WHERE {
  ?m a org:Membership ; org:member ?p ; org:organization ?o .
  OPTIONAL { ?m tg:role ?role }
  ?p dcterms:identifier ?person .
  ?o dcterms:identifier ?organisation .
}
ORDER BY ?person ?organisation""",
            """MATCH (p:Person)-[r:OFFICER_OF]->(o)
RETURN p.id AS person, o.id AS organisation, r.role AS role
ORDER BY person, organisation"""),
]


def sparql(g: Graph, query: str) -> tuple[list[str], list[list]]:
    """Run a SELECT over a graph; values as Python (ids, strings, floats, ints)."""
    if not re.search(r"^\s*PREFIX\s", query, re.I | re.M):
        query = SPARQL_PREFIXES + query
    res = g.query(query)
    cols = [str(v) for v in res.vars]
    rows = []
    for row in res:
        out = []
        for v in row:
            if v is None:
                out.append(None)
            elif isinstance(v, Literal):
                py = v.toPython()
                out.append(float(py) if isinstance(py, Decimal) else py if not isinstance(py, _dt.date) else str(v))
            else:
                out.append(str(v))
        rows.append(out)
    return cols, rows
