#!/usr/bin/env bash
# Every test keyctl has: unit tests, the adapters against the in-process emulator, the binary
# itself, and the Nova adapter end to end against a REAL Keystone + Nova API started on
# 127.0.0.1 by openstack/ (installed into openstack/.venv on first use; ~1-2 min).
#
#   ./scripts/test-all.sh            everything
#   SKIP_REAL_OPENSTACK=1 ./scripts/test-all.sh   without the real cloud (says so loudly)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

started=
if [ "${SKIP_REAL_OPENSTACK:-0}" != 1 ]; then
  openstack/setup.sh
  openstack/start.sh
  started=1
  openstack/seed.sh "${KEYCTL_REAL_OPENSTACK_KEYS:-1005}"
  export KEYCTL_REAL_OPENSTACK=1
else
  echo "SKIP_REAL_OPENSTACK=1: the end-to-end test against real Keystone + Nova will be skipped" >&2
fi
stop() { [ -n "$started" ] && openstack/stop.sh >/dev/null || true; }
trap stop EXIT

cargo test --workspace --all-targets
