import json

import streamlit as st

from app_pages import library as Q
from app_pages import results
from app_pages import text as T
from app_pages import ui

st.title("Cypher")
store = ui.require_store()

if Q.guard_module() is None:
    st.info(Q.GUARD_NOT_AVAILABLE + " The custom query box needs it to refuse writes; it will appear here when it lands.")
    st.stop()

limits = Q.guard_limits()
default_timeout = float(limits.get("timeout", 10))
default_rows = int(limits.get("rows", 1000))
max_timeout = max(60.0, default_timeout)          # bounds of this page's form
max_rows = max(100_000, default_rows)
st.caption("Read-only: statements that write (CREATE, MERGE, SET, DELETE, …), administer the server, call "
           "procedures outside a short allow-list or touch files are refused before they reach the store; the "
           "store also runs the query in a read-only transaction that is always rolled back.")
shown = [f"timeout {default_timeout:g} s by default (up to {max_timeout:g} s here)",
         f"{default_rows:,} rows by default (up to {max_rows:,} here)"]
if limits.get("memory_mb"):
    shown.append(f"{limits['memory_mb']:,} MB of memory per query on the embedded store")
if limits.get("query_chars"):
    shown.append(f"queries up to {limits['query_chars']:,} characters")
st.caption("Limits: " + T.md_escape("; ".join(shown)) + ".")
kind = getattr(store, "kind", "")
st.caption(f"Store: {T.md_escape(kind)}" + (" (lists are 1-based in Ladybug's Cypher; use label(n) there, "
                                           "labels(n) on Neo4j)" if kind == "ladybug" else ""))

example = ("MATCH (c:Company)-[r:LISTED_ON]->(l:SanctionsList)\n"
           "RETURN c.name AS company, l.name AS list, r.since AS since\nORDER BY company LIMIT 25")
with st.form("cy_form"):
    cypher = st.text_area("Query", value=st.session_state.get("cy_text", example), height=160, key="cy_query")
    c1, c2, c3 = st.columns([3, 1, 1])
    params_text = c1.text_input("Parameters (JSON object)", value="{}", key="cy_params",
                                help='e.g. {"id": "company:hikvision"}; use $id in the query')
    timeout = c2.number_input("Timeout (s)", min_value=1.0, max_value=max_timeout, value=default_timeout, step=5.0,
                              key="cy_timeout")
    limit = c3.number_input("Row limit", min_value=1, max_value=max_rows, value=default_rows, step=100, key="cy_limit")
    run = st.form_submit_button("Run", type="primary")

if run:
    st.session_state["cy_text"] = cypher
    try:
        params = json.loads(params_text or "{}")
        if not isinstance(params, dict):
            raise ValueError("parameters must be a JSON object")
    except ValueError as e:
        st.session_state["cy_result"] = (None, f"Parameters: {e}")
    else:
        with st.spinner("Running…"):
            try:
                res = Q.run_cypher(store, cypher, params, float(timeout), int(limit))
                st.session_state["cy_result"] = (res, None)
            except Exception as e:  # noqa: BLE001 - refusals, syntax errors, timeouts: shown as they are
                st.session_state["cy_result"] = (None, f"{type(e).__name__}: {e}")

last = st.session_state.get("cy_result")
if last:
    res, err = last
    if err:
        st.error(ui.error_text(err))
    else:
        results.show(res, store, key="cy", file_name="cypher-result")
