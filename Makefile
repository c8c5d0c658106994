# Every target installs what it needs first (scripts/setup.sh is idempotent and quick when done).
VENV ?= .venv
BIN := $(VENV)/bin
export XPROJ_VENV := $(VENV)

.PHONY: setup demo test lint

setup:
	@bash scripts/setup.sh

demo: setup  ## the main job: project the sample (and Europarl when present), query, evaluate
	$(BIN)/xproj demo

test: setup  ## the whole test suite (slow tests included), as CI runs it
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check .

# make bench-NAME runs benchmarks/NAME.py (dashes for underscores), or the module named below;
# each writes benchmarks/results/<module>.json. NAME: projection, alignment-quality,
# alignment-speed, translate, memory, projection-cost, entitycs-wikitext, wikidata-dump,
# answer-projection, constrained-translation, segmentation, shard-size-quality, scale-out,
# report-scale.
BENCH_projection := projection_quality
BENCH_translate := translate_throughput
BENCH_memory := pipeline_memory

bench-%: setup
	@test -f benchmarks/$(or $(BENCH_$*),$(subst -,_,$*)).py || \
		{ echo "no benchmark $*: see the bench-NAME list in the Makefile"; exit 2; }
	$(BIN)/python -m benchmarks.$(or $(BENCH_$*),$(subst -,_,$*))
