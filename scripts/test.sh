#!/usr/bin/env bash
# Runs the whole test suite against real Postgres and Redis.
#
# Uses DATABASE_URL / REDIS_URL when set (any database on the server: tests create their own
# from a template). Otherwise uses, or starts, local ones on the default ports.
set -euo pipefail

usage() {
  cat <<'HELP'
Usage: scripts/test.sh [cargo test arguments...]

Makes sure Postgres and Redis are reachable (DATABASE_URL, REDIS_URL; default: local servers,
started if installed but stopped), then runs every test of the workspace.
Example: scripts/test.sh -p api        # only the api crate's tests
HELP
}
[[ "${1:-}" == "-h" || "${1:-}" == "--help" ]] && { usage; exit 0; }

cd "$(dirname "${BASH_SOURCE[0]}")/.."

export DATABASE_URL="${DATABASE_URL:-postgres://root@127.0.0.1:5432/postgres}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"

say() { printf '==> %s\n' "$*" >&2; }

postgres_up() { psql "$DATABASE_URL" -qtAc 'SELECT 1' >/dev/null 2>&1; }
redis_up() { [[ "$(redis-cli -u "$REDIS_URL" ping 2>/dev/null)" == "PONG" ]]; }

ensure_postgres() {
  command -v psql >/dev/null || { say "psql not found: install postgresql-client (and a server, or set DATABASE_URL)"; exit 1; }
  postgres_up && return
  if command -v pg_ctlcluster >/dev/null && [[ -d /etc/postgresql ]]; then
    say "Postgres not reachable at $DATABASE_URL; starting the local cluster"
    for version in /etc/postgresql/*; do
      pg_ctlcluster --skip-systemctl-redirect "$(basename "$version")" main start 2>/dev/null || true
    done
    for _ in $(seq 1 30); do postgres_up && break; sleep 1; done
    # A fresh cluster has no role for us: create it (trust auth on loopback, as CI machines have).
    if ! postgres_up && command -v runuser >/dev/null; then
      runuser -u postgres -- psql -qc "CREATE ROLE $(whoami) SUPERUSER LOGIN" 2>/dev/null || true
    fi
  fi
  postgres_up || { say "Postgres is not reachable at $DATABASE_URL. Start it, or point DATABASE_URL at one (user needs CREATEDB)."; exit 1; }
}

ensure_redis() {
  command -v redis-cli >/dev/null || { say "redis-cli not found: install redis-tools (and redis-server, or set REDIS_URL)"; exit 1; }
  redis_up && return
  if command -v redis-server >/dev/null && [[ "$REDIS_URL" == "redis://127.0.0.1:6379"* ]]; then
    say "Redis not reachable at $REDIS_URL; starting a local one"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
    for _ in $(seq 1 30); do redis_up && break; sleep 0.5; done
  fi
  redis_up || { say "Redis is not reachable at $REDIS_URL. Start it, or point REDIS_URL at one."; exit 1; }
}

ensure_postgres
ensure_redis
say "Postgres: $(psql "$DATABASE_URL" -qtAc 'SHOW server_version')  Redis: $(redis-cli -u "$REDIS_URL" info server | sed -n 's/^redis_version:\(.*\)\r$/\1/p')"

# Two cores: tests are mostly I/O-bound against Postgres and Redis, so more threads than cores is fine.
export RUST_TEST_THREADS="${RUST_TEST_THREADS:-8}"
say "cargo test --workspace $*"
cargo test --workspace --all-targets --no-fail-fast "$@"
