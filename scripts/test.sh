#!/usr/bin/env bash
# The test command (README): installs what the tests need, then runs every test.
# LibreOffice (soffice) and pdftotext (poppler-utils) are required by the recalculation and
# printing tests; they are installed here when absent (Debian/Ubuntu apt-get, as root or with
# sudo). If they cannot be installed this script fails: those tests never pass by skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=""
if ! command -v soffice >/dev/null 2>&1 && ! command -v libreoffice >/dev/null 2>&1; then
  missing="$missing libreoffice-calc-nogui"
fi
if ! command -v pdftotext >/dev/null 2>&1; then
  missing="$missing poppler-utils"
fi
if [ -n "$missing" ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error:$missing needed by the tests and apt-get is not available; install by hand" >&2
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "installing$missing (needed by the recalculation and printing tests) …" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
fi
exec cargo test --locked "$@"
