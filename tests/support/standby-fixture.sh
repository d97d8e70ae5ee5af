#!/bin/sh
# Starts or stops a streaming hot standby of the test cluster (the `pg`
# fixture's), for the tests that read from a replica.
#   standby-fixture.sh start|stop AIPLAT_BINARY DIR
# DIR is the `pg` fixture's directory. The standby is a pg_basebackup -R of
# the running cluster in DIR/standby, listening on its own unix socket
# (DIR/standby-run, port 5433) only, run by the account that runs the
# primary. Tests find its socket directory in DIR/standby.host.
set -eu
action=$1 aiplat=$2 dir=$3
export XDG_DATA_HOME="$dir"
unset AIPLAT_DATABASE_URL DATABASE_URL PGHOST PGHOSTADDR PGSERVICE PGPORT PGDATABASE PGUSER

data=$dir/standby
run=$dir/standby-run
status=$("$aiplat" --format tsv dev status | tail -n 1)
# state pid data_directory socket_directory server_account log url
primary_sock=$(printf '%s\n' "$status" | cut -f 4)
account=$(printf '%s\n' "$status" | cut -f 5)
# The server programs, found as aiplat finds them (Debian keeps them out of PATH).
bindir=${AIPLAT_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -x "$bindir/pg_basebackup" ] || bindir=$(dirname "$(command -v pg_basebackup)")

as_server() {
  if [ "$(id -u)" = 0 ] && [ "$account" != root ]; then runuser -u "$account" -- "$@"; else "$@"; fi
}

case "$action" in
start)
  [ "$(printf '%s\n' "$status" | cut -f 1)" = running ] || { echo "the test cluster is not running" >&2; exit 1; }
  if [ -f "$data/postmaster.pid" ]; then as_server "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$data" "$run"
  mkdir -p "$data" "$run"
  chmod 700 "$data" "$run"
  [ "$(id -u)" != 0 ] || chown "$account" "$data" "$run"
  as_server "$bindir/pg_basebackup" -D "$data" -R -X stream -c fast \
    -d "host=$primary_sock port=5432 user=aiplat dbname=postgres"
  as_server "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
    -o "-c port=5433 -c listen_addresses='' -c unix_socket_directories='$run' -c hot_standby=on -c max_connections=300 -c fsync=off" start >/dev/null
  printf '%s\n' "$run" >"$dir/standby.host"
  echo "standby ready on $run (port 5433)"
  ;;
stop)
  if [ -f "$data/postmaster.pid" ]; then as_server "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null || true; fi
  rm -rf "$data" "$run" "$dir/standby.host"
  ;;
*)
  echo "usage: $0 start|stop AIPLAT_BINARY DIR" >&2
  exit 2
  ;;
esac
