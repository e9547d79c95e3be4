#!/usr/bin/env bash
# Follows the logs of the Tradeforge stack (all services, or the ones named).
set -euo pipefail

usage() {
  cat <<'HELP'
Usage: scripts/docker-logs.sh [--tail N] [--no-follow] [service...]

Follows the logs of the named services (default: all), starting with the last N lines of each
(default 100). Services: api, worker (all replicas), postgres, redis, ollama, ollama-pull.
Example: scripts/docker-logs.sh worker api
HELP
}

die() { printf 'docker-logs: %s\n' "$*" >&2; exit 1; }

tail_lines=100
follow=(--follow)
services=()
while (($#)); do
  case "$1" in
    --tail) [[ $# -ge 2 ]] || die "--tail needs a number"; tail_lines="$2"; shift ;;
    --tail=*) tail_lines="${1#*=}" ;;
    --no-follow) follow=() ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option: $1" ;;
    *) services+=("$1") ;;
  esac
  shift
done
[[ "$tail_lines" =~ ^[0-9]+$ || "$tail_lines" == all ]] || die "--tail must be a number or 'all'"

cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v docker >/dev/null || die "docker is not installed"
docker compose version >/dev/null 2>&1 || die "Docker Compose v2 ('docker compose') is missing"

# Reading logs needs no password, but the compose files insist on one being set.
if ! grep -qs '^POSTGRES_PASSWORD=.' .env; then
  export POSTGRES_PASSWORD="${POSTGRES_PASSWORD:-unused-when-reading-logs}"
fi
exec docker compose -f docker-compose.yml -f docker-compose.override.yml -f docker-compose.gpu.yml \
  logs "${follow[@]}" --tail "$tail_lines" "${services[@]}"
