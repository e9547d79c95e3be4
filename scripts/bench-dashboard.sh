#!/usr/bin/env bash
# The dashboard's budget, measured: the jobs page with 10 000 jobs behind it (a user's month of
# history) rendered in headless Chromium from a local api, median and p95 over 20 loads of each
# view (first page, a filter, a filter on kind and symbol, the second page), with the page's
# weight (HTML + CSS + JS, uncompressed). Targets: first page ≤ 300 ms, weight ≤ 200 KB.
#
#   scripts/bench-dashboard.sh             debug binaries (as the tests build them)
#   scripts/bench-dashboard.sh --release   release binaries (what docker-up.sh runs)
#
# Needs what scripts/browser-test.sh needs (it installs chromium when missing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

profile=debug
[[ "${1:-}" == --release ]] && profile=release
if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
  echo "==> installing chromium and chromium-driver" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
flags=()
[[ "$profile" == release ]] && flags+=(--release)
echo "==> building api, worker and browser ($profile)" >&2
cargo build -q "${flags[@]}" --bin api --bin worker --bin browser
bins="${CARGO_TARGET_DIR:-target}/$profile"
mkdir -p target/browser
"$bins/browser" --bins "$bins" --shots "$PWD/target/browser" --bench
