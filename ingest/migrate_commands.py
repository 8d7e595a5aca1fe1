"""`techgiants migrate --from URL --to URL [--batch N] [--resume]`: copy a graph between stores.

Registered by cli._load_plugins (module name `ingest.migrate_commands`). The work is ingest.migrate.
"""
from __future__ import annotations

import os
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

console = Console(emoji=False)


def register(app: typer.Typer) -> None:
    app.command("migrate")(migrate_cmd)


def migrate_cmd(src: str = typer.Option(..., "--from", help="Source store: a file path (embedded) or bolt://host:7687."),
                dst: str = typer.Option(..., "--to", help="Target store: a file path (embedded) or bolt://host:7687."),
                batch: int = typer.Option(5000, "--batch", min=1, help="Records per batch (written through the pipeline, then checkpointed)."),
                resume: bool = typer.Option(False, "--resume", help="Continue an interrupted migration from its checkpoint."),
                checkpoint: Optional[str] = typer.Option(None, "--checkpoint",
                                                         help="Checkpoint file (default: next to an embedded target, "
                                                              "else in the working directory)."),
                quarantine: Optional[str] = typer.Option(None, "--quarantine",
                                                         help="Where refused records go (JSONL; default quarantine/migrate.jsonl).")):
    """Copy every node and relationship from one store to another, batch by batch, with a progress
    bar and a final report comparing the counts on both sides. Resumable: after a crash or a lost
    connection, run the same command with `--resume`. Credentials for Neo4j come from NEO4J_USER /
    NEO4J_PASSWORD. Exit codes: 0 counts match, 3 records were refused or counts differ.

    Example: `techgiants migrate --from techgiants.lbdb --to bolt://localhost:7687 --batch 5000`
    """
    from graph.stores import open_store
    from ingest.migrate import checkpoint_path, migrate

    quarantine = quarantine or os.path.join("quarantine", "migrate.jsonl")
    with open_store(src, read_only=True) as s, open_store(dst) as d:
        cp = checkpoint_path(d, checkpoint)
        if not resume and cp.exists():
            console.print(f"[yellow]note:[/yellow] {cp} holds an earlier, unfinished migration; starting from "
                          "the beginning (add --resume to continue it instead)")
        if not resume and os.path.exists(quarantine):
            os.remove(quarantine)
        with Progress(TextColumn("[bold]migrate"), BarColumn(), MofNCompleteColumn(), TextColumn("records"),
                      TimeElapsedColumn(), TimeRemainingColumn(), console=console) as bar:
            task = bar.add_task("migrate", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            report = migrate(s, d, batch=batch, resume=resume, progress=progress, checkpoint=checkpoint,
                             quarantine=quarantine)
    t = Table(title=f"migrate {src} -> {dst}")
    for c in ("kind", "name", "source", "target", ""):
        t.add_column(c, justify="right" if c in ("source", "target") else "left")
    for kind, name, a, b in report.rows():
        t.add_row(kind, name, str(a), str(b), "" if a == b else "differs")
    t.caption = (f"{report.sent} records sent in {report.seconds:.1f} s"
                 + (f", {report.skipped} skipped (resumed from the checkpoint)" if report.skipped else ""))
    console.print(t)
    if report.rejected:
        console.print(f"[yellow]{report.rejected} record(s) refused by the target[/yellow]: see {quarantine}")
    if not report.matches:
        console.print("[yellow]the counts differ[/yellow] (a target that already held data keeps it)")
    raise typer.Exit(0 if report.matches and not report.rejected else 3)
