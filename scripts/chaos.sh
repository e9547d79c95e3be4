#!/usr/bin/env bash
# The chaos suite (issue 5): every fault scenario against the real api and worker binaries,
# private Postgres and Redis servers (started here, in a scratch directory, so restarts and
# wipes touch nothing else) and the Ollama double. One line of figures per scenario, then a
# table; exit 1 when any scenario failed (its logs are kept and the path printed).
#
#   scripts/chaos.sh                 CI variants of every scenario (about 2 minutes)
#   scripts/chaos.sh --long          1 000 jobs under repeated SIGKILLs, 31 s Ollama replies
#   scripts/chaos.sh kill redis      only these scenarios
#   scripts/chaos.sh --release ...   release binaries (default: debug, as the tests build them)
#
# Needs: cargo, postgresql (initdb, pg_ctl; run as root it uses the postgres user), redis-server.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

profile=debug
args=()
for arg in "$@"; do
  case "$arg" in
    --release) profile=release ;;
    -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) args+=("$arg") ;;
  esac
done

command -v redis-server >/dev/null || { echo "redis-server not found: install redis-server" >&2; exit 1; }
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null ||
  { echo "initdb not found: install postgresql" >&2; exit 1; }

flags=()
[[ "$profile" == release ]] && flags+=(--release)
echo "==> building api, worker and chaos ($profile)" >&2
cargo build -q "${flags[@]}" -p api -p worker -p chaos
bins="${CARGO_TARGET_DIR:-target}/$profile"
exec "$bins/chaos" --bins "$bins" "${args[@]}"
