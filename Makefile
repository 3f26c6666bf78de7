# Two commands on a fresh machine: `make run` serves on SQLite under ./var, `make test` runs
# every test. Both build their own virtual environment in .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench clean assets

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

run: $(BIN)/.installed
	$(BIN)/intake serve

test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: $(BIN)/.installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) *.egg-info

# Refresh the staff console's committed front-end assets (intake/console/static/) from npm,
# at the versions pinned in the script. Needs node and npm; run and test never depend on it.
assets:
	bash scripts/vendor-assets.sh
