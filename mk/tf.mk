# Terraform static checks (issue #8). checkov lives in its own venv: its pins conflict with the app's.
TOOLS_VENV ?= .venv-tools
TOOLS_BIN := $(TOOLS_VENV)/bin
CHECKOV_VERSION := 3.3.30
TOOLS_STAMP := $(TOOLS_VENV)/.installed-checkov-$(CHECKOV_VERSION)

.PHONY: tools tf-fmt tf-check

$(TOOLS_STAMP):
	@test -x $(TOOLS_BIN)/python || $(PY) -m venv $(TOOLS_VENV)
	@echo '*' > $(TOOLS_VENV)/.gitignore
	$(TOOLS_BIN)/pip install -q --disable-pip-version-check checkov==$(CHECKOV_VERSION)
	@touch $(TOOLS_STAMP)

## tools: separate venv with checkov (pinned)
tools: $(TOOLS_STAMP)

## tf-fmt: terraform fmt -check (skipped with a warning when terraform is not installed)
tf-fmt:
	@if command -v terraform >/dev/null 2>&1; then \
	  terraform fmt -check -recursive -diff terraform; \
	else echo "warning: terraform not on PATH: fmt check skipped" >&2; fi

## tf-check: terraform fmt, python-hcl2 structural + contract tests, checkov
tf-check: setup tools tf-fmt
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/infra -k "not checkov_has_no_failed and not fmt_is_clean"
	$(TOOLS_BIN)/checkov -d terraform --config-file terraform/.checkov.yaml
