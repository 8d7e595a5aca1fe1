"""`techgiants resolve list|accept|reject`: work through the entity-resolution review queue.

The ingest pipeline (ingest/resolve.py) merges records automatically only on strong evidence;
weaker evidence lands in the review queue ($TECHGIANTS_REVIEW_QUEUE, default
`review-queue.jsonl`). A reviewer decides each pair here; decisions go to the judgements file
($TECHGIANTS_JUDGEMENTS, default data/judgements.yaml, versioned and reviewed like code) and
the next `techgiants ingest` applies them.
"""
from __future__ import annotations

import datetime as dt
import getpass
import os
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

resolve_app = typer.Typer(no_args_is_help=True, rich_markup_mode="markdown",
                          help="Review entity-resolution candidates: list the queue, accept or reject pairs.")
console = Console()

QueueOpt = typer.Option(None, "--queue", envvar="TECHGIANTS_REVIEW_QUEUE",
                        help="Review queue (JSONL); default review-queue.jsonl in the working directory.")
JudgementsOpt = typer.Option(None, "--judgements", envvar="TECHGIANTS_JUDGEMENTS",
                             help="Judgements file (YAML); default data/judgements.yaml of the project.")


def register(app: typer.Typer) -> None:
    app.add_typer(resolve_app, name="resolve")


@resolve_app.command("list")
def list_(limit: int = typer.Option(50, "--limit", "-n", min=0, help="Show at most N pairs (0: all)."),
          queue: Optional[str] = QueueOpt):
    """Show candidate pairs, best score first: a (the entity kept), b (the one merged onto it),
    names, score (0-100) and evidence.

    Example: `techgiants resolve list --limit 20`
    """
    from ingest.resolve import ReviewQueue
    q = ReviewQueue(queue)
    entries = sorted(q.entries(), key=lambda e: (-float(e.get("score") or 0), e["a"], e["b"]))
    if not entries:
        console.print(f"the review queue {q.path} is empty")
        return
    shown = entries[:limit] if limit else entries
    t = Table(title=f"review queue {q.path}: {len(entries)} pair(s)", show_lines=True)
    for c in ("a", "b", "names", "score", "evidence"):
        t.add_column(c, overflow="fold", justify="right" if c == "score" else "left")
    for e in shown:
        names = e.get("names") or ["", ""]
        labels = e.get("labels") or ["", ""]
        t.add_row(e["a"], e["b"], f"{names[0]} ({labels[0]})\n{names[1]} ({labels[1]})",
                  f"{float(e.get('score') or 0):.0f}", "\n".join(e.get("evidence") or []))
    console.print(t)
    if len(shown) < len(entries):
        console.print(f"{len(entries) - len(shown)} more: `techgiants resolve list --limit 0` shows all")
    console.print("decide with `techgiants resolve accept A B` (same entity) or `techgiants resolve reject A B`")


def _decide(a: str, b: str, decision: str, note: Optional[str], by: Optional[str], queue: Optional[str],
            judgements: Optional[str]) -> None:
    from ingest.resolve import Judgement, ReviewQueue, append_judgement
    if a == b:
        raise typer.BadParameter("A and B are the same id")
    q = ReviewQueue(queue)
    pair = next((e for e in q.entries() if {e["a"], e["b"]} == {a, b}), None)
    if note is None and pair is not None:
        note = "; ".join(pair.get("evidence") or []) or None
    who = by or os.environ.get("TECHGIANTS_REVIEWER") or _user()
    path = append_judgement(Judgement(a, b, decision, who, dt.date.today().isoformat(), note), judgements)
    removed = q.remove(a, b)
    what = f"{b} is the same entity as {a}" if decision == "same" else f"{a} and {b} are different entities"
    console.print(f"recorded in {path}: {what}")
    if pair is None:
        console.print(f"[yellow]note:[/yellow] the pair was not in the review queue {q.path}")
    elif removed:
        console.print(f"removed from the review queue {q.path}")
    if decision == "same":
        console.print(f"the next `techgiants ingest` writes {b}'s records onto {a}")
    else:
        console.print("the next `techgiants ingest` never merges the two automatically")


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


@resolve_app.command()
def accept(a: str = typer.Argument(..., help="Id of the entity to keep."),
           b: str = typer.Argument(..., help="Id of the entity that is the same and resolves onto A."),
           note: Optional[str] = typer.Option(None, "--note", help="Why (default: the queue's evidence)."),
           by: Optional[str] = typer.Option(None, "--by", help="Reviewer (default $TECHGIANTS_REVIEWER or the user)."),
           queue: Optional[str] = QueueOpt, judgements: Optional[str] = JudgementsOpt):
    """Judge A and B the same entity: B (and every record with B's id) resolves onto A from the next
    ingest on. Written to the judgements file; the pair leaves the review queue.

    Example: `techgiants resolve accept company:iflytek us-bis-entity-list:iflytek --note "same firm"`
    """
    _decide(a, b, "same", note, by, queue, judgements)


@resolve_app.command()
def reject(a: str = typer.Argument(..., help="Id of one entity."),
           b: str = typer.Argument(..., help="Id of the other entity."),
           note: Optional[str] = typer.Option(None, "--note", help="Why (default: the queue's evidence)."),
           by: Optional[str] = typer.Option(None, "--by", help="Reviewer (default $TECHGIANTS_REVIEWER or the user)."),
           queue: Optional[str] = QueueOpt, judgements: Optional[str] = JudgementsOpt):
    """Judge A and B different entities: they are never merged automatically, whatever the evidence,
    and the pair is not queued again. Written to the judgements file; the pair leaves the queue.

    Example: `techgiants resolve reject company:bgi us-bis-entity-list:beijing-graphene-institute-co-ltd`
    """
    _decide(a, b, "different", note, by, queue, judgements)
