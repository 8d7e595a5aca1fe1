"""Shared deployments: sign-in, the read-only switch and keeping secrets out of the page.

Sign-in (checked in app.py before any page runs; docs/deployment.md):
- OIDC: when Streamlit secrets have an `[auth]` section, Streamlit's own `st.login` is used
  (needs the Authlib package). `allowed_emails` (secrets, a list) restricts who may enter.
- Password: `TECHGIANTS_APP_PASSWORD` (environment) or `app_password` (Streamlit secrets).
  Compared with hmac.compare_digest; failed attempts are slowed down and locked out per
  session and per client address.
- Neither: the app is open (a workstation or a trusted network).

Writes (loading data from the Data page) are off unless `TECHGIANTS_ALLOW_WRITES=1`;
`TECHGIANTS_READ_ONLY=1` turns them off whatever else is set.

`redact(text)` removes the app password, the Neo4j password, OIDC secrets and any
`user:password@` in URLs from a message before it is shown.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import os
import re
import secrets as _secrets
import threading
import time
from collections import deque
from typing import Any

import streamlit as st

PASSWORD_ENV = "TECHGIANTS_APP_PASSWORD"
PASSWORD_SECRET = "app_password"
ALLOW_WRITES_ENV = "TECHGIANTS_ALLOW_WRITES"
READ_ONLY_ENV = "TECHGIANTS_READ_ONLY"

MAX_FAILURES = 5          # failed attempts per session before a lockout
LOCKOUT_SECONDS = 30.0    # the first lockout; doubled for every further failure (capped)
LOCKOUT_CAP = 3600.0
FAIL_DELAY = 1.0          # seconds every failed attempt waits before answering
ADDRESS_WINDOW = 600.0    # failures per client address are counted over this many seconds
ADDRESS_MAX = 20          # ... and refused beyond this many

_KEY = _secrets.token_bytes(32)   # per process: a session's sign-in mark is void after a restart
_ADDR_LOCK = threading.Lock()
_ADDR_FAILS: dict[str, deque] = {}


# ---------------------------------------------------------------- settings

def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _secret(key: str) -> Any:
    """A top-level Streamlit secret, or None (no secrets file is not an error)."""
    try:
        return st.secrets[key] if key in st.secrets else None
    except Exception:  # noqa: BLE001 - no secrets.toml, or an unreadable one
        return None


def app_password() -> str | None:
    pw = os.environ.get(PASSWORD_ENV)
    if pw:
        return pw
    v = _secret(PASSWORD_SECRET)
    return str(v) if v not in (None, "") else None


def oidc_configured() -> bool:
    auth = _secret("auth")
    return bool(auth) and hasattr(auth, "get") and bool(auth.get("redirect_uri")) and bool(auth.get("cookie_secret"))


def mode() -> str:
    """'oidc', 'password' or 'open'."""
    if oidc_configured():
        return "oidc"
    return "password" if app_password() else "open"


def writes_allowed() -> bool:
    """Loading data is allowed only when explicitly enabled, and never in read-only mode."""
    return _flag(ALLOW_WRITES_ENV) and not _flag(READ_ONLY_ENV)


def read_only_reason() -> str:
    if _flag(READ_ONLY_ENV):
        return f"{READ_ONLY_ENV}=1"
    return f"writes are off unless {ALLOW_WRITES_ENV}=1"


# ---------------------------------------------------------------- secrets out of messages

_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)([^/@\s:]*):([^@/\s]*)@")


def secret_values() -> list[str]:
    out = [os.environ.get(PASSWORD_ENV), os.environ.get("NEO4J_PASSWORD"), _secret(PASSWORD_SECRET)]
    auth = _secret("auth")
    if auth is not None and hasattr(auth, "items"):
        stack = [auth]
        while stack:
            d = stack.pop()
            for k, v in d.items():
                if hasattr(v, "items"):
                    stack.append(v)
                elif "secret" in str(k).lower() or "password" in str(k).lower():
                    out.append(v)
    vals = {str(v) for v in out if v not in (None, "") and len(str(v)) >= 3}
    return sorted(vals, key=len, reverse=True)


def redact(text: Any) -> str:
    """The text with every configured secret and URL password replaced by ***."""
    s = "" if text is None else str(text)
    s = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{m.group(2)}:***@", s)
    for v in secret_values():
        s = s.replace(v, "***")
    return s


# ---------------------------------------------------------------- sign-in

def _mark(password: str) -> str:
    """What a signed-in session keeps: changes when the password changes or the server restarts."""
    return hmac.new(_KEY, password.encode("utf-8"), hashlib.sha256).hexdigest()


def check_password(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _client_address() -> str | None:
    try:
        return st.context.ip_address or None
    except Exception:  # noqa: BLE001 - older Streamlit, or a test run
        return None


def _address_blocked(addr: str | None, now: float) -> bool:
    if not addr:
        return False
    with _ADDR_LOCK:
        q = _ADDR_FAILS.get(addr)
        while q and now - q[0] > ADDRESS_WINDOW:
            q.popleft()
        return bool(q) and len(q) >= ADDRESS_MAX


def _address_failed(addr: str | None, now: float) -> None:
    if addr:
        with _ADDR_LOCK:
            _ADDR_FAILS.setdefault(addr, deque()).append(now)


def signed_in() -> bool:
    m = mode()
    if m == "open":
        return True
    if m == "oidc":
        return bool(getattr(st.user, "is_logged_in", False)) and _email_allowed()
    pw = app_password()
    return bool(pw) and hmac.compare_digest(st.session_state.get("_tg_auth", ""), _mark(pw))


def _email_allowed() -> bool:
    allowed = _secret("allowed_emails")
    if not allowed:
        return True
    email = str(getattr(st.user, "email", "") or "").lower()
    return email in {str(e).lower() for e in allowed}


def gate() -> None:
    """Show the sign-in form and stop the run unless this session may see the app."""
    m = mode()
    if m == "open":
        return
    # a shared deployment: exceptions show their type only (details go to the server log)
    try:
        st.set_option("client.showErrorDetails", "type")
    except Exception:  # noqa: BLE001
        pass
    if signed_in():
        return
    st.title("techgiants")
    if m == "oidc":
        if not authlib_installed():
            # fail closed: a configured sign-in that cannot work must not leave the app open
            st.error("Sign-in with OIDC is configured ([auth] in the secrets) but the Authlib package is not "
                     "installed on the server: pip install 'Authlib>=1.3.2'.")
            st.stop()
        if getattr(st.user, "is_logged_in", False):
            st.error("This account is not allowed to use this workspace.")
            st.button("Sign out", on_click=st.logout, key="signout_oidc")
        else:
            st.info("Sign in to use the investigation workspace.")
            st.button("Sign in", type="primary", on_click=st.login, key="signin_oidc")
        st.stop()
    _password_form()
    st.stop()


def authlib_installed() -> bool:
    import importlib.util
    return importlib.util.find_spec("authlib") is not None


def _password_form() -> None:
    st.info("This workspace is shared: sign in with the password you were given.")
    fails = st.session_state.setdefault("_tg_fail", {"n": 0, "until": 0.0})
    with st.form("signin", clear_on_submit=True):
        given = st.text_input("Password", type="password", key="signin_pw")
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    now = time.monotonic()
    addr = _client_address()
    if now < fails["until"]:
        st.error(f"Too many failed attempts: try again in {math.ceil(fails['until'] - now)} s.")
        return
    if _address_blocked(addr, now):
        st.error("Too many failed attempts from this address: try again later.")
        return
    pw = app_password() or ""
    if pw and check_password(given or "", pw):
        fails.update(n=0, until=0.0)
        st.session_state["_tg_auth"] = _mark(pw)
        st.rerun()
    fails["n"] += 1
    _address_failed(addr, now)
    if FAIL_DELAY:
        time.sleep(FAIL_DELAY)
    if fails["n"] >= MAX_FAILURES:
        wait = min(LOCKOUT_CAP, LOCKOUT_SECONDS * 2 ** (fails["n"] - MAX_FAILURES))
        fails["until"] = time.monotonic() + wait
        st.error(f"Wrong password. Too many failed attempts: try again in {math.ceil(wait)} s.")
    else:
        st.error("Wrong password.")


def sidebar() -> None:
    """Who is signed in, the sign-out button and whether writes are on."""
    m = mode()
    if m == "oidc":
        who = getattr(st.user, "email", None) or getattr(st.user, "name", None) or "signed in"
        st.caption(f"Signed in as {str(who).replace('*', '')}")
        st.button("Sign out", on_click=st.logout, key="signout")
    elif m == "password":
        if st.button("Sign out", key="signout"):
            st.session_state.pop("_tg_auth", None)
            st.rerun()
    if writes_allowed():
        st.caption("Writes enabled: the Data page can load files into the graph.")
        if m == "open":
            st.caption("⚠ No sign-in is configured: anyone who can reach this app can load data.")
    else:
        st.caption("Read-only deployment.")
