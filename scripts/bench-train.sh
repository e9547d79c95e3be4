#!/usr/bin/env bash
# Training benchmark of the forecast crate (N-HiTS): the served forecaster against the best
# baseline on seasonal series that ship with PyPI packages and on seeded two-season synthetic
# series, with refit on and off; the faithful port against NeuralForecast's figures; seconds
# per step, peak RSS, and the matmul ceiling that bounds a step on this CPU. Prints markdown.
#
#   scripts/bench-train.sh                       # everything, seeds 1,2,3 (about 90 min on 2 cores)
#   PHASES=seasonal SEEDS=1 scripts/bench-train.sh
#
# PHASES: any of seasonal, refit, faithful, resources (default: all four).
# Data: ../shared/data beside the workspace (EURUSD, GOOG), or FORECAST_DATA_DIR; the seasonal
# series are written by scripts/seasonal-data.py (pinned statsmodels and pmdarima wheels from
# PyPI) and scripts/synthetic-seasonal.py into SEASONAL_DATA_DIR (default
# ~/.cache/tradeforge/seasonal). Timings are only meaningful on a quiet machine: check `uptime`.
set -euo pipefail
cd "$(dirname "$0")/.."

SEEDS=${SEEDS:-1,2,3}
STEPS=${STEPS:-500}
HONEST_STEPS=${HONEST_STEPS:-300}
PHASES=${PHASES:-seasonal,refit,faithful,resources}
export SEASONAL_DATA_DIR=${SEASONAL_DATA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tradeforge/seasonal}
SEASONAL=${SEASONAL:-SYN2S_HALFHOURLY,SYN2S_HOURLY,TAYLOR,CO2,ELNINO,AIRPASSENGERS,WINEIND,AUSBEER,EURUSD,GOOG}
REFIT_DATA=${REFIT_DATA:-SYN2S_HALFHOURLY,TAYLOR,CO2}
phase() { [[ ",$PHASES," == *",$1,"* ]]; }

cargo build --release -q -p forecast --example bench_train --example gemm_ceiling
bin=${CARGO_TARGET_DIR:-target}/release/examples
if phase seasonal || phase refit; then
  mkdir -p "$SEASONAL_DATA_DIR"
  scripts/seasonal-data.py "$SEASONAL_DATA_DIR" >&2
  scripts/synthetic-seasonal.py "$SEASONAL_DATA_DIR" >&2
fi

echo "# forecast training benchmark ($(date -u +%FT%TZ), $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg))"
if phase seasonal; then
  echo
  echo "## Honest recipe as the API serves it: seasons, calendar inputs and input window from the data, $HONEST_STEPS steps, refit, seeds $SEEDS"
  echo "Targets: served test MASE <= 1.02 x the best baseline on every series and seed; N-HiTS >= 10 % better than the best"
  echo "seasonal baseline on the two-season synthetic series; interval coverage within ±5 points of 80 / 95 there;"
  echo "EURUSD and GOOG served by a baseline."
  "$bin/bench_train" --recipe honest --data "$SEASONAL" --seeds "$SEEDS" --steps "$HONEST_STEPS"
fi
if phase refit; then
  echo
  echo "## The same without refit (the weights chosen before the folds are served)"
  echo "Target: refit improves or equals N-HiTS's test MASE on the seasonal series; s/step within 10 %."
  "$bin/bench_train" --recipe honest --data "$REFIT_DATA" --seeds "$SEEDS" --steps "$HONEST_STEPS" --refit off
fi
if phase faithful; then
  echo
  echo "## Faithful port: NeuralForecast defaults, robust scaler, $STEPS steps, seeds $SEEDS"
  echo "NeuralForecast 3.3.0 reference: EURUSD 6.24 ± 0.06, GOOG 2.32 ± 0.03 (target: mean within ±5%)."
  "$bin/bench_train" --recipe faithful --data EURUSD,GOOG --seeds "$SEEDS" --steps "$STEPS"
fi
if phase resources; then
  echo
  echo "## Peak RSS and time to first step (one EURUSD honest run, $HONEST_STEPS steps)"
  log=$(mktemp)
  /usr/bin/time -v "$bin/bench_train" --recipe honest --data EURUSD --seeds 1 --steps "$HONEST_STEPS" 2>"$log" | sed -n 5p
  grep -E "Maximum resident set size|Elapsed \(wall clock\)" "$log"
  rm -f "$log"
  echo
  echo "## What bounds a step: candle matmul on the step's shapes"
  echo "### both cores"
  "$bin/gemm_ceiling"
  echo "### one core"
  RAYON_NUM_THREADS=1 "$bin/gemm_ceiling"
fi
