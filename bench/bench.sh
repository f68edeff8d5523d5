#!/usr/bin/env bash
# Benchmarks `gep` against a baseline commit, side by side on this machine.
#
#   bench/bench.sh [BASE_REF] [RUNS]     # defaults: HEAD~1, 7 runs per case
#   BENCH_COUNTIES="117 2850" bench/bench.sh ...   # national sizes (default 117 2850 30000;
#                                        # with 3 runs the whole script takes ~30 min here)
#   BENCH_TWIN_MAX=0 bench/bench.sh ...  # largest size the pandas twin runs at (default 2850:
#                                        # ~40 s there, ~10 min at 30,000)
#
# Builds the working tree and BASE_REF in release (one target dir), then runs each case
# RUNS times, alternating base and current so that machine load hits both alike, and prints
# the median wall time and peak RSS of each with the ratio current / base. Then, for each
# national size, the current binary beside two references run in this script on the same
# workbook: the I/O floor (examples/io_floor.rs: calamine reads the input, rust_xlsxwriter writes
# the cells and formulas of gep's book) and the pandas + openpyxl twin (bench/pandas_twin.py),
# and gep's own stages (GEP_TIMING) with the peak RSS reached by each. Nothing is asserted:
# performance is measured here, never in the tests. Needs GNU time (/usr/bin/time), python3
# with openpyxl (and pandas for the twin).
set -euo pipefail
export LC_NUMERIC=C  # EPOCHREALTIME and awk with a decimal point
cd "$(dirname "$0")/.."
base_ref=${1:-HEAD~1}
runs=${2:-7}
root=$(pwd)
work=$(mktemp -d)
trap 'git worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

echo "building current tree (release) ..." >&2
# The base is built below into the same target dir from a worktree, and cargo hashes a path
# package by its path relative to the workspace, so the base's build takes the place of the
# current one's: a later build of the current tree finds it up to date (its sources are older)
# and links the base's code. Touching the sources makes cargo rebuild the current tree (else a
# second bench compares the base with itself).
find src -name '*.rs' -exec touch {} +
cargo build --release --quiet
cargo build --release --quiet --example io_floor
cp target/release/gep "$work/gep-current"
cp target/release/examples/io_floor "$work/io_floor"
echo "building $base_ref (release) ..." >&2
git worktree add --detach --quiet "$work/base" "$base_ref"
# Same target dir: the dependencies (polars) are shared, only gep itself is rebuilt.
(cd "$work/base" && CARGO_TARGET_DIR="$root/target" cargo build --release --quiet)
cp target/release/gep "$work/gep-base"

demo=fixtures/demo/shanxi-demo-2021.xlsx
# National-scale cases (SYNTHETIC, bench/make_national.py): N counties, prefecture subtotal rows.
sizes=${BENCH_COUNTIES:-117 2850 30000}
national=()
for n in $sizes; do
  echo "generating $n counties ..." >&2
  python3 bench/make_national.py "$n" "$work/national" >/dev/null
  national+=("check $n counties|check $work/national/national-$n.xlsx --coefficients $work/national/set-$n")
  national+=("run $n counties|run --data $work/national/national-$n.xlsx --coefficients $work/national/set-$n --out OUT.xlsx")
done
pref=(fixtures/layouts/by-prefecture/*.xlsx)
supp=fixtures/layouts/supplementary/environment-physical.xlsx
cases=(
  "run demo|run --data $demo --out OUT.xlsx"
  "run demo + csv|run --data $demo --out OUT.xlsx --csv OUTCSV"
  "check demo|check $demo"
  "run 11 prefecture files|run $(printf -- '--data %s ' "${pref[@]}") --data $supp --out OUT.xlsx"
  "run .xls layout|run --data fixtures/layouts/12-biff8.xls --data $supp --out OUT.xlsx"
  "${national[@]}"
)

measure() { # binary args → "seconds kilobytes"
  local bin=$1; shift
  local args=${*//OUTCSV/$work/csv}
  args=${args//OUT/$work/out}
  # A run never overwrites an existing book without --force: start each run without one.
  rm -rf "$work/out.xlsx" "$work/csv"
  wall "$work/t" "$bin" $args
  cat "$work/t"
}
# Runs a command; writes "seconds kilobytes" to $1: wall time to the microsecond (bash's
# EPOCHREALTIME; GNU time's %e has only centiseconds, 6 % of a 0.17 s run) and peak RSS.
wall() {
  local out=$1; shift
  local t0=$EPOCHREALTIME
  /usr/bin/time -f "%M" -o "$out.rss" "$@" >/dev/null 2>&1
  local t1=$EPOCHREALTIME
  awk -v a="$t0" -v b="$t1" -v m="$(cat "$out.rss")" 'BEGIN { printf "%.4f %s\n", b - a, m }' >"$out"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

printf '| case | base s | current s | ratio | base MB | current MB | ratio |\n|---|---|---|---|---|---|---|\n'
for c in "${cases[@]}"; do
  name=${c%%|*}; args=${c#*|}
  : >"$work/base.t"; : >"$work/cur.t"
  for _ in $(seq "$runs"); do
    measure "$work/gep-base" $args >>"$work/base.t"
    measure "$work/gep-current" $args >>"$work/cur.t"
  done
  bt=$(cut -d' ' -f1 "$work/base.t" | median); ct=$(cut -d' ' -f1 "$work/cur.t" | median)
  bm=$(cut -d' ' -f2 "$work/base.t" | median); cm=$(cut -d' ' -f2 "$work/cur.t" | median)
  awk -v n="$name" -v bt="$bt" -v ct="$ct" -v bm="$bm" -v cm="$cm" 'BEGIN {
    printf "| %s | %.3f | %.3f | %.2f | %.0f | %.0f | %.2f |\n", n, bt, ct, ct/bt, bm/1024, cm/1024, cm/bm }'
done
echo
echo "base $base_ref ($(git rev-parse --short "$base_ref")), current $(git rev-parse --short HEAD)$(git diff --quiet || echo '+dirty'), $runs runs each, median; $(nproc) cores"

# The current binary beside the I/O floor and the pandas twin, per national size. gep and the
# floor are both timed as processes, from exec to exit: the floor's wall time less the time it
# spends first reading gep's book for the cells to write (it prints it: "prepared in"), which is
# not part of its job. The floor's own timed part (reading the input, writing the cells; no
# process start or exit) is shown beside it, as earlier sessions reported it. The pandas twin's
# time is its own timed part (no interpreter start or pandas import: in the twin's favour).
printf '\n| counties | gep run s | gep MB | I/O floor s | gep / floor | floor, timed part s | gep / timed part | pandas twin s | twin / gep |\n|---|---|---|---|---|---|---|---|---|\n'
for n in $sizes; do
  data=$work/national/national-$n.xlsx
  set_dir=$work/national/set-$n
  : >"$work/cur.t"; : >"$work/floor.t"; : >"$work/floor-part.t"
  # A run of a province takes a fifth of a second, and this VM's speed drifts by more than the
  # difference measured: small sizes take at least 21 alternating runs.
  size_runs=$runs
  if [ "$n" -le 1000 ] && [ "$runs" -lt 21 ]; then size_runs=21; fi
  for _ in $(seq "$size_runs"); do
    rm -f "$work/book.xlsx"
    wall "$work/one.t" "$work/gep-current" run --data "$data" --coefficients "$set_dir" \
      --out "$work/book.xlsx"
    cat "$work/one.t" >>"$work/cur.t"
    t0=$EPOCHREALTIME
    "$work/io_floor" "$data" "$work/book.xlsx" "$work/floor.xlsx" 2>"$work/floor.err" >/dev/null
    t1=$EPOCHREALTIME
    sed -n 's/.*total \([0-9.]*\) s.*/\1/p' "$work/floor.err" >>"$work/floor-part.t"
    prepared=$(sed -n 's/.*prepared in \([0-9.]*\) s.*/\1/p' "$work/floor.err")
    awk -v a="$t0" -v b="$t1" -v p="$prepared" 'BEGIN { printf "%.4f\n", b - a - p }' >>"$work/floor.t"
  done
  twin=NA
  if [ "$n" -le "${BENCH_TWIN_MAX:-2850}" ]; then
    # Without pandas (or when the twin fails) the column says NA; the script goes on.
    twin=$(python3 bench/pandas_twin.py "$data" "$work/book.xlsx" "$work/twin.xlsx" 2>&1 \
      | sed -n 's/.*total \([0-9.]*\) s.*/\1/p') || true
    [ -n "$twin" ] || twin=NA
  fi
  ct=$(cut -d' ' -f1 "$work/cur.t" | median); cm=$(cut -d' ' -f2 "$work/cur.t" | median)
  ft=$(median <"$work/floor.t"); fp=$(median <"$work/floor-part.t")
  awk -v n="$n" -v ct="$ct" -v cm="$cm" -v ft="$ft" -v fp="$fp" -v tw="$twin" 'BEGIN {
    printf "| %s | %.3f | %.0f | %.3f | %.2f | %.3f | %.2f | %s | %s |\n", n, ct, cm/1024, ft, ct/ft,
      fp, ct/fp, tw, (tw == "NA" ? "NA" : sprintf("%.1f", tw/ct)) }'
done
echo
echo "gep and I/O floor: medians of $runs alternating runs (21 at 1,000 counties or fewer); pandas twin: one run (pandas $(python3 -c 'import pandas; print(pandas.__version__)' 2>/dev/null || echo 'not installed'))"
echo
echo "Stages of the current binary (GEP_TIMING, one run each; peak RSS so far):"
for n in $sizes; do
  rm -f "$work/book.xlsx"
  echo "- $n counties, run:"
  GEP_TIMING=1 "$work/gep-current" run --data "$work/national/national-$n.xlsx" \
    --coefficients "$work/national/set-$n" --out "$work/book.xlsx" 2>&1 >/dev/null \
    | sed -n 's/^timing: /    /p'
done
