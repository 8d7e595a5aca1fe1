"""Copy a whole graph from one store to another, in batches, resumably.

`migrate(src, dst, batch=5000, resume=True, progress=callback)` streams the source's export (every
node, then every relationship, in id order: the order of `GraphStore.iter_export`) through the ingest
pipeline into the target, `batch` records at a time. After each batch has been written (or
quarantined) the number of records done so far goes to a checkpoint file; a migration that was
interrupted (killed, a lost connection) and is run again with `resume=True` skips that many records.
Re-sending the records of a batch that was only partly written when the process died is harmless:
upserts are idempotent. When the migration completes the checkpoint is removed.

The checkpoint is `<target file>.migrate.json` next to an embedded target, else
`.techgiants-migrate-<target>.json` in the working directory (or the `checkpoint=` path). It records
the source and target URLs and the source's counts: a checkpoint written for another pair of stores,
or before the source changed, is not resumed from (the migration starts over, which is safe).

Nothing is merged or resolved on the way (no entity resolution): the target gets the source's ids.
The final report compares node and relationship counts on both sides.
"""
from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from graph.store import GraphStore, UpsertCounts
from ingest import pipeline
from ingest.records import Node, Rel

Progress = Callable[[int, int], None]  # (records done, records in the source)


@dataclass
class MigrateReport:
    src_counts: dict
    dst_counts: dict
    total: int = 0            # records in the source
    sent: int = 0             # records sent in this run
    skipped: int = 0          # records skipped: done by the run that wrote the checkpoint
    rejected: int = 0         # records the target refused (see the quarantine)
    seconds: float = 0.0
    checkpoint: str = ""
    quarantine: str | None = None
    written: dict = field(default_factory=dict)

    def rows(self) -> list[tuple[str, str, int, int]]:
        """(kind, name, source count, target count) for every label and type present on either side."""
        out = []
        for kind, key in (("node", "nodes"), ("relationship", "relationships")):
            for name in self.src_counts[key]:
                a, b = self.src_counts[key][name], self.dst_counts[key].get(name, 0)
                if a or b:
                    out.append((kind, name, a, b))
        return out

    @property
    def matches(self) -> bool:
        return self.src_counts == self.dst_counts


def checkpoint_path(dst: GraphStore, path: str | os.PathLike | None = None) -> Path:
    if path:
        return Path(path)
    if dst.kind == "ladybug":
        return Path(str(getattr(dst, "path", dst.url)) + ".migrate.json")
    return Path.cwd() / f".techgiants-migrate-{re.sub(r'[^A-Za-z0-9._-]+', '_', dst.url)}.json"


def _load_checkpoint(path: Path, src: GraphStore, dst: GraphStore, counts: dict) -> int:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0
    if not isinstance(state, dict) or state.get("src") != src.url or state.get("dst") != dst.url \
            or state.get("src_counts") != counts:
        return 0  # another migration, or the source changed since: start over (idempotent)
    done = state.get("done")
    return done if isinstance(done, int) and done >= 0 else 0


def _save_checkpoint(path: Path, src: GraphStore, dst: GraphStore, counts: dict, done: int, total: int) -> None:
    """Atomically: a crash while writing leaves the previous checkpoint, never a torn one."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"src": src.url, "dst": dst.url, "src_counts": counts, "done": done, "total": total,
                   "updated": time.strftime("%Y-%m-%dT%H:%M:%S")}, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _record(rec: dict) -> Node | Rel:
    if "node" in rec:
        return Node(rec["node"], rec["props"], origin=f"node {rec['props'].get('id')}")
    return Rel(rec["rel"], rec["src"], rec["src_label"], rec["dst"], rec["dst_label"], dict(rec["props"]),
               origin=f"rel {rec['props'].get('id')}")


def migrate(src: GraphStore, dst: GraphStore, batch: int = 5000, resume: bool = True,
            progress: Progress | None = None, checkpoint: str | os.PathLike | None = None,
            quarantine: str | None = None) -> MigrateReport:
    """Copy every node and relationship of `src` into `dst` (see the module doc)."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    if src.url == dst.url:
        raise ValueError(f"source and target are the same store: {src.url}")
    started = time.monotonic()
    dst.create_schema()
    counts = src.counts()
    total = sum(counts["nodes"].values()) + sum(counts["relationships"].values())
    cp = checkpoint_path(dst, checkpoint)
    done = _load_checkpoint(cp, src, dst, counts) if resume else 0
    done = min(done, total)
    report = MigrateReport(counts, {}, total=total, skipped=done, checkpoint=str(cp), quarantine=quarantine)
    if progress:
        progress(done, total)
    chunk: list[dict] = []

    def flush() -> None:
        nonlocal done
        rep = pipeline.run(dst, (_record(r) for r in chunk), file=f"migrate from {src.url}",
                           quarantine=quarantine, batch=len(chunk) + 1)
        report.rejected += rep.total_rejected
        for k, w in rep.written.items():
            report.written.setdefault(k, UpsertCounts()).add(w)
        done += len(chunk)
        report.sent += len(chunk)
        _save_checkpoint(cp, src, dst, counts, done, total)
        chunk.clear()
        if progress:
            progress(done, total)

    for rec in src.iter_export(batch=max(batch, 1000), start=done, counts=counts):
        chunk.append(rec)
        if len(chunk) >= batch:
            flush()
    if chunk:
        flush()
    cp.unlink(missing_ok=True)  # complete: the next migration starts from the beginning
    report.dst_counts = dst.counts()
    report.seconds = time.monotonic() - started
    return report
