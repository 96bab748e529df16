#!/usr/bin/env bash
# ruff and the import contracts, then the whole suite on SQLite, then again on PostgreSQL:
#   DERMATOX_TEST_POSTGRES_URL when set, else a throwaway cluster (initdb + pg_ctl on a free loopback port).
# Fails if any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export PYTHONDONTWRITEBYTECODE=1

banner() { printf '\n==== %s ====\n' "$*"; }

# One pytest worker per core (pytest-xdist; at most 4), each with its own test database; a test file stays
# whole on one worker, so its module fixtures (a migrated demo database...) are set up once.
# DERMATOX_TEST_WORKERS=1 runs everything in one process.
WORKERS="${DERMATOX_TEST_WORKERS:-$(nproc 2>/dev/null || echo 1)}"
[ "$WORKERS" -le 4 ] || WORKERS=4
PARALLEL=()
if [ "$WORKERS" -gt 1 ] && [ $# -eq 0 ]; then PARALLEL=(-n "$WORKERS" --dist loadfile); fi
# schemathesis gives every operation of a contract test the same test id, and xdist runs one item per id:
# those files run in one process after the rest (tests/conftest.py refuses duplicate ids under xdist).
SERIAL=(tests/api/test_openapi_contract.py tests/fhir/test_fhir_contract.py)

# pytest ARGS...: the suite, in parallel when PARALLEL is set. Arguments given to this script (a file, -k …)
# run in one process, as given.
suite() {
  if [ ${#PARALLEL[@]} -eq 0 ]; then "$@"; return; fi
  "$@" "${PARALLEL[@]}" "${SERIAL[@]/#/--ignore=}"
  "$@" "${SERIAL[@]}"
}

ensure_tools() {
  # The browser tests drive Debian's Chromium (nothing downloads a browser); the PDF tests read the
  # printed documents back with poppler's pdftotext.
  local need=()
  [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || need+=(chromium)
  command -v pdftotext >/dev/null || need+=(poppler-utils)
  if [ ${#need[@]} -eq 0 ]; then return; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    banner "installing ${need[*]} for the browser and PDF tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "ERROR: the tests need: ${need[*]} (Chromium at ${CHROMIUM_PATH:-/usr/bin/chromium}, pdftotext)." >&2
    echo "       Install them (sudo apt-get install ${need[*]}) or set CHROMIUM_PATH." >&2
    exit 1
  fi
}

VALIDATOR=tests/fhir/validator
ensure_validator() {
  # tests/fhir/test_outside_validator.py judges our FHIR output with Medplum's validator (Node.js), pinned
  # in $VALIDATOR/package-lock.json. Installed with `npm ci` when node_modules is missing or was installed
  # from another lock file; without Node.js that test fails, it is never skipped.
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    local need=()
    command -v node >/dev/null || need+=(nodejs)
    command -v npm >/dev/null || need+=(npm)
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      banner "installing ${need[*]} for the FHIR validator"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
      echo "ERROR: the FHIR validator tests need Node.js and npm (missing: ${need[*]})." >&2
      echo "       Install them (sudo apt-get install ${need[*]}), then run: npm ci --prefix $VALIDATOR" >&2
      exit 1
    fi
  fi
  local stamp="$VALIDATOR/node_modules/.dermatox-lock" want
  want="$(cksum <"$VALIDATOR/package-lock.json")"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    banner "installing the FHIR validator (npm ci --prefix $VALIDATOR)"
    # Medplum 5 declares Node >= 22 (for its WebSocket global, which validation never uses; validate.mjs
    # stands one in): npm's engine warning is expected on Node 18 and 20, hence --loglevel=error.
    npm ci --prefix "$VALIDATOR" --no-audit --no-fund --ignore-scripts --prefer-offline --loglevel=error
    echo "$want" >"$stamp"
  fi
}

banner "ruff"
$BIN/ruff check src tests bench
$BIN/ruff format --check src tests bench
# The import contracts of pyproject.toml ([tool.importlinter], docs/architecture.md), on this tree's src/.
banner "import contracts"
PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" $BIN/lint-imports --no-cache
ensure_tools
ensure_validator

banner "tests on SQLite"
suite env -u DATABASE_URL $BIN/pytest "$@"

# No date bombs: the same suite (without the browser tests) with the clock moved two years ahead.
banner "tests on SQLite with the clock moved two years (730 days) ahead"
suite env -u DATABASE_URL DERMATOX_TEST_CLOCK_AHEAD_DAYS=730 $BIN/pytest --ignore=tests/e2e "$@"

if [ -n "${DERMATOX_TEST_POSTGRES_URL:-}" ]; then
  banner "tests on PostgreSQL at DERMATOX_TEST_POSTGRES_URL"
  DATABASE_URL="$DERMATOX_TEST_POSTGRES_URL" suite $BIN/pytest "$@"
  exit 0
fi

PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
if [ -z "$PGBIN" ] && command -v initdb >/dev/null; then PGBIN="$(dirname "$(command -v initdb)")"; fi
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  cat >&2 <<'MSG'

################################################################################
#  POSTGRESQL WAS NOT TESTED: no DERMATOX_TEST_POSTGRES_URL and no PostgreSQL  #
#  server binaries (initdb, pg_ctl). Install them (apt-get install postgresql)  #
#  or point DERMATOX_TEST_POSTGRES_URL at a server you may create databases on. #
################################################################################
MSG
  exit 0
fi

PGDIR="$(mktemp -d /tmp/dermatox-pg.XXXXXX)"
PORT="$($BIN/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PGDIR"; fi
stop_pg() {
  if [ -f "$PGDIR/data/postmaster.pid" ]; then
    kill -INT "$(head -1 "$PGDIR/data/postmaster.pid")" 2>/dev/null || true
    for _ in $(seq 50); do [ -f "$PGDIR/data/postmaster.pid" ] || break; sleep 0.1; done
  fi
  rm -rf "$PGDIR"
}
trap stop_pg EXIT

banner "starting a throwaway PostgreSQL ($PGBIN) on 127.0.0.1:$PORT"
as_pg "$PGBIN/initdb" -D "$PGDIR/data" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >"$PGDIR/initdb.log" 2>&1 \
  || { cat "$PGDIR/initdb.log" >&2; exit 1; }
as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/pg.log" -w -o \
  "-c listen_addresses=127.0.0.1 -p $PORT -k $PGDIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null || { cat "$PGDIR/pg.log" >&2; exit 1; }

banner "tests on PostgreSQL"
DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/postgres" suite $BIN/pytest "$@"
