# activelab — the two commands: `make demo` and `make test`. Both work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test lint install install-dev system-deps bench clean test-labelstudio

$(VENV)/.stamp-core: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e ".[cli,plot]"
	touch $@

$(VENV)/.stamp-dev: $(VENV)/.stamp-core pyproject.toml kernels/pyproject.toml kernels/setup.py \
		kernels/src/activelab_kernels/_linear.c kernels/src/activelab_kernels/_avx512.h \
		kernels/src/activelab_kernels/_avx2.h
	$(PIP) install -q -e ".[all,dev,multilabel-data,quantile]"
	# the optional compiled scoring kernels: built wherever a C compiler and Python's headers
	# are (a failed build then fails here); elsewhere numpy is used and their tests are skipped
	if $(PY) -c "import os, shutil, sysconfig; raise SystemExit(not ((shutil.which('cc') or shutil.which('gcc')) and os.path.isfile(os.path.join(sysconfig.get_paths()['include'], 'Python.h'))))"; then \
	  $(PIP) install -q --force-reinstall --no-deps ./kernels; \
	else echo "note: no C compiler or Python headers: the compiled kernels are skipped"; fi
	# the deep extra: torch's CPU wheel (pinned; an unpinned torch pulls a CUDA build)
	$(PIP) install -q torch==2.13.0 || echo "note: torch==2.13.0 not installable here; torch tests will be skipped"
	touch $@

install: $(VENV)/.stamp-core
install-dev: $(VENV)/.stamp-dev

# Debian packages the tests drive for real: headless chromium (browser tests) and PostgreSQL.
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium postgresql >/dev/null; \
	  else \
	    echo "note: run as root (or install chromium and postgresql) to enable browser/PostgreSQL tests"; \
	  fi; \
	fi

demo: install
	$(VENV)/bin/activelab simulate --data digits --strategies margin,entropy,vote_entropy,random \
	  --seeds 3 --initial 20 --batch 10 --budget 300 --model logreg --out runs/demo

test: install-dev system-deps
	$(VENV)/bin/ruff check src tests benchmarks
	$(PY) -m pytest -q -x -p no:cacheprovider

lint: install-dev
	$(VENV)/bin/ruff check src tests benchmarks

bench: install-dev
	@ls benchmarks/*.py

# Opt-in: a real Label Studio 1.23.2 in its own venv (~1 GB), connected to our ML backend.
test-labelstudio: install-dev
	bash scripts/test-labelstudio.sh

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache src/*.egg-info
