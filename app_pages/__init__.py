"""The investigation workspace behind `streamlit run app.py` / `techgiants app`.

Layout:
- `text`, `logic`, `graphviz`, `screening`, `geo`, `library`: plain functions over a GraphStore,
  testable without Streamlit (and tested on both stores);
- `ui`: the thin Streamlit layer shared by the pages (store cache, tables, graph, downloads);
- `views/*.py`: one small script per page, registered with st.navigation in app.py.
"""
