#!/bin/bash
# scripts/powercut-sweep on a small image (16 KiB over a 20000-byte old application, 37 flash
# operations over TFTP: the commit record's sector, sector 4, 32 blocks, the vector table,
# the record and its commit word), three of its combinations:
#   - torn cuts, single slot, the direct driver, seed 2: every point passes, exit 0. The two
#     points where the vector table check alone booted what it should not (a torn erase of
#     sector 4 under the old vector table, a torn reset vector still in the user flash) now
#     stay in IAP mode: the boot policy (integrity) wants a commit record the image matches;
#   - clean cuts, single slot, the STM32 driver: every point passes, exit 0;
#   - torn cuts, dual slots, the STM32 driver, seed 3: the upload into staging never touches
#     the running image (the old image runs at all 37 points), and every one of the 22
#     operations of the boot-time install, cut, is followed by a power-on that runs the
#     complete new image (the install resumes); IAP mode would fail the point;
#   - the same with swap slots (user flash 0x08020000): every one of the 83 operations of
#     the boot-time swap, cut, is followed by a power-on that runs the complete new image.
# Each report is compared line for line. The sweep makes and tears down its own network
# namespace.
set -u
. "${TESTS_DIR:-$(dirname "$0")/..}/integration/lib.sh"
TEST_NAME=powercut_sweep
SWEEP="$TESTS_DIR/../scripts/powercut-sweep"
[ -x "${IAPD:-}" ] && [ -x "${MKIMAGE:-}" ] || hard_error "IAPD and MKIMAGE must be set: run with make check"
why=$(unshare -n true 2>&1) || skip "cannot create a network namespace: ${why:-unshare -n failed}"
[ -c /dev/net/tun ] || skip "cannot create a TAP device: /dev/net/tun is missing"
OUT=$(mktemp) || hard_error "mktemp failed"
trap 'rm -f "$OUT"' EXIT

# run_sweep WANT_RC ARGS...: runs the sweep, its output (the time stripped) in $OUT.
run_sweep() {
  local want=$1 rc
  shift
  IAPD=$IAPD MKIMAGE=$MKIMAGE timeout 300 bash "$SWEEP" "$@" > "$OUT.raw" 2>&1
  rc=$?
  sed 's/ passed ([0-9]* s)$/ passed/' "$OUT.raw" > "$OUT"
  rm -f "$OUT.raw"
  [ "$rc" = "$want" ] || { cat "$OUT" >&2; fail "powercut-sweep $*: exit status $rc, expected $want"; }
}

# expect_report WHAT: $OUT is, line for line, the report on stdin.
expect_report() {
  cat > "$OUT.want"
  diff -u "$OUT.want" "$OUT" >&2 || { rm -f "$OUT.want"; fail "the $1 sweep's report changed (see the diff above)"; }
  rm -f "$OUT.want"
}

run_sweep 0 --seed 2
expect_report torn <<'WANT'
powercut-sweep: tftp, torn cuts, --slots single, --flash-driver direct, seed 2: 16384-byte image over a 20000-byte old one, 37 flash operations (erases: 1 2), 37 interruption points
  36 x IAP mode, nothing bootable
  1 x the complete old image runs
37 of 37 interruption points passed
WANT
say "ok: torn, single, direct: 37 of 37 passed (the old image at k=1, IAP mode after)"

run_sweep 0 --mode clean --flash-driver stm32 --seed 2
expect_report clean <<'WANT'
powercut-sweep: tftp, clean cuts, --slots single, --flash-driver stm32, seed 2: 16384-byte image over a 20000-byte old one, 37 flash operations (erases: 1 2), 37 interruption points
  36 x IAP mode, nothing bootable
  1 x the complete old image runs
37 of 37 interruption points passed
WANT
say "ok: clean, single, stm32: 37 of 37 passed (the old image at k=1, IAP mode after)"

run_sweep 0 --slots dual --flash-driver stm32 --seed 3
expect_report dual <<'WANT'
powercut-sweep: tftp, torn cuts, --slots dual, --flash-driver stm32, seed 3: 16384-byte image over a 20000-byte old one, 37 flash operations (erases: 1 2), 37 interruption points
powercut-sweep: boot-time install: 22 flash operations, 22 interruption points
  22 x the complete new image runs
  37 x the complete old image runs
59 of 59 interruption points passed
WANT
say "ok: torn, dual, stm32: the old image at all 37 upload points, the new one after each of the 22 install cuts"

run_sweep 0 --slots swap --flash-driver stm32 --seed 3
expect_report swap <<'WANT'
powercut-sweep: tftp, torn cuts, --slots swap, --flash-driver stm32, seed 3: 16384-byte image over a 20000-byte old one, 37 flash operations (erases: 1 2), 37 interruption points
powercut-sweep: boot-time install: 83 flash operations, 83 interruption points
  83 x the complete new image runs
  37 x the complete old image runs
120 of 120 interruption points passed
WANT
say "ok: torn, swap, stm32: the old image at all 37 upload points, the new one after each of the 83 swap cuts"
