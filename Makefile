# The two commands: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
WORKERS ?= 2

.PHONY: run test lint format typecheck install dev-install bootstrap clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

dev-install: $(VENV)/.dev-installed

bootstrap: install
	$(BIN)/python -m scripts.bootstrap

run: bootstrap
	$(BIN)/gunicorn --config gunicorn.conf.py --workers $(WORKERS) --bind 0.0.0.0:$(PORT) run:app

lint: dev-install
	$(BIN)/ruff check .
	$(BIN)/black --check --quiet .

typecheck: dev-install
	$(BIN)/mypy ml

format: dev-install
	$(BIN)/ruff check --fix .
	$(BIN)/black --quiet .

test: lint typecheck
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
