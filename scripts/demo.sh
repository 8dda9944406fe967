#!/usr/bin/env bash
# See keyctl work with no cloud account: build keyctl and the bundled emulator (Huawei KPS,
# Huawei ECS, OpenStack Keystone+Nova, Tencent CVM — real wire formats, real signature checks),
# start the emulator on 127.0.0.1, point a throwaway config at it, and run a few commands.
#
#   ./scripts/demo.sh            the tour
#   ./scripts/demo.sh list -o json    any keyctl command against the emulator instead
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo build --quiet --release -p keyctl -p keyctl-emulator
bin=target/release
work=$(mktemp -d)
emu_pid=
cleanup() { [ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# The emulator picks a free port and writes a ready-made keyctl config for itself.
"$bin/keyctl-emulator" --port 0 --write-config "$work/config.toml" >"$work/emulator.log" 2>&1 &
emu_pid=$!
for _ in $(seq 100); do [ -s "$work/config.toml" ] && break; sleep 0.05; done
[ -s "$work/config.toml" ] || { cat "$work/emulator.log" >&2; echo "emulator did not start" >&2; exit 1; }
export KEYCTL_CONFIG="$work/config.toml"
export XDG_CACHE_HOME="$work/cache"

# Echo each command as a user would type it: arguments with spaces or glob characters quoted.
shown() {
  local a out=
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_.,/:=@+-]+$ ]]; then out+=" $a"; else out+=" '${a//\'/\'\\\'\'}'"; fi
  done
  printf '%s' "${out# }"
}
bold=$'\033[1m' plain=$'\033[0m'
if [ ! -t 1 ] || [ -n "${NO_COLOR:-}" ]; then bold= plain=; fi
run() { printf '\n%s$ keyctl %s%s\n' "$bold" "$(shown "$@")" "$plain"; "$bin/keyctl" "$@" || echo "(exit $?)"; }

if [ $# -gt 0 ]; then
  "$bin/keyctl" "$@"
  exit
fi
run profiles -o table
run list -o table --name '*0000[1-3]'
run list -o table --provider tencent --columns profile,id,name,algorithm,bits,instance_ids --limit 8
run show 'hw key with spaces' -o table
run show x509-cert -p os -o table --columns profile,provider,name,type,provider_fingerprint,created_at,user_id
run find 'key with spaces' -o table
run audit -p hw,os -o table
echo
echo "(the emulator and its config are removed on exit; any keyctl command runs the same way:"
echo " ./scripts/demo.sh list -o json | jq .)"
