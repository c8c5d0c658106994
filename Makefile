# Every target installs what it needs first (scripts/setup.sh is idempotent and quick when done).
VENV ?= .venv
BIN := $(VENV)/bin
export XPROJ_VENV := $(VENV)

.PHONY: setup demo test lint bench-projection bench-alignment-quality bench-alignment-speed \
	bench-translate bench-memory bench-projection-cost

setup:
	@bash scripts/setup.sh

demo: setup  ## the main job: project the sample (and Europarl when present), query, evaluate
	$(BIN)/xproj demo

test: setup  ## the whole test suite (slow tests included), as CI runs it
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check .

bench-projection: setup
	$(BIN)/python -m benchmarks.projection_quality

bench-alignment-quality: setup
	$(BIN)/python -m benchmarks.alignment_quality

bench-alignment-speed: setup
	$(BIN)/python -m benchmarks.alignment_speed

bench-translate: setup
	$(BIN)/python -m benchmarks.translate_throughput

bench-memory: setup
	$(BIN)/python -m benchmarks.pipeline_memory

bench-projection-cost: setup
	$(BIN)/python -m benchmarks.projection_cost

.PHONY: bench-entitycs-wikitext
bench-entitycs-wikitext: setup
	$(BIN)/python -m benchmarks.entitycs_wikitext

.PHONY: bench-wikidata-dump
bench-wikidata-dump: setup
	$(BIN)/python -m benchmarks.wikidata_dump

.PHONY: bench-answer-projection
bench-answer-projection: setup
	$(BIN)/python -m benchmarks.answer_projection

.PHONY: bench-constrained-translation
bench-constrained-translation: setup
	$(BIN)/python -m benchmarks.constrained_translation
