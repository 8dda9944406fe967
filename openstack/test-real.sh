#!/usr/bin/env bash
# test-real.sh: the Nova adapter end to end against a real Keystone + Nova API on loopback.
# Sets the harness up (idempotent; set OSH_VENV to reuse an installed venv), starts it,
# seeds it past Nova's 1000-item page cap, then runs `cargo test --test openstack_real`.
# Leaves the servers running (./stop.sh stops them) unless OSH_STOP_AFTER=1.
#   OSH_SEED_N (1005)   key pairs the admin owns; must be > 1000 for the paging test
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
N="${OSH_SEED_N:-1005}"
"$OSH_DIR/setup.sh"
"$OSH_DIR/start.sh"
"$OSH_DIR/seed.sh" "$N"
export KEYCTL_OS_AUTH_URL="$KEYSTONE_URL" KEYCTL_OS_NOVA_URL="$NOVA_URL" \
  OSH_ADMIN_USER OSH_ADMIN_PASSWORD OSH_ADMIN_PROJECT OSH_USER2 OSH_USER2_PASSWORD OSH_REGION
status=0
(cd "$OSH_DIR/.." && cargo test --test openstack_real -- --test-threads 2) || status=$?
if [ "${OSH_STOP_AFTER:-0}" = 1 ]; then "$OSH_DIR/stop.sh"; fi
exit "$status"
