#!/bin/sh
# Starts or stops the throwaway PostgreSQL cluster the tests use.
#   pg-fixture.sh start|stop AIPLAT_BINARY DIR
# The cluster is `aiplat dev start` with XDG_DATA_HOME=DIR, tuned for speed
# (no fsync: the data is thrown away). `start` also builds the template
# database aiplat_template (all migrations applied) that tests clone.
set -eu
action=$1 aiplat=$2 dir=$3
export XDG_DATA_HOME="$dir"
unset AIPLAT_DATABASE_URL DATABASE_URL PGHOST PGHOSTADDR PGSERVICE PGPORT PGDATABASE PGUSER

case "$action" in
start)
  # A cluster left over from an interrupted run is restarted cleanly.
  "$aiplat" -q dev stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  mkdir -p "$dir"
  "$aiplat" -q dev start -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
    -c max_connections=300 -c shared_buffers=256MB
  url=$("$aiplat" dev url)
  admin=$(printf '%s' "$url" | sed 's|^postgresql:///aiplat|postgresql:///postgres|')
  template=$(printf '%s' "$url" | sed 's|^postgresql:///aiplat|postgresql:///aiplat_template|')
  psql -X -q -v ON_ERROR_STOP=1 "$admin" -c 'CREATE DATABASE aiplat_template'
  "$aiplat" -q --db "$template" migrate up
  echo "test cluster ready in $dir"
  ;;
stop)
  "$aiplat" -q dev stop || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start|stop AIPLAT_BINARY DIR" >&2
  exit 2
  ;;
esac
