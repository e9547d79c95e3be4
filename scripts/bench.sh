#!/usr/bin/env bash
# Benchmarks the real binaries (release builds) against local Postgres and Redis and prints the
# figures next to the targets of issue 2. Each phase gets a fresh database and QUEUE_PREFIX;
# everything the script starts or creates is removed on exit.
set -euo pipefail
shopt -s lastpipe # `bench ... | record` records into this shell's variables

usage() {
  cat <<'HELP'
Usage: scripts/bench.sh [--phases LIST] [--duration S] [--samples N] [--drain N] [--concurrency N] [--auth MODE] [--no-build]

Phases (each on a fresh database and Redis prefix, with the Ollama double answering at once):
  idle   api + worker started, idle RSS, then pick-up latency of N one-at-a-time jobs
  post   api alone (no worker consuming), POST /jobs at 64 connections for S seconds
  drain  api pre-loads N journal jobs, then one worker process drains them

  --phases LIST     comma-separated subset of idle,post,drain (default: all three)
  --duration S      measured seconds of the POST phase (default 10, after 2 s warm-up)
  --samples N       pick-up samples (default 200)
  --drain N         jobs in the drain phase (default 5000)
  --concurrency N   ANALYSIS_CONCURRENCY of the worker (default 64)
  --auth MODE       required (default: every request carries an API key, made per phase with
                    no quota), quotas (the same, but the key's active-jobs quota is counted: set
                    to a billion, so it is checked on every job and never reached) or disabled
                    (AUTH_MODE=disabled: no key, the figures without access control)
  --no-build        use the existing release binaries
  --logs DIR        keep the processes' logs in DIR
  --results-in DIR  put RESULTS_DIR under DIR (default: a temporary directory under \$TMPDIR);
                    e.g. /dev/shm to take file-system costs out of the drain figure
  --results-on-ext4 put RESULTS_DIR on a fresh journaled ext4 (a 2 GiB image in \$TMPDIR,
                    loop-mounted; needs root): the file system a Docker volume has on a
                    typical host, free of the journal-less dev VM's inode-allocation cost

Environment: DATABASE_URL (default postgres://root@127.0.0.1:5432/postgres?sslmode=disable,
a loopback connection without TLS as in the compose stack; the role needs CREATEDB),
REDIS_URL (default redis://127.0.0.1:6379), DATABASE_MAX_CONNECTIONS (api and worker pool
size, default: the binaries' own), RUST_LOG (default: the binaries' own, info), CARGO_TARGET_DIR.
HELP
}

results_on_ext4=0 logs="" results_in="${TMPDIR:-/tmp}" phases=idle,post,drain duration=10 samples=200 drain_jobs=5000 concurrency=64 build=1 auth=required
while (($#)); do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --phases) phases="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --samples) samples="$2"; shift 2 ;;
    --drain) drain_jobs="$2"; shift 2 ;;
    --concurrency) concurrency="$2"; shift 2 ;;
    --auth) auth="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --logs) logs="$2"; shift 2 ;;
    --results-in) results_in="$2"; shift 2 ;;
    --results-on-ext4) results_on_ext4=1; shift ;;
    *) usage >&2; exit 2 ;;
  esac
done

[[ "$auth" =~ ^(required|quotas|disabled)$ ]] || { echo "bench: --auth is required, quotas or disabled" >&2; exit 2; }

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DATABASE_URL="${DATABASE_URL:-postgres://root@127.0.0.1:5432/postgres?sslmode=disable}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
bin="${CARGO_TARGET_DIR:-target}/release"

say() { printf '==> %s\n' "$*" >&2; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

psql "$DATABASE_URL" -qtAc 'SELECT 1' >/dev/null 2>&1 || { say "Postgres not reachable at $DATABASE_URL"; exit 1; }
[[ "$(redis-cli -u "$REDIS_URL" ping 2>/dev/null)" == "PONG" ]] || { say "Redis not reachable at $REDIS_URL"; exit 1; }

if ((build)); then
  say "building release binaries"
  cargo build --release -q -p api -p worker -p testkit -p bench
fi

# On an ext4 without a journal (this project's dev VMs' root), creating a file first skips,
# one by one, every inode of its block group freed in the last 60 s, and in the last 5 min
# while the inode table block holding it is dirty, which creating files next to them keeps it
# (`recently_deleted` in fs/ext4/ialloc.c, skipped when there is a journal). Deleting a run's
# 15 000 result files makes the next run pay that on each file it creates (measured with
# 5 000 directories of two files: 900-1 900/s within minutes of deletions, 7 600-9 300/s after,
# or at once on a journaled ext4), which a results volume in use never sees: wait the 5 min out,
# or use --results-on-ext4.
cleaned_marker="${TMPDIR:-/tmp}/tradeforge-bench.cleaned"
ext4_image="" ext4_mount=""
if ((results_on_ext4)); then
  [[ "$(id -u)" == 0 ]] || { say "--results-on-ext4 needs root (mount)"; exit 1; }
  ext4_image="$(mktemp -p "${TMPDIR:-/tmp}" tradeforge-bench-ext4.XXXXXX.img)"
  ext4_mount="$(mktemp -d -t tradeforge-bench-ext4.XXXXXX)"
  truncate -s 2G "$ext4_image"
  mkfs.ext4 -q -F "$ext4_image"
  mount -o loop "$ext4_image" "$ext4_mount"
  results_in="$ext4_mount"
  say "RESULTS_DIR on a fresh journaled ext4 ($ext4_image on $ext4_mount)"
elif [[ ",$phases," == *,drain,* && -e "$cleaned_marker" ]]; then
  # Only the drain phase creates result files; the others need not wait.
  since=$(($(date +%s) - $(stat -c %Y "$cleaned_marker")))
  if ((since < 310)); then
    say "waiting $((310 - since)) s: the previous bench deleted its result files $since s ago"
    sleep $((310 - since))
  fi
fi

run_id="bench$$$(date +%s)"
work="$(mktemp -d -t tradeforge-bench.XXXXXX)"
results_root="$(mktemp -d -p "$results_in" tradeforge-bench-results.XXXXXX)"
pids=() dbs=() prefixes=()

cleanup() {
  local pid db prefix
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for db in "${dbs[@]}"; do psql "$DATABASE_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
  for prefix in "${prefixes[@]}"; do
    redis-cli -u "$REDIS_URL" --scan --pattern "$prefix:*" | xargs -r -n 500 redis-cli -u "$REDIS_URL" del >/dev/null || true
  done
  if [[ -n "$logs" ]]; then
    mkdir -p "$logs"
    cp "$work"/*.log "$logs"/ 2>/dev/null || true
  fi
  if [[ -n "$ext4_mount" ]]; then
    umount "$ext4_mount" 2>/dev/null || true
    rm -rf "$work" "$ext4_mount" "$ext4_image"
  else
    rm -rf "$work" "${results_root:-}"
    touch "$cleaned_marker" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Whole-run bound: phases have their own timeouts, this catches anything else.
(
  trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
  sleep 900 & sleeper=$!
  wait "$sleeper" && { say "bench.sh: 15 minute limit reached"; kill -TERM $$; }
) &
watchdog=$!
pids+=("$watchdog")

free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 30000))
    ss -Htln "sport = :$port" | grep -q . || { echo "$port"; return; }
  done
}

wait_http() { # url seconds
  local deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null "$1" 2>/dev/null; do
    ((SECONDS < deadline)) || { say "timed out waiting for $1"; return 1; }
    sleep 0.1
  done
}

# CPU time (clock ticks) of our processes, Postgres (all backends plus reaped ones) and Redis,
# and of the whole machine, so each phase can say where the cores went.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
cpu_snap() { # pids of api worker double (0 = not running)
  local pg=0 pid postmaster
  for pid in $(pgrep -x postgres); do pg=$((pg + $(ticks "$pid"))); done
  postmaster="$(pgrep -xo postgres || true)"
  [[ -n "$postmaster" ]] && pg=$((pg + $(awk '{ print $16 + $17 }' "/proc/$postmaster/stat")))
  local redis=0
  for pid in $(pgrep -x redis-server); do redis=$((redis + $(ticks "$pid"))); done
  read -r _ user nice system idle iowait irq softirq steal _ </proc/stat
  echo "$(ticks "$1") $(ticks "$2") $(ticks "$3") $pg $redis $((user + nice + system + irq + softirq + steal)) $((idle + iowait))"
}
cpu_report() { # label start-snapshot end-snapshot
  local -a a b
  read -r -a a <<<"$2"
  read -r -a b <<<"$3"
  local hz; hz="$(getconf CLK_TCK)"
  awk -v label="$1" -v hz="$hz" -v a="${a[*]}" -v b="${b[*]}" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    for (i = 1; i <= 7; i++) d[i] = (y[i] - x[i]) / hz
    ours = d[1] + d[2] + d[3] + d[4] + d[5]
    printf "    CPU during %s: %.2f core-s busy of %.2f (api %.2f, worker %.2f, double %.2f, postgres %.2f, redis %.2f, everything else %.2f: the load generator, the kernel, other users)\n",
      label, d[6], d[6] + d[7], d[1], d[2], d[3], d[4], d[5], d[6] - ours
  }'
}

rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

declare -A R # results: key -> value
record() { # reads RESULT key=value lines from stdin, echoes everything
  local line
  while IFS= read -r line; do
    if [[ "$line" == RESULT\ *=* ]]; then
      line="${line#RESULT }"
      R["${line%%=*}"]="${line#*=}"
    else
      printf '    %s\n' "$line"
    fi
  done
}

# The Ollama double, shared by all phases: instant replies.
"$bin/ollama-double" --addr 127.0.0.1:0 --print-addr >"$work/double.addr" 2>"$work/double.log" &
double_pid=$!
pids+=("$double_pid")
for _ in $(seq 1 100); do [[ -s "$work/double.addr" ]] && break; sleep 0.05; done
ollama_url="http://$(head -n1 "$work/double.addr")"

# Per phase: a database, a Redis prefix, a results directory; exports the environment.
fresh_phase() {
  local phase="$1"
  export PHASE_DB="tf_${run_id}_$phase"
  psql "$DATABASE_URL" -qc "CREATE DATABASE $PHASE_DB" >/dev/null
  dbs+=("$PHASE_DB")
  export QUEUE_PREFIX="tf-$run_id-$phase"
  prefixes+=("$QUEUE_PREFIX")
  local base="${DATABASE_URL%%\?*}" query=""
  [[ "$DATABASE_URL" == *\?* ]] && query="?${DATABASE_URL#*\?}"
  export PHASE_URL="${base%/*}/$PHASE_DB$query"
  export RESULTS_DIR="$results_root/$phase" DATA_DIR="$work/data"
  mkdir -p "$RESULTS_DIR" "$DATA_DIR"
  api_port="$(free_port)"
  worker_port="$(free_port)"
}

start_api() {
  local mode=required
  [[ "$auth" == disabled ]] && mode=disabled
  DATABASE_URL="$PHASE_URL" API_ADDR="127.0.0.1:$api_port" AUTH_MODE="$mode" \
    "$bin/api" >"$work/api-$1.log" 2>&1 &
  api_pid=$!
  pids+=("$api_pid")
  wait_http "http://127.0.0.1:$api_port/health" 30
  unset TRADEFORGE_API_KEY
  if [[ "$mode" == required ]]; then
    local active=unlimited
    [[ "$auth" == quotas ]] && active=1000000000
    TRADEFORGE_API_KEY="$(DATABASE_URL="$PHASE_URL" "$bin/api" keys create --name bench \
      --submissions-per-minute unlimited --max-active-jobs "$active" \
      --training-flops-per-day unlimited 2>/dev/null)"
    export TRADEFORGE_API_KEY
  fi
}

start_worker() {
  DATABASE_URL="$PHASE_URL" WORKER_HEALTH_ADDR="127.0.0.1:$worker_port" WORKER_QUEUES=analysis \
    ANALYSIS_CONCURRENCY="$concurrency" OLLAMA_URL="$ollama_url" OLLAMA_PULL=false \
    "$bin/worker" >"$work/worker-$1.log" 2>&1 &
  worker_pid=$!
  pids+=("$worker_pid")
}

stop() { # pid: stops it and forgets it (its number may be reused by then)
  if kill "$1" 2>/dev/null; then wait "$1" 2>/dev/null || true; fi
  local kept=() pid
  for pid in "${pids[@]}"; do [[ "$pid" == "$1" ]] || kept+=("$pid"); done
  pids=("${kept[@]}")
}

bench() { timeout "$1" "$bin/bench" "${@:2}" | record; }

say "machine: $(nproc) cores, load average $(load); Postgres $(psql "$DATABASE_URL" -qtAc 'SHOW server_version'), synchronous_commit=$(psql "$DATABASE_URL" -qtAc 'SHOW synchronous_commit'), TLS to Postgres: $(psql "$DATABASE_URL" -qtAc 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'); RESULTS_DIR under $results_in"
R[load_start]="$(load)"

wants() { [[ ",$phases," == *",$1,"* ]]; }

# --- idle: RSS at rest, then pick-up latency --------------------------------------------------
if wants idle; then
fresh_phase idle
start_api idle
start_worker idle
wait_http "http://127.0.0.1:$worker_port/health" 30
sleep 2
R[rss_api_idle]="$(rss_mb "$api_pid")" R[rss_worker_idle]="$(rss_mb "$worker_pid")"
say "idle RSS after start-up: api ${R[rss_api_idle]} MB, worker ${R[rss_worker_idle]} MB"
say "pick-up latency: $samples jobs one at a time (load $(load))"
c0="$(cpu_snap "$api_pid" "$worker_pid" "$double_pid")"
bench 120 pickup --api "http://127.0.0.1:$api_port" --samples "$samples"
cpu_report pick-up "$c0" "$(cpu_snap "$api_pid" "$worker_pid" "$double_pid")"
R[rss_worker_pickup]="$(rss_mb "$worker_pid")"
stop "$worker_pid"; stop "$api_pid"
fi

# --- post: throughput and latency of submissions, no worker consuming -------------------------
if wants post; then
fresh_phase post
start_api post
sleep 1
say "POST /jobs, 64 connections, ${duration}s, auth $auth (load $(load))"
c0="$(cpu_snap "$api_pid" 0 0)"
bench $((duration + 60)) post --api "http://127.0.0.1:$api_port" --duration "$duration" --database-url "$PHASE_URL"
cpu_report "POST load" "$c0" "$(cpu_snap "$api_pid" 0 0)"
R[rss_api_load]="$(rss_mb "$api_pid")"
sleep 3
R[rss_api_after]="$(rss_mb "$api_pid")"
stop "$api_pid"
fi

# --- drain: N queued journal jobs, then one worker process -----------------------------------
if wants drain; then
fresh_phase drain
start_api drain
say "pre-loading $drain_jobs journal jobs (no worker running)"
bench 120 submit --api "http://127.0.0.1:$api_port" --count "$drain_jobs"
sleep 1
say "starting one worker (ANALYSIS_CONCURRENCY=$concurrency) and draining (load $(load))"
c0="$(cpu_snap "$api_pid" 0 "$double_pid")"
start_worker drain
bench 180 drain --database-url "$PHASE_URL" --count "$drain_jobs" --results-dir "$RESULTS_DIR"
cpu_report drain "$c0" "$(cpu_snap "$api_pid" "$worker_pid" "$double_pid")"
R[rss_worker_load]="$(rss_mb "$worker_pid")"
sleep 3
R[rss_worker_after]="$(rss_mb "$worker_pid")"
stop "$worker_pid"; stop "$api_pid"
fi
R[load_end]="$(load)"

# --- the table -----------------------------------------------------------------------------
v() { echo "${R[$1]:--}"; }
row() { printf '| %-34s | %20s | %-16s | %-4s |\n' "$1" "$2" "$3" "$4"; }
check() { # value op target
  [[ "$1" == "-" ]] && { echo "-"; return; }
  awk -v v="$1" -v t="$3" "BEGIN { exit !(v $2 t) }" && echo ok || echo MISS
}
echo
echo "Tradeforge bench $(date -u +%FT%TZ), $(nproc) cores, load average at start $(v load_start), at end $(v load_end)"
row "figure" "measured" "target" ""
row "----------------------------------" "--------------------" "----------------" "----"
row "POST /jobs accepted/s (64 conns)" "$(v post_rate)" ">= 5000" "$(check "$(v post_rate)" '>=' 5000)"
row "POST /jobs p50 / p99 / max ms" "$(v post_p50_ms) / $(v post_p99_ms) / $(v post_max_ms)" "p99 <= 25" "$(check "$(v post_p99_ms)" '<=' 25)"
row "POST non-202 answers" "$(v post_non202)" "0" "$(check "$(v post_non202)" '==' 0)"
row "every 202 durable in Postgres" "$(v post_durable)" "yes" "$(check "$(v post_durable)" '==' yes)"
row "drain $drain_jobs journal jobs/s" "$(v drain_rate)" ">= 2500" "$(check "$(v drain_rate)" '>=' 2500)"
row "  (worker launch -> all done)/s" "$(v drain_wall_rate)" "" ""
row "  failed / with result files" "$(v drain_failed) / $(v drain_files)" "0 / $drain_jobs" "$(check "$(v drain_files)" '==' "$drain_jobs")"
row "pick-up submit->running p50 ms" "$(v pickup_running_p50_ms)" "<= 50" "$(check "$(v pickup_running_p50_ms)" '<=' 50)"
row "pick-up submit->running p99 ms" "$(v pickup_running_p99_ms)" "<= 250" "$(check "$(v pickup_running_p99_ms)" '<=' 250)"
row "submit->succeeded (polled) p50 ms" "$(v pickup_succeeded_p50_ms)" "<= 10" "$(check "$(v pickup_succeeded_p50_ms)" '<=' 10)"
row "  p99 / submit->finished_at p50" "$(v pickup_succeeded_p99_ms) / $(v pickup_finished_p50_ms)" "" ""
row "RSS api idle / after load MB" "$(v rss_api_idle) / $(v rss_api_after)" "idle <= 30" "$(check "$(v rss_api_idle)" '<=' 30)"
row "RSS worker idle / after load MB" "$(v rss_worker_idle) / $(v rss_worker_after)" "idle <= 40" "$(check "$(v rss_worker_idle)" '<=' 40)"
row "  (api during load, worker drain)" "$(v rss_api_load) / $(v rss_worker_load)" "" ""
stop "$watchdog"
