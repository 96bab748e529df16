# The two commands: `make run` and `make test`. Both set everything up on a fresh machine.
VENV  := .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint bench scale load clean

$(STAMP): pyproject.toml requirements.lock
	@bash scripts/bootstrap.sh
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

run: $(STAMP)
	$(BIN)/dermatox migrate
	$(BIN)/dermatox demo --if-empty
	$(BIN)/dermatox serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	@bash scripts/test.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

bench: $(STAMP)
	$(BIN)/python bench/patient_page.py
	$(BIN)/python bench/assess.py
	$(BIN)/python bench/lot_recall.py
	$(BIN)/python bench/page_queries.py
	$(BIN)/python bench/bulk_export.py
	$(BIN)/python bench/csv_import.py

# Growth with clinic size (docs/benchmarks.md): DATABASE_URL names a PostgreSQL server where databases may be
# created; loads the demo at 10,000 and 100,000 patients (once) and times every page and API read at both.
scale: $(STAMP)
	$(BIN)/python bench/scale.py 10000 100000

# The load run (docs/benchmarks.md, "Load run"): DATABASE_URL names a PostgreSQL database holding
# `dermatox demo --patients N`. LOAD_USERS / LOAD_DURATION (default 20 users, 10m); not part of `make test`.
load: $(STAMP)
	$(BIN)/python bench/load/run.py

clean:
	rm -rf $(VENV) var/test-*.sqlite3*
