# The two commands of the README. Both need only Python 3.11 (with venv) on a fresh Debian machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint format benchmark diagrams fuzz

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "Open http://127.0.0.1:8000 and log in with one of the demo logins above;"
	@echo "the first login sets up two-factor authentication with an authenticator app (see README)."
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

# Schemathesis against /api/schema/ with real API keys, on a throwaway database (scripts/fuzz_api.sh).
fuzz: $(STAMP)
	bash scripts/fuzz_api.sh

# Every benchmark against its physical limit, one table (printed, never asserted; docs/benchmarks.md
# keeps the last one). Set DATABASE_URL=postgres://... to measure on PostgreSQL; BENCH_ARGS=--quick
# for smaller data.
benchmark: $(STAMP)
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# State diagrams drawn from the code (django-fsm); needs Debian's graphviz and the graphviz package.
diagrams: $(STAMP)
	$(BIN)/pip install --quiet graphviz
	for m in pathways.Trajectory referrals.Referral billing.Invoice; do \
	  name=$$(echo $$m | cut -d. -f2 | tr A-Z a-z); \
	  $(BIN)/python manage.py graph_transitions $$m.state -o docs/$$name-states.png; \
	  mv docs/$$name-states docs/$$name-states.dot; \
	done
