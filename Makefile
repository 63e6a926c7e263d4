# Atlas — the two commands that matter: `make run` and `make test`.
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -euo pipefail -c
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export ANONYMIZED_TELEMETRY := False
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup system-deps run test bench tf-check clean

## system-deps: apt packages the parser needs (tesseract) and the browser tests use (chromium), idempotent
system-deps:
	@if ! command -v tesseract >/dev/null 2>&1; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=$$( [ "$$(id -u)" = 0 ] && echo "" || echo sudo ); \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd >/dev/null; \
	  else echo "warning: tesseract-ocr missing and apt-get unavailable: OCR disabled" >&2; fi; \
	fi
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=$$( [ "$$(id -u)" = 0 ] && echo "" || echo sudo ); \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "warning: chromium missing and apt-get unavailable: tests/browser will skip" >&2; fi; \
	fi

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	# torch first and pinned: plain torch would pull a multi-GB CUDA build
	$(BIN)/pip install -q --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

## setup: venv + python deps + system deps
setup: system-deps $(STAMP)

## run: set up a fresh machine and start the service on embedded defaults (port 5601)
run: setup
	$(BIN)/atlas migrate
	$(BIN)/atlas serve --dev-key

## test: set up and run every test (tools: checkov in its own venv, see mk/tf.mk)
test: setup tools
	$(BIN)/python -m pytest -q -p no:cacheprovider tests

## bench: performance goals (JSON + markdown into bench/results/); BENCH="ingest_bench" runs only the named ones
bench: setup
	$(BIN)/python -m bench.run $(BENCH)

clean:
	rm -rf $(VENV) var .pytest_cache

-include mk/*.mk
