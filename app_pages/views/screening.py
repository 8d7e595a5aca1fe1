import datetime as dt
import hashlib

import streamlit as st

from app_pages import screening as S
from app_pages import text as T
from app_pages import ui

st.title("Portfolio screening")
store = ui.require_store()
url = ui.store_url()


@st.cache_data(ttl=ui.CACHE_TTL, show_spinner=False)
def graph_facts(u: str) -> S.GraphFacts:
    return S.graph_facts(ui.get_store(u))


st.caption("Upload holdings as CSV: the holdings template (docs/holdings-template.md — columns fund, issuer_name "
           "and optionally isin, cusip, ticker, exchange, lei, country, weight, …) or simply fund, issuer_name, isin, "
           "ticker, weight. Nothing is written to the graph.")
up = st.file_uploader("Holdings CSV", type=["csv"], key="scr_file")
if up is None:
    st.stop()

data = up.getvalue()
digest = hashlib.sha1(data).hexdigest()
ss = st.session_state
if ss.get("scr_digest") != digest:
    parsed = S.parse_holdings(data, up.name)
    ss.scr_digest, ss.scr_parsed = digest, parsed
    with st.status(f"Matching {len(parsed.positions)} position(s) to the graph…", expanded=False) as status:
        bar = st.progress(0.0)
        cands = S.match_positions(store, parsed.positions,
                                  progress=lambda f, name: bar.progress(min(f, 1.0), text=name[:60]))
        status.update(label=f"Matched {len(parsed.positions)} position(s).", state="complete")
    ss.scr_cands = cands
    ss.scr_choices = S.default_choices(cands)
parsed: S.Parsed = ss.scr_parsed
cands = ss.scr_cands
choices = ss.scr_choices

st.caption(f"Read with the {T.md_escape(parsed.reader)}: {len(parsed.positions)} position(s), "
           f"{len(parsed.rejected)} rejected row(s).")
if parsed.rejected:
    with st.expander(f"Rejected rows ({len(parsed.rejected)})", expanded=not parsed.positions):
        ui.table(parsed.rejected, key="scr_rej", navigate=False)
if not parsed.positions:
    st.stop()

st.subheader("Matches")
match = S.match_rows(parsed.positions, cands, choices)
ui.table(match, key="scr_match", navigate=False, columns=S.MATCH_COLUMNS)

MAX_EDIT = 200
review = [p for p in parsed.positions if not cands.get(p.row) or not choices.get(p.row)
          or (next((c.confidence for c in cands[p.row] if c.id == choices[p.row]), 0) < 1.0)]
with st.expander(f"Correct matches ({len(review)} below full confidence)", expanded=bool(review)):
    show_all = st.toggle("Show every position", key="scr_all")
    rows = (parsed.positions if show_all else review)[:MAX_EDIT]
    if len(parsed.positions if show_all else review) > MAX_EDIT:
        st.caption(f"Showing the first {MAX_EDIT}.")
    with st.form("scr_fix"):
        for p in rows:
            opts = [""] + [c.id for c in cands.get(p.row, [])]
            labels = {c.id: c.option() for c in cands.get(p.row, [])}
            cur = choices.get(p.row)
            st.selectbox(f"Row {p.row}: {p.issuer_name} ({p.fund})", opts,
                         index=opts.index(cur) if cur in opts else 0, key=f"scr_sel_{p.row}",
                         format_func=lambda v, labels=labels: labels.get(v, v) if v else S.NO_MATCH)
        if st.form_submit_button("Apply corrections"):
            for p in rows:
                choices[p.row] = ss.get(f"scr_sel_{p.row}") or None
            st.rerun()

st.subheader("Exposure")
with st.spinner("Computing exposure…"):
    facts = graph_facts(url)
    rows, note = S.exposure_rows(store, parsed.positions, choices, facts)
summ = S.summary(parsed.positions, choices, rows)
cols = st.columns(len(summ))
for c, (k, v) in zip(cols, summ.items()):
    c.metric(k, v)
if note:
    st.warning(note)
if rows:
    ui.table(rows, key="scr_exp", navigate=False, columns=S.REPORT_COLUMNS)
else:
    st.success("No exposure to listed or captured entities found for the matched positions.")

when = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
html = S.report_html(url, parsed.positions, rows, match, when, [note] if note else [])
ui.downloads("screening-report", csv_bytes=S.report_csv(rows), key="scr_dl",
             extra=[("Download printable report (HTML)", html.encode("utf-8"), "screening-report.html", "text/html")])
st.caption("The HTML report is a download to open and print in a browser; it is not rendered here.")
