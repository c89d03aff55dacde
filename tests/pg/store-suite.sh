#!/usr/bin/env bash
# tests/pg/store-suite.sh LOGDIR BUILD_DIR [WRAPPER...] - runs the store's unit tests with
# PERK_TEST_PG set (under tests/pg/with-cluster.sh), one log per test binary in LOGDIR, for
# tests/run.sh to count ("store on postgresql: ..."). Each binary's tests use fresh schemas of the
# cluster; the SQLite-only ones skip themselves (TEST_SQLITE_ONLY). test_store_faults is left out:
# every test in it is SQLite-only by nature (PRAGMA max_page_count, file modes, file locks, online
# backup).
set -u
logs=$1 B=$2
shift 2
[ -n "${PERK_TEST_PG:-}" ] || { echo "store-suite.sh: PERK_TEST_PG is not set (run it under tests/pg/with-cluster.sh)" >&2; exit 2; }
for name in test_store_cli test_store_concurrency test_store_coupon_wallet \
  test_store_coupons test_store_events test_store_facts test_store_orders test_store_refunds \
  test_store_reservations test_store_schema test_store_trust test_store_users test_store_versions \
  test_store_year_end test_store_units test_store_rewards test_checkout_units test_store_adversarial \
  test_store_partial test_store_pg_migrate test_store_drafts \
  test_reload test_store_pg_faults test_checkout; do
  t="$B/tests/$name"
  [ -x "$t" ] || continue
  "$@" "$t" >"$logs/$name.log" 2>&1
  echo "exit status $?" >>"$logs/$name.log"
done
exit 0
