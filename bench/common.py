"""Shared helpers for the benchmarks: timers, memory, sizes, the machine's description."""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
WORK = Path(os.environ.get("TECHGIANTS_BENCH_WORK", BENCH / ".work"))
NEO4J_SERVER = ROOT / "tests" / "neo4j_server"


class Timer:
    """Wall-clock and CPU seconds of a block."""

    def __enter__(self):
        self.w, self.c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.w
        self.cpu = time.process_time() - self.c


def peak_rss_mb() -> float:
    """Peak resident set size of this process (ru_maxrss is KiB on Linux). psutil is not a
    dependency of the project, so resource.getrusage it is."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        pass
    return float("nan")


def reset_peak() -> bool:
    """Start a new peak-RSS window (Linux: writing 5 to clear_refs resets VmHWM to the current
    RSS), so that one section of a phase gets a peak of its own."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def window_peak_mb() -> float:
    """VmHWM: the peak RSS since the last reset_peak() (or since the process started)."""
    return proc_peak_rss_mb(os.getpid()) or peak_rss_mb()


def proc_peak_rss_mb(pid: int) -> float | None:
    """VmHWM (peak RSS) of another process, e.g. the Neo4j JVM."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        return None
    return None


def du_mb(path: str | Path) -> float:
    p = Path(path)
    if not p.exists():
        return 0.0
    if p.is_file():
        total = p.stat().st_size
        for extra in (p.with_name(p.name + ".wal"), p.with_name(p.name + ".shadow")):
            if extra.exists():
                total += extra.stat().st_size
        return round(total / 2**20, 1)
    return round(sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) / 2**20, 1)


def stats_ms(samples: list[float]) -> dict:
    """median / p95 / min / max in milliseconds of samples in seconds."""
    if not samples:
        return {}
    s = sorted(samples)
    p95 = s[min(len(s) - 1, max(0, int(round(0.95 * (len(s) - 1)))))]
    return {"median_ms": round(1000 * statistics.median(s), 2), "p95_ms": round(1000 * p95, 2),
            "min_ms": round(1000 * s[0], 2), "max_ms": round(1000 * s[-1], 2), "runs": len(s)}


def machine() -> dict:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = float("nan")
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    os_name = platform.platform()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"') + f" (kernel {platform.release()})"
    except OSError:
        pass
    versions = {}
    for mod in ("ladybug", "neo4j", "pyarrow", "numpy", "scipy", "pydantic", "streamlit"):
        try:
            m = __import__(mod)
            versions[mod] = getattr(m, "__version__", "?")
        except Exception:  # noqa: BLE001
            versions[mod] = "not installed"
    java = "?"
    try:
        out = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=30)
        java = (out.stderr or out.stdout).splitlines()[0]
    except Exception:  # noqa: BLE001
        java = "not found"
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gb": mem_gb, "os": os_name,
            "python": sys.version.split()[0], "versions": versions, "java": java,
            "neo4j_server": "5.26.30 Community (tests/neo4j_server, Maven artifacts)",
            "date": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def write_json(path: str | Path, data) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")


def fmt_s(x) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, str):
        return x
    if x >= 100:
        return f"{x:.0f} s"
    if x >= 10:
        return f"{x:.1f} s"
    return f"{x:.2f} s"


def fmt_ms(x) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, str):
        return x
    if x >= 1000:
        return f"{x / 1000:.2f} s"
    if x >= 100:
        return f"{x:.0f} ms"
    return f"{x:.1f} ms"


def fmt_n(x) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, str):
        return x
    if x >= 1e6:
        return f"{x / 1e6:.2f}M"
    if x >= 1e3:
        return f"{x / 1e3:.0f}k"
    return f"{x:.0f}"


def fmt_mb(x) -> str:
    if x is None or isinstance(x, str):
        return "n/a" if x is None else x
    return f"{x / 1024:.2f} GB" if x >= 1024 else f"{x:.0f} MB"
