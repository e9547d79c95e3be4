#!/usr/bin/env python3
"""Seeded synthetic series with two seasons, as price CSVs for the forecast benchmark.

    scripts/synthetic-seasonal.py [--seed N] OUT_DIR      # N defaults to 7

Why: a control for the real seasonal series of scripts/seasonal-data.py. Here the truth is
known (two exact seasons, a linear trend, white noise of known sd), so a forecaster that
captures both seasons should approach the noise floor (RMSE ~ 1.0), and one that misses
the long season is visibly worse. Standard library only; the same seed gives the same
bytes on CPython 3.2 or later (random.Random(int) seeding and the pure-Python gauss are
stable there; math.sin would have to differ by far more than its usual ulp to change a
6-decimal value).

Files (header `timestamp,Open,High,Low,Close,Volume`, Open=High=Low=Close=value,
Volume=0, timestamps `YYYY-MM-DD HH:MM:SS`, every bar present, no gaps, no weekends
skipped), with t = 0, 1, ..., n-1 the bar index:

  SYN2S_HOURLY.csv      hourly from 2024-01-01 00:00:00 (a Monday), n = 24*7*20 = 3360:
      y(t) = 100 + 10*sin(2*pi*t/24) + 6*sin(2*pi*t/168 + 1.0) + 0.002*t + e(t)
  SYN2S_HALFHOURLY.csv  every 30 minutes from 2024-01-01 00:00:00, n = 48*7*12 = 4032:
      y(t) = 100 + 10*sin(2*pi*t/48) + 6*sin(2*pi*t/336 + 1.0) + 0.002*t + e(t)

e(t) ~ N(0, 1.0) drawn by rng.gauss(0.0, 1.0) once per bar in order of t, with
rng = random.Random(seed) created afresh for each file (hourly first). Values are written
with 6 decimals. The trend is 0.002 per bar in both files.

Prints one line per file: name, bars, first and last timestamp, sampling, sha256.
"""

import argparse
import datetime as dt
import hashlib
import math
import os
import random

START = dt.datetime(2024, 1, 1)  # a Monday

SERIES = [
    # name, bars, minutes per bar, short season, long season (in bars)
    ("SYN2S_HOURLY", 24 * 7 * 20, 60, 24, 168),
    ("SYN2S_HALFHOURLY", 48 * 7 * 12, 30, 48, 336),
]


def series(n, short, long, seed):
    rng = random.Random(seed)
    return [100.0 + 10.0 * math.sin(2 * math.pi * t / short)
            + 6.0 * math.sin(2 * math.pi * t / long + 1.0)
            + 0.002 * t + rng.gauss(0.0, 1.0)
            for t in range(n)]


def main():
    ap = argparse.ArgumentParser(description="Seeded two-season synthetic price CSVs.")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("out_dir")
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    for name, n, minutes, short, long in SERIES:
        vals = series(n, short, long, args.seed)
        stamps = [START + dt.timedelta(minutes=minutes * t) for t in range(n)]
        lines = ["timestamp,Open,High,Low,Close,Volume"]
        for ts, v in zip(stamps, vals):
            s = f"{v:.6f}"
            lines.append(f"{ts:%Y-%m-%d %H:%M:%S},{s},{s},{s},{s},0")
        path = os.path.join(args.out_dir, f"{name}.csv")
        data = ("\n".join(lines) + "\n").encode()
        with open(path, "wb") as f:
            f.write(data)
        print(f"{name}.csv {n} bars {stamps[0]:%Y-%m-%d %H:%M:%S} .. {stamps[-1]:%Y-%m-%d %H:%M:%S} "
              f"{minutes}min seasons {short},{long} seed {args.seed} "
              f"sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
