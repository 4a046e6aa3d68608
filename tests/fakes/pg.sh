#!/usr/bin/env bash
# Starts and stops a throwaway real PostgreSQL for the store tests (Debian's postgresql package).
#   tests/fakes/pg.sh start     -> prints "PGDIR=... PGHOST=... PGPORT=..." (eval it); the server
#                                  listens only on a unix socket inside PGDIR (no TCP at all)
#   tests/fakes/pg.sh stop DIR  -> stops it and removes DIR
# initdb runs as the `postgres` user when we are root (PostgreSQL refuses to run as root).
set -eu

pg_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  echo "pg.sh: no PostgreSQL binaries under /usr/lib/postgresql/*/bin — install the postgresql package (tools/install-deps test)" >&2
  return 1
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then
    if command -v runuser >/dev/null 2>&1; then runuser -u postgres -- "$@"; else su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; fi
  else
    "$@"
  fi
}

start() {
  local bin dir port
  bin=$(pg_bindir)
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    echo "pg.sh: running as root but there is no 'postgres' user (the postgresql package creates it)" >&2
    return 1
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/titan-pg.XXXXXX")
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  # the socket name carries the port; any number works since there is no TCP listener
  port=$((20000 + RANDOM % 20000))
  if ! as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1; then
    echo "pg.sh: initdb failed:" >&2; tail -20 "$dir/initdb.log" >&2; rm -rf "$dir"; return 1
  fi
  if ! as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses='' -c unix_socket_directories='$dir' -p $port -c fsync=off -c full_page_writes=off -c max_connections=100" \
      start >"$dir/pg_ctl.log" 2>&1; then
    echo "pg.sh: PostgreSQL did not start:" >&2; tail -20 "$dir/server.log" "$dir/pg_ctl.log" >&2 2>/dev/null; rm -rf "$dir"; return 1
  fi
  echo "PGDIR=$dir PGHOST=$dir PGPORT=$port PGBIN=$bin"
}

stop() {
  local dir=${1:-}
  [ -n "$dir" ] && [ -d "$dir/data" ] || { echo "pg.sh: stop needs the folder printed by start" >&2; return 1; }
  local bin; bin=$(pg_bindir)
  as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: tests/fakes/pg.sh start | stop DIR" >&2; exit 2 ;;
esac
