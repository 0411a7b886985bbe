#!/bin/bash
# scripts/powercut-sweep on a small image (16 KiB over a 20000-byte old application, 34 flash
# operations over TFTP), two of its combinations:
#   - torn cuts, the direct driver, seed 2: the sweep reports the two points where the board
#     boots what it should not, exactly, and exits 1. They are the failures the next issue
#     (verified boot) fixes at the boot decision: a torn erase of sector 4 that leaves the old
#     vector table and a damaged body (k=1), and a torn reset vector that still points into
#     the user flash (k=34). If they disappear without the boot decision changing, or others
#     appear, this test fails;
#   - clean cuts, the STM32 driver: every point passes (the writer's ordering holds when an
#     operation is all or nothing), exit 0.
# The sweep makes and tears down its own network namespace.
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

run_sweep 1 --seed 2
cat > "$OUT.want" <<'WANT'
powercut-sweep: tftp, torn cuts, --flash-driver direct, seed 2: 16384-byte image over a 20000-byte old one, 34 flash operations (erases: 1), 34 interruption points
FAIL k=1: erase of sector 4 (0x08010000, 64 KiB) torn: 0x08013a34-0x08014cdb erased, 0x08014cdc half erased (0xf339cfbc, was 0xe2294b94), the rest as it was; power-on: an application that is neither image boots (MSP=0x20020000 PC=0x080101c1): new image differs at 0x08010040, old image differs at 0x08013a34
FAIL k=34: program of 8 bytes at 0x08010000 torn: 1 of 2 words programmed, 0x08010004 reads 0x080103c9 (0x080101c1 intended), nothing after; power-on: an application that is neither image boots (MSP=0x20020000 PC=0x080103c9): new image differs at 0x08010004, old image differs at 0x08010004
  32 x IAP mode, nothing bootable
  2 x an application that is neither image boots
32 of 34 interruption points passed
WANT
diff -u "$OUT.want" "$OUT" >&2 || { rm -f "$OUT.want"; fail "the torn sweep's report changed (see the diff above)"; }
say "ok: torn, direct: the torn erase (k=1) and the torn reset vector (k=34) boot, reported; 32 of 34 passed"

run_sweep 0 --mode clean --flash-driver stm32 --seed 2
cat > "$OUT.want" <<'WANT'
powercut-sweep: tftp, clean cuts, --flash-driver stm32, seed 2: 16384-byte image over a 20000-byte old one, 34 flash operations (erases: 1), 34 interruption points
  33 x IAP mode, nothing bootable
  1 x the complete old image runs
34 of 34 interruption points passed
WANT
diff -u "$OUT.want" "$OUT" >&2 || { rm -f "$OUT.want"; fail "the clean sweep's report changed (see the diff above)"; }
rm -f "$OUT.want"
say "ok: clean, stm32: 34 of 34 passed (the old image at k=1, IAP mode after)"
