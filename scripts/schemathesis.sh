#!/usr/bin/env bash
# Runs schemathesis (every check, every phase) against a real api built from this tree, with a
# database of its own and the Redis of scripts/test.sh, and an analysis worker answering through
# the Ollama double (so jobs finish and their artifacts exist): once with NUL characters allowed
# in generated strings, once without. Any failure or error fails the script; the api's and the
# worker's logs and the JUnit reports are kept in target/schemathesis/.
#
#   scripts/schemathesis.sh                  both runs, 40 examples per operation
#   MAX_EXAMPLES=200 scripts/schemathesis.sh longer
#
# Needs: cargo, python3 (schemathesis is installed into a venv under ~/.cache), Postgres and
# Redis (DATABASE_URL / REDIS_URL, as scripts/test.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SCHEMATHESIS_VERSION=4.32.5
venv="${XDG_CACHE_HOME:-$HOME/.cache}/tradeforge/schemathesis-$SCHEMATHESIS_VERSION"
say() { printf '==> %s\n' "$*" >&2; }

if [[ ! -x "$venv/bin/st" ]]; then
  say "installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

export DATABASE_URL="${DATABASE_URL:-postgres://root@127.0.0.1:5432/postgres}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
db="tf_schemathesis_$$"
admin_url="$DATABASE_URL"
db_url="${DATABASE_URL%/*}/$db"
psql "$admin_url" -qc "CREATE DATABASE $db" >/dev/null

say "building api, worker and the Ollama double"
# One build of the three binaries, as scripts/stack-test.sh builds them: building `-p testkit` on
# its own resolves other features and recompiles half the dependencies (5 min on 2 cores).
cargo build -q --bin api --bin worker --bin ollama-double
scratch="$(mktemp -d)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port="$(free_port)"
bins="${CARGO_TARGET_DIR:-target}/debug"
root="$PWD"
out="$root/target/schemathesis"
mkdir -p "$scratch/results" "$scratch/data" "$out"
pids=()
"$bins/ollama-double" --addr 127.0.0.1:0 --print-addr >"$scratch/double.addr" &
pids+=($!)
for _ in $(seq 50); do [[ -s "$scratch/double.addr" ]] && break; sleep 0.1; done
export DATABASE_URL="$db_url" QUEUE_PREFIX="schemathesis-$$" RESULTS_DIR="$scratch/results" \
  DATA_DIR="$scratch/data" LOG_FORMAT=json
# The document is public here (DOCS_PUBLIC), so schemathesis can read it; every call it makes
# carries an admin key without quotas, and its `ignored_auth` check sends some without one.
# Offline (MARKET_DATA_PROVIDERS=csv): nothing here may reach the internet.
export MARKET_DATA_PROVIDERS=csv
API_ADDR="127.0.0.1:$port" SSE_MAX_LIFETIME_S=2 DOCS_PUBLIC=true "$bins/api" >"$out/api.log" 2>&1 &
pids+=($!)
OLLAMA_URL="http://$(head -1 "$scratch/double.addr")" OLLAMA_PULL=false WORKER_QUEUES=analysis \
  WORKER_HEALTH_ADDR="127.0.0.1:$(free_port)" "$bins/worker" >"$out/worker.log" 2>&1 &
pids+=($!)
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT

key="$("$bins/api" keys create --name schemathesis --scopes admin --submissions-per-minute unlimited \
  --max-active-jobs unlimited --training-flops-per-day unlimited 2>/dev/null)"

run() {
  local name="$1"; shift
  say "schemathesis: $name"
  # From target/schemathesis: whatever it writes of its own stays out of the source tree. No
  # example database: every run starts from the seed alone.
  (cd "$out" && "$venv/bin/st" --config-file "$root/scripts/schemathesis.toml" run \
    "http://127.0.0.1:$port/openapi.json" --wait-for-schema 30 --checks all \
    --phases examples,coverage,fuzzing,stateful --generation-database=none \
    --max-examples "${MAX_EXAMPLES:-40}" --workers 1 --seed "${SEED:-1}" \
    --header "Authorization: Bearer $key" \
    --report junit --report-junit-path "$name.xml" --no-color "$@")
}
run nul-allowed --generation-allow-x00=true
run nul-refused --generation-allow-x00=false --generation-codec=ascii
say "schemathesis: no failures"
