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
# only. Their fixture, search.json, is not in modelsearch's wheel or sdist. Wagtail 7.1's wheel on PyPI
# ships the same test app's fixture (wagtail/test/search/fixtures/search.json, from before modelsearch
# added meetings, animals and times to it): by default it is taken from there (pip download, once, into
# var/) and the 11 tests that need the data it lacks are left out. MODELSEARCH_FIXTURES=<folder holding
# modelsearch's own search.json> runs them all.
MODELSEARCH_FIXTURES ?=
MODELSEARCH_WAGTAIL_FIXTURE := var/modelsearch-fixture
MODELSEARCH_NEWER_DATA := test_order_by_time or test_search_on_nested_related_fields or \
	test_search_with_time_filter or test_search_with_time_in_filter or test_search_with_time_lt_filter or \
	test_search_with_time_range_filter or test_get_ancestors_filter or test_get_children_filter or \
	test_get_descendants_filter or test_get_root_nodes_filter or test_get_siblings_filter
MODELSEARCH_DIR = $(if $(MODELSEARCH_FIXTURES),$(MODELSEARCH_FIXTURES),$(MODELSEARCH_WAGTAIL_FIXTURE))
MODELSEARCH_PYTEST = MODELSEARCH_FIXTURES=$(abspath $(MODELSEARCH_DIR)) $(BIN)/pytest -o addopts= \
	-p no:cacheprovider -q --ds=tests.wagtail_suite.modelsearch_settings \
	$(if $(MODELSEARCH_FIXTURES),,-k "not ($(MODELSEARCH_NEWER_DATA))")

$(MODELSEARCH_WAGTAIL_FIXTURE)/search.json: | $(BIN)/python
	$(BIN)/pip download -q --no-deps --only-binary :all: -d $(MODELSEARCH_WAGTAIL_FIXTURE) wagtail==7.1.2
	$(BIN)/python -c "import zipfile, sys; z = zipfile.ZipFile(sys.argv[1]); \
		open(sys.argv[2], 'wb').write(z.read('wagtail/test/search/fixtures/search.json'))" \
		$(MODELSEARCH_WAGTAIL_FIXTURE)/wagtail-7.1.2-py3-none-any.whl $@

test-modelsearch: install $(if $(MODELSEARCH_FIXTURES),,$(MODELSEARCH_WAGTAIL_FIXTURE)/search.json) ## modelsearch's BackendTests against our backend
	@test -f "$(MODELSEARCH_DIR)/search.json" || { \
		echo "MODELSEARCH_FIXTURES='$(MODELSEARCH_FIXTURES)': no search.json there (modelsearch's own fixture,"; \
		echo "modelsearch/test/testapp/fixtures/search.json in its repository)."; exit 2; }
	@echo "== modelsearch's own SQLite backend (reference), fixture from $(MODELSEARCH_DIR)"
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
