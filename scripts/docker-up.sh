#!/usr/bin/env bash
# Builds and starts the whole Tradeforge stack with Docker Compose and waits until the API is
# healthy. Safe to re-run: it never overwrites .env and only recreates what changed.
set -euo pipefail

usage() {
  cat <<'HELP'
Usage: scripts/docker-up.sh [--workers N] [--gpu | --cpu] [--dev] [--no-build] [--timeout SECONDS]

Starts postgres, redis, ollama (plus a one-shot download of OLLAMA_MODEL), the api and N worker
replicas in the background, waits until the api is healthy, and prints where it is.

  --workers N        run N worker replicas (docker compose up --scale worker=N; 0: none); default 1
  --gpu, --cpu       force GPU or CPU mode (the same as GPU=1 / GPU=0 in the environment);
                     default: GPU mode when `docker info` lists an NVIDIA runtime
  --dev              development mode: also load docker-compose.override.yml (hot reload,
                     debug logs, Postgres and Redis on 127.0.0.1)
  --no-build         use the images already built
  --timeout SECONDS  how long to wait for a healthy api (default 900, 1800 with --dev; WAIT_TIMEOUT)
  -h, --help         show this help

The first run creates .env from .env.example with your user id (APP_UID/APP_GID, so that the
files the workers write to ./results are yours), random Postgres and Redis passwords in
./secrets (a directory only you may enter; Compose mounts them as Docker secrets), and
./results and ./data (put market data CSV files, <SYMBOL>.csv, in ./data). On a stack without
API keys it makes the first admin key and keeps it in ./secrets/admin-api-key (yours only).
The API is published on 127.0.0.1 unless API_BIND (in .env) opens it.
HELP
}

say() { printf '==> %s\n' "$*"; }
die() { printf 'docker-up: %s\n' "$*" >&2; exit 1; }

workers=1
dev=0
build=1
gpu="${GPU:-auto}"
wait_timeout="${WAIT_TIMEOUT:-}"
while (($#)); do
  case "$1" in
    --workers) [[ $# -ge 2 ]] || die "--workers needs a number"; workers="$2"; shift 2 ;;
    --workers=*) workers="${1#*=}"; shift ;;
    --gpu) gpu=1; shift ;;
    --cpu) gpu=0; shift ;;
    --dev) dev=1; shift ;;
    --no-build) build=0; shift ;;
    --timeout) [[ $# -ge 2 ]] || die "--timeout needs a number of seconds"; wait_timeout="$2"; shift 2 ;;
    --timeout=*) wait_timeout="${1#*=}"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ "$workers" =~ ^[0-9]+$ ]] || die "--workers must be a whole number (0 starts no worker; got '$workers')"
if [[ -z "$wait_timeout" ]]; then
  if ((dev)); then wait_timeout=1800; else wait_timeout=900; fi
fi
[[ "$wait_timeout" =~ ^[0-9]+$ ]] || die "--timeout must be a number of seconds (got '$wait_timeout')"

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# ---- Docker and Compose v2 ------------------------------------------------------------------
command -v docker >/dev/null ||
  die "docker is not installed. Install Docker Engine (Linux) or Docker Desktop: https://docs.docker.com/get-docker/"
if ! compose_version="$(docker compose version --short 2>/dev/null)"; then
  if command -v docker-compose >/dev/null; then
    die "found only the old docker-compose (v1); Tradeforge needs Compose v2 ('docker compose'): install the docker-compose-plugin package"
  fi
  die "Docker Compose v2 ('docker compose') is missing: install the docker-compose-plugin package (https://docs.docker.com/compose/install/linux/)"
fi
compose_version="${compose_version#v}"
IFS=. read -r compose_major compose_minor _ <<<"$compose_version"
if ! [[ "$compose_major" =~ ^[0-9]+$ && "$compose_minor" =~ ^[0-9]+$ ]] ||
  ((compose_major < 2 || (compose_major == 2 && compose_minor < 24))); then
  die "Docker Compose $compose_version is too old: 2.24 or newer is needed (optional env_file)"
fi
docker info >/dev/null 2>&1 ||
  die "cannot reach the Docker engine: is it running (sudo systemctl start docker), and may you use it (sudo usermod -aG docker \$USER, then log in again)?"

# ---- .env, ./results, ./data -------------------------------------------------------------------
env_value() { sed -n "s/^$1=//p" .env | tail -n 1; }

if [[ ! -f .env ]]; then
  uid="$(id -u)" gid="$(id -g)"
  # Root's files would be root's anyway: keep the image's unprivileged user instead.
  if [[ "$uid" == 0 ]]; then uid=10001 gid=10001; fi
  (
    umask 077
    sed -e "s/^APP_UID=.*/APP_UID=${uid}/" -e "s/^APP_GID=.*/APP_GID=${gid}/" .env.example >.env.tmp
    mv .env.tmp .env
  )
  say "created .env from .env.example with APP_UID=$uid APP_GID=$gid (edit .env for other settings; keep it private)"
fi

# ---- ./secrets: the Postgres and Redis passwords (Docker secrets), the first admin key --------
# The directory is its owner's alone; the files in it are readable by the containers' users
# (postgres and redis run as uid 999), which see only the files mounted into them.
random_secret() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
(umask 077 && mkdir -p secrets)
chmod 700 secrets
if [[ ! -s secrets/postgres_password ]]; then
  # An earlier version kept it in .env: a Postgres volume made then keeps that password.
  password="${POSTGRES_PASSWORD:-$(env_value POSTGRES_PASSWORD)}"
  printf '%s\n' "${password:-$(random_secret)}" >secrets/postgres_password
  say "made secrets/postgres_password${password:+ (from POSTGRES_PASSWORD in .env)}"
fi
if [[ ! -s secrets/redis_password ]]; then
  random_secret >secrets/redis_password
  say "made secrets/redis_password"
fi
chmod 644 secrets/postgres_password secrets/redis_password

mkdir -p results data
if [[ "$(id -u)" == 0 ]]; then
  chown "$(env_value APP_UID):$(env_value APP_GID)" results 2>/dev/null || true
fi

# ---- mode: files to load ---------------------------------------------------------------------
files=(-f docker-compose.yml)
((dev)) && files+=(-f docker-compose.override.yml)
# The development worker is cargo in the toolchain image, which has no CUDA build.
((dev)) && gpu=dev
case "$gpu" in
  dev) mode="CPU"; why="development mode (the GPU worker image is a release build)" ;;
  1 | yes | true) mode="GPU"; why="forced (GPU=1)" ;;
  0 | no | false) mode="CPU"; why="forced (GPU=0)" ;;
  auto)
    if [[ "$(docker info --format '{{json .Runtimes}}' 2>/dev/null)" == *nvidia* ]]; then
      mode="GPU"; why="\`docker info\` lists an NVIDIA runtime; GPU=0 forces CPU mode"
    else
      mode="CPU"; why="no NVIDIA runtime in \`docker info\`; GPU=1 forces GPU mode"
    fi
    ;;
  *) die "GPU must be 0, 1 or unset (got '$gpu')" ;;
esac
[[ "$mode" == GPU ]] && files+=(-f docker-compose.gpu.yml)
say "$mode mode: $why"
((dev)) && say "development mode: docker-compose.override.yml (hot reload; the first start compiles for minutes)"

compose() { docker compose "${files[@]}" "$@"; }

# ---- build and start -------------------------------------------------------------------------
if ((build)); then
  say "building images (the first build compiles all dependencies: several minutes)"
  compose build
fi

say "starting $workers worker(s); the first start downloads the model $(env_value OLLAMA_MODEL) (GBs, see: scripts/docker-logs.sh ollama-pull)"
up_log="$(mktemp)"
trap 'rm -f "$up_log"' EXIT
limit=()
command -v timeout >/dev/null && limit=(timeout "$wait_timeout")
started=$SECONDS

show_failing() {
  echo
  compose ps -a || true
  local service state health code
  local -A shown=()
  while IFS='|' read -r service state health code; do
    [[ -n "$service" && -z "${shown[$service]:-}" ]] || continue
    [[ "$state" == running && ( -z "$health" || "$health" == healthy ) ]] && continue
    [[ "$service" == ollama-pull && "$state" == exited && "$code" == 0 ]] && continue
    shown[$service]=1
    printf '\n---- last log lines of %s (%s%s) ----\n' "$service" "$state" "${health:+, $health}"
    compose logs --no-color --tail 40 "$service" 2>&1 || true
  done < <(compose ps -a --format '{{.Service}}|{{.State}}|{{.Health}}|{{.ExitCode}}' 2>/dev/null)
  local busy setting
  busy="$(grep -oiE '[0-9.]+:[0-9]+( failed: port is already allocated|: bind: address already in use)' "$up_log" |
    head -n 1 | sed -E 's/^[0-9.]+:([0-9]+).*/\1/')"
  if [[ -n "$busy" ]]; then
    setting=API_PORT
    [[ "$busy" == "$(env_value POSTGRES_PORT)" ]] && setting=POSTGRES_PORT
    [[ "$busy" == "$(env_value REDIS_PORT)" ]] && setting=REDIS_PORT
    echo "hint: port $busy is in use on this host (a local service?): set another $setting in .env"
  fi
  if grep -qiE 'could not select device driver|nvidia' "$up_log" && [[ "$mode" == GPU ]]; then
    echo "hint: the NVIDIA runtime is not usable: install the NVIDIA Container Toolkit, or run GPU=0 scripts/docker-up.sh"
  fi
}

if ! "${limit[@]}" docker compose "${files[@]}" up -d --remove-orphans --scale "worker=$workers" 2>&1 | tee "$up_log"; then
  if ((SECONDS - started >= wait_timeout)); then
    show_failing
    die "not up after ${wait_timeout}s; if ollama-pull is still downloading the model, wait and run scripts/docker-up.sh again"
  fi
  show_failing
  die "docker compose up failed (see above)"
fi

say "waiting for the api to be healthy"
while :; do
  status="$(compose ps -a --format '{{.State}}|{{.Health}}' api 2>/dev/null | head -n 1)"
  [[ "$status" == "running|healthy" ]] && break
  if [[ "$status" == exited* || "$status" == dead* ]] || ((SECONDS - started >= wait_timeout)); then
    show_failing
    die "the api is not healthy (${status:-no container}) after $((SECONDS - started))s"
  fi
  sleep 3
done

# ---- the first admin key -----------------------------------------------------------------------
# Made only while no live key exists (a fresh database); shown once, so it is kept in a file
# only this user may read.
key_file=secrets/admin-api-key
auth_mode="${AUTH_MODE:-$(env_value AUTH_MODE)}"
if [[ "${auth_mode:-required}" != disabled ]]; then
  api_bin=api
  ((dev)) && api_bin=/app/target/debug/api # cargo-watch's build in development mode
  new_key="$(compose exec -T api "$api_bin" keys create --name admin --scopes admin --if-none-exist 2>/dev/null)" ||
    die "could not make the first API key (docker compose exec api api keys create failed)"
  if [[ -n "$new_key" ]]; then
    (umask 077 && printf '%s\n' "$new_key" >"$key_file.tmp" && mv "$key_file.tmp" "$key_file")
    say "made the first admin API key: $key_file (keep it secret; more keys: scripts/api-key.sh create --name NAME)"
  fi
fi
bind="${API_BIND:-$(env_value API_BIND)}"
if [[ -n "$bind" && "$bind" != 127.* && "$bind" != "::1" && "$bind" != localhost ]]; then
  if [[ "${auth_mode:-required}" == disabled ]]; then
    printf '\nWARNING: API_BIND=%s publishes the API beyond this machine with AUTH_MODE=disabled:\n' "$bind" >&2
    printf 'anyone who can reach it may submit, read, cancel and retry every job. Set AUTH_MODE=required.\n\n' >&2
  else
    say "API_BIND=$bind: the API is reachable from other machines (keys required)"
  fi
fi

port="$(compose port api 8000 2>/dev/null | sed 's/.*://')"
port="${port:-$(env_value API_PORT)}"
base="http://localhost:${port:-8000}"
auth_header=""
[[ "${auth_mode:-required}" != disabled ]] && auth_header=" -H \"Authorization: Bearer \$(cat $key_file)\""
cat <<DONE

Tradeforge is up: $mode mode, $workers worker(s) (change with --workers N).
  API      $base   (every route but /health needs an API key; yours: $key_file)
  Docs     $base/docs   (send the key, or set DOCS_PUBLIC=true in .env)
  Results  ./results/<job id>/   (market data CSVs go in ./data/<SYMBOL>.csv)
  Logs     scripts/docker-logs.sh [service...]     Stop: scripts/docker-down.sh
  Keys     scripts/api-key.sh create --name alice | list | revoke ID

Submit a job (a trading-journal review; needs no market data):
  curl -s -X POST $base/jobs$auth_header -H 'content-type: application/json' \\
    -d '{"kind":"analysis","input":{"task":"journal","text":"Bought gold on the breakout, moved my stop twice and closed at a loss.","context":"gold scalping"}}'
then follow it with: curl -s$auth_header $base/jobs/<id>
DONE
