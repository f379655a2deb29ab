# Danube ICT Good Practice Knowledge Base
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
# Links in e-mails, printed credentials and feeds point here; set it when the site is served elsewhere.
KB_BASE_URL ?= http://$(HOST):$(PORT)
export KB_BASE_URL

.DEFAULT_GOAL := help
.PHONY: help install run setup test test-postgres test-wagtail test-modelsearch lint format clean

help: ## List the targets and what each does
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-16s %s\n", $$1, $$2}'

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed ## Create .venv and install the dependencies

setup: install ## Migrate, load the demo content, build the search index, create the admin account
	mkdir -p var
	$(MANAGE) setup_site

run: setup ## Set everything up and serve the site at http://$(HOST):$(PORT) (make run PORT=8100)
	$(MANAGE) runserver $(HOST):$(PORT)

test: install ## Run the test suite (SQLite; browser tests need /usr/bin/chromium)
	$(BIN)/pytest

test-postgres: install ## Run the test suite on the PostgreSQL server at 127.0.0.1:5432
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/kb} $(BIN)/pytest

# Wagtail's own search-related tests (page search, the admin's search, the choosers, snippets' listing,
# documents, the API), with our search backend as the default: every test of these modules whose
# name, class or module says "search".
WAGTAIL_SEARCH_TESTS := wagtail.tests.test_page_search wagtail.admin.tests.test_admin_search \
	wagtail.admin.tests.pages.test_page_search wagtail.documents.tests.test_search \
	wagtail.admin.tests.test_page_chooser wagtail.snippets.tests.test_chooser_views \
	wagtail.snippets.tests.test_list_view wagtail.documents.tests.test_document_chooser \
	wagtail.api.v2.tests.test_pages wagtail.api.v2.tests.test_documents

# Our pytest options (--strict-markers) are not Wagtail's: -o addopts= leaves them out.
test-wagtail: install ## Run Wagtail's search-related tests against our search backend
	$(BIN)/pytest -o addopts= -p no:cacheprovider -q --ds=tests.wagtail_suite.settings -k "search or Search" \
		--pyargs $(WAGTAIL_SEARCH_TESTS)

# modelsearch's BackendTests (modelsearch.tests.test_backends) with our search backend as the default, after
# modelsearch's own SQLite backend's run of them on the same database and fixture (the reference); SQLite
# only. Their fixture, search.json, is in modelsearch's repository but not on PyPI, so CI cannot run them:
# MODELSEARCH_FIXTURES names a folder holding it.
MODELSEARCH_FIXTURES ?=
MODELSEARCH_PYTEST = MODELSEARCH_FIXTURES=$(abspath $(MODELSEARCH_FIXTURES)) $(BIN)/pytest -o addopts= \
	-p no:cacheprovider -q --ds=tests.wagtail_suite.modelsearch_settings

test-modelsearch: install ## modelsearch's BackendTests against our backend (MODELSEARCH_FIXTURES=<folder of search.json>)
	@test -n "$(MODELSEARCH_FIXTURES)" -a -f "$(MODELSEARCH_FIXTURES)/search.json" || { \
		echo "make test-modelsearch needs modelsearch's test fixture, which PyPI does not ship:"; \
		echo "  make test-modelsearch MODELSEARCH_FIXTURES=<folder holding search.json>"; \
		echo "  (modelsearch/test/testapp/fixtures/search.json in modelsearch's repository)"; \
		echo "MODELSEARCH_FIXTURES='$(MODELSEARCH_FIXTURES)': no search.json there."; exit 2; }
	@echo "== modelsearch's own SQLite backend (reference)"
	$(MODELSEARCH_PYTEST) --pyargs modelsearch.tests.test_sqlite_backend
	@echo "== our backend: search.backend"
	$(MODELSEARCH_PYTEST) tests/wagtail_suite/modelsearch_backend.py

lint: install ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install ## Format the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean: ## Remove the virtualenv and local data (database, media, search index)
	rm -rf $(VENV) var
