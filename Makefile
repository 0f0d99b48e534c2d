# Two commands do all set-up: `make review FILE=…` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: review explain test lint vscode workbench emacs analyzers clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## make review FILE=path/to/file.py [ARGS="--lines 10-40 --mode debate"]
review: $(STAMP)
	@test -n "$(FILE)" || { echo 'usage: make review FILE=path/to/file.py [ARGS="--lines 10-40"]' >&2; exit 2; }
	$(BIN)/fusion-ls review "$(FILE)" $(ARGS)

## make explain FILE=path/to/file.py ARGS="--lines 10-40"
explain: $(STAMP)
	@test -n "$(FILE)" || { echo 'usage: make explain FILE=path/to/file.py ARGS="--lines 10-40"' >&2; exit 2; }
	$(BIN)/fusion-ls explain "$(FILE)" $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy fusion_ls

## The VS Code extension: install, compile, unit tests, package the .vsix (needs Node 20 + npm).
vscode:
	cd editors/vscode && npm ci --no-audit --no-fund && npm run ci

## The extension in a real VS Code: code-server in headless Chromium, the .vsix just built,
## models from a loopback fake. Installs chromium/ripgrep (apt-get) and code-server (npm, cached
## under ~/.cache/fusion-ls/workbench) the first time; screenshots of failures in workbench/artifacts/.
WORKBENCH := editors/vscode/workbench
workbench: $(STAMP) vscode $(WORKBENCH)/node_modules/.package-lock.json
	code_server="$$($(WORKBENCH)/install.sh)" && \
	CODE_SERVER="$$code_server" FUSION_PYTHON="$(abspath $(BIN))/python" FUSION_LS="$(abspath $(BIN))/fusion-ls" \
	node $(WORKBENCH)/run.mjs

$(WORKBENCH)/node_modules/.package-lock.json: $(WORKBENCH)/package-lock.json
	cd $(WORKBENCH) && npm ci --no-audit --no-fund

## Emacs with eglot for tests/test_emacs.py: when missing, installed with apt-get if this runs as
## root (Debian bookworm: emacs-nox 28.2 and elpa-eglot 1.9; newer Emacs ship eglot). Otherwise
## it says so, and that test is skipped with the reason (under CI it fails instead).
EMACS_HAS_EGLOT := emacs --batch --eval "(progn (package-initialize) (require 'eglot))"
emacs:
	@if $(EMACS_HAS_EGLOT) >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "make: installing emacs-nox and elpa-eglot with apt-get (as root) for tests/test_emacs.py"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -q >/dev/null && \
	  { apt-get install -y -q emacs-nox elpa-eglot >/dev/null || \
	    apt-get install -y -q emacs-nox >/dev/null; } && $(EMACS_HAS_EGLOT) >/dev/null 2>&1; \
	else \
	  echo "make: no Emacs with eglot, and not root with apt-get: tests/test_emacs.py will skip" \
	       "(install emacs-nox and elpa-eglot, or eglot from GNU ELPA)"; \
	fi

## The analyzers found on PATH that are cheap to add, so their tests run instead of skipping:
## oxlint from npm into .venv/node (no root needed), shellcheck from Debian when run as root.
## Either may fail (no network, no root): its tests then skip and say why.
NODE_TOOLS := $(VENV)/node/node_modules/.bin
analyzers: $(STAMP)
	@test -x $(NODE_TOOLS)/oxlint || npm install --silent --no-audit --no-fund \
		--prefix $(VENV)/node oxlint@1.94.0 || echo "oxlint not installed; its tests will skip" >&2
	@command -v shellcheck >/dev/null || { test "$$(id -u)" = 0 && command -v apt-get >/dev/null \
		&& { apt-get install -y -qq shellcheck >/dev/null 2>&1 \
		     || { apt-get update -qq >/dev/null && apt-get install -y -qq shellcheck >/dev/null; }; }; } \
		|| echo "shellcheck not installed; its tests will skip" >&2

## The whole suite: lint, types, the VS Code extension (unit tests, then the real workbench),
## Emacs and the analyzers for their tests, every Python, Neovim and Emacs test.
test: lint vscode workbench emacs analyzers
	PATH="$(abspath $(NODE_TOOLS)):$$PATH" $(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
	rm -rf editors/vscode/node_modules editors/vscode/out editors/vscode/*.vsix
	rm -rf $(WORKBENCH)/node_modules $(WORKBENCH)/artifacts
