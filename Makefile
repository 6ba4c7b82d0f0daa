# evalfleet: `make demo` runs the demo sweep, `make test` runs the tests, `make check` lints and type-checks.
# Both do all set-up on a fresh Debian machine (as root): virtualenv, Docker engine, base images.

SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
DEMO_BUNDLES := demo/build/bundles/.built
PYTEST_ARGS ?=

.PHONY: demo test host-deps test-deps check lint typecheck fmt docker demo-data venv clean bench

venv: $(STAMP)

$(STAMP): pyproject.toml
	scripts/bootstrap-venv.sh "$(VENV)"
	touch "$@"

docker:
	scripts/ensure-docker.sh

$(DEMO_BUNDLES): $(shell find demo/repos -type f 2>/dev/null) demo/build.py
	python3 demo/build.py --out demo/build
	touch "$@"

demo-data: $(DEMO_BUNDLES)

demo: venv docker host-deps demo-data
	$(BIN)/evalfleet run configs/demo.yaml

test: venv docker test-deps demo-data
	$(BIN)/pytest $(PYTEST_ARGS)

host-deps:
	scripts/ensure-packages.sh debootstrap git patch

test-deps: host-deps
	scripts/ensure-packages.sh chromium node:nodejs docker-registry

check: lint typecheck

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

fmt: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: venv docker host-deps demo-data
	$(BIN)/python -m bench all

clean:
	rm -rf demo/build results .pytest_cache .mypy_cache .ruff_cache
