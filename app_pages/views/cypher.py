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
st.caption("Read-only: statements that write (CREATE, MERGE, SET, DELETE, …), call procedures or load files are "
           "refused before they reach the store."
           + (" Limits: " + T.md_escape(", ".join(f"{k} {v:g}" for k, v in limits.items())) + "." if limits else ""))
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
    timeout = c2.number_input("Timeout (s)", min_value=1, max_value=int(limits.get("max timeout", 120)),
                              value=int(min(limits.get("default timeout", 30), limits.get("max timeout", 120))),
                              key="cy_timeout")
    limit = c3.number_input("Row limit", min_value=1, max_value=int(limits.get("max rows", limits.get("max limit", 100000))),
                            value=int(min(1000, limits.get("max rows", limits.get("max limit", 100000)))), key="cy_limit")
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
        st.error(T.md_escape(err))
    else:
        results.show(res, store, key="cy", file_name="cypher-result")
