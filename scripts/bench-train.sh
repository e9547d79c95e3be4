#!/usr/bin/env bash
# Training benchmark of the forecast crate (N-HiTS, issue 3): accuracy of the faithful port
# and of the honest recipe on the protocol's data sets, seconds per step, time to the first
# step, peak RSS, and the matmul ceiling that bounds a step on this CPU. Prints markdown.
#
#   scripts/bench-train.sh            # seeds 1,2,3, 500 steps (about 15 minutes on 2 cores)
#   SEEDS=1 scripts/bench-train.sh    # one seed
#
# Data: ../shared/data beside the workspace, or FORECAST_DATA_DIR. Timings are only
# meaningful on a quiet machine: check `uptime` first.
set -euo pipefail
cd "$(dirname "$0")/.."

SEEDS=${SEEDS:-1,2,3}
STEPS=${STEPS:-500}
cargo build --release -q -p forecast --example bench_train --example gemm_ceiling
bin=target/release/examples

echo "# forecast training benchmark ($(date -u +%FT%TZ), $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "## Faithful port: NeuralForecast defaults, robust scaler, $STEPS steps, seeds $SEEDS"
echo "NeuralForecast 3.3.0 reference: EURUSD 6.24 ± 0.06, GOOG 2.32 ± 0.03 (target: mean within ±5%)."
"$bin/bench_train" --recipe faithful --data EURUSD,GOOG --seeds "$SEEDS" --steps "$STEPS"
echo
echo "## Honest recipe: validation tail, best weights, served = winner on validation"
echo "Target: served test MASE <= 1.02 x best baseline."
"$bin/bench_train" --recipe honest --data EURUSD,GOOG --seeds "$SEEDS" --steps "$STEPS"
echo
echo "## Peak RSS and time to first step (one EURUSD honest run, $STEPS steps)"
log=$(mktemp)
/usr/bin/time -v "$bin/bench_train" --recipe honest --data EURUSD --seeds 1 --steps "$STEPS" 2>"$log" | sed -n 4p
grep -E "Maximum resident set size|Elapsed \(wall clock\)" "$log"
rm -f "$log"
echo
echo "## What bounds a step: candle matmul on the step's shapes"
echo "### both cores"
"$bin/gemm_ceiling"
echo "### one core"
RAYON_NUM_THREADS=1 "$bin/gemm_ceiling"
