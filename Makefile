# The two commands of the README: `make test` and `make demo`.
# Each creates .venv when missing and installs what it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo lint typecheck pytest install

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check cdl examples tests benchmarks scripts typesafety _cdl_cli.py
	$(BIN)/ruff format --check cdl examples tests benchmarks scripts typesafety _cdl_cli.py

typecheck: $(STAMP)
	$(BIN)/mypy cdl examples

# Test files are spread over one worker per core (a file's tests share a worker).
pytest: $(STAMP)
	$(BIN)/pytest -n auto --dist loadfile

test: lint typecheck pytest

demo: $(STAMP)
	$(BIN)/cdl demo addition --plot docs/images/addition.png \
		--diagram docs/images/addition-model.svg
