# Entry points for people and CI. Every target that needs tools runs `setup`
# first, which is idempotent and quick when the machine is ready.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup demo test lint sanity unit versions molecule bench build clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: ## Virtualenv, dependencies, Docker engine, systemd base image (idempotent)
	@bash scripts/setup.sh

demo: setup ## Bring up the local demo lab (containers standing in for staging)
	@bash scripts/demo.sh

test: ## The whole suite: setup, lint, sanity, unit, molecule (prints stage times)
	@bash scripts/test.sh

lint: setup ## yamllint, ansible-lint (production profile), shellcheck, changelog fragments, ruff
	@bash scripts/lint.sh

sanity: setup ## ansible-test sanity on a copy under ansible_collections/
	@bash scripts/sanity.sh

unit: setup ## pytest: unit and integration tests on this machine
	@bash scripts/pytest.sh

versions: setup ## Units and sanity on the oldest (2.16) and the newest (2.21) ansible-core
	@bash scripts/versions.sh

molecule: setup ## Every Molecule scenario; one with: make molecule SCENARIO=lab
	@bash scripts/molecule.sh $(SCENARIO)

bench: setup ## Benchmarks in bench/ (ratios against baselines, never pass/fail)
	@bash scripts/bench.sh

build: ## Build the collection tarball with ansible-galaxy (needs only the virtualenv)
	@bash scripts/setup.sh --ansible-only
	@.venv/bin/ansible-galaxy collection build --force --output-path .cache/dist .

clean: ## Remove lab containers; keeps the virtualenv and the base image
	@bash scripts/demo.sh --destroy
