"""The bundled graph: the curated report facts plus the snapshot of the US lists.

`techgiants ingest bundled` reads, in order, `data/curated/` (hand-curated, every fact
cited to the report) and every `data/lists/*.jsonl` snapshot (converted from the
official lists by `python -m ingest.snapshot`). The pipeline's resolver merges list
entries onto curated entities (Hikvision from the report and "Hangzhou Hikvision
Digital Technology Co., Ltd." from the Entity List become one node).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
DEFAULT_PATHS = [str(DATA)]


def parse(path: str = str(DATA), as_of: str | None = None) -> Iterator:
    from ingest import curated, jsonl
    base = Path(path)
    if (base / "curated").is_dir():
        yield from curated.parse(str(base / "curated"))
    for snap in sorted((base / "lists").glob("*.jsonl")):
        yield from jsonl.parse(str(snap))
