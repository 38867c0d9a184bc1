# Two entry points for a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install browser demo test lint typecheck unit bench docs

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[local,dev,llama,falkordb,postgres,server,mcp,test]'
	touch $@

install: $(VENV)/.installed browser

# the memory browser's end-to-end tests drive Debian's Chromium (never a downloaded browser)
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium and chromium-driver (for tests/server/ui)"; \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium chromium-driver; \
	  else \
	    echo "no apt-get: install Chromium yourself, or tests/server/ui is skipped"; \
	  fi; \
	fi

demo: install
	$(PY) examples/quickstart.py

lint: install
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples
	$(VENV)/bin/lint-imports --no-cache

typecheck: install
	$(VENV)/bin/mypy

test: lint typecheck
	$(VENV)/bin/pytest

unit: install
	$(VENV)/bin/pytest -m "not integration and not stress"

bench: install
	$(PY) benchmarks/bench_core.py

docs: install
	$(PY) -m memlane.cli._docs > docs/cli.md
