#!/usr/bin/env bash
# The browser suite: the dashboard in headless Chromium (Debian's chromium and chromedriver)
# against the real api and worker binaries, private Postgres and Redis (started by the suite,
# in a scratch directory) and the Ollama double. One line per scenario, `ok` or
# `FAILED: reason`; exit 1 when any failed (the logs are kept and the path printed).
# Screenshots go to target/browser/ in the checkout, wherever CARGO_TARGET_DIR points.
#
#   scripts/browser-test.sh                  every scenario (a few minutes)
#   scripts/browser-test.sh login xss        only these
#   scripts/browser-test.sh --release ...    release binaries (default: debug)
#
# Needs: cargo, postgresql (initdb, pg_ctl), redis-server; installs chromium and
# chromium-driver with apt when they are missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

profile=debug
args=()
for arg in "$@"; do
  case "$arg" in
    --release) profile=release ;;
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) args+=("$arg") ;;
  esac
done

if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
  echo "==> installing chromium and chromium-driver" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null
fi
command -v redis-server >/dev/null || { echo "redis-server not found: install redis-server" >&2; exit 1; }
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null ||
  { echo "initdb not found: install postgresql" >&2; exit 1; }

flags=()
[[ "$profile" == release ]] && flags+=(--release)
echo "==> building api, worker and browser ($profile)" >&2
cargo build -q "${flags[@]}" --bin api --bin worker --bin browser
bins="${CARGO_TARGET_DIR:-target}/$profile"
shots="$PWD/target/browser"
mkdir -p "$shots"
status=0
"$bins/browser" --bins "$bins" --shots "$shots" "${args[@]}" || status=$?
echo "==> screenshots: $shots" >&2
exit "$status"
