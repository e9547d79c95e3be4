#!/usr/bin/env bash
# Manages the API keys of the running compose stack: the api binary's `keys` subcommand, run in
# the api container (it talks to the stack's Postgres).
#
#   scripts/api-key.sh create --name alice [--scopes submit,read,admin] [--expires-in 30d]
#                             [--submissions-per-minute N|unlimited] [--max-active-jobs N|unlimited]
#                             [--training-flops-per-day X|unlimited]
#   scripts/api-key.sh list
#   scripts/api-key.sh revoke ID|NAME
#
# `create` prints the key once, on stdout: keep it; only its hash is stored.
set -euo pipefail
case "${1:-}" in
  create | list | revoke | help | --help | -h) ;;
  *) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v docker >/dev/null || { echo "api-key: docker is not installed" >&2; exit 1; }
# The release image has `api` on PATH; development mode runs cargo-watch's build.
if docker compose exec -T api sh -c 'command -v api' >/dev/null 2>&1; then
  exec docker compose exec -T api api keys "$@"
fi
exec docker compose exec -T api /app/target/debug/api keys "$@"
