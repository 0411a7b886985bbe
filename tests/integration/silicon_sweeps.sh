#!/bin/bash
# make check-silicon: scripts/powercut-sweep over the whole matrix, single, dual and swap
# slots x TFTP and HTTP x torn and clean x the direct and the STM32 driver, on a 72 KiB image
# over a 20000-byte old one (at 0x08010000 it crosses from sector 4 into sector 5: two
# erases, and the record's sector; swap's is linked for 0x08020000), and once on the largest
# single-slot image, 982912 bytes (TFTP, torn, direct: every erase, the first and last 64
# operations and 500 more at random). Each run's report is printed. Every point of every
# sweep must pass (issue 12: N of N); in dual and swap mode that includes the cuts of the
# boot-time install or swap.
set -u
. "${TESTS_DIR:-$(dirname "$0")/..}/integration/lib.sh"
TEST_NAME=silicon_sweeps
SWEEP="$TESTS_DIR/../scripts/powercut-sweep"
[ -x "${IAPD:-}" ] && [ -x "${MKIMAGE:-}" ] || hard_error "IAPD and MKIMAGE must be set: run with make check-silicon"
why=$(unshare -n true 2>&1) || skip "cannot create a network namespace: ${why:-unshare -n failed}"
WORK=$(mktemp -d) || hard_error "mktemp failed"
trap 'rm -rf "$WORK"' EXIT
"$MKIMAGE" --link 0x08010000 --size 73728 --seed 93 -o "$WORK/app72k.bin" || hard_error "mkimage"
"$MKIMAGE" --link 0x08010000 --size 982912 --seed 94 -o "$WORK/app960k.bin" || hard_error "mkimage"
"$MKIMAGE" --link 0x08020000 --size 73728 --seed 95 -o "$WORK/swap72k.bin" || hard_error "mkimage"

# sweep ARGS...: runs it, prints its report, checks it as said above.
sweep() {
  local out=$WORK/out rc n last summary t0
  t0=$(date +%s)
  IAPD=$IAPD MKIMAGE=$MKIMAGE timeout 3000 bash "$SWEEP" "$@" > "$out" 2>&1
  rc=$?
  sed 's/^/  /' "$out" >&2
  summary=$(grep -E '^[0-9]+ of [0-9]+ interruption points passed' "$out") \
    || fail "powercut-sweep $*: no summary line (exit $rc)"
  echo "sweep $* -> $summary, wall $(( $(date +%s) - t0 )) s" >> "$WORK/summary"
  [ "$rc" = 0 ] || fail "powercut-sweep $*: not every point passed (exit $rc)"
}

for slots in single dual swap; do
  image=$WORK/app72k.bin
  [ "$slots" = swap ] && image=$WORK/swap72k.bin   # linked for 0x08020000
  for proto in "" --http; do
    for mode in torn clean; do
      for driver in direct stm32; do
        sweep --slots "$slots" $proto --mode "$mode" --flash-driver "$driver" --seed 2 "$image"
      done
    done
  done
done
sweep --mode torn --flash-driver direct --seed 2 "$WORK/app960k.bin"
say "every sweep as expected:"
cat "$WORK/summary" >&2
