# Dealgate: `make test` and `make run` are the two commands; the rest are parts of them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install kafka-jars run up down status test test-unit test-integration test-contract test-e2e bench chaos fuzz token clean

install: $(INSTALLED)
$(INSTALLED): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c requirements.lock -e '.[test,bench]'
	touch $@

kafka-jars: install            ## Kafka from Maven Central into ~/.cache/dealgate (first time only)
	$(BIN)/python -m deploy.kafka fetch >/dev/null

run: install kafka-jars        ## the whole system in the foreground; Ctrl-C stops it
	$(BIN)/python -m deploy.stack run

up: install kafka-jars         ## the same in the background; returns once every /readyz answers
	$(BIN)/python -m deploy.stack up

down:                          ## stop everything `make up` started
	$(BIN)/python -m deploy.stack down

status:
	$(BIN)/python -m deploy.stack status

test: install kafka-jars       ## the whole suite; starts PostgreSQL and Kafka itself
	$(BIN)/python -m pytest

test-unit: install
	$(BIN)/python -m pytest tests/unit

test-integration: install kafka-jars
	$(BIN)/python -m pytest tests/integration

test-contract: install
	$(BIN)/python -m pytest tests/contract

test-e2e: install kafka-jars
	$(BIN)/python -m pytest tests/e2e

bench: install kafka-jars      ## benchmarks against a real stack; prints a table
	$(BIN)/python -m bench.run

chaos: install kafka-jars      ## 10,000 registrations through killed brokers, workers and a PostgreSQL restart
	$(BIN)/python -m bench.chaos

fuzz: install kafka-jars       ## a long schemathesis run against every API with every role's token
	DEALGATE_FUZZ_EXAMPLES=200 $(BIN)/python -m pytest tests/e2e/test_fuzz.py

token: install                 ## e.g. make token ROLE=partner ARGS="--partner-id acme"
	$(BIN)/dealgate token --role $(ROLE) $(ARGS)

clean: down
	rm -rf var
