"""A Neo4j 5.26 server for the benchmarks (tests/neo4j_server, Maven artifacts, no tarball) and
`neo4j-admin database import full` run from the same Maven classpath.

The Maven launcher has no `bin/neo4j-admin` script, but the import tool's classes
(org.neo4j:neo4j-import-tool, org.neo4j:neo4j-command-line) are on its runtime classpath, so
`java -cp <classpath> org.neo4j.cli.AdminTool database import full ...` with NEO4J_HOME set to
the server's future home directory is the same command. The launcher then opens that home.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import NEO4J_SERVER

HEAP = os.environ.get("TECHGIANTS_BENCH_NEO4J_HEAP", "3g")
PAGECACHE = os.environ.get("TECHGIANTS_BENCH_NEO4J_PAGECACHE", "2g")


def _server_module():
    spec = importlib.util.spec_from_file_location("tg_neo4j_server", NEO4J_SERVER / "neo4j_server.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def available() -> bool:
    try:
        return bool(_server_module()._java_ok())
    except Exception:  # noqa: BLE001
        return False


class Server:
    """A fresh server in its own home (optionally pre-filled by neo4j-admin import)."""

    def __init__(self, home: Path | None = None, heap: str = HEAP, pagecache: str = PAGECACHE):
        self.mod = _server_module()
        self.home = Path(home) if home else Path(tempfile.mkdtemp(prefix="techgiants-bench-neo4j-"))
        self.heap, self.pagecache = heap, pagecache
        self.uri = None
        self.pid = None
        self.start_s = None

    def start(self) -> "Server":
        os.environ["TECHGIANTS_NEO4J_HEAP"] = self.heap
        os.environ["TECHGIANTS_NEO4J_PAGECACHE"] = self.pagecache
        t = time.perf_counter()
        self.uri, self.pid = self.mod.start(self.home, watch_pid=os.getpid())
        self.start_s = round(time.perf_counter() - t, 2)
        return self

    def cpu_s(self) -> float | None:
        """User + system CPU seconds of the server JVM so far."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return None

    def peak_rss_mb(self) -> float | None:
        from bench.common import proc_peak_rss_mb
        return proc_peak_rss_mb(self.pid) if self.pid else None

    def size_mb(self) -> float:
        from bench.common import du_mb
        return round(du_mb(self.home / "data" / "databases" / "neo4j") +
                     du_mb(self.home / "data" / "transactions" / "neo4j"), 1)

    def stop(self, remove: bool = True) -> None:
        if self.pid:
            self.mod.stop(self.pid)
            self.pid = None
        if remove:
            shutil.rmtree(self.home, ignore_errors=True)


def classpath() -> str:
    mod = _server_module()
    mod.build()
    return os.pathsep.join(mod._classpath())


def admin_import(csv_dir: Path, home: Path, heap: str = "2g") -> dict:
    """`neo4j-admin database import full neo4j` of the generated CSV files into `home`."""
    csv_dir = Path(csv_dir)
    home = Path(home)
    (home / "conf").mkdir(parents=True, exist_ok=True)
    (home / "conf" / "neo4j.conf").touch()
    text = (csv_dir / "import.sh").read_text()
    args = [a.rstrip("\\").strip() for a in text.split() if a.startswith(("--nodes=", "--relationships="))]
    cmd = [shutil.which("java") or "java", f"-Xmx{heap}", "-cp", classpath(), "org.neo4j.cli.AdminTool",
           "database", "import", "full", "neo4j", "--overwrite-destination=true", "--array-delimiter=;",
           "--id-type=string", "--threads=2", *args]
    env = {**os.environ, "NEO4J_HOME": str(home), "NEO4J_CONF": str(home / "conf")}
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=csv_dir, env=env, capture_output=True, text=True, timeout=3600)
    el = time.perf_counter() - t
    tail = (p.stdout + p.stderr).strip().splitlines()[-12:]
    if p.returncode != 0:
        raise RuntimeError("neo4j-admin import failed:\n" + "\n".join(tail))
    return {"import_s": round(el, 2), "log_tail": [line for line in tail if line.strip()]}
