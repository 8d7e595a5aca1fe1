"""The Data page's loading: a spreadsheet through a mapping (preview, then load), or a file in
one of the standard ingest formats. Plain functions over a store URL, no Streamlit.

Uploads are written to a private temporary folder under their base name only, read from
there and deleted afterwards. An uploaded mapping is always read as text: its `data:`
files are never opened (a mapping from the network must not name files on the server), so
an uploaded mapping needs an uploaded data file; the bundled examples in data/examples/ may
use their own data.

Writes (load): one at a time per process (`WRITE_LOCK`), on a separate writable handle
opened for the load and closed after it. The app's cached read-only handle stays open
meanwhile: Ladybug allows a writable Database beside a read-only one in the same process
(the read-only one keeps its snapshot), and the caller then drops the cached handle
(ui.refresh_store) so the next read sees the new data. If a writable handle cannot be
opened beside it, `on_conflict` (ui.close_store) closes the read-only handle and the open
is tried once more. Neo4j: a second driver in write mode, with the same credentials.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from graph.store import StoreError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "data" / "examples"
DATA_TYPES = ["csv", "tsv", "txt", "xlsx", "xlsm", "json", "jsonl", "ndjson"]
MAPPING_TYPES = ["yaml", "yml"]
# the standard formats a writes-enabled deployment can ingest from an upload (ingest.run.KINDS
# without `bundled`, whose input is the server's own data folder)
FORMATS = {
    "csl": "trade.gov Consolidated Screening List (CSV or JSON)",
    "ofac": "OFAC list files (CSV, dat_spec layout)",
    "uslists": "US restriction lists as JSON (one list file)",
    "ftm": "FollowTheMoney entities or deltas (JSON lines)",
    "bods": "Beneficial Ownership Data Standard statements (JSON)",
    "gleif": "GLEIF LEI records or Level 2 relationships",
    "holdings": "Fund holdings (holdings template CSV)",
    "13f": "SEC Form 13F information table (XML)",
    "jsonl": "techgiants JSON lines backup (`techgiants export jsonl`)",
    "rdf": "RDF (Turtle, JSON-LD, N-Triples)",
    "curated": "techgiants curated facts (one YAML file, named after its label or type)",
}

WRITE_LOCK = threading.Lock()


class LoadBusy(StoreError):
    """Another load is running in this process."""


def max_upload_bytes() -> int:
    try:
        mb = float(os.environ.get("TECHGIANTS_UPLOAD_MB") or 50)
    except ValueError:
        mb = 50
    return int(mb * 1024 * 1024)


def example_mappings() -> dict[str, Path]:
    """The bundled example mappings by file name."""
    return {p.name: p for p in sorted(EXAMPLES.glob("*.mapping.y*ml"))}


def safe_name(name: str, default: str = "upload") -> str:
    """A file's base name, reduced to letters, digits, dot, dash and underscore (no paths)."""
    base = os.path.basename(str(name or "").replace("\\", "/"))
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._") or default
    return base[-120:]


class Workdir:
    """A private temporary folder for one page action; removed on exit."""

    def __init__(self, prefix: str = "tg-app-"):
        self.path = Path(tempfile.mkdtemp(prefix=prefix))

    def save(self, name: str, data: bytes) -> str:
        if len(data) > max_upload_bytes():
            raise ValueError(f"{safe_name(name)} is larger than {max_upload_bytes() // (1024 * 1024)} MB "
                             f"(TECHGIANTS_UPLOAD_MB)")
        p = self.path / safe_name(name)
        p.write_bytes(data)
        return str(p)

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> "Workdir":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ---------------------------------------------------------------- mappings

def mapping_from_text(data: bytes | str, base_dir: str | Path):
    """An uploaded mapping. Always parsed as YAML text (never taken for a path), relative to an
    empty folder; raises MappingError with the mapping's problems and their lines."""
    from ingest.mapping import load_mapping
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else str(data)
    if "\n" not in text:
        text += "\n"     # load_mapping takes a one-line string naming an existing file for a path
    return load_mapping(text, base_dir=base_dir)


def example_mapping(name: str):
    from ingest.mapping import load_mapping
    ex = example_mappings()
    if name not in ex:
        raise ValueError(f"no example mapping {name!r}")
    return load_mapping(ex[name])


def _short(v: Any, n: int = 160) -> str:
    s = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)
    return s if len(s) <= n else s[:n - 1] + "…"


def _row_of(origin: Any) -> str:
    return "" if origin is None else str(origin)


def preview_tables(mapping, data_path: str | None, rows: int = 20) -> dict[str, list[dict]]:
    """What the first `rows` data rows give: nodes, relationships and rejected rows (row,
    column, reason), as table rows. `data_path` None: the mapping's own first data file (the
    bundled examples only)."""
    from ingest.mapping import preview
    nodes, rels, rejected = preview(mapping, data_path, rows=rows)
    node_rows = []
    for n in nodes:
        props = {k: v for k, v in n.props.items() if k not in ("id", "name", "sources")}
        node_rows.append({"row": _row_of(n.origin), "label": n.label, "id": n.props.get("id"),
                          "name": n.props.get("name"), "properties": _short(props) if props else "",
                          "sources": ", ".join(n.props.get("sources") or [])})
    rel_rows = []
    for r in rels:
        props = {k: v for k, v in r.props.items() if k not in ("id", "sources")}
        rel_rows.append({"row": _row_of(r.origin), "type": r.type, "from": r.src, "to": r.dst,
                         "properties": _short(props) if props else "", "sources": ", ".join(r.props.get("sources") or [])})
    rej_rows = [{"row": str(j.record), "column": j.field or "", "reason": j.reason,
                 "file": os.path.basename(str(j.file))} for j in rejected]
    return {"nodes": node_rows, "relationships": rel_rows, "rejected": rej_rows}


def mapping_records(mapping, data_path: str | None, as_of: str | None = None) -> Iterable:
    from ingest.mapping import parse
    if data_path is None:
        files = mapping.data_paths()
        if not files:
            raise ValueError("the mapping names no data file: upload one")
        return parse(files[0], as_of=as_of, mapping=mapping, data=files[1:])
    return parse(data_path, as_of=as_of, mapping=mapping)


def format_records(kind: str, path: str, as_of: str | None = None) -> Iterable:
    if kind not in FORMATS:
        raise ValueError(f"unknown format {kind!r}")
    from ingest import run
    return run.records(kind, [path], as_of)


# ---------------------------------------------------------------- loading

@dataclass
class LoadResult:
    report: Any                       # ingest.pipeline.Report
    queued: int = 0                   # possible matches queued for review (resolver)
    quarantine: bytes = b""           # the rejected records, JSON lines
    rejected_rows: list[dict] = field(default_factory=list)
    reopened: bool = False            # the read-only handle had to be closed for the load

    def table(self) -> list[dict]:
        cols = ("label / type", "read", "created", "updated", "unchanged", "merged", "rejected")
        return [dict(zip(cols, r)) for r in self.report.rows()]


def open_writable(url: str, on_conflict: Callable[[], None] | None = None):
    """A writable handle on the store; returns (store, reopened)."""
    from graph.stores import open_store
    try:
        return open_store(url, read_only=False), False
    except StoreError:
        if on_conflict is None or url.startswith(("bolt", "neo4j")):
            raise
    on_conflict()
    return open_store(url, read_only=False), True


def load(url: str, records: Iterable, *, file: str, resolve: bool = True,
         on_conflict: Callable[[], None] | None = None) -> LoadResult:
    """Run the ingest pipeline on a writable handle; one load at a time per process."""
    from ingest import pipeline
    if not WRITE_LOCK.acquire(blocking=False):
        raise LoadBusy("another load is running in this app; try again when it has finished")
    tmp = Workdir("tg-load-")
    try:
        qpath = str(tmp.path / "quarantine.jsonl")
        store, reopened = open_writable(url, on_conflict)
        try:
            store.create_schema()
            resolver = None
            if resolve:
                try:
                    from ingest.resolve import Resolver
                    resolver = Resolver.from_store(store)
                except ModuleNotFoundError:
                    resolver = None
            report = pipeline.run(store, records, file=file, quarantine=qpath, resolver=resolver)
            queued = resolver.flush_queue() if resolver is not None else 0
        finally:
            store.close()
        data = Path(qpath).read_bytes() if os.path.exists(qpath) else b""
        rows = []
        for line in data.decode("utf-8", errors="replace").splitlines()[:1000]:
            try:
                q = json.loads(line)
            except ValueError:
                continue
            rows.append({"record": str(q.get("record")), "column": q.get("field") or "", "reason": q.get("reason"),
                         "file": os.path.basename(str(q.get("file")))})
        return LoadResult(report, queued, data, rows, reopened)
    finally:
        tmp.close()
        WRITE_LOCK.release()
