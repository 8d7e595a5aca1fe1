"""`techgiants app`: open the investigation workspace (streamlit run app.py) on the chosen store."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

import typer

APP = Path(__file__).resolve().parent / "app.py"


def streamlit_command(port: int | None = None, address: str | None = None, headless: bool = True) -> list[str]:
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP), "--browser.gatherUsageStats", "false",
           "--server.headless", "true" if headless else "false"]
    if port:
        cmd += ["--server.port", str(port)]
    if address:
        cmd += ["--server.address", address]
    return cmd


def register(app: typer.Typer) -> None:
    @app.command("app")
    def run_app(store: Optional[str] = typer.Option(None, "--store", "-s", envvar="TECHGIANTS_STORE",
                                                    help="Graph store: a file path (embedded) or bolt://host:7687."),
                port: Optional[int] = typer.Option(None, "--port", help="Port (default 8501)."),
                address: Optional[str] = typer.Option(None, "--address",
                                                      help="Address to listen on (default: Streamlit's; "
                                                           "use 127.0.0.1 to stay local)."),
                open_browser: bool = typer.Option(False, "--open/--no-open", help="Open a browser tab."),
                allow_writes: bool = typer.Option(False, "--allow-writes",
                                                  help="Let the Data page load files into the graph "
                                                       "(sets TECHGIANTS_ALLOW_WRITES=1; off by default).")):
        """Open the investigation workspace in the browser: search, profiles, graph explorer, saved queries,
        Cypher, portfolio screening, map and data pages. The store is opened read-only, and the app
        writes nothing unless --allow-writes (or TECHGIANTS_ALLOW_WRITES=1). A sign-in form comes
        first when TECHGIANTS_APP_PASSWORD is set (docs/deployment.md).

        Example: `techgiants app --store techgiants.lbdb --port 8501`
        """
        try:
            from cli import STATE
            store = store or STATE.get("store")
        except ImportError:
            pass
        env = dict(os.environ)
        from graph.stores import store_url
        env["TECHGIANTS_STORE"] = store_url(store)
        if allow_writes:
            env["TECHGIANTS_ALLOW_WRITES"] = "1"
        cmd = streamlit_command(port, address, headless=not open_browser)
        from app_pages.auth import redact
        mode = "writes enabled" if env.get("TECHGIANTS_ALLOW_WRITES") == "1" else "read-only"
        typer.echo(f"techgiants app on {redact(env['TECHGIANTS_STORE'])}, {mode} (Ctrl+C to stop)")
        try:
            code = subprocess.call(cmd, env=env)
        except KeyboardInterrupt:
            code = 130
        raise typer.Exit(code)
