# permitflow — every target sets itself up on a fresh clone.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PERMITFLOW_DATABASE_URL ?= sqlite:///var/permitflow.db
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: serve test lint bench demo migrate clean chromium screenshots lock

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# requirements.lock pins every distribution of a working install (`make lock` renews it).
$(STAMP): $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

lock: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip freeze --exclude-editable | LC_ALL=C sort > requirements.lock

migrate: $(STAMP)
	$(BIN)/permitflow db upgrade

serve: migrate
	$(BIN)/permitflow models import process_models
	$(BIN)/permitflow serve --host $(HOST) --port $(PORT)

# The browser tests drive Debian's Chromium; as root (CI) install it when missing, otherwise
# those tests skip and say why.
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
		|| echo "chromium is not installed and this is not root: the browser tests will skip"; }

test: $(STAMP) chromium
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -n 2 --cov --cov-report=term $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

demo: $(STAMP)
	$(BIN)/permitflow demo

# Re-take the README's screenshots of every page (docs/screenshots/).
screenshots: $(STAMP) chromium
	PERMITFLOW_SCREENSHOTS=docs/screenshots $(BIN)/pytest -n 0 -q -p no:cacheprovider tests/web/test_browser.py

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
