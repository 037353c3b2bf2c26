VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck pytest demo dist bench clean

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

# The pyright the dev extra installs, pointed at this virtualenv; no check for a newer
# release (it would ask PyPI).
.PHONY: pyright
pyright: $(STAMP)
	PYRIGHT_PYTHON_IGNORE_WARNINGS=1 $(PY) -m pyright --pythonpath $(PY)

# The other clients the end-to-end tests drive LocalLambda with: the AWS CLI v1 in a
# virtualenv of its own (awscli pins docutils below what the dev extra's twine needs), and,
# where npm is installed, the AWS SDK for JavaScript v3 under tests/js. The CLI's install must
# succeed (PyPI is needed for .venv anyway); without npm, or if its install fails, the JS SDK's
# test is skipped, saying why.
CLI_VENV ?= .venv-awscli
CLI_STAMP := $(CLI_VENV)/.installed
JS_STAMP := tests/js/node_modules/.installed

$(CLI_STAMP):
	python3 -m venv $(CLI_VENV)
	$(CLI_VENV)/bin/python -m pip install --quiet 'awscli>=1.32,<2'
	touch $(CLI_STAMP)

$(JS_STAMP):
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "npm is not installed: the AWS SDK for JavaScript's test will be skipped"; \
	elif ! npm install --prefix tests/js --no-save --no-audit --no-fund --loglevel=error \
			'@aws-sdk/client-lambda@^3'; then \
		echo "npm install failed: the AWS SDK for JavaScript's test will be skipped"; \
	else \
		touch $(JS_STAMP); \
	fi

.PHONY: peers
peers: $(CLI_STAMP) $(JS_STAMP)

# In parallel (pytest-xdist, a worker per CPU), then the tests marked serial on their own.
pytest: $(STAMP) peers
	LAMBDACLIENT_AWS_CLI='$(CLI_VENV)/bin/aws' $(PY) -m pytest -q -n auto -m "not serial"
	LAMBDACLIENT_AWS_CLI='$(CLI_VENV)/bin/aws' $(PY) -m pytest -q -m serial

test: lint typecheck pyright pytest

# A weighted alias on the embedded LocalLambda: the observed split per version.
demo: $(STAMP)
	$(PY) -m lambdaclient.demo

# The sdist and the wheel in dist/, built as a publisher would (an isolated build), and
# checked the way PyPI reads them.
dist: $(STAMP)
	rm -rf dist
	$(PY) -m build --outdir dist .
	$(PY) -m twine check --strict dist/*

BENCH_VENV ?= .venv-bench
BENCH_PY := $(BENCH_VENV)/bin/python
BENCH_STAMP := $(BENCH_VENV)/.installed

$(BENCH_STAMP): pyproject.toml
	python3 -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install --quiet --upgrade pip
	$(BENCH_PY) -m pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

# Not part of the tests: figures printed for a person to read, ratios measured in one run.
bench: $(BENCH_STAMP)
	$(BENCH_PY) bench/compare.py
	$(BENCH_PY) bench/get_alias.py
	$(BENCH_PY) bench/invoke_memory.py
	$(BENCH_PY) bench/local_lambda.py
	$(BENCH_PY) bench/telemetry.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) $(CLI_VENV) tests/js/node_modules build dist *.egg-info
