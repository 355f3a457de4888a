# Every target that needs Python packages builds .venv from scratch when it is
# missing or older than the project metadata, so a fresh clone needs only
# python3 and git.
PYTHON ?= python3
VENV   := .venv
BIN    := $(abspath $(VENV))/bin
STAMP  := $(VENV)/.installed
# Tests and the demo must find the plugin and the pinned kubectl first.
RUN    := PATH="$(BIN):$$PATH"

.PHONY: test demo lint fmt docs clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check .
	$(RUN) $(BIN)/python -m pytest

demo: $(STAMP)
	$(RUN) $(BIN)/python -m tests.fakekube demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# README's command reference is each command's --help; a test fails when they differ.
docs: $(STAMP)
	$(BIN)/python -m kubectl_war.docs README.md

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
