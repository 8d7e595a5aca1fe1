"""What the pages show, as plain functions over a GraphStore (no Streamlit here).

Every query names labels and types from the schema only (graph.store._q) and passes
values as parameters; the same Cypher runs on Ladybug and Neo4j.
"""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

from graph.schema import SCHEMA
from graph.store import GraphStore, Neighbourhood, StoreError, _q

from app_pages import text as T

ENTITY_LABELS = list(SCHEMA.entity_labels)
PROFILE_REL_LIMIT = 2000   # relationships read for one profile; beyond, the page says so
ID_BATCH = 500


# ---------------------------------------------------------------- generic look-ups

def _chunks(items: list, n: int = ID_BATCH):
    for i in range(0, len(items), n):
        yield items[i:i + n]


def nodes_by_ids(store: GraphStore, ids: Iterable[str], labels: Iterable[str] | None = None) -> dict[str, dict]:
    """Nodes for many ids in one query per label (and batch)."""
    ids = [i for i in dict.fromkeys(ids) if i]
    out: dict[str, dict] = {}
    if not ids:
        return out
    for label in (labels or SCHEMA.labels):
        for chunk in _chunks(ids):
            res = store.read(_q("MATCH (n:{L}) WHERE n.id IN $ids RETURN n", L=label), {"ids": chunk})
            for (n,) in res.rows:
                out[n["id"]] = n
        if len(out) == len(ids):
            break
    return out


def _findings(store: GraphStore, ids: Iterable[str], rtype: str) -> dict[str, list[dict]]:
    """LISTED_ON or CAPTURED_BY relationships of many entities: one query per label (batched ids)."""
    ids = list(dict.fromkeys(ids))
    out: dict[str, list[dict]] = defaultdict(list)
    if not ids:
        return out
    for label in SCHEMA.rels[rtype].sources:
        for chunk in _chunks(ids):
            res = store.read(_q("MATCH (a:{L})-[r:{T}]->(l:SanctionsList) WHERE a.id IN $ids "
                                "RETURN a.id, r, l.id, l.name", L=label, T=rtype), {"ids": chunk})
            for aid, r, lid, lname in res.rows:
                out[aid].append({**{k: v for k, v in r.items() if k not in ("type", "src", "dst")},
                                 "list_id": lid, "list": lname or lid})
    return out


def designations(store: GraphStore, ids: Iterable[str]) -> dict[str, list[dict]]:
    """LISTED_ON designations for many entities.
    Each: list_id, list, since, until, notice, reason, entry_name, license_*, sources, active."""
    out = _findings(store, ids, "LISTED_ON")
    for v in out.values():
        for d in v:
            d["active"] = not d.get("until")
        v.sort(key=lambda d: (not d["active"], d.get("since") or "9999", d["list"]))
    return out


def captures(store: GraphStore, ids: Iterable[str]) -> dict[str, list[dict]]:
    """Derived CAPTURED_BY (50% rule) findings for many entities."""
    return _findings(store, ids, "CAPTURED_BY")


# ---------------------------------------------------------------- search

def search_entities(store: GraphStore, text: str, limit: int = 30,
                    labels: Iterable[str] | None = None) -> list[dict]:
    """Ranked hits with type, country and designations at a glance (one batched LISTED_ON read)."""
    text = (text or "").strip()
    if not text:
        return []
    hits = store.search(text, limit=limit, labels=list(labels) if labels else None)
    # an exact id or identifier typed in the box goes first
    if ":" in text and not any(h["id"] == text for h in hits):
        n = store.get(text)
        if n is not None:
            hits.insert(0, {**n, "score": 100.0})
    des = designations(store, [h["id"] for h in hits])
    cap = captures(store, [h["id"] for h in hits])
    out = []
    for h in hits:
        d = des.get(h["id"], [])
        out.append({
            "id": h["id"], "name": h.get("name", h["id"]), "type": h.get("label", ""),
            "country": h.get("country", ""), "name_zh": h.get("name_zh", ""),
            "aliases": T.join(h.get("aliases") or [], ", "),
            "designations": T.join(dict.fromkeys(x["list"] + ("" if x["active"] else " (removed)") for x in d)),
            "captured": T.join(dict.fromkeys(f"{c['list']} ({c.get('rule', '50%')})" for c in cap.get(h["id"], []))),
            "score": h.get("score"),
        })
    return out


# ---------------------------------------------------------------- profile

@dataclass
class Fact:
    """One relationship seen from the profiled entity."""
    rel: dict
    other: dict
    outgoing: bool

    @property
    def type(self) -> str:
        return self.rel["type"]


@dataclass
class Profile:
    node: dict
    facts: list[Fact] = field(default_factory=list)
    truncated: bool = False
    sources: dict[str, dict] = field(default_factory=dict)       # id -> Source node (and parents)
    footnotes: dict[str, int] = field(default_factory=dict)       # source id -> [n]
    project_countries: dict[str, list[dict]] = field(default_factory=dict)  # project id -> countries

    def of(self, rtype: str, outgoing: bool | None = None, other_label: str | None = None) -> list[Fact]:
        return [f for f in self.facts if f.type == rtype and (outgoing is None or f.outgoing == outgoing)
                and (other_label is None or f.other.get("label") == other_label)]

    def cite(self, source_ids: Iterable[str] | None) -> str:
        """Footnote marks for a fact's sources: '[1] [4]'."""
        marks = []
        for s in source_ids or []:
            if s not in self.footnotes:
                self.footnotes[s] = len(self.footnotes) + 1
            marks.append(f"[{self.footnotes[s]}]")
        return " ".join(dict.fromkeys(marks))


def entity_profile(store: GraphStore, node_id: str, rel_limit: int = PROFILE_REL_LIMIT) -> Profile | None:
    node = store.get(node_id)
    if node is None:
        return None
    res = store.read(_q("MATCH (n:{L} {{id: $id}})-[r]-(m) RETURN r, m", L=node["label"]), {"id": node_id},
                     limit=rel_limit)
    facts = []
    for r, m in res.rows:
        outgoing = r["src"] == node_id and not (r["dst"] == node_id and r["src"] != node_id)
        facts.append(Fact(r, m, outgoing))
    facts.sort(key=lambda f: (f.type, T.display(f.other).lower()))
    prof = Profile(node, facts, res.truncated)
    # countries of the projects the entity is party to (one query)
    projects = [f.other["id"] for f in facts if f.other.get("label") == "Project"]
    if node["label"] == "Project":
        projects.append(node_id)
    if projects:
        rows = store.read("MATCH (p:Project)-[:LOCATED_IN]->(c:Country) WHERE p.id IN $ids RETURN p.id, c",
                          {"ids": projects}).rows
        for pid, c in rows:
            prof.project_countries.setdefault(pid, []).append(c)
    # sources of every fact, with their parents (a footnote points to its report)
    sids = set(node.get("sources") or [])
    for f in facts:
        sids.update(f.rel.get("sources") or [])
    prof.sources = source_nodes(store, sids)
    return prof


def source_nodes(store: GraphStore, ids: Iterable[str]) -> dict[str, dict]:
    ids = list(dict.fromkeys(ids))
    out: dict[str, dict] = {}
    for chunk in _chunks(ids):
        for (s,) in store.read("MATCH (s:Source) WHERE s.id IN $ids RETURN s", {"ids": chunk}).rows:
            out[s["id"]] = s
    parents = {s["parent"] for s in out.values() if s.get("parent") and s["parent"] not in out}
    if parents:
        for (s,) in store.read("MATCH (s:Source) WHERE s.id IN $ids RETURN s", {"ids": list(parents)}).rows:
            out[s["id"]] = s
    return out


def source_row(sid: str, sources: dict[str, dict]) -> dict:
    """Title, locator, publisher, date and a link for a source id (inheriting from its parent)."""
    s = sources.get(sid) or {}
    parent = sources.get(s.get("parent") or "") or {}
    title = s.get("title") or parent.get("title") or s.get("name") or sid
    return {"id": sid, "title": title, "locator": s.get("locator") or "",
            "publisher": s.get("publisher") or parent.get("publisher") or "",
            "date": s.get("date") or parent.get("date") or "", "kind": s.get("kind") or parent.get("kind") or "",
            "url": T.safe_url(s.get("url")) or T.safe_url(parent.get("url"))}


def _row(prof: Profile, f: Fact, **cols: Any) -> dict:
    return {"name": T.display(f.other), "type": f.other.get("label", ""), **cols,
            "sources": prof.cite(f.rel.get("sources")), "id": f.other.get("id", "")}


def profile_sections(prof: Profile) -> dict[str, list[dict]]:
    """Rows per section of the profile page, in display order; cites sources as footnotes."""
    n = prof.node
    prof.footnotes.clear()
    prof.cite(n.get("sources"))
    S: dict[str, list[dict]] = {}
    S["Designations"] = []
    for f in prof.of("LISTED_ON", True):
        r = f.rel
        S["Designations"].append({
            "list": T.display(f.other), "since": r.get("since", ""), "until": r.get("until", ""),
            "status": "removed" if r.get("until") else "in force",
            "notice": r.get("notice", ""), "reason": r.get("reason", ""), "entry name": r.get("entry_name", ""),
            "license requirement": r.get("license_requirement", ""), "license policy": r.get("license_policy", ""),
            "Federal Register": (T.fr_links(r.get("notice"))[0][1] if r.get("notice") else None),
            "sources": prof.cite(r.get("sources")), "id": f.other.get("id", "")})
    if n["label"] == "SanctionsList":
        S["Listed entities"] = [_row(prof, f, since=f.rel.get("since", ""), until=f.rel.get("until", ""),
                                     notice=f.rel.get("notice", "")) for f in prof.of("LISTED_ON", False)]
        S["Captured under the 50% rule"] = [_row(prof, f, rule=f.rel.get("rule", ""),
                                                 aggregate=T.pct(f.rel.get("aggregate")),
                                                 certainty=f.rel.get("certainty", ""))
                                            for f in prof.of("CAPTURED_BY", False)]
    S["Owners"] = [_row(prof, f, share=T.share_text(f.rel), direct=_yn(f.rel.get("direct")),
                        period=T.period(f.rel)) for f in prof.of("OWNS", False)]
    S["Subsidiaries and stakes"] = [_row(prof, f, share=T.share_text(f.rel), direct=_yn(f.rel.get("direct")),
                                         period=T.period(f.rel)) for f in prof.of("OWNS", True)]
    S["Investors"] = ([_row(prof, f, relation="holds", weight=T.pct(f.rel.get("weight")),
                            value_usd=_num(f.rel.get("value_usd")), date=f.rel.get("as_of", ""))
                       for f in prof.of("HOLDS", False)] +
                      [_row(prof, f, relation="invested", round=f.rel.get("round", ""),
                            value_usd=_num(f.rel.get("amount_usd")), date=f.rel.get("date", ""))
                       for f in prof.of("INVESTED_IN", False)] +
                      [_row(prof, f, relation="manages") for f in prof.of("MANAGES", False)])
    S["Holdings and investments"] = ([_row(prof, f, relation="holds", weight=T.pct(f.rel.get("weight")),
                                           value_usd=_num(f.rel.get("value_usd")), date=f.rel.get("as_of", ""))
                                      for f in prof.of("HOLDS", True)] +
                                     [_row(prof, f, relation="invested", round=f.rel.get("round", ""),
                                           value_usd=_num(f.rel.get("amount_usd")), date=f.rel.get("date", ""))
                                      for f in prof.of("INVESTED_IN", True)] +
                                     [_row(prof, f, relation="manages") for f in prof.of("MANAGES", True)] +
                                     [_row(prof, f, relation="tracks") for f in prof.of("TRACKS", True)] +
                                     [_row(prof, f, relation="constituent of", weight=T.pct(f.rel.get("weight")),
                                           period=T.period(f.rel)) for f in prof.of("CONSTITUENT_OF", True)])
    if n["label"] == "Index":
        S["Constituents and trackers"] = ([_row(prof, f, relation="constituent", weight=T.pct(f.rel.get("weight")),
                                                period=T.period(f.rel)) for f in prof.of("CONSTITUENT_OF", False)] +
                                          [_row(prof, f, relation="tracked by") for f in prof.of("TRACKS", False)])
    state = []
    for f in prof.facts:
        if f.type == "PART_OF":
            state.append(_row(prof, f, relation=("part of" if f.outgoing else "has unit") +
                              (f" ({f.rel['kind']})" if f.rel.get("kind") else ""), period=T.period(f.rel)))
        elif f.other.get("label") == "GovernmentBody" and f.type not in ("PARTY_TO",):
            state.append(_row(prof, f, relation=_verb(f), period=T.period(f.rel)))
    S["State links"] = state
    S["People"] = [_row(prof, f, role=f.rel.get("role", ""), period=T.period(f.rel))
                   for f in prof.of("OFFICER_OF")]
    projects = []
    for f in prof.of("PARTY_TO", True):
        p = f.other
        countries = prof.project_countries.get(p["id"], [])
        projects.append(_row(prof, f, country=T.join((c.get("name") or c["id"] for c in countries), ", "),
                             kind=p.get("kind", ""), role=f.rel.get("role", ""),
                             start=p.get("start", ""), status=p.get("status", "")))
    projects.sort(key=lambda r: (r["country"] or "~", r["start"] or "", r["name"]))
    S["Projects by country"] = projects
    if n["label"] == "Project":
        S["Participants"] = [_row(prof, f, role=f.rel.get("role", ""), period=T.period(f.rel))
                             for f in prof.of("PARTY_TO", False)]
        S["Location"] = [{"name": T.display(c), "type": "Country", "sources": "", "id": c["id"]}
                         for c in prof.project_countries.get(n["id"], [])]
    S["Suppliers"] = [_row(prof, f, product=f.rel.get("product", ""), period=T.period(f.rel))
                      for f in prof.of("SUPPLIES", False)]
    S["Clients"] = [_row(prof, f, product=f.rel.get("product", ""), period=T.period(f.rel))
                    for f in prof.of("SUPPLIES", True)]
    S["Partners"] = [_row(prof, f, kind=f.rel.get("kind", ""), period=T.period(f.rel))
                     for f in prof.of("PARTNERS_WITH")]
    S["Presence"] = [_row(prof, f, relation="headquarters" if f.type == "HEADQUARTERED_IN" else "located in")
                     for f in prof.facts if f.type in ("HEADQUARTERED_IN", "LOCATED_IN") and f.outgoing]
    if n["label"] == "Country":
        S["In this country"] = [_row(prof, f, relation=_verb(f)) for f in prof.facts
                                if f.type in ("HEADQUARTERED_IN", "LOCATED_IN") and not f.outgoing]
    return S


def _verb(f: Fact) -> str:
    t = f.type.replace("_", " ").lower()
    return t if f.outgoing else f"{t} (by)"


def _yn(v: Any) -> str:
    return "" if v is None else ("yes" if v else "no")


def _num(v: Any) -> str:
    if v is None:
        return ""
    try:
        return f"{float(v):,.0f}"
    except (TypeError, ValueError):
        return str(v)


def footnote_rows(prof: Profile) -> list[dict]:
    rows = []
    for sid, num in sorted(prof.footnotes.items(), key=lambda kv: kv[1]):
        r = source_row(sid, prof.sources)
        rows.append({"#": num, "title": r["title"], "locator": r["locator"], "publisher": r["publisher"],
                     "date": r["date"], "link": r["url"], "id": sid})
    return rows


def identifier_rows(node: dict) -> list[dict]:
    out = []
    for ident in node.get("identifiers") or []:
        scheme, _, value = str(ident).partition(":")
        if scheme == "id" and value:   # a source record merged into this entity by the resolver
            scheme = "merged record"
        out.append({"scheme": scheme if value else "", "value": value or scheme})
    return out


def node_properties(node: dict) -> list[dict]:
    """Remaining scalar properties of a node, for the profile's 'details' table."""
    skip = {"label", "id", "name", "aliases", "identifiers", "sources", "name_zh", "description"}
    return [{"property": k, "value": T.flatten(v)} for k, v in sorted(node.items()) if k not in skip]


# ---------------------------------------------------------------- 50% rule explanations

@dataclass
class OwnershipContext:
    edges: list[tuple]
    listed: dict[str, list[str]]
    findings: dict
    available: bool = True
    error: str = ""


def ownership_context(store: GraphStore) -> OwnershipContext:
    """OWNS edges and active listings for the analytics (graph.ownership), computed once per store."""
    try:
        from graph import ownership
    except ImportError:
        return OwnershipContext([], {}, {}, False, "the ownership analytics (graph/ownership.py) are not available yet")
    edges = [tuple(r) for r in store.read("MATCH (a)-[r:OWNS]->(b) WHERE r.`end` IS NULL "
                                          "RETURN a.id, b.id, r.share, r.share_min, r.share_max").rows]
    listed: dict[str, list[str]] = defaultdict(list)
    for aid, lid in store.read("MATCH (a)-[r:LISTED_ON]->(l:SanctionsList) WHERE r.until IS NULL "
                               "RETURN a.id, l.id").rows:
        listed[aid].append(lid)
    try:
        findings = ownership.fifty_percent_rule_ranges(edges, list(listed))
    except Exception as e:  # noqa: BLE001 - analytics failure is shown, not fatal
        return OwnershipContext(edges, dict(listed), {}, True, f"the 50% rule could not be computed: {e}")
    return OwnershipContext(edges, dict(listed), findings)


def explain_capture(ctx: OwnershipContext, node_id: str, names: dict[str, str] | None = None) -> list[str]:
    """Why an entity is (or is not) captured, in lines with names instead of bare ids."""
    if not ctx.available:
        return []
    from graph import ownership
    try:
        lines = ownership.explain(node_id, ctx.edges, ctx.listed, ctx.findings)
    except Exception as e:  # noqa: BLE001
        return [f"(no explanation: {e})"]
    if names:
        ids = sorted(names, key=len, reverse=True)
        out = []
        for line in lines:
            for i in ids:
                if i in line and names[i] != i:
                    line = line.replace(i, f"{names[i]} ({i})")
            out.append(line)
        return out
    return lines


def capture_rows(store: GraphStore, node_id: str, prof: Profile | None = None) -> list[dict]:
    facts = prof.of("CAPTURED_BY", True) if prof else []
    via_ids = [v for f in facts for v in (f.rel.get("via") or [])]
    names = {k: T.display(v) for k, v in nodes_by_ids(store, via_ids, ENTITY_LABELS).items()} if via_ids else {}
    return [{"list": T.display(f.other), "rule": f.rel.get("rule", ""), "aggregate": T.pct(f.rel.get("aggregate")),
             "certainty": f.rel.get("certainty", ""), "as of": f.rel.get("as_of", ""),
             "rule in force": _yn(f.rel.get("rule_in_force")),
             "via": T.join((names.get(v, v) for v in f.rel.get("via") or []), ", "),
             "sources": prof.cite(f.rel.get("sources")) if prof else ""} for f in facts]


# ---------------------------------------------------------------- graph building

@dataclass
class SubGraph:
    nodes: dict[str, dict] = field(default_factory=dict)
    rels: dict[str, dict] = field(default_factory=dict)
    more: dict[str, int] = field(default_factory=dict)   # node id -> neighbours left out
    path_nodes: set[str] = field(default_factory=set)
    path_rels: set[str] = field(default_factory=set)

    def add(self, nb: Neighbourhood, cap: int | None = None, origin: str | None = None) -> int:
        """Merge a neighbourhood, keeping at most `cap` nodes; returns how many were left out."""
        left = 0
        for n in nb.nodes:
            if n["id"] in self.nodes:
                continue
            if cap is not None and len(self.nodes) >= cap:
                left += 1
                continue
            self.nodes[n["id"]] = n
        for r in nb.rels:
            if r["src"] in self.nodes and r["dst"] in self.nodes:
                self.rels[r["id"]] = r
        if origin:
            self.more[origin] = nb.more + left
        return left + nb.more

    def remove(self, ids: Iterable[str]) -> None:
        for i in ids:
            self.nodes.pop(i, None)
            self.more.pop(i, None)
        self.rels = {k: r for k, r in self.rels.items() if r["src"] in self.nodes and r["dst"] in self.nodes}

    def to_json(self) -> str:
        return json.dumps({"nodes": list(self.nodes.values()), "rels": list(self.rels.values()),
                           "path": {"nodes": sorted(self.path_nodes), "rels": sorted(self.path_rels)}},
                          ensure_ascii=False, indent=1, default=str)


def elements(sg: SubGraph) -> dict:
    """Elements for st_link_analysis. Every value goes through text.graph_safe: the component's
    info panel renders data as HTML."""
    nodes, edges = [], []
    for n in sg.nodes.values():
        d = {"id": T.graph_safe(n["id"]), "label": n.get("label", "Node"), "name": T.graph_safe(T.display(n)[:60])}
        for k in ("country", "kind", "name_zh"):
            if n.get(k):
                d[k] = T.graph_safe(n[k])
        if sg.more.get(n["id"]):
            d["more"] = f"{sg.more[n['id']]} more"
        if n["id"] in sg.path_nodes:
            d["onpath"] = True
        nodes.append({"data": d})
    for r in sg.rels.values():
        d = {"id": T.graph_safe(r["id"]), "source": T.graph_safe(r["src"]), "target": T.graph_safe(r["dst"]),
             "label": r["type"]}
        for k in ("share", "weight"):
            if r.get(k) is not None:
                d[k] = T.pct(r[k])
        if r.get("role"):
            d["role"] = T.graph_safe(r["role"])
        if r["id"] in sg.path_rels:
            d["onpath"] = True
        edges.append({"data": d})
    return {"nodes": nodes, "edges": edges}


def shortest_path(store: GraphStore, a: str, b: str, max_depth: int = 6, max_nodes: int = 5000,
                  fanout: int = 500) -> dict | None:
    """Shortest undirected path a..b by a bounded breadth-first search in Python over
    store.neighbourhood (no variable-length Cypher). Returns {nodes, rels} or None."""
    if a == b:
        n = store.get(a)
        return {"nodes": [n], "rels": []} if n else None
    prev: dict[str, tuple[str, dict] | None] = {a: None}
    nodes: dict[str, dict] = {}
    frontier = [a]
    for _ in range(max_depth):
        nxt = []
        for nid in frontier:
            nb = store.neighbourhood(nid, depth=1, limit=fanout)
            for n in nb.nodes:
                nodes.setdefault(n["id"], n)
            for r in nb.rels:
                other = r["dst"] if r["src"] == nid else r["src"] if r["dst"] == nid else None
                if other is None or other in prev:
                    continue
                prev[other] = (nid, r)
                if other == b:
                    return _walk_back(prev, nodes, b)
                nxt.append(other)
                if len(prev) >= max_nodes:
                    return None
        if not nxt:
            break
        frontier = nxt
    return None


def _walk_back(prev, nodes, b) -> dict:
    ids, rels = [b], []
    cur = b
    while prev[cur] is not None:
        p, r = prev[cur]
        rels.append(r)
        ids.append(p)
        cur = p
    ids.reverse()
    rels.reverse()
    return {"nodes": [nodes[i] for i in ids], "rels": rels}


# ---------------------------------------------------------------- query results

def collect_graph(rows: Iterable[list], store: GraphStore | None = None, max_fetch: int = 500) -> SubGraph:
    """Nodes, relationships and paths found anywhere in result rows. Relationship ends that
    are not in the rows are fetched (at most max_fetch) so every edge can be drawn."""
    sg = SubGraph()

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            if "nodes" in v and "rels" in v and isinstance(v["nodes"], list):
                for x in v["nodes"]:
                    walk(x)
                for x in v["rels"]:
                    walk(x)
            elif "type" in v and "src" in v and "dst" in v and "id" in v:
                sg.rels[v["id"]] = v
            elif "label" in v and "id" in v:
                sg.nodes[v["id"]] = v
            else:
                for x in v.values():
                    walk(x)
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)

    for row in rows:
        walk(row)
    missing = [e for r in sg.rels.values() for e in (r["src"], r["dst"]) if e and e not in sg.nodes]
    missing = list(dict.fromkeys(missing))[:max_fetch]
    if missing and store is not None:
        sg.nodes.update(nodes_by_ids(store, missing))
    sg.rels = {k: r for k, r in sg.rels.items() if r["src"] in sg.nodes and r["dst"] in sg.nodes}
    return sg


def table_rows(columns: list[str], rows: list[list]) -> list[dict]:
    """Flat rows for a table / CSV: nodes as 'name (id)', paths as 'a -[T]- b'."""
    return [{c: (v if isinstance(v, (int, float, bool)) or v is None else T.flatten(v)) for c, v in zip(columns, r)}
            for r in rows]


def json_rows(columns: list[str], rows: list[list]) -> str:
    return json.dumps([dict(zip(columns, r)) for r in rows], ensure_ascii=False, indent=1, default=str)


# ---------------------------------------------------------------- data page

def data_overview(store: GraphStore) -> dict:
    counts = store.counts()
    sources = [s for (s,) in store.read("MATCH (s:Source) RETURN s").rows]
    top = [s for s in sources if not s.get("parent")]
    parts = Counter(s["parent"] for s in sources if s.get("parent"))
    groups = []
    for s in sorted(top, key=lambda s: (s.get("kind") or "~", s.get("publisher") or "~", s.get("date") or "")):
        groups.append({"kind": s.get("kind", ""), "publisher": s.get("publisher", ""),
                       "title": s.get("title") or s.get("name") or s["id"], "date": s.get("date", ""),
                       "sections / records": parts.get(s["id"], 0), "link": T.safe_url(s.get("url")), "id": s["id"]})
    by_kind = Counter((s.get("kind") or "unspecified") for s in sources)
    # lists: size and the newest snapshot date among the sources of their designations
    lists = []
    rows = store.read("MATCH (l:SanctionsList) OPTIONAL MATCH (a)-[r:LISTED_ON]->(l) "
                      "RETURN l, count(r), collect(r.sources)").rows
    src_by_id = {s["id"]: s for s in sources}
    for l, n, srcs in rows:
        ids = {x for lst in srcs or [] for x in (lst or [])}
        dates = sorted(d for d in (_src_date(src_by_id, i) for i in ids) if d)
        kinds = Counter((src_by_id.get(i) or {}).get("kind") for i in ids)
        lists.append({"list": l.get("name", l["id"]), "authority": l.get("authority", ""), "designations": n,
                      "last refreshed": dates[-1] if dates else "", "first seen": dates[0] if dates else "",
                      "sources": len(ids), "from list snapshots": kinds.get("list", 0),
                      "official page": T.safe_url(l.get("url")), "id": l["id"]})
    lists.sort(key=lambda r: (-r["designations"], r["list"]))
    return {"counts": counts, "sources": groups, "sources_by_kind": dict(by_kind), "lists": lists,
            "total_sources": len(sources)}


def _src_date(by_id: dict, sid: str) -> str | None:
    s = by_id.get(sid)
    if not s:
        return None
    return s.get("date") or (by_id.get(s.get("parent") or "") or {}).get("date")


def is_empty(counts: dict) -> bool:
    return not any(v for k, v in counts.get("nodes", {}).items() if k not in ("SanctionsList", "Source", "Country"))


# ---------------------------------------------------------------- map

def map_data(store: GraphStore) -> dict:
    """Projects with their countries and participants, and entities' presence by country."""
    projects = {}
    for p, c in store.read("MATCH (p:Project)-[:LOCATED_IN]->(c:Country) RETURN p, c").rows:
        e = projects.setdefault(p["id"], {"project": p, "countries": [], "parties": []})
        e["countries"].append(c)
    if projects:
        q = ("MATCH (a)-[r:PARTY_TO]->(p:Project) WHERE p.id IN $ids RETURN a.id, a.name, "
             + store.label_expr("a") + ", r.role, p.id")
        for aid, aname, alabel, role, pid in store.read(q, {"ids": list(projects)}).rows:
            projects[pid]["parties"].append({"id": aid, "name": aname or aid, "label": alabel, "role": role or ""})
    presence = []
    q = "MATCH (a)-[r:LOCATED_IN]->(c:Country) RETURN a.id, a.name, " + store.label_expr("a") + ", c"
    for aid, aname, alabel, c in store.read(q).rows:
        if alabel != "Project":
            presence.append({"id": aid, "name": aname or aid, "label": alabel, "country": c})
    return {"projects": list(projects.values()), "presence": presence}


def year_of(d: Any) -> int | None:
    if not d:
        return None
    try:
        return int(str(d)[:4])
    except ValueError:
        return None


def filter_projects(md: dict, companies: Iterable[str] = (), kinds: Iterable[str] = (),
                    years: tuple[int, int] | None = None, include_undated: bool = True) -> list[dict]:
    """Rows project x country after the filters (company ids among the parties, project kinds, start year)."""
    companies, kinds = set(companies), set(kinds)
    rows = []
    for e in md["projects"]:
        p = e["project"]
        if kinds and p.get("kind") not in kinds:
            continue
        if companies and not companies & {x["id"] for x in e["parties"]}:
            continue
        y = year_of(p.get("start"))
        if years and (y is None and not include_undated or y is not None and not years[0] <= y <= years[1]):
            continue
        for c in e["countries"]:
            rows.append({"country": c.get("name") or c["id"], "iso2": c["id"], "project": T.display(p),
                         "kind": p.get("kind", ""), "year": y, "status": p.get("status", ""),
                         "parties": T.join((f"{x['name']} ({x['role']})" if x["role"] else x["name"]
                                            for x in e["parties"]), ", "),
                         "id": p["id"]})
    rows.sort(key=lambda r: (r["country"], r["year"] or 0, r["project"]))
    return rows


def today() -> str:
    return dt.date.today().isoformat()


__all__ = ["StoreError"]
