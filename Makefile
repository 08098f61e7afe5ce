# Dealgate: `make test` and `make run` are the two commands; the rest are parts of them.
# `make doctor` checks this machine for everything they need and says how to install what is missing.
VENV := .venv
BIN  := $(VENV)/bin

# Exactly Python 3.11: python3.11 first, then python3 if it is 3.11. `make PYTHON=/path/to/python3.11` overrides.
PYTHON ?= $(shell for p in python3.11 python3; do \
             $$p -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1 && command -v $$p && break; \
           done)
# The doctor runs before any venv exists, on whatever python3 there is (standard library only).
DOCTOR := PYTHON='$(PYTHON)' $(or $(PYTHON),python3) -m deploy.doctor

# A .venv built with another Python (or left broken) is rebuilt, not silently reused.
VENV_PYTHON := $(shell $(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
ifneq ($(VENV_PYTHON),3.11)
VENV_REBUILD := venv-rebuild
endif

PIP := $(BIN)/python -m pip install --disable-pip-version-check --progress-bar on -c requirements.lock
PYTEST_ARGS ?=
# IDP=keycloak: make run/up start a local Keycloak as the services' OpenID Connect issuer (deploy/keycloak.py).
IDP ?=
IDP_ARGS := $(if $(IDP),--idp $(IDP))
# BROKERS=3: a KRaft quorum of three brokers (topics replicated 3, min ISR 2) for make up/run/test/chaos;
# KAFKA_SECURITY=sasl_ssl: TLS and SASL on it, with a throwaway CA, a SCRAM user and ACLs per service (deploy/kafka.py).
BROKERS ?= 1
KAFKA_SECURITY ?= plaintext
KAFKA_ARGS := --brokers $(BROKERS) --kafka-security $(KAFKA_SECURITY)

.PHONY: doctor install install-test install-bench install-lint venv-rebuild kafka-jars keycloak-dist run up down status \
        test test-unit test-integration test-contract test-e2e bench chaos fuzz lint token clean

doctor:                        ## every prerequisite: ok, or missing with its install command
	@$(DOCTOR)

# -- the virtualenv: runtime packages for make run/up; the test, bench and lint extras only where needed --------
$(VENV)/pyvenv.cfg: $(VENV_REBUILD)
	@test -n "$(PYTHON)" || { $(DOCTOR) --for lint --brief || exit 1; \
	   echo "no Python 3.11 found: install one, or give it as make PYTHON=/path/to/python3.11"; exit 1; }
	@if [ -d $(VENV) ]; then echo "rebuilding $(VENV): its Python is $(or $(VENV_PYTHON),missing or broken), not 3.11"; \
	   rm -rf $(VENV); fi
	@echo "creating $(VENV) with $(PYTHON) ($$($(PYTHON) --version 2>&1))"
	$(PYTHON) -m venv $(VENV)

install: $(VENV)/.installed-runtime
$(VENV)/.installed-runtime: pyproject.toml requirements.lock $(VENV)/pyvenv.cfg
	@echo "installing the runtime packages into $(VENV) (first time: about a minute)"
	$(PIP) -e .
	touch $@

install-test: $(VENV)/.installed-test
$(VENV)/.installed-test: pyproject.toml requirements.lock $(VENV)/pyvenv.cfg
	@echo "installing the runtime and test packages into $(VENV) (first time: one to two minutes)"
	$(PIP) -e '.[test]'
	touch $@ $(VENV)/.installed-runtime

install-bench: $(VENV)/.installed-bench
$(VENV)/.installed-bench: pyproject.toml requirements.lock $(VENV)/pyvenv.cfg
	@echo "installing the runtime and bench packages into $(VENV)"
	$(PIP) -e '.[bench]'
	touch $@ $(VENV)/.installed-runtime

install-lint: $(VENV)/.installed-lint
$(VENV)/.installed-lint: pyproject.toml requirements.lock $(VENV)/pyvenv.cfg
	@echo "installing the runtime and lint packages into $(VENV)"
	$(PIP) -e '.[lint]'
	touch $@ $(VENV)/.installed-runtime

kafka-jars: install            ## Kafka from Maven Central into ~/.cache/dealgate (first time only)
	@$(BIN)/python -m deploy.kafka fetch >/dev/null

keycloak-dist: install         ## Keycloak, the e2e identity provider, into ~/.cache/dealgate (first time only)
	@$(BIN)/python -m deploy.keycloak fetch >/dev/null

# -- the two commands and their parts ------------------------------------------------------------------------------
run: doctor-run install kafka-jars $(if $(IDP),keycloak-dist)   ## the whole system in the foreground; Ctrl-C stops it
	$(BIN)/python -m deploy.stack run $(IDP_ARGS) $(KAFKA_ARGS)

up: doctor-run install kafka-jars $(if $(IDP),keycloak-dist)   ## in the background; returns once every /readyz answers
	$(BIN)/python -m deploy.stack up $(IDP_ARGS) $(KAFKA_ARGS)

down:                          ## stop everything `make up` started
	@test ! -x $(BIN)/python || $(BIN)/python -m deploy.stack down

status:
	@test -x $(BIN)/python || { echo "no $(VENV) yet: nothing was started"; exit 0; }; $(BIN)/python -m deploy.stack status

test: doctor-test install-test kafka-jars keycloak-dist chart-check   ## the whole suite, layer by layer; starts PostgreSQL and Kafka itself
	DEALGATE_TEST_BROKERS=$(BROKERS) $(BIN)/python -m pytest --durations=15 --durations-min=1 $(PYTEST_ARGS)

test-unit: install-test
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

test-contract: install-test
	$(BIN)/python -m pytest tests/contract $(PYTEST_ARGS)

test-integration: doctor-test install-test kafka-jars
	DEALGATE_TEST_BROKERS=$(BROKERS) $(BIN)/python -m pytest --durations=10 --durations-min=1 tests/integration $(PYTEST_ARGS)

test-e2e: doctor-test install-test kafka-jars keycloak-dist
	DEALGATE_TEST_BROKERS=$(BROKERS) $(BIN)/python -m pytest --durations=10 --durations-min=1 tests/e2e $(PYTEST_ARGS)

bench: doctor-bench install-bench kafka-jars   ## benchmarks against real stacks; fails if any part fails
	$(BIN)/python -m bench.run $(BENCH_ARGS)

chaos: doctor-chaos install kafka-jars   ## 10,000 registrations through killed brokers, workers and a PostgreSQL restart
	$(BIN)/python -m bench.chaos --brokers $(BROKERS) --kafka-security $(KAFKA_SECURITY) $(CHAOS_ARGS)

fuzz: doctor-test install-test kafka-jars keycloak-dist   ## a long schemathesis run against every API with every role's token
	DEALGATE_FUZZ_EXAMPLES=200 $(BIN)/python -m pytest tests/e2e/test_fuzz.py

lint: install-lint             ## ruff, then mypy (its file list is in pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/mypy

token: install                 ## e.g. make token ROLE=partner ARGS="--partner-id acme"
	$(BIN)/dealgate token --role $(ROLE) $(ARGS)

clean: down
	rm -rf var

# What each command needs, checked first so that it stops with the doctor's message instead of deep inside.
.PHONY: doctor-run doctor-test doctor-bench doctor-chaos
doctor-run doctor-test doctor-bench doctor-chaos: doctor-%:
	@$(DOCTOR) --for $* --brief

include deploy/ship.mk
