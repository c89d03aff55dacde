#!/usr/bin/env bash
# tests/pg/cluster.sh - a throwaway PostgreSQL cluster for the tests (docs/postgresql.md).
#   tests/pg/cluster.sh start DIR   creates DIR, initdb, starts the server on a unix socket in DIR
#                                   (no TCP), creates database perk and prints one line, a libpq URI:
#                                   postgresql:///perk?host=DIR&port=PORT&user=perk
#   tests/pg/cluster.sh stop DIR    stops the server and removes DIR
#   tests/pg/cluster.sh halt DIR fast|immediate
#                                   stops the server only (pg_ctl stop -m MODE; immediate is a
#                                   crash: recovery at the next start), keeping DIR
#   tests/pg/cluster.sh resume DIR  starts a halted server again on the same socket and port
# For tests only: fsync, synchronous_commit and full_page_writes are off (a crash may lose the
# cluster, which is thrown away anyway); PERK_PG_DURABLE=1 keeps PostgreSQL's defaults (every
# commit flushed to disk), for benchmarks that compare it with a SQLite store that fsyncs
# (bench/store.sh). initdb refuses to run as root: as root the cluster belongs
# to the `postgres` user (the Debian package creates it; scripts/deps.sh installs the package).
# A stale DIR from a killed run is stopped and removed first; a port that is taken is retried.
set -eu

die() { echo "cluster.sh: $*" >&2; exit 1; }
usage="usage: tests/pg/cluster.sh start|stop|resume DIR, or halt DIR fast|immediate"
[ $# -ge 2 ] || die "$usage"
cmd=$1
dir=$2
case $dir in /*) ;; *) dir=$(pwd)/$dir ;; esac
dir=${dir%/}

# the server's programs: on PATH, else Debian's versioned folder
if ! command -v pg_ctl >/dev/null 2>&1 || ! command -v initdb >/dev/null 2>&1; then
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && PATH="$d:$PATH"; done
fi
command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1 ||
  die "initdb and pg_ctl not found: install PostgreSQL 15 (scripts/deps.sh installs the Debian packages postgresql and libpq-dev)"

as_owner=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 ||
    die "running as root, and initdb refuses root, but there is no 'postgres' user to own the cluster: install the Debian package postgresql (scripts/deps.sh) or run as an ordinary user"
  as_owner=(runuser -u postgres --)
fi
run() { "${as_owner[@]}" "$@"; }

stop_server() {
  if [ -f "$dir/data/postmaster.pid" ]; then
    run pg_ctl -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    # a server whose pg_ctl lost track of it: its pid is the first line of postmaster.pid
    local pid
    pid=$(head -1 "$dir/data/postmaster.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q postgres "/proc/$pid/comm" 2>/dev/null; then
      kill -QUIT "$pid" 2>/dev/null || true
      sleep 1
    fi
  fi
}

# pg_ctl start on PORT with the test settings (the same at a resume)
start_server() {
  local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${PERK_PG_DURABLE:-0}" = 1 ] && durability=""
  run pg_ctl -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir' -p $1 $durability -c max_connections=100" \
    start >/dev/null 2>&1
}

case $cmd in
start)
  if [ -e "$dir" ]; then
    stop_server
    rm -rf "$dir"
  fi
  mkdir -p "$dir"
  # the socket path must fit in sun_path (107 bytes) with "/.s.PGSQL.NNNNN"
  [ ${#dir} -le 88 ] || die "DIR is too long for a unix socket path: $dir"
  if [ ${#as_owner[@]} -gt 0 ]; then
    chown postgres: "$dir"
    run test -w "$dir" ||
      die "the postgres user cannot write $dir (a parent folder is closed to it): use a DIR under /tmp"
  fi
  chmod 755 "$dir"
  run initdb -D "$dir/data" -A trust -U perk -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  started=""
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    # the port names the socket file; it must not be one a local server already listens on
    if [ -e "/var/run/postgresql/.s.PGSQL.$port" ] || { command -v ss >/dev/null 2>&1 && ss -ltn 2>/dev/null | grep -q ":$port "; }; then
      continue
    fi
    if start_server "$port"; then
      started=$port
      break
    fi
    stop_server
  done
  [ -n "$started" ] || { tail -20 "$dir/server.log" >&2 2>/dev/null || true; die "the server did not start (log: $dir/server.log)"; }
  ready=""
  for _ in $(seq 1 100); do
    if pg_isready -q -h "$dir" -p "$started" 2>/dev/null; then ready=1; break; fi
    sleep 0.1
  done
  [ -n "$ready" ] || die "the server started but does not accept connections (log: $dir/server.log)"
  createdb -h "$dir" -p "$started" -U perk perk || die "createdb perk failed (log: $dir/server.log)"
  echo "$started" >"$dir/port"
  echo "postgresql:///perk?host=$dir&port=$started&user=perk"
  ;;
stop)
  [ -e "$dir" ] || exit 0
  if [ -f "$dir/data/postmaster.pid" ]; then
    run pg_ctl -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || stop_server
  fi
  rm -rf "$dir"
  ;;
halt)
  case ${3:-} in fast | immediate) ;; *) die "$usage" ;; esac
  [ -f "$dir/data/postmaster.pid" ] || die "no server runs in $dir"
  run pg_ctl -D "$dir/data" -m "$3" -w -t 30 stop >/dev/null 2>&1 || die "pg_ctl stop -m $3 failed (log: $dir/server.log)"
  ;;
resume)
  [ -f "$dir/port" ] || die "$dir holds no cluster made by cluster.sh start"
  port=$(cat "$dir/port")
  start_server "$port" || { tail -20 "$dir/server.log" >&2 2>/dev/null || true; die "the server did not start again (log: $dir/server.log)"; }
  ;;
*) die "$usage" ;;
esac
