#!/usr/bin/env bash
# The abuse suite (issue 9): every hostile request of the issue's table against the release
# api and worker binaries, private Postgres and Redis servers (started here, in a scratch
# directory) and the Ollama double. One line of figures per scenario, then a table; exit 1 when
# any scenario failed (its logs are kept and the path printed). The OpenAPI row is
# scripts/schemathesis.sh.
#
#   scripts/abuse.sh                 every scenario (about 2 minutes once built)
#   scripts/abuse.sh lists streams   only these
#   scripts/abuse.sh --debug         debug binaries (quicker to build; the figures are not the ones to quote)
#
# Needs: cargo, postgresql (initdb, pg_ctl; run as root it uses the postgres user), redis-server.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

profile=release
args=()
for arg in "$@"; do
  case "$arg" in
    --debug) profile=debug ;;
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) args+=("$arg") ;;
  esac
done

command -v redis-server >/dev/null || { echo "redis-server not found: install redis-server" >&2; exit 1; }
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null ||
  { echo "initdb not found: install postgresql" >&2; exit 1; }
command -v mkfifo >/dev/null || { echo "mkfifo not found: install coreutils" >&2; exit 1; }

flags=()
[[ "$profile" == release ]] && flags+=(--release)
echo "==> building api, worker and abuse ($profile)" >&2
cargo build -q "${flags[@]}" -p api -p worker -p abuse
# 2 000 event streams and 900 slow connections at once, on both ends.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
bins="${CARGO_TARGET_DIR:-target}/$profile"
exec "$bins/abuse" --bins "$bins" "${args[@]}"
