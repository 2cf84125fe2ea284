# The two commands a new machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app portal
TEST_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test test-sqlite test-postgres test-browser test-topology install install-dev \
        translations extract-messages lint lock bench bench-deps browser-deps proxy-deps redis \
        serve-prod smoke-prod clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# Dependencies come from the lock files (exact versions, each file's hashes checked), the portal
# itself then without dependencies. requirements/runtime.txt: [project].dependencies;
# requirements/dev.txt: those and the dev extras, at the same versions.
$(VENV)/.installed: requirements/runtime.txt pyproject.toml | $(BIN)/activate system-deps
	$(BIN)/pip install -q --require-hashes -r requirements/runtime.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.installed-dev: requirements/dev.txt $(VENV)/.installed
	$(BIN)/pip install -q --require-hashes -r requirements/dev.txt
	touch $@

# Refresh the lock files from pyproject.toml after changing a dependency or to take new
# releases within its bounds: dev first (every package, newest allowed versions), then runtime
# from it (pip-compile keeps the pins already in its output file, so the two agree). Needs
# the dev install (pip-tools) and PyPI; commit both files.
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
lock: $(VENV)/.installed-dev
	$(PIP_COMPILE) --upgrade --extra dev -o requirements/dev.txt pyproject.toml
	cp requirements/dev.txt requirements/runtime.txt
	$(PIP_COMPILE) -o requirements/runtime.txt pyproject.toml

install: $(VENV)/.installed translations
install-dev: $(VENV)/.installed-dev translations

# Catalogs are compiled at install time; the .mo files are not committed.
translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d portal/translations

# Maintainers: refresh the catalogs after changing UI strings, then translate what is new.
# The keywords beside pybabel's defaults (gettext, _, ngettext, pgettext, npgettext): the lazy
# forms; "1c,2" marks a message context (a message is identified by its context and msgid).
# tests/test_i18n.py and tools/msgid_collisions.py read this line.
EXTRACT_KEYWORDS = -k _l -k lazy_gettext -k lazy_pgettext:1c,2 -k lazy_ngettext:1,2 -k lazy_npgettext:1c,2,3
extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg $(EXTRACT_KEYWORDS) -w 100 -o portal/translations/messages.pot .
	$(BIN)/pybabel update -w 100 --ignore-obsolete -i portal/translations/messages.pot -d portal/translations --no-fuzzy-matching

# `make run PORT=5401 HOST=0.0.0.0`: the address served.  Links that leave the page (feeds,
# emails, QR codes) use PORTAL_BASE_URL when it is set, else http://HOST:PORT; on a wildcard
# HOST (0.0.0.0, ::) each request's own address instead (see portal/urls.py).
HOST ?= 127.0.0.1
PORT ?= 5000
RUN_BASE_URL := $(if $(filter 0.0.0.0 ::,$(HOST)),,http://$(if $(findstring :,$(HOST)),[$(HOST)],$(HOST)):$(PORT))

run: install
	$(FLASK) db upgrade
	$(FLASK) demo
	PORTAL_BASE_URL="$${PORTAL_BASE_URL:-$(RUN_BASE_URL)}" $(FLASK) run --host $(HOST) --port $(PORT)

# Debian packages: chromium for the browser tests, a CJK font for pages and PDFs, the
# Pango/HarfBuzz libraries WeasyPrint renders PDFs with, and poppler-utils (pdftoppm,
# pdftotext -bbox-layout) with which the document tests look at the pages (needs root).
SYSTEM_PACKAGES := fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils
BROWSER_PACKAGES := chromium
define apt_ensure
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "the portal needs these Debian packages: sudo apt-get install $$missing"; exit 1; \
	  fi; \
	fi
endef
# nginx for the topology test (tests/topology: deploy/nginx.conf in front of two instances);
# the test runs its own nginx master on loopback ports, never the system's service.
PROXY_PACKAGES := nginx openssl
system-deps:
	$(call apt_ensure,$(SYSTEM_PACKAGES))
browser-deps: system-deps
	$(call apt_ensure,$(BROWSER_PACKAGES))
proxy-deps:
	$(call apt_ensure,$(PROXY_PACKAGES))

# The rate-limit test talks to a real Redis on 127.0.0.1:6379; start one if none answers.
redis:
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || { \
	  command -v redis-server >/dev/null || { \
	    if [ "$$(id -u)" = 0 ]; then apt-get install -y -qq redis-server >/dev/null; \
	    else echo "the tests need Redis: sudo apt-get install redis-server"; exit 1; fi; }; \
	  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null; \
	  sleep 1; }

lint: install-dev
	$(BIN)/ruff check .

# Every test: lint, the suite on SQLite, then on PostgreSQL when PORTAL_TEST_DATABASE_URL is set.
test: install-dev browser-deps proxy-deps redis lint
	env -u PORTAL_TEST_DATABASE_URL $(BIN)/pytest
	@if [ -n "$$PORTAL_TEST_DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL ($$PORTAL_TEST_DATABASE_URL)"; \
	  $(BIN)/pytest; \
	else \
	  echo "PORTAL_TEST_DATABASE_URL is not set: PostgreSQL run skipped (make test-postgres runs it)"; \
	fi

# A production install works: a fresh venv with `pip install .` only (no dev extras), the
# translations, a migrated SQLite database with the demo data, then every GET route and the
# document and photo uploads through the app (.ci/smoke_prod_install.sh; .ci/run runs it).
smoke-prod: system-deps
	PYTHON=$(PYTHON) bash .ci/smoke_prod_install.sh

test-sqlite: install-dev redis
	env -u PORTAL_TEST_DATABASE_URL $(BIN)/pytest

test-postgres: install-dev redis
	PORTAL_TEST_DATABASE_URL=$(TEST_PG_URL) $(BIN)/pytest

test-browser: install-dev browser-deps
	env -u PORTAL_TEST_DATABASE_URL $(BIN)/pytest -m browser

# nginx in front of two gunicorn instances (part of `make test`; alone here): on SQLite, and on
# PostgreSQL too when PORTAL_TEST_DATABASE_URL is set.
test-topology: install-dev proxy-deps redis
	env -u PORTAL_TEST_DATABASE_URL $(BIN)/pytest -m topology
	@if [ -n "$$PORTAL_TEST_DATABASE_URL" ]; then $(BIN)/pytest -m topology; fi

# Throughput of the pages next to /healthz, then a mixed read/write phase: gunicorn on 127.0.0.1, wrk
# (bench/run.py; settings in its docstring). PostgreSQL database `bench` on 127.0.0.1 by
# default (created if missing), or `make bench BENCH_DB=sqlite` (instance/bench.db).
BENCH_DB ?= postgres

bench-deps:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing wrk (Debian package)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else \
	    echo "make bench needs wrk: sudo apt-get install wrk"; exit 1; \
	  fi; }

bench: install bench-deps
	BENCH_DB=$(BENCH_DB) $(BIN)/python bench/run.py

serve-prod: install
	PORTAL_ENV=production $(BIN)/gunicorn -w 4 -b 127.0.0.1:8000 'portal:create_app()'

clean:
	rm -rf $(VENV) instance/portal.db* .pytest_cache .ruff_cache
