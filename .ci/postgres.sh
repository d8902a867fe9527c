#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests (the same in CI and on a laptop).
#   eval "$(bash .ci/postgres.sh start)"   starts one in a temp dir on a random loopback port and prints the
#                                          exports: WAHA_MCP_TEST_PG (the DSN) and WAHA_MCP_PG_DIR
#   bash .ci/postgres.sh stop               stops the one WAHA_MCP_PG_DIR names and removes its directory
# Debian's `postgresql` package; installed when missing. initdb and the server run as the `postgres` user
# when this runs as root (PostgreSQL refuses to run as root).
set -euo pipefail

bindir() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$found" ] || [ ! -x "$found/initdb" ]; then
        echo "postgres.sh: installing Debian's postgresql package" >&2
        apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
        found=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    fi
    echo "$found"
}

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
    local bin dir port password
    bin=$(bindir)
    dir=$(mktemp -d /tmp/waha-mcp-pg.XXXXXX)
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    chmod 700 "$dir"
    password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)
    echo "$password" >"$dir/pw"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir/pw"
    as_owner "$bin/initdb" -D "$dir/data" -U waha --pwfile="$dir/pw" --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$dir/pw"
    # A random free loopback port (the kernel picks it).
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    # Durability off: a test server that dies is thrown away anyway; it saves fsyncs on a loaded machine.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 -o \
        "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null
    echo "export WAHA_MCP_PG_DIR=$dir"
    echo "export WAHA_MCP_TEST_PG=postgresql://waha:$password@127.0.0.1:$port/postgres"
}

stop() {
    local dir=${WAHA_MCP_PG_DIR:?WAHA_MCP_PG_DIR is not set: nothing to stop}
    as_owner "$(bindir)/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null || true
    rm -rf "$dir"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
