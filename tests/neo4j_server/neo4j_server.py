#!/usr/bin/env python3
"""Start/stop a real Neo4j 5.26 Community server for tests (stdlib only).

The server is Neo4j embedded in a tiny Java launcher (see src/main/java/techgiants/Launcher.java)
with the Bolt connector enabled, built from Maven Central artifacts by pom.xml. No tarball.

CLI:
    python tests/neo4j_server/neo4j_server.py start --state-file F [--watch-pid PID]
        prints the bolt URI; F gets JSON {"uri", "pid", "port", "workdir", "log"}
    python tests/neo4j_server/neo4j_server.py stop --state-file F

Exit codes of ``start``: 0 ok, 3 Java/Maven missing (caller decides skip vs fail), 1 other failure.

Python API:
    uri, pid = start(workdir)      # workdir: an empty/fresh dir that becomes the Neo4j home
    stop(pid)

Environment knobs: TECHGIANTS_NEO4J_HEAP (default 1g), TECHGIANTS_NEO4J_PAGECACHE (default 256m),
TECHGIANTS_NEO4J_TX_MAX (default 256m, the per-transaction memory cap),
TECHGIANTS_NEO4J_START_TIMEOUT (seconds, default 180), TECHGIANTS_NEO4J_BUILD_TIMEOUT (default 1800).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
SOURCES = [POM, HERE / "src" / "main" / "java" / "techgiants" / "Launcher.java"]
TARGET = HERE / "target"
CLASSES = TARGET / "classes"
LAUNCHER_CLASS = CLASSES / "techgiants" / "Launcher.class"
CLASSPATH_FILE = TARGET / "classpath.txt"
BUILD_STAMP = TARGET / "build.stamp"  # written after each successful mvn build
MAIN_CLASS = "techgiants.Launcher"
READY_RE = re.compile(r"^BOLT READY (bolt://\S+)\s*$", re.M)

EXIT_TOOLS_MISSING = 3
TOOLS_MISSING_MSG = "Java/Maven not found: Neo4j tests will be skipped"

JVM_FLAGS = [
    "-XX:+ExitOnOutOfMemoryError",
    "-XX:+UseSerialGC",
    # the same opens the neo4j start script passes on Java 17
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dlog4j2.disable.jmx=true",
]

# Popen objects of servers started by this process (kept so they are reaped, not zombies)
_PROCS: dict[int, subprocess.Popen] = {}


class ToolsMissing(RuntimeError):
    """java (17+) or mvn is not available."""


class StartError(RuntimeError):
    """The server failed to build or start; ``details`` holds the log tail."""

    def __init__(self, reason: str, details: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.details = details


# ---------------------------------------------------------------- build

def _java_ok() -> bool:
    java = shutil.which("java")
    if not java:
        return False
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not m:
        return False
    major = int(m.group(1))
    if major == 1 and m.group(2):
        major = int(m.group(2))
    return major >= 17


def _classpath() -> list[str]:
    return [p for p in CLASSPATH_FILE.read_text().strip().split(os.pathsep) if p]


def is_built() -> bool:
    """True when a successful build is newer than the sources and all its outputs and jars exist."""
    try:
        built = BUILD_STAMP.stat().st_mtime
        newest_src = max(p.stat().st_mtime for p in SOURCES)
        jars = _classpath()
    except (OSError, ValueError):
        return False
    return (built >= newest_src and LAUNCHER_CLASS.exists() and bool(jars)
            and all(os.path.exists(j) for j in jars))


def _tail(path: Path, n: int = 40) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-n:])


def build(quiet: bool = True) -> None:
    """Compile the launcher and write target/classpath.txt (mvn), unless already up to date."""
    lock_path = Path(tempfile.gettempdir()) / "techgiants-neo4j-build.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent test processes build once
        if is_built():
            return
        mvn = shutil.which("mvn")
        if not mvn:
            raise ToolsMissing(TOOLS_MISSING_MSG)
        timeout = float(os.environ.get("TECHGIANTS_NEO4J_BUILD_TIMEOUT", "1800"))
        cmd = [mvn, "-B", "-q", "-f", str(POM), "compile"]
        if not quiet:
            print("building Neo4j test server: " + " ".join(cmd), file=sys.stderr)
        build_started = time.time()
        with tempfile.NamedTemporaryFile("w+", suffix=".mvn.log", delete=False) as log:
            log_path = Path(log.name)
            try:
                rc = subprocess.run(cmd, cwd=HERE, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, timeout=timeout).returncode
            except subprocess.TimeoutExpired:
                rc = None
        try:
            if rc != 0:
                reason = (f"mvn build timed out after {timeout:.0f}s" if rc is None
                          else f"mvn build failed with exit code {rc}")
                raise StartError(reason, _tail(log_path))
            if not (LAUNCHER_CLASS.exists() and CLASSPATH_FILE.exists()):
                raise StartError("mvn build did not produce target/classes and target/classpath.txt",
                                 _tail(log_path))
            # stamp with the build's start time, so a source edited during the build triggers a rebuild
            BUILD_STAMP.write_text("ok\n")
            os.utime(BUILD_STAMP, (build_started, build_started))
            if not is_built():
                raise StartError("build output is still out of date (sources changed during the build?)",
                                 _tail(log_path))
        finally:
            log_path.unlink(missing_ok=True)


# ---------------------------------------------------------------- start / stop

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _failure_details(workdir: Path, log_path: Path) -> str:
    parts = []
    out = _tail(log_path, 40)
    if out:
        parts.append(f"--- tail of {log_path} ---\n{out}")
    debug = _tail(workdir / "logs" / "debug.log", 20)
    if debug:
        parts.append(f"--- tail of {workdir / 'logs' / 'debug.log'} ---\n{debug}")
    return "\n".join(parts)


def _launch(workdir: Path, port: int, watch_pid: int | None) -> tuple[subprocess.Popen, Path]:
    heap = os.environ.get("TECHGIANTS_NEO4J_HEAP", "1g")
    pagecache = os.environ.get("TECHGIANTS_NEO4J_PAGECACHE", "256m")
    cp = os.pathsep.join([str(CLASSES)] + _classpath())
    tx_max = os.environ.get("TECHGIANTS_NEO4J_TX_MAX", "256m")  # db.memory.transaction.max
    cmd = [shutil.which("java") or "java", f"-Xmx{heap}", *JVM_FLAGS, f"-Dtg.pagecache={pagecache}",
           f"-Dtg.tx.max={tx_max}",
           "-cp", cp, MAIN_CLASS, str(workdir), str(port)]
    if watch_pid:
        cmd.append(str(watch_pid))
    log_path = workdir / "neo4j.stdout.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    _PROCS[proc.pid] = proc
    return proc, log_path


def start(workdir, watch_pid: int | None = None, timeout: float | None = None) -> tuple[str, int]:
    """Build if needed, start a server with its home in ``workdir``; return (bolt uri, pid).

    Raises ToolsMissing when java 17+/mvn are unavailable, StartError on any other failure.
    With ``watch_pid`` the server shuts itself down when that process exits.
    """
    if not _java_ok():
        raise ToolsMissing(TOOLS_MISSING_MSG)
    build()
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    if timeout is None:
        timeout = float(os.environ.get("TECHGIANTS_NEO4J_START_TIMEOUT", "180"))

    for attempt in range(3):  # retry only if the chosen port got taken meanwhile
        port = _free_port()
        proc, log_path = _launch(workdir, port, watch_pid)
        deadline = time.monotonic() + timeout
        reason = None
        while True:
            text = log_path.read_text(errors="replace") if log_path.exists() else ""
            # the log is appended to across restarts of a kept home: only this start's port counts
            ready = [u for u in READY_RE.findall(text) if u.endswith(f":{port}")]
            if ready and _port_open(port):
                return ready[-1], proc.pid
            if proc.poll() is not None:
                reason = f"Neo4j exited with code {proc.returncode} before Bolt was ready"
                break
            if time.monotonic() > deadline:
                reason = f"Neo4j did not become ready on port {port} within {timeout:.0f}s"
                break
            time.sleep(0.25)
        details = _failure_details(workdir, log_path)
        stop(proc.pid)
        port_clash = "Address already in use" in details or "BindException" in details
        if not (port_clash and attempt < 2):
            raise StartError(reason, details)
    raise AssertionError("unreachable")


def _is_launcher(pid: int) -> bool:
    """True while pid is a live (non-zombie) process running our launcher."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
            return False
        return MAIN_CLASS.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, IndexError):
        pass
    try:  # no /proc: fall back to signal 0
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def _reap(pid: int) -> None:
    proc = _PROCS.get(pid)
    if proc is not None:
        with contextlib.suppress(Exception):
            proc.poll()
        return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _gone(pid: int) -> bool:
    _reap(pid)
    return not _is_launcher(pid)


def stop(pid: int, grace: float = 30.0) -> bool:
    """SIGTERM the server, wait up to ``grace`` s, then SIGKILL. Returns True if it had to be killed."""
    pid = int(pid)
    killed = False
    if not _gone(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and not _gone(pid):
            time.sleep(0.2)
        if not _gone(pid):
            killed = True
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not _gone(pid):
                time.sleep(0.1)
    proc = _PROCS.pop(pid, None)
    if proc is not None:
        with contextlib.suppress(Exception):
            proc.wait(timeout=5)
    return killed


# ---------------------------------------------------------------- CLI

def _cmd_start(args) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="techgiants-neo4j-"))
    t0 = time.monotonic()
    try:
        uri, pid = start(workdir, watch_pid=args.watch_pid)
    except ToolsMissing as e:
        shutil.rmtree(workdir, ignore_errors=True)
        print(str(e), file=sys.stderr)
        return EXIT_TOOLS_MISSING
    except StartError as e:
        if e.details:
            print(e.details, file=sys.stderr)
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"Neo4j test server failed to start: {e.reason}", file=sys.stderr)
        return 1
    state = {"uri": uri, "pid": pid, "port": int(uri.rsplit(":", 1)[1]), "workdir": str(workdir),
             "log": str(workdir / "neo4j.stdout.log")}
    Path(args.state_file).write_text(json.dumps(state, indent=2) + "\n")
    print(f"Neo4j test server ready in {time.monotonic() - t0:.1f}s (pid {pid})", file=sys.stderr)
    print(uri)
    return 0


def _cmd_stop(args) -> int:
    state_path = Path(args.state_file)
    try:
        state = json.loads(state_path.read_text())
    except (OSError, ValueError) as e:
        print(f"no usable state file {state_path}: {e}", file=sys.stderr)
        return 1
    killed = stop(int(state["pid"]))
    if killed:
        print(f"Neo4j (pid {state['pid']}) did not stop on SIGTERM; killed", file=sys.stderr)
    workdir = state.get("workdir")
    if workdir and Path(workdir).name.startswith("techgiants-neo4j-"):
        shutil.rmtree(workdir, ignore_errors=True)
    state_path.unlink(missing_ok=True)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_start = sub.add_parser("start", help="build if needed and start a server in a fresh temp dir")
    p_start.add_argument("--state-file", required=True)
    p_start.add_argument("--watch-pid", type=int, default=None,
                         help="the server exits by itself when this process exits")
    p_stop = sub.add_parser("stop", help="stop the server of a state file and remove its temp dir")
    p_stop.add_argument("--state-file", required=True)
    sub.add_parser("build", help="only build (mvn) if not up to date")
    args = parser.parse_args(argv)
    if args.command == "start":
        return _cmd_start(args)
    if args.command == "stop":
        return _cmd_stop(args)
    try:
        build(quiet=False)
    except ToolsMissing as e:
        print(str(e), file=sys.stderr)
        return EXIT_TOOLS_MISSING
    except StartError as e:
        print(e.details, file=sys.stderr)
        print(f"Neo4j test server build failed: {e.reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
