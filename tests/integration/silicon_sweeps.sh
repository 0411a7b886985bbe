#!/bin/bash
# make check-silicon: scripts/powercut-sweep over the whole matrix, TFTP and HTTP x torn and
# clean x the direct and the STM32 driver, on a 72 KiB image over a 20000-byte old one (it
# crosses from sector 4 into sector 5: two erases), and once on a 960 KiB image (TFTP, torn,
# direct: every erase, the first and last 64 operations and 500 more at random). Each run's
# report is printed. Clean cuts must all pass. Torn cuts may fail only where the boot decision
# is known to be fooled today: at an erase (a torn erase leaves the old vector table over a
# damaged body) or at the last operation (a torn reset vector that still points into the user
# flash); any other failure fails this test.
set -u
. "${TESTS_DIR:-$(dirname "$0")/..}/integration/lib.sh"
TEST_NAME=silicon_sweeps
SWEEP="$TESTS_DIR/../scripts/powercut-sweep"
[ -x "${IAPD:-}" ] && [ -x "${MKIMAGE:-}" ] || hard_error "IAPD and MKIMAGE must be set: run with make check-silicon"
why=$(unshare -n true 2>&1) || skip "cannot create a network namespace: ${why:-unshare -n failed}"
WORK=$(mktemp -d) || hard_error "mktemp failed"
trap 'rm -rf "$WORK"' EXIT
"$MKIMAGE" --link 0x08010000 --size 73728 --seed 93 -o "$WORK/app72k.bin" || hard_error "mkimage"
"$MKIMAGE" --link 0x08010000 --size 983040 --seed 94 -o "$WORK/app960k.bin" || hard_error "mkimage"

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
  n=$(sed -n 's/.*, \([0-9]*\) flash operations (erases: \([0-9 ]*\)).*/\1/p' "$out")
  erases=" $(sed -n 's/.*flash operations (erases: \([0-9 ]*\)).*/\1/p' "$out") "
  case " $* " in
    *" --mode clean "*)
      [ "$rc" = 0 ] || fail "powercut-sweep $*: clean cuts failed (exit $rc)" ;;
    *)
      [ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "powercut-sweep $*: exit $rc"
      grep -o '^FAIL k=[0-9]*' "$out" | cut -d= -f2 | while read -r k; do
        case $erases in *" $k "*) continue ;; esac
        [ "$k" = "$n" ] && continue
        fail "powercut-sweep $*: a failure at k=$k, neither an erase nor the vector table: $(grep "^FAIL k=$k:" "$out")"
      done || exit 1
      ;;
  esac
}

for proto in "" --http; do
  for mode in torn clean; do
    for driver in direct stm32; do
      sweep $proto --mode "$mode" --flash-driver "$driver" --seed 2 "$WORK/app72k.bin"
    done
  done
done
sweep --mode torn --flash-driver direct --seed 2 "$WORK/app960k.bin"
say "every sweep as expected:"
cat "$WORK/summary" >&2
