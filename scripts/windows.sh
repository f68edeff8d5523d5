#!/usr/bin/env bash
# Cross-compiles gep.exe for x86_64 Windows on Linux (mingw-w64), smoke-tests it under Wine and
# packs dist/gep-<version>-windows-x86_64.zip (gep.exe, coefficients/, docs/, README.md,
# README.zh.md). Installs mingw-w64, Wine, zip and the Rust target if they are missing (Debian).
# Usage: scripts/windows.sh            (prints build time, exe size and the smoke-test results)
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=x86_64-pc-windows-gnu
if ! command -v rustup >/dev/null || ! command -v cargo >/dev/null; then
  echo "needs rustup and cargo (Rust 1.88+; Debian's own rustc is too old): https://rustup.rs" >&2
  exit 1
fi
need=()
command -v x86_64-w64-mingw32-gcc >/dev/null || need+=(gcc-mingw-w64-x86-64)
command -v python3 >/dev/null || need+=(python3)
python3 -c "import openpyxl" 2>/dev/null || need+=(python3-openpyxl)
command -v wine >/dev/null || need+=(wine wine64)
command -v zip >/dev/null || need+=(zip)
if ((${#need[@]})); then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then
      sudo="sudo"
    else
      echo "missing: ${need[*]} (install them, or run as root to install them here)" >&2
      exit 1
    fi
  fi
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
rustup target list --installed | grep -qx "$TARGET" || rustup target add "$TARGET"

export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
start=$(date +%s)
cargo build --profile dist --locked --target "$TARGET"
end=$(date +%s)
exe="target/$TARGET/dist/gep.exe"
echo "build: $((end - start)) s; gep.exe $(stat -c %s "$exe") bytes"

# Smoke test under Wine, in a scratch folder.
export WINEDEBUG=-all WINEPREFIX="${WINEPREFIX:-$PWD/target/wine}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$exe" "$work/"
# Wine 8 (Debian 12) lacks bcryptprimitives.dll, which Rust's standard library needs on Windows
# 10+; a shim built from scripts/wine/ stands in for it in the test folder only (never packed).
x86_64-w64-mingw32-gcc -O2 -shared -o "$work/bcryptprimitives.dll" scripts/wine/bcryptprimitives.c -ladvapi32
(
  cd "$work"
  wine gep.exe run --out demo.xlsx >run.out 2>run.err || {
    echo "FAIL: gep.exe run exited $?"; cat run.out run.err; exit 1
  }
  test -s demo.xlsx || { echo "FAIL: no demo.xlsx"; exit 1; }
  grep -q "GEP" run.out || { echo "FAIL: no summary line"; cat run.out; exit 1; }
  # A workbook with a text in a number column: exit 1 and a Chinese message shown intact.
  wine gep.exe template --year 2021 --out blank.xlsx >/dev/null
  python3 - <<'PY'
import openpyxl
wb = openpyxl.load_workbook("blank.xlsx")
ws = wb["土地利用"]
ws.cell(row=4, column=4).value = "约300"
wb.save("bad.xlsx")
PY
  set +e
  wine gep.exe check --max-problems 0 bad.xlsx >check.out 2>check.err
  code=$?
  set -e
  if [ "$code" -ne 1 ]; then
    echo "FAIL: gep.exe check on a bad workbook exited $code (expected 1)"; cat check.err; exit 1
  fi
  grep -q '土地利用' check.err && grep -q '约300' check.err || {
    echo "FAIL: the Chinese message is not shown intact:"; cat check.err; exit 1
  }
  echo "smoke test: run wrote demo.xlsx ($(stat -c %s demo.xlsx) bytes); check exit 1 with:"
  grep -m1 '约300' check.err
)

version=$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["packages"][0]["version"])')
name="gep-$version-windows-x86_64"
rm -rf "dist/$name" "dist/$name.zip"
mkdir -p "dist/$name"
cp "$exe" README.md README.zh.md "dist/$name/"
cp -r coefficients docs "dist/$name/"
(cd dist && zip -qr "$name.zip" "$name")
echo "packed dist/$name.zip ($(stat -c %s "dist/$name.zip") bytes)"
