"""The one ingest pipeline: validate, resolve, batch, write, report, quarantine.

Ingesters yield records (ingest.records); this module is the only place that turns
them into store writes. Guarantees:
- every record is either written or quarantined with file, record, field and reason;
- nodes are written before the relationships that need them; a relationship whose
  end is in neither the batch nor the store is quarantined, not silently dropped;
- each label's or type's batch is one transaction; re-running the same input changes nothing;
- a batch the store refuses is retried in halves, so only the records it refuses are quarantined
  (with its message); a store that goes away stops the run with StoreUnavailable instead.
"""
from __future__ import annotations

import gc
import json
import os
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterable

from graph.schema import SCHEMA, SchemaError, validate_node, validate_rel
from graph.store import GraphStore, StoreError, UpsertCounts
from ingest.records import Node, Rejected, Rel

BATCH = 5000
GC_THRESHOLD = 50_000  # allocations between young-generation collections during a run


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


class StoreUnavailable(StoreError):
    """The store went away during an ingest (connection lost, server down, database closed).
    The run stops: quarantining every later record for it would only hide the outage."""


SYSTEMIC_REFUSALS = 50  # identical single-record refusals, with nothing written, that stop a run


def write_bisecting(write: Callable[[list], UpsertCounts], rows: list, refused: Callable[[object, Exception], None],
                    is_outage: Callable[[BaseException], bool]) -> UpsertCounts:
    """`write(rows)`; when the store refuses, retry the halves until each refused row is alone, so
    only the rows the store cannot take are `refused(row, error)` and every other row lands. An
    outage is raised at once (no halving: nothing would land)."""
    counts = UpsertCounts()
    todo = [rows]
    landed, streak, last = False, 0, None
    while todo:
        part = todo.pop()
        try:
            counts.add(write(part))
            landed = True
        except Exception as e:
            if is_outage(e):
                raise
            if len(part) == 1:
                # the same refusal for every record and nothing landed: the store, not the data,
                # is failing (e.g. out of memory); stop rather than try each record alone
                msg = _first_line(e)
                streak = streak + 1 if msg == last else 1
                last = msg
                if not landed and streak >= SYSTEMIC_REFUSALS:
                    raise StoreUnavailable(f"the store refused {streak} records in a row with the same error and "
                                           f"accepted none: {msg}") from None
                refused(part[0], e)
            else:
                mid = len(part) // 2
                todo += (part[mid:], part[:mid])  # first half first: the order records came in
    return counts


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


@contextmanager
def _outages(store: GraphStore, report: Report):
    """Store calls inside: an outage becomes StoreUnavailable (one line). Only store calls: an
    ingester's own OSError (a file that cannot be read) is not the store going away."""
    try:
        yield
    except StoreUnavailable:
        raise
    except Exception as e:
        if not store.is_outage(e):
            raise
        written = sum(c.created + c.updated + c.unchanged for c in report.written.values())
        raise StoreUnavailable(f"store unavailable, ingest stopped: {_first_line(e)} ({written:,} records written "
                               f"before; run the same ingest again to complete it)") from None


def run(store: GraphStore, records: Iterable, *, file: str = "?", quarantine: str | None = None, batch: int = BATCH,
        resolver: "object | None" = None, on_record: Callable[[], None] | None = None) -> Report:
    """Write `records` into `store`. `resolver` (ingest.resolve.Resolver) maps ids onto canonical
    entities already known; `on_record` is called once per record (progress bars); `file` names
    the input in quarantine entries for records the ingester did not place itself.
    Raises StoreUnavailable (one line, fit for a user) when the store goes away mid-run."""
    report = Report(quarantine_path=quarantine)
    q = Quarantine(quarantine)
    # A run allocates millions of small dicts that all live until their batch is written: with
    # the default threshold (700) the cycle collector walks the growing batch over and over
    # (40% of the pipeline's own CPU at 100k). Collect less often while we run; restored after.
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], GC_THRESHOLD), *threshold[1:])
    try:
        _run(store, records, file, q, report, batch, resolver, on_record)
    finally:
        gc.set_threshold(*threshold)
        q.close()
    return report


def _run(store: GraphStore, records: Iterable, file: str, q: Quarantine, report: Report, batch: int,
         resolver, on_record) -> None:
    nodes: dict[str, list[dict]] = defaultdict(list)
    rels: list[Rel] = []
    alias: dict[str, str] = {}  # record id -> canonical id (from the resolver)
    labels: dict[str, str] = {}  # canonical id -> label, for rel endpoints
    pending_nodes = 0
    origin: dict[str, str] = {}  # node id -> where it was read, for quarantine entries
    read = report.read

    def reject(kind: str, rej: Rejected) -> None:
        report.rejected[kind] += 1
        q.add(rej)

    def flush_nodes() -> None:
        with _outages(store, report):
            _flush_nodes()

    def _flush_nodes() -> None:
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

            def refused(r, e, label=label):
                # not in the graph after all (unless an earlier run put it there): its
                # relationships are then quarantined as pointing nowhere, not refused one by one
                if labels.get(r["id"]) == label and r["id"] not in stored:
                    del labels[r["id"]]
                reject(label, Rejected(file, origin.get(r["id"], r["id"]), None, f"store refused: {_first_line(e)}"))

            report.written[label].add(write_bisecting(lambda part, label=label: store.upsert_nodes(label, part),
                                                      keep, refused, store.is_outage))
        nodes.clear()
        origin.clear()
        pending_nodes = 0

    def flush_rels() -> None:
        flush_nodes()
        with _outages(store, report):
            _flush_rels()

    def _flush_rels() -> None:
        by_type: dict[str, list[dict]] = defaultdict(list)
        # endpoints must exist: look up the ones not seen in this run
        unknown = {e for r in rels for e in (r.src, r.dst) if e not in labels}
        if unknown:
            labels.update(store.labels_of(unknown))
        get = labels.get
        for r in rels:
            src_label, dst_label = get(r.src), get(r.dst)
            if src_label is None or dst_label is None:
                missing = [e for e, lab in ((r.src, src_label), (r.dst, dst_label)) if lab is None]
                reject(r.type, Rejected(file, r.origin or r.id, "src" if src_label is None else "dst",
                                        f"{r.type} points to {', '.join(missing)}, which is not in the graph"))
                continue
            try:
                props = validate_rel(r.type, src_label, dst_label, r.props)
            except SchemaError as e:
                reject(r.type, Rejected(file, r.origin or r.id, e.field, str(e), raw=r.props))
                continue
            by_type[r.type].append({"src": r.src, "src_label": src_label, "dst": r.dst, "dst_label": dst_label,
                                    "props": props})
        for rtype, rows in by_type.items():
            def refused(r, e, rtype=rtype):
                reject(rtype, Rejected(file, r["props"]["id"], None, f"store refused: {_first_line(e)}"))

            report.written[rtype].add(write_bisecting(lambda part, rtype=rtype: store.upsert_rels(rtype, part),
                                                      rows, refused, store.is_outage))
        rels.clear()

    for rec in records:
        if on_record:
            on_record()
        cls = type(rec)
        if cls is Node or cls is not Rel and isinstance(rec, Node):
            label = rec.label
            read[label] += 1
            try:
                props = validate_node(label, rec.props)
            except SchemaError as e:
                reject(label, Rejected(file, rec.origin or str(rec.props.get("id", "?")), e.field, str(e),
                                       raw=rec.props))
                continue
            nid = props["id"]
            if resolver is not None:
                cid, clabel = resolver.resolve(label, props)
                if cid != nid:
                    alias[nid] = cid
                    report.merged[label] += 1
                    props = _rekey(props, cid)
                    nid, label = cid, clabel
            known = labels.get(nid)
            if known is not None and known != label:
                reject(label, Rejected(file, rec.origin or nid, "id",
                                       f"id {nid} is already a {known} in this input; one id, one node"))
                continue
            labels[nid] = label
            if rec.origin:
                origin[nid] = rec.origin
            nodes[label].append(props)
            pending_nodes += 1
            if pending_nodes >= batch:
                flush_nodes()
        elif cls is Rel or isinstance(rec, Rel):
            read[rec.type] += 1
            if alias and (rec.src in alias or rec.dst in alias):
                rec = Rel(rec.type, alias.get(rec.src, rec.src), rec.src_label, alias.get(rec.dst, rec.dst),
                          rec.dst_label, {k: v for k, v in rec.props.items() if k != "id"}, rec.key, rec.origin)
            rels.append(rec)
            if len(rels) >= batch:
                flush_rels()
        elif isinstance(rec, Rejected):
            reject("(unparsed)", rec)
        elif isinstance(rec, Delete) or type(rec).__name__ == "Delete":
            flush_rels()  # an ADD earlier in the run must land before its DEL
            rid = alias.get(rec.id, rec.id)
            with _outages(store, report):
                lab = getattr(rec, "label", None) or store.node_label(rid)
                if lab and lab in SCHEMA.nodes:
                    report.deleted += store.delete_nodes(lab, [rid])
                else:
                    report.deleted += store.delete_rel(rid)
            labels.pop(rid, None)
        else:
            raise TypeError(f"ingester yielded {type(rec).__name__}, not a record")
    flush_rels()


def _rekey(props: dict, cid: str) -> dict:
    """Merge a record into a canonical entity: its own id becomes an identifier."""
    out = dict(props)
    out["identifiers"] = list(dict.fromkeys([*(props.get("identifiers") or []), f"id:{props['id']}"]))
    out["id"] = cid
    return out
