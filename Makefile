# Two commands do all the setup: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
CHROMIUM ?= /usr/bin/chromium

.PHONY: install test-dependencies run worker test test-fast lint audit lock chromium pdf-libraries bench-load demo-data clean translations

# Exactly the releases tested, each checked against its hash (requirements/*.lock, written by
# `make lock`): a release replaced on the index, or a new one, is not installed unnoticed.
# The project itself comes after, without dependencies of its own choosing (setuptools' notice
# that an editable install is one is silenced; the wheel test catches real packaging warnings).
$(BIN)/.installed: pyproject.toml requirements/app.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/app.lock
	PYTHONWARNINGS=ignore::UserWarning $(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(BIN)/.tested: $(BIN)/.installed requirements/test.lock
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/test.lock
	touch $@

install: $(BIN)/.installed  ## install the project and its Python dependencies (requirements/app.lock) into .venv

test-dependencies: $(BIN)/.tested  ## add what the tests and the audit need (requirements/test.lock)

# pip-compile runs from a venv of its own, never the project's; the locks keep their pins
# unless UPGRADE=1 asks for the newest releases pyproject.toml allows. The test lock is
# constrained by the app lock, so that both install the same release of every package.
LOCK_TOOLS ?= $(or $(TMPDIR),/tmp)/mapapp-lock-tools
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
	$(if $(UPGRADE),--upgrade)
lock:  ## regenerate requirements/app.lock and requirements/test.lock (pins with hashes); UPGRADE=1 for newer releases
	$(PYTHON) -m venv $(LOCK_TOOLS)
	$(LOCK_TOOLS)/bin/python -m pip install --quiet pip-tools
	CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_TOOLS)/bin/pip-compile $(LOCK_FLAGS) --extra serve \
		-o requirements/app.lock pyproject.toml
	CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_TOOLS)/bin/pip-compile $(LOCK_FLAGS) --extra serve --extra test \
		-c requirements/app.lock -o requirements/test.lock pyproject.toml

# The job worker (imports, syncs, PDF reports) runs beside the server and stops with it:
# Ctrl-C reaches both, and whichever ends first takes the other down.
run: install pdf-libraries  ## create the catalogue if needed, load the demo data into an empty one, serve the map and run the job worker
	$(BIN)/mapapp init
	$(BIN)/mapapp load-demo --if-empty
	$(BIN)/mapapp worker & worker=$$!; trap 'kill -INT $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; $(BIN)/mapapp serve --host $(HOST) --port $(PORT)

worker: install  ## run the job worker alone (when the server runs elsewhere, e.g. under gunicorn)
	$(BIN)/mapapp worker

# Browser tests drive Debian's chromium through Playwright; never a downloaded browser.
chromium:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then \
		sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "chromium is missing at $(CHROMIUM): install Debian's package 'chromium' (the browser tests need it)"; exit 1; \
	fi

# Project reports are PDFs made by WeasyPrint, which draws text with Debian's Pango.
PDF_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
pdf-libraries:
	@if dpkg -s $(PDF_PACKAGES) >/dev/null 2>&1 || ! command -v apt-get >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's Pango for the PDF reports"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PDF_PACKAGES) >/dev/null; \
	elif command -v sudo >/dev/null; then \
		sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PDF_PACKAGES) >/dev/null; \
	else \
		echo "warning: $(PDF_PACKAGES) are missing: the PDF reports will not work until they are installed"; \
	fi

# The throughput benchmark drives the app with wrk, behind Debian's nginx (not needed by the tests).
LOAD_PACKAGES := nginx-light wrk
bench-load: install  ## throughput at 1,000,000 organisations, with and without nginx (scripts/bench_load.py)
	@if dpkg -s $(LOAD_PACKAGES) >/dev/null 2>&1 || ! command -v apt-get >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(LOAD_PACKAGES) >/dev/null; \
	elif command -v sudo >/dev/null; then \
		sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(LOAD_PACKAGES) >/dev/null; \
	fi
	$(BIN)/python scripts/bench_load.py

test: test-dependencies chromium pdf-libraries  ## install everything the tests need and run the whole suite, on both cores
	$(BIN)/python -m pytest -n 2

test-fast: test-dependencies pdf-libraries  ## the loop while working: the suite without the browser and the slow checks, on both cores
	$(BIN)/python -m pytest -m "not browser and not slow" -n 2

# The rules are chosen in pyproject.toml ([tool.ruff.lint]); CI runs this before the tests.
lint: test-dependencies  ## ruff over the code, the tests and the scripts
	$(BIN)/ruff check mapapp tests scripts

audit: test-dependencies  ## known vulnerabilities in the installed packages (pip-audit; tolerant of no network)
	$(BIN)/python scripts/audit_dependencies.py

demo-data: install  ## regenerate data/demo/ from scripts/make_demo_data.py
	$(BIN)/python scripts/make_demo_data.py

clean:
	rm -rf $(VENV) .pytest_cache

translations: install  ## extract UI strings and update the catalogues in mapapp/translations, then compile them
	$(BIN)/pybabel extract -F mapapp/translations/babel.cfg -k _ -k N_ -k gettext -k gettext_in:2 -k ngettext:1,2 --no-location --no-wrap -o mapapp/translations/messages.pot .
	$(BIN)/pybabel update --no-wrap -i mapapp/translations/messages.pot -d mapapp/translations
	$(BIN)/pybabel compile -d mapapp/translations
