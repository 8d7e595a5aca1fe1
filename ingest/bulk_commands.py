"""`techgiants ingest bulk DIR`: the CLI face of ingest.bulk, with a progress bar per file and the
ingest report. Exit codes as for every ingest kind: 0 all landed, 3 rows rejected, 2 the folder does
not fit the bulk layout (nothing written)."""
from __future__ import annotations

import os

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn


def ingest_bulk(paths: list[str], *, store: str | None, quarantine: str | None = None,
                console: Console | None = None, progress: bool = True) -> int:
    from graph.stores import open_store
    from ingest import bulk
    from ingest.run import print_report
    console = console or Console(emoji=False)
    if len(paths) != 1:
        raise ValueError("ingest bulk: give exactly one folder (nodes/*.parquet|csv, rels/*.parquet|csv)")
    folder = paths[0]
    quarantine = quarantine or os.path.join("quarantine", "bulk.jsonl")
    if os.path.exists(quarantine):
        os.remove(quarantine)  # one run, one quarantine file
    try:
        parts = bulk.scan(folder)
    except bulk.BulkError as e:
        console.print(f"[red]{e}[/red]")
        return 2
    with open_store(store) as s:
        s.create_schema()
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed:,} rows"),
                      TimeElapsedColumn(), console=console, disable=not progress) as bar:
            tasks = {p.path: bar.add_task(p.path.name, total=1) for p in parts}

            def done(part, rows):
                bar.update(tasks[part.path], total=max(rows, 1), completed=rows)

            try:
                report = bulk.load(s, folder, quarantine=quarantine, on_file=done)
            except bulk.BulkError as e:
                console.print(f"[red]{e}[/red]")
                return 2
    print_report(report, console, title=f"ingest bulk: {folder}")
    if report.total_rejected:
        console.print(f"[yellow]{report.total_rejected} row(s) rejected[/yellow]: see {quarantine}")
        return 3
    return 0
