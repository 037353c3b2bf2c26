VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck pytest demo bench clean

$(PY):
	python3 -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(STAMP)
	$(PY) -m mypy

pytest: $(STAMP)
	$(PY) -m pytest -q

test: lint typecheck pytest

# A weighted alias on the embedded LocalLambda: the observed split per version.
demo: $(STAMP)
	$(PY) -m lambdaclient.demo

bench: $(STAMP)
	$(PY) bench/get_alias.py
	$(PY) bench/invoke_memory.py

clean:
	rm -rf $(VENV) build dist *.egg-info
