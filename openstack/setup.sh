#!/usr/bin/env bash
# Create the venv ($OSH_VENV, default .venv/ next to this script) and install a
# real Keystone and Nova API, python-openstackclient and gunicorn (the WSGI
# server). Idempotent: a venv that already imports everything is left alone.
# constraints.txt pins every transitive dependency to the set this harness
# was checked with; UNPINNED=1 ./setup.sh installs the newest instead, and
# `$OSH_VENV/bin/pip freeze > constraints.txt` records a new known-good set.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$OSH_DIR"
PY="${PYTHON:-python3}"
check='import keystone, nova, openstackclient, gunicorn'
if [ -x "$OSH_VENV/bin/python" ] && "$OSH_VENV/bin/python" -c "$check" 2>/dev/null; then
  echo "openstack harness deps ok ($OSH_VENV)"
else
  [ -x "$OSH_VENV/bin/python" ] || "$PY" -m venv "$OSH_VENV"
  constraints=(-c constraints.txt)
  [ "${UNPINNED:-0}" = 1 ] && constraints=()
  "$OSH_VENV/bin/pip" install --quiet --disable-pip-version-check \
    "${constraints[@]}" \
    "keystone==30.0.0" "nova==34.0.0" "python-openstackclient==10.5.0" gunicorn
  "$OSH_VENV/bin/python" -c "$check; print('openstack harness deps ok')"
fi
command -v ssh-keygen >/dev/null && command -v openssl >/dev/null || {
  echo "seed.sh needs ssh-keygen and openssl: apt-get install -y openssh-client openssl" >&2
  exit 1
}
