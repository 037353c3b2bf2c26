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

# The demo runs on the embedded local Lambda, which is not built yet.
demo: $(STAMP)
	@echo "lambdaclient $$($(PY) -c 'import lambdaclient; print(lambdaclient.__version__)') is installed in $(VENV)."
	@echo "The demo (a weighted rollout on the embedded local Lambda) arrives with lambdaclient.testing.LocalLambda."

bench: $(STAMP)
	$(PY) bench/get_alias.py
	$(PY) bench/invoke_memory.py

clean:
	rm -rf $(VENV) build dist *.egg-info
