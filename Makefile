# Two commands do all the setup: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
CHROMIUM ?= /usr/bin/chromium

.PHONY: install run test audit chromium pdf-libraries demo-data clean translations

# The venv is rebuilt when pyproject.toml changes.
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,serve]'
	touch $@

install: $(BIN)/.installed  ## install the project and its Python dependencies into .venv

run: install pdf-libraries  ## create the catalogue if needed, load the demo data into an empty one, serve the map
	$(BIN)/mapapp init
	$(BIN)/mapapp load-demo --if-empty
	$(BIN)/mapapp serve --host $(HOST) --port $(PORT)

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

test: install chromium pdf-libraries  ## install everything the tests need and run the whole suite
	$(BIN)/python -m pytest

audit: install  ## known vulnerabilities in the installed packages (pip-audit; tolerant of no network)
	$(BIN)/python scripts/audit_dependencies.py

demo-data: install  ## regenerate data/demo/ from scripts/make_demo_data.py
	$(BIN)/python scripts/make_demo_data.py

clean:
	rm -rf $(VENV) .pytest_cache

translations: install  ## extract UI strings and update the catalogues in mapapp/translations, then compile them
	$(BIN)/pybabel extract -F mapapp/translations/babel.cfg -k _ -k N_ -k gettext -k gettext_in:2 -k ngettext:1,2 --no-location -o mapapp/translations/messages.pot .
	$(BIN)/pybabel update -i mapapp/translations/messages.pot -d mapapp/translations
	$(BIN)/pybabel compile -d mapapp/translations
