import datetime as dt
import urllib.parse

import streamlit as st

from app_pages import library as Q
from app_pages import results
from app_pages import text as T
from app_pages import ui

st.title("Saved queries")
store = ui.require_store()
url = ui.store_url()

if Q.queries_module() is None:
    st.info(Q.NOT_AVAILABLE + " Use the Cypher page meanwhile, or check back after the library lands.")
    st.stop()

try:
    lib, lib_errors = Q.load_library_with_errors()
except Exception as e:  # noqa: BLE001 - a broken library file is reported, not fatal
    st.error(f"The query library could not be loaded: {ui.error_text(e)}")
    st.stop()
for err in lib_errors:
    st.warning("Skipped a query file: " + ui.error_text(err))
if not lib:
    st.info("The query library is empty: no saved queries are installed yet.")
    st.stop()

infos = {Q.query_info(q)["name"]: (q, Q.query_info(q)) for q in lib}
tags = sorted({t for _, i in infos.values() for t in i["tags"]})
url_q = st.query_params.get("q")
url_sig = repr(sorted(st.query_params.to_dict().items()))
if url_q in infos and st.session_state.get("sq_url_sig") != url_sig:
    # a (new) shared link: it wins over what this session picked before
    st.session_state["sq_url_sig"] = url_sig
    st.session_state["sq_name"] = url_q
    for k in [k for k in st.session_state if str(k).startswith(f"sq_{url_q}_")]:
        del st.session_state[k]
c1, c2 = st.columns([1, 3])
tag = c1.selectbox("Tag", ["all"] + tags, key="sq_tag") if tags else "all"
names = [n for n, (_, i) in infos.items() if tag == "all" or tag in i["tags"] or n == url_q]
if st.session_state.get("sq_name") not in names:
    st.session_state["sq_name"] = url_q if url_q in names else names[0]
name = c2.selectbox("Query", names, format_func=lambda n: f"{infos[n][1]['title']} ({n})", key="sq_name")
query, info = infos[name]
if info["description"]:
    st.text(info["description"])
if info["tags"]:
    st.caption("Tags: " + T.md_escape(", ".join(info["tags"])))

url_vals = Q.params_from_url(st.query_params) if url_q == name else {}
values, errors = {}, []
params = Q.params_of(query)
with st.form(f"sq_form_{name}"):
    for p in params:
        label = p.name + ("" if p.default is not None else " (optional)")
        start = url_vals.get(p.name, p.default)
        key = f"sq_{name}_{p.name}"
        choices = Q.choices_for(store, p, query=query)
        if choices:
            labels = {(c[0] if isinstance(c, tuple) else c): (c[1] if isinstance(c, tuple) else str(c)) for c in choices}
            labels = {v: (lab if str(lab).strip() else "— any —") for v, lab in labels.items()}
            opts = list(labels)
            if p.default not in labels:        # None or "" means "any": offered first
                opts.insert(0, p.default)
                labels[p.default] = "— any —"
            try:
                idx = opts.index(Q.coerce(p, start)) if start is not None else 0
            except (ValueError, TypeError):
                idx = 0
            raw = st.selectbox(label, opts, index=idx, help=p.help or None, key=key,
                               format_func=lambda v, labels=labels: labels.get(v, "—" if v is None else str(v)))
        elif p.type in ("bool", "boolean"):
            raw = st.checkbox(label, value=bool(Q.coerce(p, start)) if start is not None else False,
                              help=p.help or None, key=key)
        elif p.type in ("int", "integer"):
            raw = st.number_input(label, value=int(start) if start not in (None, "") else None, step=1,
                                  help=p.help or None, key=key)
        elif p.type in ("float", "number", "share", "fraction"):
            raw = st.number_input(label, value=float(start) if start not in (None, "") else None,
                                  format="%.4f", help=p.help or None, key=key)
        elif p.type == "date":
            try:
                d = dt.date.fromisoformat(str(start)) if start else None
            except ValueError:
                d = None
            raw = st.date_input(label, value=d, help=p.help or None, key=key)
        else:
            if isinstance(start, (list, tuple)):
                start = ",".join(map(str, start))
            raw = st.text_input(label, value="" if start is None else str(start), help=p.help or None, key=key)
        try:
            values[p.name] = Q.coerce(p, raw)
        except ValueError as e:
            errors.append(str(e))
    submitted = st.form_submit_button("Run query", type="primary")

with st.expander("Show Cypher"):
    kind = getattr(store, "kind", "ladybug")
    st.code(Q.cypher_of(query, kind), language="cypher")

share = Q.share_query(name, values)
auto = url_q == name and st.session_state.get("sq_autorun") != share
if submitted or auto:
    st.session_state["sq_autorun"] = share
    if errors:
        for e in errors:
            st.error(ui.error_text(e))
    else:
        st.query_params.from_dict(dict(urllib.parse.parse_qsl(share[1:])))
        with st.spinner(f"Running {name}…"):
            try:
                res = Q.run_saved(store, name, values)
                st.session_state["sq_result"] = (name, share, res, None)
            except Exception as e:  # noqa: BLE001 - timeouts, bad parameters: shown to the user
                st.session_state["sq_result"] = (name, share, None, str(e))

last = st.session_state.get("sq_result")
if last and last[0] == name:
    _, share, res, err = last
    st.caption("Link to this query with these parameters:")
    base = ""
    try:
        base = (st.context.url or "").split("?", 1)[0]
    except Exception:  # noqa: BLE001 - older Streamlit or a test run: the relative link still works
        base = ""
    st.code(base + share, language=None)
    if err:
        st.error(f"The query failed: {ui.error_text(err)}")
    else:
        results.show(res, store, key="sq", file_name=f"query-{name}")
