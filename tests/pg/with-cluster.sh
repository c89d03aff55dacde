#!/usr/bin/env bash
# tests/pg/with-cluster.sh CMD [ARG...] - runs CMD with PERK_TEST_PG set to the URI of a throwaway
# PostgreSQL cluster (tests/pg/cluster.sh) in a temporary folder, and stops and removes the cluster
# afterwards, whether CMD passed, failed or was interrupted. Exits with CMD's status.
set -u
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d /tmp/perk-pg.XXXXXX) || exit 1
chmod 755 "$tmp" # the cluster's owner (postgres, when we are root) must reach $tmp/pg
cleanup() { tests/pg/cluster.sh stop "$tmp/pg" >/dev/null 2>&1; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
uri=$(tests/pg/cluster.sh start "$tmp/pg") || { echo "with-cluster.sh: the PostgreSQL cluster did not start" >&2; exit 1; }
PERK_TEST_PG=$uri "$@"
