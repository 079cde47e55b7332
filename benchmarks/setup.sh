#!/usr/bin/env bash
# Set-up of benchmarks/bench_service.py: the HTTP load generator wrk from Debian. Idempotent; needs root or sudo.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then
  echo "setup: wrk already installed ($(command -v wrk))"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends wrk >/dev/null
echo "setup: installed wrk"
