#!/usr/bin/env bash
# Fuzz the REST API with schemathesis against its own OpenAPI schema (/api/schema/), with valid
# API keys: no 5xx, and every response (status code, content type, body, headers) as documented.
#
# A throwaway database (PostgreSQL on 127.0.0.1:5432, else a temporary SQLite file; with CI=true a
# missing PostgreSQL fails the run) gets the migrations and the demo chain; the app runs on a free
# local port; schemathesis runs twice, bounded in examples and time:
#   1. a practice's referral-intake key over /api/patients and /api/referrals;
#   2. an insurer's claims key over /api/claims and the FHIR Claim and ClaimResponse endpoints.
# Everything it made (server, database, media, mail) is removed on exit. Exits non-zero on any
# failure. Which checks run, and the two narrow exceptions with their reasons: scripts/schemathesis.toml.
# Tuning: FUZZ_MAX_EXAMPLES (default 25 per operation and phase), FUZZ_MAX_TIME (seconds per run;
# schemathesis keeps fuzzing until it is spent, so a run takes 2 x FUZZ_MAX_TIME + about 30 s),
# FUZZ_SEED (default fixed, so CI is reproducible; "random" for a new one each run).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-.venv/bin/python}"
SCHEMATHESIS="${SCHEMATHESIS:-.venv/bin/schemathesis}"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-25}"
MAX_TIME="${FUZZ_MAX_TIME:-70}"
PG_HOST="${PGHOST:-127.0.0.1}"
PG_PORT="${PGPORT:-5432}"
PG_USER="${PGUSER:-postgres}"
IN_CI=false
[ "$(echo "${CI:-}" | tr '[:upper:]' '[:lower:]')" = "true" ] && IN_CI=true

started=$(date +%s)
workdir=$(mktemp -d "${TMPDIR:-/tmp}/smr-fuzz.XXXXXX")
server_pid=""
database=""

cleanup() {
    local status=$?
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [ -n "$database" ]; then
        dropdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" --if-exists --force "$database" \
            || echo "fuzz: could not drop database $database" >&2
    fi
    rm -rf "$workdir"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# -- a throwaway database -------------------------------------------------------------------------
if pg_isready -h "$PG_HOST" -p "$PG_PORT" -q 2>/dev/null; then
    database="smr_fuzz_$$"
    createdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$database"
    export DATABASE_URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$database"
elif [ "$IN_CI" = true ]; then
    echo "fuzz: CI=true but PostgreSQL on $PG_HOST:$PG_PORT is not reachable" >&2
    exit 1
else
    echo "fuzz: PostgreSQL not reachable; using a temporary SQLite database" >&2
    export DATABASE_URL="sqlite:///$workdir/fuzz.sqlite3"
fi

# The app as a developer runs it (DEBUG, embedded Celery), writing only into the temp folder.
export DEBUG=true
export OTP_REQUIRED=true
export CELERY_BROKER_URL="" CELERY_RESULT_BACKEND=""
export MEDIA_ROOT="$workdir/media"
export EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"
export LOG_LEVEL="${LOG_LEVEL:-WARNING}"
# The rate limit (600/min per key) is tested in tests/security; here it would only turn the
# fuzzer's burst of requests into 429s and hide what comes after.
export API_RATE="1000000/min"
unset SMR_TESTING

echo "fuzz: database $DATABASE_URL"
"$PYTHON" manage.py migrate --noinput >/dev/null
"$PYTHON" manage.py seed_demo >/dev/null
# Decide the demo's ended trajectories, so the insurer has claims to pull (none is fine too).
"$PYTHON" manage.py shell --verbosity 0 -c "
from billing.models import Claim
from billing.services import billing_collect
billing_collect()
print('fuzz: claims for UZOVI 9101:', Claim.objects.filter(uzovi='9101').count())
"

# Keys of the demo chain: practice De Linde (AGB 01051234) and insurer Zuidwest (UZOVI 9101).
intake_key=$("$PYTHON" manage.py create_api_key --quiet --organisation-agb 01051234 \
    --purpose referral_intake --name "schemathesis intake")
claims_key=$("$PYTHON" manage.py create_api_key --quiet --uzovi 9101 \
    --purpose claims --name "schemathesis claims")

# -- the app --------------------------------------------------------------------------------------
port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
"$PYTHON" manage.py runserver "127.0.0.1:$port" --noreload >"$workdir/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 60); do
    if curl -fsS "$base/healthz" >/dev/null 2>&1; then
        break
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "fuzz: the server did not start:" >&2
        cat "$workdir/server.log" >&2
        exit 1
    fi
    sleep 0.5
done
curl -fsS "$base/healthz" >/dev/null

# -- schemathesis ---------------------------------------------------------------------------------
seed=(--seed "${FUZZ_SEED:-20260501}")
[ "${FUZZ_SEED:-}" = "random" ] && seed=()
failed=0
# One worker: with two, schemathesis' threads now and then trip CPython 3.11's "AST constructor
# recursion depth mismatch" (python/cpython#106905) inside hypothesis, a runtime error of the fuzzer.
fuzz() {
    local label=$1 key=$2 paths=$3
    echo
    echo "fuzz: $label ($paths)"
    timeout --kill-after=10 $((MAX_TIME + 60)) \
        "$SCHEMATHESIS" --config-file scripts/schemathesis.toml run "$base/api/schema/" \
        --header "Authorization: Api-Key $key" \
        --include-path-regex "$paths" \
        --max-examples "$MAX_EXAMPLES" \
        --max-time "$MAX_TIME" \
        "${seed[@]}" \
        --workers 1 \
        --request-timeout 20 \
        --generation-database none \
        --no-color \
        || failed=1
}
fuzz "referral-intake key of practice 01051234" "$intake_key" '^/api/(patients|referrals)'
fuzz "claims key of insurer 9101" "$claims_key" '^/(api/claims|fhir/Claim)'

# A crash schemathesis did not see (or could not tell apart) still shows in the server's log.
if grep -q "Traceback" "$workdir/server.log"; then
    echo "fuzz: the server logged a traceback:" >&2
    grep -B2 -A40 "Traceback" "$workdir/server.log" >"$workdir/tracebacks.txt" || true
    head -n 200 "$workdir/tracebacks.txt" >&2
    failed=1
fi

echo
echo "fuzz: done in $(($(date +%s) - started)) s"
exit "$failed"
