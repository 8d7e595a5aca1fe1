"""CLI commands `techgiants query` (the saved-query library) and `techgiants cypher` (the query box).

Registered by cli.py's plugin loader through `register(app)`.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import sys
from typing import Any, List, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

FORMATS = ("table", "csv", "json")


def _consoles() -> tuple[Console, Console]:
    return Console(), Console(stderr=True)


def _store_url(store: Optional[str]) -> Optional[str]:
    if store:
        return store
    for name in ("cli", "__main__"):  # the global --store of cli.py, however it was started
        mod = sys.modules.get(name)
        state = getattr(mod, "STATE", None)
        if isinstance(state, dict) and state.get("store"):
            return state["store"]
    return None


def _fail(msg: str, code: int = 1) -> None:
    _, err = _consoles()
    err.print("[red]error:[/red] " + escape(" ".join(str(msg).split())), highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _quiet_driver() -> None:
    # Neo4j reports "property key does not exist" for properties no node has yet: noise here
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
    logging.getLogger("neo4j").setLevel(logging.ERROR)


# ---------------------------------------------------------------- rendering
def render(v: Any) -> str:
    """A value as one table or CSV cell."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.6g}" if abs(v) < 1 else f"{round(v, 4):,}"
    if isinstance(v, dict):
        if "nodes" in v and "rels" in v:
            return " > ".join(render(n) for n in v["nodes"])
        if "label" in v and "id" in v:
            return f"{v.get('name', v['id'])} [{v['id']}]"
        if "type" in v and "src" in v and "dst" in v:
            return f"{v['src']} -{v['type']}-> {v['dst']}"
        return json.dumps(v, ensure_ascii=False, default=str)
    if isinstance(v, list):
        if all(x is None for x in v):
            return ""
        return "; ".join("?" if x is None else render(x) for x in v)
    return str(v)


def emit(res, fmt: str, title: str | None = None) -> None:
    out, err = _consoles()
    if fmt == "json":
        data = {"columns": res.columns, "rows": [dict(zip(res.columns, r)) for r in res.rows],
                "truncated": res.truncated}
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(res.columns)
        for r in res.rows:
            w.writerow([render(v) for v in r])
        sys.stdout.write(buf.getvalue())
    else:
        t = Table(title=title, show_lines=False, highlight=False)
        for c in res.columns:
            t.add_column(escape(str(c)), overflow="fold")
        for r in res.rows:
            t.add_row(*[escape(render(v)) for v in r])
        out.print(t)
        if not res.rows:
            err.print("no rows")
    if res.truncated:
        err.print(f"[yellow]showing the first {len(res.rows)} rows[/yellow] (raise --limit to see more)")


def _parse_params(items: List[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for it in items or []:
        if "=" not in it:
            _fail(f"parameter {it!r}: write -p name=value", 2)
        k, v = it.split("=", 1)
        k = k.strip()
        if not k:
            _fail(f"parameter {it!r}: the name is empty", 2)
        out[k] = v
    return out


def _json_value(v: str) -> Any:
    """`cypher -p` values: numbers, true/false/null, [lists] and {maps} as JSON; anything else is text."""
    s = v.strip()
    if s and (s[0] in "[{\"-" or s[0].isdigit() or s in ("true", "false", "null")):
        try:
            return json.loads(s)
        except json.JSONDecodeError:
            return v
    return v


# ---------------------------------------------------------------- the table of contents
def print_toc(lib, out: Console, err: Console) -> None:
    out.print("[bold]Saved queries[/bold] — run one with [bold]techgiants query NAME -p name=value[/bold]; "
              "[bold]techgiants query NAME --describe[/bold] shows its parameters.\n")
    for i, (tag, heading, qs) in enumerate(lib.by_tag(), 1):
        out.print(f"[bold cyan]{i}. {escape(heading)}[/bold cyan]  [dim]({escape(tag)})[/dim]")
        for q in qs:
            params = ", ".join(f"{p.name}" for p in q.params)
            out.print(f"   [bold]{escape(q.name)}[/bold] — {escape(q.title)}"
                      + (f"  [dim]({escape(params)})[/dim]" if params else ""))
            out.print(Padding(Text(q.description, style="dim"), (0, 0, 0, 6)))
        out.print("")
    for e in lib.errors:
        err.print(f"[yellow]skipped a user query:[/yellow] {escape(e)}", soft_wrap=True)


def describe(q, store, out: Console) -> None:
    out.print(f"[bold]{escape(q.name)}[/bold] — {escape(q.title)}")
    out.print(escape(q.description))
    out.print(f"tags: {escape(', '.join(q.tags))}" + ("" if q.builtin else f"   file: {escape(str(q.path))}"))
    if q.variants:
        out.print(f"store variants: {escape(', '.join(sorted(q.variants)))}")
    if q.analytical:
        out.print(f"[yellow]analytical[/yellow] (reads the whole graph, slow on big graphs): {escape(q.analytical)}")
    if not q.params:
        out.print("parameters: none")
    choices = {}
    if store is not None:
        try:
            choices = q.choices(store)
        except Exception:
            choices = {}
    for p in q.params:
        out.print(f"  [bold]-p {escape(p.name)}=[/bold]…  ({p.type}, default {escape(repr(p.default))}): {escape(p.help)}")
        opts = choices.get(p.name) or ([(c, str(c)) for c in p.choices] if p.choices else None)
        if opts:
            shown = ", ".join(f"{v}" + (f" ({label})" if label != str(v) else "") for v, label in opts[:25])
            more = f", … {len(opts) - 25} more" if len(opts) > 25 else ""
            out.print(f"      choices: {escape(shown + more)}", soft_wrap=True)
        elif p.choices_query:
            out.print(f"      choices from: {escape(p.choices_query)}", soft_wrap=True)


# ---------------------------------------------------------------- commands
def register(app: typer.Typer) -> None:
    StoreOpt = typer.Option(None, "--store", "-s", envvar="TECHGIANTS_STORE",
                            help="Graph store: a file path (embedded) or bolt://host:7687 (Neo4j).")

    @app.command("query")
    def query_cmd(name: Optional[str] = typer.Argument(None, help="Saved query to run (see --list)."),
                  param: Optional[List[str]] = typer.Option(None, "--param", "-p", help="A parameter: name=value (repeat)."),
                  fmt: str = typer.Option("table", "--format", "-f", help="table, csv or json."),
                  limit: Optional[int] = typer.Option(None, "--limit", "-n", help="Most rows to return "
                                                      "(default 1000, $TECHGIANTS_QUERY_LIMIT)."),
                  timeout: Optional[float] = typer.Option(None, "--timeout", "-t", help="Seconds before the query is "
                                                          "stopped (default 10, $TECHGIANTS_QUERY_TIMEOUT)."),
                  list_: bool = typer.Option(False, "--list", "-l", help="The table of contents, by investigation step."),
                  describe_: bool = typer.Option(False, "--describe", "-d", help="Show the query's parameters and choices."),
                  markdown: bool = typer.Option(False, "--markdown", help="Print the query table for docs/queries.md."),
                  check: bool = typer.Option(False, "--check", help="Validate every query file and EXPLAIN each "
                                             "query on the store (use it after adding your own)."),
                  show_cypher: bool = typer.Option(False, "--cypher", help="Print the Cypher the store would run."),
                  store: Optional[str] = StoreOpt):
        """Run a saved query from the library; `--list` shows them all.

        Examples: `techgiants query --list`;
        `techgiants query ultimate-owners -p company=company:hikvision`;
        `techgiants query designations -p from=2019-01-01 --format csv > designations.csv`.
        Add your own: put `.cypher` files in a folder named by $TECHGIANTS_QUERIES (see docs/queries.md).
        """
        from queries import library as L
        from queries import guard
        _quiet_driver()
        out, err = _consoles()
        if fmt not in FORMATS:
            _fail(f"--format must be one of {', '.join(FORMATS)}", 2)
        try:
            lib = L.load_library()
        except L.QueryError as e:
            _fail(str(e))
        if markdown:
            sys.stdout.write(L.markdown_table(L.Library({k: q for k, q in lib.queries.items() if q.builtin})) + "\n")
            return
        if check:
            from graph.store import StoreError
            from graph.stores import open_store
            problems = list(lib.errors)
            try:
                with open_store(_store_url(store), read_only=True) as s:
                    problems += L.check_syntax(s, [q for q in lib if name is None or q.name == name])
                    kind = s.kind
            except StoreError as e:
                _fail(str(e))
            for p in problems:
                err.print(f"[red]✗[/red] {escape(p)}", soft_wrap=True, highlight=False)
            n = len(lib) if name is None else 1
            if problems:
                raise typer.Exit(1)
            out.print(f"[green]✓[/green] {n} quer{'y' if n == 1 else 'ies'} valid on {kind}")
            return
        if list_ or not name:
            print_toc(lib, out, err)
            return
        try:
            q = lib[name]
        except L.QueryError as e:
            _fail(str(e))
        if show_cypher and not describe_:
            from graph.stores import NEO4J_SCHEMES, store_url
            kind = "neo4j" if store_url(_store_url(store)).startswith(NEO4J_SCHEMES) else "ladybug"
            sys.stdout.write(q.cypher_for(kind) + "\n")
            return
        try:
            bound = q.bind(_parse_params(param))
        except L.QueryError as e:
            _fail(str(e), 2)
        from graph.store import StoreError
        from graph.stores import open_store
        if describe_:
            s = None
            try:
                s = open_store(_store_url(store), read_only=True)
            except Exception:
                s = None
            try:
                describe(q, s, out)
            finally:
                if s is not None:
                    s.close()
            return
        try:
            with open_store(_store_url(store), read_only=True) as s:
                res = L.run(s, q, timeout=timeout or guard.default_timeout(), limit=limit or guard.default_limit(),
                            **bound)
        except StoreError as e:
            _fail(f"{q.name}: {e}")
        emit(res, fmt, title=q.title if fmt == "table" else None)

    @app.command("cypher")
    def cypher_cmd(text: str = typer.Argument(..., help="The Cypher query (read-only); - reads it from stdin."),
                   param: Optional[List[str]] = typer.Option(None, "--param", "-p", help="A parameter: name=value; "
                                                             "JSON values (numbers, true, [lists]) are typed."),
                   fmt: str = typer.Option("table", "--format", "-f", help="table, csv or json."),
                   limit: Optional[int] = typer.Option(None, "--limit", "-n", help="Most rows to return "
                                                       "(default 1000, $TECHGIANTS_QUERY_LIMIT)."),
                   timeout: Optional[float] = typer.Option(None, "--timeout", "-t", help="Seconds before the query is "
                                                           "stopped (default 10, $TECHGIANTS_QUERY_TIMEOUT)."),
                   store: Optional[str] = StoreOpt):
        """Run your own read-only Cypher query, with a timeout and a row limit.

        Writes, file and network access, procedures outside a short allow-list and several
        statements are refused. Example:
        `techgiants cypher "MATCH (c:Company)-[:LISTED_ON]->(l) RETURN c.name AS name, l.id AS list ORDER BY name"`
        """
        from graph.store import QueryTimeout, StoreError
        from queries import guard
        _quiet_driver()
        if fmt not in FORMATS:
            _fail(f"--format must be one of {', '.join(FORMATS)}", 2)
        if text == "-":
            text = sys.stdin.read()
        params = {k: _json_value(v) for k, v in _parse_params(param).items()}
        if limit is not None and limit <= 0 or timeout is not None and timeout <= 0:
            _fail("--limit and --timeout must be positive", 2)
        try:
            res = guard.run_readonly(_store_url(store), text, params, timeout=timeout, limit=limit)
        except guard.QueryRefused as e:
            _fail(str(e), 1)
        except QueryTimeout as e:
            _fail(str(e), 1)
        except StoreError as e:
            _fail(str(e), 1)
        emit(res, fmt)
