"""The custom query box: run a user's Cypher read-only, with a timeout and a row limit.

    run_readonly(store_or_url, cypher, params=None, timeout=None, limit=None) -> Result

Defence in depth, so that no single mistake lets a hostile query write, read files or hang
the process (docs/queries.md, "The query box"):

1. A static check on a real tokenisation (`check_readonly`): string literals, backtick
   identifiers and comments are recognised exactly as both stores' lexers do, so
   `WHERE n.name = 'CREATE'` passes while `cReAtE`, `/**/CREATE`, full-width `ＣＲＥＡＴＥ`,
   `; CREATE ...` and friends are refused. Outside string literals and backtick identifiers
   only printable ASCII is accepted (after CRLF -> LF); keywords that write, touch files or the
   network, manage transactions or administer the server are refused wherever they appear;
   `CALL` is limited to subqueries and a short allow-list of catalogue procedures.
2. The store itself refuses writes:
   - Neo4j: `EXPLAIN` first; the server's classification (summary.query_type) must be 'r'.
     Then the query runs in an explicit transaction with a server-side timeout, in a READ
     session, and the transaction is always rolled back (never committed).
   - Ladybug: the query runs on a `read_only=True` Database handle, inside
     `BEGIN TRANSACTION READ ONLY`, always rolled back.
3. User queries run in worker processes, never in the caller's: the store's timeout stops
   most queries, and the parent kills a worker that overruns the timeout (plus a grace) or
   whose memory passes TECHGIANTS_QUERY_MEMORY_MB. Ladybug only checks for interruption
   between pipeline steps, so `UNWIND range(1, 10^10)` would otherwise run for minutes and eat
   all memory, and one huge value (`RETURN range(1, 10^8)`) would fill the caller's memory
   while the driver decodes it. At most `limit` rows are read.
4. Parameters are always sent as parameters, never pasted into the text.

Defaults: timeout 10 s (TECHGIANTS_QUERY_TIMEOUT), limit 1000 rows (TECHGIANTS_QUERY_LIMIT).
"""
from __future__ import annotations

import atexit
import datetime as _dt
import decimal
import json
import logging
import os
import re
import selectors
import subprocess
import sys
import threading
import time
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph.store import GraphStore, QueryTimeout, Result, StoreError

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_TIMEOUT = 10.0
DEFAULT_LIMIT = 1000
DEFAULT_MEMORY_MB = 2048
MAX_QUERY_CHARS = 100_000
KILL_GRACE = 3.0  # seconds a worker gets past the timeout before it is killed
WORKER_START_TIMEOUT = 60.0


class QueryRefused(StoreError):
    """The query box refused a query; the message is one line, fit for a user.
    `line` is the line of the offending text (1-based) when known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def default_timeout() -> float:
    return _env_number("TECHGIANTS_QUERY_TIMEOUT", DEFAULT_TIMEOUT, float)


def default_limit() -> int:
    return _env_number("TECHGIANTS_QUERY_LIMIT", DEFAULT_LIMIT, int)


def memory_limit_mb() -> int:
    return _env_number("TECHGIANTS_QUERY_MEMORY_MB", DEFAULT_MEMORY_MB, int)


def _env_number(name: str, default, cast):
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        v = cast(raw)
    except ValueError:
        raise StoreError(f"{name}={raw!r} is not a number") from None
    if v <= 0:
        raise StoreError(f"{name} must be positive, not {raw!r}")
    return v


# =====================================================================================
# Tokenisation
# =====================================================================================

@dataclass(frozen=True)
class Token:
    kind: str   # word | number | string | ident (backticked) | param | punct
    text: str   # the source text of the token
    value: str  # word: upper-cased; ident/param: the name; otherwise the text
    pos: int
    line: int
    col: int


# Refused wherever they appear as a bare word (case-insensitive). Names and variables
# spelled like one of these must be back-quoted: `set`.
WRITE_WORDS = {"CREATE", "MERGE", "SET", "DELETE", "DETACH", "NODETACH", "REMOVE", "DROP", "ALTER", "FOREACH",
               "INSERT", "UPDATE", "RENAME", "COMMENT"}
FILE_WORDS = {"LOAD", "COPY", "IMPORT", "EXPORT", "ATTACH", "INSTALL", "UNINSTALL"}
TX_WORDS = {"BEGIN", "COMMIT", "ROLLBACK", "CHECKPOINT", "TRANSACTIONS", "TERMINATE", "VACUUM"}
ADMIN_WORDS = {"SHOW", "GRANT", "DENY", "REVOKE", "USE", "ENABLE", "DEALLOCATE", "REALLOCATE", "DRYRUN",
               "CYPHER", "EXPLAIN", "PROFILE"}
# Refused only when followed by one of these (`start` is also a property name).
CONTEXT_WORDS = {"START": {"DATABASE", "DATABASES", "SERVER", "SERVERS"},
                 "STOP": {"DATABASE", "DATABASES", "SERVER", "SERVERS"}}
WHY = {**{w: "writes to the graph" for w in WRITE_WORDS},
       **{w: "reads or writes files, the network or extensions" for w in FILE_WORDS},
       **{w: "controls transactions" for w in TX_WORDS},
       **{w: "is an administration or planner command" for w in ADMIN_WORDS},
       **{w: "is an administration command" for w in CONTEXT_WORDS}}

# CALL is allowed for subqueries and these procedures only (Neo4j's and Ladybug's catalogue).
ALLOWED_PROCEDURES = ("db.labels", "db.relationshipTypes", "db.propertyKeys", "db.schema.visualization",
                      "show_tables", "table_info", "show_connection", "db_version")
_ALLOWED_LOWER = {p.lower() for p in ALLOWED_PROCEDURES}

# Functions that read files, write sequences or change settings (Ladybug has them as
# functions: read_csv, read_parquet, file_info, nextval, ...).
DENIED_FUNCTION_PREFIXES = ("read_", "copy_", "apoc.", "gds.", "dbms.")
DENIED_FUNCTIONS = {"file_info", "nextval", "setseed", "project_graph", "project_graph_cypher",
                    "drop_projected_graph", "clear_warnings", "load_extension", "file", "linenumber"}


def _where(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _refuse(text: str, pos: int, msg: str) -> QueryRefused:
    line, col = _where(text, pos)
    return QueryRefused(f"refused at line {line}, column {col}: {msg}", line)


def _bad_char(text: str, pos: int, where: str) -> QueryRefused:
    ch = text[pos]
    name = unicodedata.name(ch, "control character")
    folded = unicodedata.normalize("NFKC", ch)
    hint = f", which reads as {folded!r}" if folded != ch and folded.isascii() and folded.isprintable() else ""
    return _refuse(text, pos, f"character U+{ord(ch):04X} ({name}){hint} {where}: only plain ASCII is accepted "
                              f"outside 'string literals' and `backtick names`")


def _ok_char(ch: str) -> bool:
    return ch == "\t" or ch == "\n" or " " <= ch <= "~"


def tokenize(text: str) -> list[Token]:
    """Tokens of a Cypher text, comments and whitespace dropped. Raises QueryRefused on
    unterminated strings/comments/names and on characters outside plain ASCII outside
    string literals and backtick names (comments included)."""
    out: list[Token] = []
    i, n = 0, len(text)

    def tok(kind: str, start: int, end: int, value: str | None = None) -> None:
        line, col = _where(text, start)
        raw = text[start:end]
        out.append(Token(kind, raw, raw if value is None else value, start, line, col))

    while i < n:
        ch = text[i]
        if ch in " \t\n":
            i += 1
        elif ch == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                if not _ok_char(text[k]):
                    raise _bad_char(text, k, "in a comment")
            i = j
        elif ch == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise _refuse(text, i, "unterminated /* comment")
            for k in range(i, j):
                if not _ok_char(text[k]):
                    raise _bad_char(text, k, "in a comment")
            i = j + 2
        elif ch in "'\"":
            j = i + 1
            while j < n and text[j] != ch:
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                raise _refuse(text, i, "unterminated string literal")
            tok("string", i, j + 1)
            i = j + 1
        elif ch == "`":
            j, name = _backtick(text, i)
            tok("ident", i, j, name)
            i = j
        elif ch == "$":
            if i + 1 < n and text[i + 1] == "`":
                j, name = _backtick(text, i + 1)
            else:
                j = i + 1
                while j < n and (text[j].isascii() and (text[j].isalnum() or text[j] == "_")):
                    j += 1
                name = text[i + 1:j]
            if not name:
                raise _refuse(text, i, "a $ must be followed by a parameter name")
            tok("param", i, j, name)
            i = j
        elif (m := _NUMBER.match(text, i)) is not None:
            # a number never swallows letters a lexer would read as the start of a word
            tok("number", i, m.end())
            i = m.end()
        elif ch.isascii() and (ch.isalpha() or ch == "_"):
            j = i + 1
            while j < n and text[j].isascii() and (text[j].isalnum() or text[j] == "_"):
                j += 1
            tok("word", i, j, text[i:j].upper())
            i = j
        elif " " < ch <= "~":
            tok("punct", i, i + 1)
            i += 1
        else:
            raise _bad_char(text, i, "outside a string")
    return out


_NUMBER = re.compile(r"0[xX][0-9A-Fa-f]+|0[oO][0-7]+|(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _backtick(text: str, i: int) -> tuple[int, str]:
    """A back-quoted name starting at text[i] == '`' (a doubled `` is an escaped backtick)."""
    j, n, parts = i + 1, len(text), []
    while True:
        k = text.find("`", j)
        if k < 0:
            raise _refuse(text, i, "unterminated `backtick name`")
        parts.append(text[j:k])
        if k + 1 < n and text[k + 1] == "`":
            parts.append("`")
            j = k + 2
            continue
        return k + 1, "".join(parts)


def params_used(cypher: str) -> dict[str, int]:
    """$parameters a Cypher text uses, with the line of their first use (comments and strings ignored)."""
    out: dict[str, int] = {}
    for t in tokenize(cypher):
        if t.kind == "param":
            out.setdefault(t.value, t.line)
    return out


# =====================================================================================
# The static check
# =====================================================================================

def check_readonly(cypher: str) -> str:
    """Refuse anything that is not a single read-only query; returns the text to send
    (CRLF normalised, one trailing semicolon dropped)."""
    if not isinstance(cypher, str):
        raise QueryRefused("the query must be text")
    if len(cypher) > MAX_QUERY_CHARS:
        raise QueryRefused(f"refused: the query is longer than {MAX_QUERY_CHARS} characters")
    text = cypher.replace("\r\n", "\n")
    toks = tokenize(text)
    if not toks:
        raise QueryRefused("refused: the query is empty")
    semis = [k for k, t in enumerate(toks) if t.kind == "punct" and t.text == ";"]
    if semis:
        if semis == [len(toks) - 1]:
            text = text[:toks[-1].pos] + text[toks[-1].pos + 1:]
            toks = toks[:-1]
            if not toks:
                raise QueryRefused("refused: the query is empty")
        else:
            raise _refuse(text, toks[semis[0]].pos, "one statement only: ';' separates statements")
    for k, t in enumerate(toks):
        nxt = toks[k + 1] if k + 1 < len(toks) else None
        if t.kind != "word":
            continue
        word = t.value
        if word in WHY and word not in CONTEXT_WORDS:
            prev = toks[k - 1] if k else None
            as_name = prev is not None and (prev.text in (".", ":") or prev.value == "AS")
            hint = f" (back-quote a name spelled like a keyword: `{t.text}`)" if as_name else ""
            raise _refuse(text, t.pos, f"{t.text} {WHY[word]}; the query box is read-only{hint}")
        if word in CONTEXT_WORDS and nxt is not None and nxt.kind == "word" and nxt.value in CONTEXT_WORDS[word]:
            raise _refuse(text, t.pos, f"{t.text} {nxt.text} {WHY[word]}; the query box is read-only")
        if word == "CALL":
            _check_call(text, toks, k)
        elif k == 0 or toks[k - 1].text != ".":
            name, after = _dotted(toks, k)
            if after < len(toks) and toks[after].text == "(":
                _check_function(text, t, name)
    return text


def _dotted(toks: list[Token], k: int) -> tuple[str, int]:
    """The dotted name starting at toks[k] (`db.schema.visualization`, `db`.`labels`) and the index after it."""
    parts = [toks[k].value if toks[k].kind == "ident" else toks[k].text]
    k += 1
    while k + 1 < len(toks) and toks[k].text == "." and toks[k + 1].kind in ("word", "ident"):
        nxt = toks[k + 1]
        parts.append(nxt.value if nxt.kind == "ident" else nxt.text)
        k += 2
    return ".".join(parts), k


def _check_call(text: str, toks: list[Token], k: int) -> None:
    nxt = toks[k + 1] if k + 1 < len(toks) else None
    if nxt is None:
        raise _refuse(text, toks[k].pos, "CALL of what?")
    if nxt.kind == "punct" and nxt.text in "{(":
        return  # a subquery; its body is checked like the rest (and IN TRANSACTIONS is refused)
    if nxt.kind not in ("word", "ident"):
        raise _refuse(text, nxt.pos, "CALL must be followed by a subquery or an allowed procedure")
    name, _ = _dotted(toks, k + 1)
    if name.lower() not in _ALLOWED_LOWER:
        raise _refuse(text, nxt.pos, f"procedure {name} is not allowed; allowed: {', '.join(ALLOWED_PROCEDURES)}")


def _check_function(text: str, t: Token, name: str) -> None:
    low = name.lower()
    if low in DENIED_FUNCTIONS or low.startswith(DENIED_FUNCTION_PREFIXES):
        raise _refuse(text, t.pos, f"function {name}() reads files or changes state; the query box is read-only")


# =====================================================================================
# Running
# =====================================================================================

def plain(v: Any) -> Any:
    """Values as plain JSON-able Python: Decimal -> float, dates -> ISO text, recursively."""
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, (_dt.date, _dt.datetime, _dt.time)):
        return v.isoformat()
    if isinstance(v, _dt.timedelta):
        return v.total_seconds()
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, bytes):
        return v.hex()
    return v


def _check_params(params: dict | None) -> dict:
    if params is None:
        return {}
    if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
        raise QueryRefused("parameters must be a mapping of names to values")
    try:
        json.dumps(params)
    except (TypeError, ValueError):
        raise QueryRefused("parameter values must be plain values (text, numbers, booleans, lists, maps)") from None
    return params


def run_readonly(store: GraphStore | str | os.PathLike, cypher: str, params: dict | None = None,
                 timeout: float | None = None, limit: int | None = None) -> Result:
    """Run a user's query read-only on a store (object, file path or bolt:// URL).
    Raises QueryRefused (refused before running), QueryTimeout, or StoreError."""
    text = check_readonly(cypher)
    params = _check_params(params)
    timeout = float(timeout) if timeout else default_timeout()
    limit = int(limit) if limit else default_limit()
    if timeout <= 0 or limit <= 0:
        raise QueryRefused("timeout and limit must be positive")
    return _execute(store, text, params, timeout, limit)


def _target(store) -> dict:
    """Where the worker runs the query: {"kind": "ladybug", "path"} or {"kind": "neo4j", "url", "database"}."""
    if isinstance(store, GraphStore):
        if store.kind == "neo4j":
            return {"kind": "neo4j", "url": store.url, "database": getattr(store, "database", None)}
        if store.kind == "ladybug":
            return {"kind": "ladybug", "path": os.path.abspath(store.path)}
        raise StoreError(f"no read-only runner for {store.kind} stores")
    from graph.stores import NEO4J_SCHEMES, store_url
    url = store_url(str(store) if store is not None else None)
    if url.startswith(NEO4J_SCHEMES):
        return {"kind": "neo4j", "url": url, "database": os.environ.get("NEO4J_DATABASE")}
    if "://" in url:
        raise StoreError(f"unsupported store URL {url!r}: use a file path or bolt://host:7687")
    if not Path(url).exists():
        raise StoreError(f"no graph at {url}: run `techgiants init` or `techgiants ingest bundled` first")
    return {"kind": "ladybug", "path": os.path.abspath(url)}


def _execute(store, text: str, params: dict, timeout: float, limit: int) -> Result:
    """The store-side layer alone (no token check): tests call it to show it holds on its own."""
    target = _target(store)
    w = _POOL.acquire()
    try:
        return w.run(target, text, params, timeout, limit)
    finally:
        _POOL.release(w)


# ---------------------------------------------------------------- Neo4j (runs inside the worker)
def _run_neo4j(store, text: str, params: dict, timeout: float, limit: int) -> Result:
    import neo4j
    from neo4j.exceptions import ClientError, Neo4jError, TransientError
    from graph.stores.neo4j import _fill_rel_ends, _value

    started = time.monotonic()
    try:
        with store.driver.session(database=store.database, default_access_mode=neo4j.READ_ACCESS) as s:
            tx = s.begin_transaction(timeout=timeout)
            try:
                kind = tx.run("EXPLAIN " + text, params).consume().query_type
                if kind != "r":
                    raise QueryRefused(f"refused: the server classifies this query as {_QUERY_TYPES.get(kind, kind)}; "
                                       f"the query box is read-only")
                res = tx.run(text, params)
                keys = list(res.keys())
                rows, truncated = [], False
                for rec in res:
                    if len(rows) >= limit:
                        truncated = True
                        break
                    rows.append([_value(v) for v in rec.values()])
                res.consume()  # discard the rest on the server
                _fill_rel_ends(tx, rows)
            finally:
                if not tx.closed():
                    tx.rollback()  # never commit: whatever happened inside is thrown away
        return Result(keys, plain(rows), truncated)
    except (ClientError, TransientError) as e:
        code, msg = e.code or "", e.message or str(e)
        if "TimedOut" in code or "Terminated" in code or "timed out" in msg:
            raise QueryTimeout(f"query stopped after {time.monotonic() - started:.1f} s (limit {timeout:g} s)") from None
        raise StoreError(msg.splitlines()[0] if msg else code) from None
    except Neo4jError as e:
        raise StoreError((e.message or str(e)).splitlines()[0]) from None


_QUERY_TYPES = {"w": "a write", "rw": "a read-write query", "s": "a schema or administration command"}


# ---------------------------------------------------------------- the worker processes
class _Worker:
    """A long-lived child process that runs user queries (Ladybug on read-only handles, Neo4j
    over its own driver). The parent never runs user text in its own process: a child can be
    killed at any time (timeout overrun, memory cap), which also drops its Neo4j connection
    (the server rolls the transaction back), and a new one starts on the next query."""

    def __init__(self):
        self.proc: subprocess.Popen | None = None
        self._buf = b""

    def _start(self) -> subprocess.Popen:
        env = dict(os.environ)  # Neo4j credentials come from NEO4J_USER / NEO4J_PASSWORD, as everywhere
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
        env["PYTHONUNBUFFERED"] = "1"
        self._buf = b""
        self.proc = subprocess.Popen([sys.executable, "-m", "queries.guard", "--worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=str(ROOT),
                                     close_fds=True)
        # the worker says "ready" once it has imported the stores: queries get their full timeout
        started = time.monotonic()
        try:
            line = self._read_line(self.proc, started + WORKER_START_TIMEOUT, started, WORKER_START_TIMEOUT)
        except QueryTimeout:
            raise StoreError("the query worker did not start") from None
        if line != "ready":
            self.stop()
            raise StoreError("the query worker did not start")
        return self.proc

    def stop(self) -> None:
        p, self.proc = self.proc, None
        if p is None:
            return
        if p.poll() is None:
            p.kill()  # our own child, by its handle
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for f in (p.stdin, p.stdout):
            try:
                f.close()
            except Exception:
                pass

    def run(self, target: dict, text: str, params: dict, timeout: float, limit: int) -> Result:
        proc = self.proc if self.proc is not None and self.proc.poll() is None else self._start()
        req = {**target, "cypher": text, "params": params, "timeout": timeout, "limit": limit,
               "memory_mb": memory_limit_mb()}
        started = time.monotonic()
        try:
            proc.stdin.write((json.dumps(req) + "\n").encode())
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self.stop()
            raise StoreError("the query worker stopped unexpectedly; try again") from None
        line = self._read_line(proc, started + timeout + KILL_GRACE, started, timeout)
        resp = json.loads(line)
        if resp.get("ok"):
            return Result(resp["columns"], resp["rows"], resp["truncated"])
        err = resp.get("error")
        if err == "timeout":
            raise QueryTimeout(resp["message"])
        if err == "refused":
            raise QueryRefused(resp["message"])
        raise StoreError(resp.get("message") or "query failed")

    def _read_line(self, proc: subprocess.Popen, deadline: float, started: float, timeout: float) -> str:
        cap = memory_limit_mb() * 1024 * 1024
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        try:
            while b"\n" not in self._buf:
                now = time.monotonic()
                if now > deadline:
                    self.stop()
                    raise QueryTimeout(f"query stopped after {now - started:.1f} s (limit {timeout:g} s)")
                rss = _rss(proc.pid)
                if rss is not None and rss > cap:
                    self.stop()
                    raise StoreError(f"query stopped: it needed more than {cap // (1024 * 1024)} MB of memory "
                                     f"(TECHGIANTS_QUERY_MEMORY_MB)")
                if sel.select(timeout=0.05):
                    chunk = os.read(proc.stdout.fileno(), 1 << 20)
                    if not chunk:
                        self.stop()
                        raise StoreError("the query worker stopped unexpectedly (the query may have crashed it)")
                    self._buf += chunk
        finally:
            sel.close()
        line, _, self._buf = self._buf.partition(b"\n")
        return line.decode()


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _rss(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None  # not Linux: the timeout still holds


class _Pool:
    """Up to TECHGIANTS_QUERY_WORKERS (default 2) workers; a query waits for a free one."""

    def __init__(self):
        self.lock = threading.Condition()
        self.idle: list[_Worker] = []
        self.all: list[_Worker] = []

    def size(self) -> int:
        return _env_number("TECHGIANTS_QUERY_WORKERS", 2, int)

    def acquire(self) -> _Worker:
        with self.lock:
            while True:
                if self.idle:
                    return self.idle.pop()
                if len(self.all) < self.size():
                    w = _Worker()
                    self.all.append(w)
                    return w
                self.lock.wait()

    def release(self, w: _Worker) -> None:
        with self.lock:
            self.idle.append(w)
            self.lock.notify()

    def stop(self, idle_only: bool = False) -> None:
        with self.lock:
            for w in (self.idle if idle_only else self.all):
                w.stop()


_POOL = _Pool()
atexit.register(_POOL.stop)


def stop_workers() -> None:
    """Stop the idle query workers (a new one starts on the next query)."""
    _POOL.stop(idle_only=True)


# ---------------------------------------------------------------- the worker's side
def _worker_main() -> None:
    """Read one JSON request a line from stdin, answer one JSON line on stdout."""
    out = sys.stdout
    cache: dict[tuple, tuple[tuple, Any]] = {}

    def signature(path: str) -> tuple:
        sig = []
        for p in (path, path + ".wal"):
            try:
                st = os.stat(p)
                sig.append((st.st_mtime_ns, st.st_size))
            except OSError:
                sig.append(None)
        return tuple(sig)

    def ladybug_store(path: str, memory_mb: int):
        # a read-only handle sees the data as of its opening: reopen when the files changed
        from graph.stores.ladybug import LadybugStore
        sig = signature(path)
        hit = cache.get(("ladybug", path))
        if hit and hit[0] == sig:
            return hit[1]
        if hit:
            try:
                hit[1].close()
            except Exception:
                pass
        s = LadybugStore(path, read_only=True, buffer_pool_mb=max(64, memory_mb // 2))
        cache[("ladybug", path)] = (sig, s)
        return s

    def neo4j_store(url: str, database: str | None):
        hit = cache.get(("neo4j", url, database))
        if hit:
            return hit[1]
        from graph.stores.neo4j import Neo4jStore
        s = Neo4jStore(url, user=os.environ.get("NEO4J_USER"), password=os.environ.get("NEO4J_PASSWORD"),
                       database=database, read_only=True)
        cache[("neo4j", url, database)] = ((), s)
        return s

    def answer(req: dict) -> dict:
        params, timeout, limit = req.get("params") or {}, req["timeout"], req["limit"]
        if req["kind"] == "neo4j":
            logging.getLogger("neo4j").setLevel(logging.ERROR)
            res = _run_neo4j(neo4j_store(req["url"], req.get("database")), req["cypher"], params, timeout, limit)
        else:
            s = ladybug_store(req["path"], int(req.get("memory_mb") or DEFAULT_MEMORY_MB))
            c = s.conn
            c.execute("BEGIN TRANSACTION READ ONLY")
            try:
                res = s.read(req["cypher"], params, timeout=timeout, limit=limit)
            finally:
                try:
                    c.execute("ROLLBACK")
                except Exception:
                    pass
        return {"ok": True, "columns": res.columns, "rows": plain(res.rows), "truncated": res.truncated}

    import graph.stores.ladybug  # noqa: F401  (imported before "ready": queries get their whole timeout)
    import graph.stores.neo4j  # noqa: F401
    out.write("ready\n")
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            resp = answer(json.loads(line))
        except QueryTimeout as e:
            resp = {"ok": False, "error": "timeout", "message": str(e)}
        except QueryRefused as e:
            resp = {"ok": False, "error": "refused", "message": str(e)}
        except StoreError as e:
            resp = {"ok": False, "error": "store", "message": str(e)}
        except Exception as e:  # keep serving
            resp = {"ok": False, "error": "store", "message": (str(e) or type(e).__name__).splitlines()[0]}
        try:
            data = json.dumps(resp, allow_nan=True, default=str)
        except (TypeError, ValueError) as e:
            data = json.dumps({"ok": False, "error": "store", "message": f"result not serialisable: {e}"})
        out.write(data + "\n")
        out.flush()


if __name__ == "__main__" and "--worker" in sys.argv:
    _worker_main()
