"""The one ingest pipeline: validate, resolve, batch, write, report, quarantine.

Ingesters yield records (ingest.records); this module is the only place that turns
them into store writes. Guarantees:
- every record is either written or quarantined with file, record, field and reason;
- nodes are written before the relationships that need them; a relationship whose
  end is in neither the batch nor the store is quarantined, not silently dropped;
- each label's or type's batch is one transaction; re-running the same input changes nothing.
"""
from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterable

from graph.schema import SCHEMA, SchemaError, validate_node, validate_rel
from graph.store import GraphStore, UpsertCounts
from ingest.records import Node, Rejected, Rel

BATCH = 5000


@dataclass
class Delete:
    """Remove an entity (FtM delta DEL). `label` may be unknown."""
    id: str
    label: str | None = None


@dataclass
class Report:
    read: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    written: dict[str, UpsertCounts] = field(default_factory=lambda: defaultdict(UpsertCounts))
    merged: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rejected: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    deleted: int = 0
    quarantine_path: str | None = None

    @property
    def total_rejected(self) -> int:
        return sum(self.rejected.values())

    def rows(self) -> list[tuple]:
        keys = sorted(set(self.read) | set(self.written) | set(self.rejected))
        out = []
        for k in keys:
            w = self.written.get(k, UpsertCounts())
            out.append((k, self.read.get(k, 0), w.created, w.updated, w.unchanged, self.merged.get(k, 0),
                        self.rejected.get(k, 0)))
        return out

    def as_dict(self) -> dict:
        cols = ("read", "created", "updated", "unchanged", "merged", "rejected")
        return {r[0]: dict(zip(cols, r[1:])) for r in self.rows()}


class Quarantine:
    """Rejected records, one JSON object per line: file, record, field, reason, raw."""

    def __init__(self, path: str | None):
        self.path = path
        self._f = None

    def add(self, rej: Rejected) -> None:
        if self.path is None:
            return
        if self._f is None:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            self._f = open(self.path, "a", encoding="utf-8")
        raw = rej.raw if isinstance(rej.raw, (str, int, float, list, dict, type(None))) else repr(rej.raw)
        self._f.write(json.dumps({"file": rej.file, "record": rej.record, "field": rej.field,
                                  "reason": rej.reason, "raw": raw}, ensure_ascii=False, default=str) + "\n")
        self._f.flush()

    def close(self) -> None:
        if self._f:
            self._f.close()


Resolver = Callable[[Node], str]  # returns the canonical id for a node (may be its own)


def run(store: GraphStore, records: Iterable, *, file: str = "?", quarantine: str | None = None, batch: int = BATCH,
        resolver: "object | None" = None, on_record: Callable[[], None] | None = None) -> Report:
    """Write `records` into `store`. `resolver` (ingest.resolve.Resolver) maps ids onto canonical
    entities already known; `on_record` is called once per record (progress bars); `file` names
    the input in quarantine entries for records the ingester did not place itself."""
    report = Report(quarantine_path=quarantine)
    q = Quarantine(quarantine)
    nodes: dict[str, list[dict]] = defaultdict(list)
    rels: list[Rel] = []
    alias: dict[str, str] = {}  # record id -> canonical id (from the resolver)
    labels: dict[str, str] = {}  # canonical id -> label, for rel endpoints
    pending_nodes = 0
    origin: dict[str, str] = {}  # node id -> where it was read, for quarantine entries

    def reject(kind: str, rej: Rejected) -> None:
        report.rejected[kind] += 1
        q.add(rej)

    def flush_nodes() -> None:
        nonlocal pending_nodes
        # one id, one node: an id the store already holds under another label is refused
        ids = [r["id"] for rows in nodes.values() for r in rows]
        stored = store.labels_of(ids) if ids else {}
        for label, rows in nodes.items():
            keep = []
            for r in rows:
                other = stored.get(r["id"])
                if other is not None and other != label:
                    labels[r["id"]] = other
                    reject(label, Rejected(file, origin.get(r["id"], r["id"]), "id",
                                           f"id {r['id']} is already a {other}; one id, one node"))
                else:
                    keep.append(r)
            if not keep:
                continue
            try:
                report.written[label].add(store.upsert_nodes(label, keep))
            except Exception as e:  # the whole batch failed: quarantine it, keep going
                for r in keep:
                    reject(label, Rejected(file, origin.get(r["id"], r["id"]), None, f"store refused batch: {e}"))
        nodes.clear()
        origin.clear()
        pending_nodes = 0

    def flush_rels() -> None:
        flush_nodes()
        by_type: dict[str, list[dict]] = defaultdict(list)
        # endpoints must exist: look up the ones not seen in this run
        unknown = {e for r in rels for e in (r.src, r.dst) if e not in labels}
        labels.update(store.labels_of(unknown))
        for r in rels:
            missing = [e for e in (r.src, r.dst) if e not in labels]
            if missing:
                reject(r.type, Rejected(file, r.origin or r.id, "src" if r.src in missing else "dst",
                                        f"{r.type} points to {', '.join(missing)}, which is not in the graph"))
                continue
            src_label, dst_label = labels[r.src], labels[r.dst]
            try:
                props = validate_rel(r.type, src_label, dst_label, r.props)
            except SchemaError as e:
                reject(r.type, Rejected(file, r.origin or r.id, e.field, str(e), raw=r.props))
                continue
            by_type[r.type].append({"src": r.src, "src_label": src_label, "dst": r.dst, "dst_label": dst_label,
                                    "props": props})
        for rtype, rows in by_type.items():
            try:
                report.written[rtype].add(store.upsert_rels(rtype, rows))
            except Exception as e:
                for r in rows:
                    reject(rtype, Rejected(file, r["props"]["id"], None, f"store refused batch: {e}"))
        rels.clear()

    try:
        for rec in records:
            if on_record:
                on_record()
            if isinstance(rec, Rejected):
                reject("(unparsed)", rec)
            elif isinstance(rec, Node):
                report.read[rec.label] += 1
                try:
                    props = validate_node(rec.label, rec.props)
                except SchemaError as e:
                    reject(rec.label, Rejected(file, rec.origin or str(rec.props.get("id", "?")), e.field, str(e),
                                              raw=rec.props))
                    continue
                label = rec.label
                if resolver is not None:
                    cid, clabel = resolver.resolve(label, props)
                    if cid != props["id"]:
                        alias[props["id"]] = cid
                        report.merged[label] += 1
                        props = _rekey(props, cid)
                        label = clabel
                known = labels.get(props["id"])
                if known is not None and known != label:
                    reject(label, Rejected(file, rec.origin or props["id"], "id",
                                           f"id {props['id']} is already a {known} in this input; one id, one node"))
                    continue
                labels[props["id"]] = label
                if rec.origin:
                    origin[props["id"]] = rec.origin
                nodes[label].append(props)
                pending_nodes += 1
                if pending_nodes >= batch:
                    flush_nodes()
            elif isinstance(rec, Rel):
                report.read[rec.type] += 1
                if rec.src in alias or rec.dst in alias:
                    rec = Rel(rec.type, alias.get(rec.src, rec.src), rec.src_label, alias.get(rec.dst, rec.dst),
                              rec.dst_label, {k: v for k, v in rec.props.items() if k != "id"}, rec.key, rec.origin)
                rels.append(rec)
                if len(rels) >= batch:
                    flush_rels()
            elif isinstance(rec, Delete) or type(rec).__name__ == "Delete":
                flush_rels()  # an ADD earlier in the run must land before its DEL
                rid = alias.get(rec.id, rec.id)
                lab = getattr(rec, "label", None) or store.node_label(rid)
                if lab and lab in SCHEMA.nodes:
                    report.deleted += store.delete_nodes(lab, [rid])
                else:
                    report.deleted += store.delete_rel(rid)
                labels.pop(rid, None)
            else:
                raise TypeError(f"ingester yielded {type(rec).__name__}, not a record")
        flush_rels()
    finally:
        q.close()
    return report


def _rekey(props: dict, cid: str) -> dict:
    """Merge a record into a canonical entity: its own id becomes an identifier."""
    out = dict(props)
    out["identifiers"] = list(dict.fromkeys([*(props.get("identifiers") or []), f"id:{props['id']}"]))
    out["id"] = cid
    return out
