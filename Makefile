# nmfkit: `make demo` runs the main job, `make test` the whole test suite.
# Both create .venv and install what they need first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.nmfkit-installed

.PHONY: demo test lint bench venv clean chromium docs docs-build docs-clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# The demo needs only the applications' extra.
$(VENV)/.nmfkit-apps: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[apps]"
	touch $@

demo: $(VENV)/.nmfkit-apps
	$(BIN)/nmfkit demo

# Headless Chromium opens the HTML reports in the tests (Debian's package).
chromium:
	command -v chromium >/dev/null 2>&1 || (apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) || \
	  echo "chromium could not be installed; the browser tests will skip"

test: $(STAMP) chromium
	$(BIN)/ruff check src tests benchmarks examples docs conftest.py
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 -m "not gallery and not serial"
	$(BIN)/python -m pytest -m serial

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples docs conftest.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_mu.py

# The documentation site: docs/_build/html/index.html (warnings are errors;
# the gallery's examples run during the build).
$(VENV)/.nmfkit-docs: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	touch $@

docs: $(VENV)/.nmfkit-docs docs/_static/mathjax/tex-svg.js
	$(MAKE) docs-build

# MathJax from the npm registry, so that the maths render offline; without
# npm the pages load MathJax from its CDN instead (docs/conf.py).
docs/_static/mathjax/tex-svg.js:
	@if command -v npm >/dev/null 2>&1; then \
	  tmp=$$(mktemp -d) && (cd $$tmp && npm pack --silent mathjax@3 >/dev/null) && \
	  tar xzf $$tmp/mathjax-*.tgz -C $$tmp package/es5/tex-svg.js && \
	  mkdir -p $(@D) && mv $$tmp/package/es5/tex-svg.js $@ && rm -rf $$tmp || \
	  echo "MathJax could not be fetched with npm; the pages will load it from its CDN"; \
	else echo "npm not found; the pages will load MathJax from its CDN"; fi

# The build alone, with whatever environment BIN points to.
docs-build:
	MPLBACKEND=Agg $(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html
	@echo "open docs/_build/html/index.html"

docs-clean:
	rm -rf docs/_static/mathjax docs/_build docs/api/generated docs/auto_examples docs/benchmarks/_generated docs/sg_execution_times.rst

clean: docs-clean
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
