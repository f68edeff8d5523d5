#!/usr/bin/env bash
# Benchmarks `gep` against a baseline commit, side by side on this machine.
#
#   bench/bench.sh [BASE_REF] [RUNS]     # defaults: HEAD~1, 7 runs per case
#
# Builds the working tree and BASE_REF in release (one target dir), then runs each case
# RUNS times, alternating base and current so that machine load hits both alike, and prints
# the median wall time and peak RSS of each with the ratio current / base. Nothing is asserted:
# performance is measured here, never in the tests. Needs GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
base_ref=${1:-HEAD~1}
runs=${2:-7}
root=$(pwd)
work=$(mktemp -d)
trap 'git worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

echo "building current tree (release) ..." >&2
cargo build --release --quiet
cp target/release/gep "$work/gep-current"
echo "building $base_ref (release) ..." >&2
git worktree add --detach --quiet "$work/base" "$base_ref"
# Same target dir: the dependencies (polars) are shared, only gep itself is rebuilt.
(cd "$work/base" && CARGO_TARGET_DIR="$root/target" cargo build --release --quiet)
cp target/release/gep "$work/gep-base"

demo=fixtures/demo/shanxi-demo-2021.xlsx
# National-scale cases (SYNTHETIC, bench/make_national.py): N counties, prefecture subtotal rows.
# BENCH_COUNTIES="2850 30000" adds more sizes (each needs openpyxl; 30000 takes a while).
sizes=${BENCH_COUNTIES:-2850}
national=()
for n in $sizes; do
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
  /usr/bin/time -f "%e %M" -o "$work/t" "$bin" $args >/dev/null 2>&1
  cat "$work/t"
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
