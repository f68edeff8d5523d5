#!/usr/bin/env bash
# The test command (README): installs what the tests need, then runs every test.
# LibreOffice (soffice) is required by the recalculation test; it is installed here when absent
# (Debian/Ubuntu apt-get, as root or with sudo). If it cannot be installed this script fails:
# the recalculation test never passes by skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v soffice >/dev/null 2>&1 && ! command -v libreoffice >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: LibreOffice (soffice) is needed by the tests and apt-get is not available; install it by hand" >&2
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "installing libreoffice-calc-nogui (needed by the recalculation test) …" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libreoffice-calc-nogui
fi
exec cargo test --locked "$@"
