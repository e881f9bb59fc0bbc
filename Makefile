# One place that defines how to run each thing; .ci/run calls `make test`.
VENV := .venv/bin
export DATA_LAKE_DIR ?= $(CURDIR)/data
export WAREHOUSE_EMBEDDED_DIR ?= $(CURDIR)/.warehouse

.PHONY: setup run stop test lint bench images env eval-extraction

setup:          ## create or refresh every environment (seconds when nothing changed)
	@bash scripts/setup.sh

run: setup      ## the local service (warehouse, Airflow, API) up, full_pipeline on the bundled sample through it
	@$(VENV)/medtel demo

stop:           ## stop the local service started by `make run`
	@$(VENV)/medtel stop

test: setup     ## the whole test suite
	@$(VENV)/python -m pytest $(PYTEST_ARGS)

lint: setup
	@$(VENV)/ruff check src tests dags plugins api images bench

eval-extraction: setup  ## precision and recall of product and price extraction on sample/extraction_eval
	@$(VENV)/python -m medical_telegram.transform.extraction_eval

bench: setup    ## benchmarks (not tests): each prints its figures; BENCH_ARGS=--small for the quick check
	@for b in bench/bench_*.py; do echo "== $$b"; $(VENV)/python $$b $(BENCH_ARGS) || exit 1; done

images: env     ## container images without a registry: engine, compose, debootstrap base, every image compose runs
	@bash scripts/images.sh $(IMAGES)

env:            ## .env with generated secrets for docker-compose.yaml, when there is none (never overwritten)
	@bash scripts/env.sh
