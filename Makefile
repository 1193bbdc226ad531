# The two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: setup stack demo test unit stop status schemas bench clean

$(STAMP): pyproject.toml
	@echo "setup: Python environment in $(VENV)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

setup: $(STAMP)

stack: setup
	@deploy/stack.sh start

## Sets up everything and runs stack, simulators, worker and the wall on http://127.0.0.1:8050 (Ctrl-C stops all).
demo: setup
	@deploy/demo.sh

## Sets up what the tests need (stack included) and runs the whole suite, in two lanes side by side:
## the fault tests (tests/faults, on private stacks of their own: they mostly wait on live feeds)
## beside the rest; the faults' report is printed when both have ended (its log: .run/test-faults.log).
FAULTS := tests/faults
test: setup
	@$(BIN)/lint-imports --no-cache
	@deploy/stack.sh start
	@deploy/browser.sh
	@mkdir -p .run; $(BIN)/pytest -p no:cacheprovider $(FAULTS) > .run/test-faults.log 2>&1 & faults=$$!; \
	  $(BIN)/pytest --ignore=$(FAULTS); rest=$$?; \
	  wait $$faults; rc=$$?; \
	  echo "=== $(FAULTS), run beside the rest (.run/test-faults.log) ==="; cat .run/test-faults.log; \
	  exit $$(( rest || rc ))

## Only the tests that need no services.
unit: setup
	@$(BIN)/pytest -m "not integration"

stop:
	@deploy/stack.sh stop

status:
	@deploy/stack.sh status

## Benchmarks, not part of `make test` (~25 min; `make bench BENCH_ARGS=--quick` ~5 min): writes
## bench/results/latest.json and docs/benchmarks.md, in a database and topics of their own.
bench: setup
	@deploy/stack.sh start
	@$(BIN)/python -m bench $(BENCH_ARGS)

schemas: setup
	@$(BIN)/ioc schemas --out docs/schemas

clean: stop
	rm -rf .run $(VENV)
