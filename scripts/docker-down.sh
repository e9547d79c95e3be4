#!/usr/bin/env bash
# Stops the Tradeforge stack. Volumes (jobs, queue, downloaded models) are kept unless -v.
set -euo pipefail

usage() {
  cat <<'HELP'
Usage: scripts/docker-down.sh [-v | --volumes] [--yes]

Stops and removes the stack's containers and network, whichever mode started them (production,
--dev, GPU). Postgres, Redis and Ollama data live in named volumes and are kept.

  -v, --volumes  also delete those volumes: every job and result row, the queue, and the
                 downloaded models (asks first; the files in ./results and ./data stay)
  -y, --yes      do not ask (for scripts)
  -h, --help     show this help
HELP
}

die() { printf 'docker-down: %s\n' "$*" >&2; exit 1; }

volumes=0
yes=0
while (($#)); do
  case "$1" in
    -v | --volumes) volumes=1 ;;
    -y | --yes) yes=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
  shift
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v docker >/dev/null || die "docker is not installed"
docker compose version >/dev/null 2>&1 || die "Docker Compose v2 ('docker compose') is missing"

# Every file, so that containers of any mode are found. Stopping needs no password, but the
# compose files insist on one being set: any value does when .env has none.
if ! grep -qs '^POSTGRES_PASSWORD=.' .env; then
  export POSTGRES_PASSWORD="${POSTGRES_PASSWORD:-unused-when-stopping}"
fi
compose=(docker compose -f docker-compose.yml -f docker-compose.override.yml -f docker-compose.gpu.yml)

args=(down --remove-orphans)
if ((volumes)); then
  if ((!yes)); then
    [[ -t 0 ]] || die "-v deletes all jobs, the queue and the downloaded models: add --yes to confirm without a terminal"
    echo "This deletes the volumes of the stack: all jobs and their results in Postgres, the Redis queue,"
    echo "the downloaded Ollama models and the development build cache. ./results and ./data stay."
    read -r -p "Type 'yes' to delete them: " answer
    [[ "$answer" == yes ]] || die "nothing deleted"
  fi
  args+=(--volumes)
fi
"${compose[@]}" "${args[@]}"
