# Shared settings for the OpenStack harness scripts; sourced, not run.
# Everything is relative to this folder; every value can be overridden by env.
OSH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# OSH_VENV: an already installed venv can be reused (development machines).
OSH_VENV="${OSH_VENV:-$OSH_DIR/.venv}"
OSH_STATE="${OSH_STATE:-$OSH_DIR/state}"
OSH_HOST=127.0.0.1                      # loopback only, never anything else
KEYSTONE_PORT="${KEYSTONE_PORT:-15357}" # below the ephemeral range (32768+)
NOVA_PORT="${NOVA_PORT:-18774}"
OSH_REGION="${OSH_REGION:-RegionOne}"
OSH_ADMIN_USER="${OSH_ADMIN_USER:-admin}"
OSH_ADMIN_PASSWORD="${OSH_ADMIN_PASSWORD:-keyctl-admin-secret}"
OSH_ADMIN_PROJECT="${OSH_ADMIN_PROJECT:-admin}"
OSH_NOVA_PASSWORD="${OSH_NOVA_PASSWORD:-keyctl-nova-secret}"
OSH_USER2="${OSH_USER2:-keyctl-user2}"
OSH_USER2_PASSWORD="${OSH_USER2_PASSWORD:-keyctl-user2-secret}"
# "plain": catalog URL http://127.0.0.1:PORT/v2.1 (like devstack);
# "project": http://127.0.0.1:PORT/v2.1/<project_id> (like many public clouds).
OSH_NOVA_URL_STYLE="${OSH_NOVA_URL_STYLE:-plain}"
# bcrypt rounds for new password hashes (Keystone default 12 costs ~250 ms per
# password auth; 4 keeps the harness fast). Read when start.sh writes the config.
OSH_HASH_ROUNDS="${OSH_HASH_ROUNDS:-4}"
OSH_WORKERS="${OSH_WORKERS:-2}"
KEYSTONE_URL="http://$OSH_HOST:$KEYSTONE_PORT/v3"
NOVA_URL="http://$OSH_HOST:$NOVA_PORT/v2.1"
