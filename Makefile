# Stadtlotse: two commands do everything — `make run` and `make test`.
# `run` installs the runtime only; `test` adds the test tools. Both install the versions pinned
# in constraints.txt (`make lock` renews it after pyproject.toml changed).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet -c constraints.txt
RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test wheel lint bench chat lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e .
	touch $@

$(TEST_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e '.[test]'
	touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/stadtlotse run

chat: $(RUN_STAMP)
	$(BIN)/stadtlotse chat

test: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m services.i18n check
	$(BIN)/python -m pytest -q
	PYTHON=$(PYTHON) tools/check_wheel.sh

# the wheel as `pip install .` builds it, installed and run outside the checkout (part of test)
wheel:
	PYTHON=$(PYTHON) tools/check_wheel.sh

# every benchmark, then the broadcast at the configured Telegram limit, then the summary of the
# goals (bench/results/summary.json)
bench: $(TEST_STAMP)
	for script in $(filter-out bench/common.py bench/summary.py,$(wildcard bench/*.py)); do $(BIN)/python $$script || exit 1; done
	$(BIN)/python bench/broadcast.py --rate configured --count 3000 --databases postgresql --out broadcast_configured.json
	$(BIN)/python bench/summary.py

lock:
	tools/lock.sh

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
