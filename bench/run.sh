#!/usr/bin/env bash
# keyctl benchmarks (see BENCHMARKS.md): bench/run.sh [--quick] [--runs N] [--latency-ms MS] …
# Needs python3 (stdlib only); installs the peers into bench/.venv from PyPI on first use.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec python3 bench/bench.py "$@"
