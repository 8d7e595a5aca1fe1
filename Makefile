# techgiants — the README's two commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STORE  ?= techgiants.lbdb

.PHONY: venv demo test test-fast bench docs clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

## demo: set up, load the bundled graph into the embedded store, open the app
demo: venv
	$(VENV)/bin/techgiants --store $(STORE) ingest bundled
	$(VENV)/bin/techgiants --store $(STORE) stats
	TECHGIANTS_STORE=$(STORE) $(VENV)/bin/streamlit run app.py --server.headless true --browser.gatherUsageStats false

## test: set up, start a real Neo4j 5.26 from Maven artifacts, run the whole suite on both stores, stop Neo4j
test: venv
	bash tests/run.sh $(ARGS)

## test-fast: the suite on the embedded store only (Neo4j tests skip)
test-fast: venv
	$(VENV)/bin/pytest -q $(ARGS)

bench: venv
	$(PY) -m bench.run_all

docs: venv
	$(VENV)/bin/techgiants schema-doc --out docs/schema.md

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis quarantine

## e2e: only the browser test (needs /usr/bin/chromium; `make test` installs it when run as root)
e2e: venv
	TECHGIANTS_E2E=1 $(VENV)/bin/pytest -q tests/test_app_e2e.py
