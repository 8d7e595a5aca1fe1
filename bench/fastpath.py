"""Superseded: the columnar prototype measured here became ingest/bulk.py (`techgiants ingest bulk`),
with the pipeline's exact validation and quarantine, merges, one transaction, Parquet and CSV.
The `lb-fast` phase of bench/phases.py now runs ingest.bulk.load; docs/bulk.md describes it.
`fast_load` is kept for old scripts: it loads a bulk folder and returns the ingest report as a dict."""
from __future__ import annotations

from pathlib import Path


def fast_load(store, folder: str | Path) -> dict:
    from ingest.bulk import load
    rep = load(store, folder)
    return {"rejected": rep.total_rejected, "written": rep.as_dict()}
