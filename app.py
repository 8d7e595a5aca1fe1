"""techgiants investigation workspace: `streamlit run app.py` (or `techgiants app`).

Reads the store named by $TECHGIANTS_STORE (default techgiants.lbdb), read-only.
Sign-in, the read-only switch and secrets: app_pages/auth.py and docs/deployment.md.
Pages live in app_pages/views/; their logic in app_pages/ (testable without Streamlit).
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app_pages import auth, ui  # noqa: E402

st.set_page_config(page_title="techgiants", page_icon="🕸️", layout="wide")

V = "app_pages/views/"
pages = {
    "Investigate": [
        st.Page(V + "search.py", title="Search", icon=":material/search:", default=True),
        st.Page(V + "profile.py", title="Entity profile", icon=":material/badge:"),
        st.Page(V + "explorer.py", title="Graph explorer", icon=":material/hub:"),
        st.Page(V + "map.py", title="Map", icon=":material/public:"),
    ],
    "Analyse": [
        st.Page(V + "saved_queries.py", title="Saved queries", icon=":material/bookmarks:"),
        st.Page(V + "cypher.py", title="Cypher", icon=":material/terminal:"),
        st.Page(V + "screening.py", title="Portfolio screening", icon=":material/account_balance_wallet:"),
    ],
    "About": [
        st.Page(V + "data.py", title="Data", icon=":material/database:"),
    ],
}
# the page the URL asks for is resolved first (so a deep link survives the sign-in), but neither the
# menu nor any page is shown until this session has signed in (a shared deployment)
page = st.navigation(pages, position="sidebar" if auth.signed_in() else "hidden")
auth.gate()
ui.sidebar(ui.store_url())
page.run()
