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

# The sweeps are independent (each in its own namespace and directory) and mostly wait on
# timers and processes, not on the CPU: on 2 cores one dual HTTP sweep took 31 s, two at once
# 33 s, four at once 57 s; the whole set took 1056 s one at a time, 534 s two at a time and
# 412 s three at a time. So they run SWEEP_JOBS (default 3) at a time, the longest first. Each
# report is printed whole, in the order below, once all have finished.

# start_sweep N ARGS...: sweep number N in the background; its output, exit code and wall
# time land in $WORK/N.out, N.rc and N.wall, its arguments in N.args.
start_sweep() {
  local n=$1
  shift
  echo "$*" > "$WORK/$n.args"
  (
    t0=$(date +%s)
    IAPD=$IAPD MKIMAGE=$MKIMAGE timeout 3000 bash "$SWEEP" "$@" > "$WORK/$n.out" 2>&1
    echo $? > "$WORK/$n.rc"
    echo $(( $(date +%s) - t0 )) > "$WORK/$n.wall"
  ) &
}

jobs_max=${SWEEP_JOBS:-3}
[[ "$jobs_max" =~ ^[1-9][0-9]*$ ]] || hard_error "SWEEP_JOBS=$jobs_max: expected a positive number"
n=0
# queue ARGS...: starts one more sweep once fewer than jobs_max run.
queue() {
  while [ "$(jobs -pr | wc -l)" -ge "$jobs_max" ]; do wait -n; done
  n=$((n + 1))
  start_sweep "$n" "$@"
}

queue --mode torn --flash-driver direct --seed 2 "$WORK/app960k.bin"
for slots in swap dual single; do
  image=$WORK/app72k.bin
  [ "$slots" = swap ] && image=$WORK/swap72k.bin   # linked for 0x08020000
  for proto in "" --http; do
    for mode in torn clean; do
      for driver in direct stm32; do
        queue --slots "$slots" $proto --mode "$mode" --flash-driver "$driver" --seed 2 "$image"
      done
    done
  done
done
wait

failed=0
for ((i = 1; i <= n; i++)); do
  args=$(cat "$WORK/$i.args")
  rc=$(cat "$WORK/$i.rc" 2>/dev/null || echo none)
  sed 's/^/  /' "$WORK/$i.out" >&2
  if ! summary=$(grep -E '^[0-9]+ of [0-9]+ interruption points passed' "$WORK/$i.out"); then
    say "FAIL: powercut-sweep $args: no summary line (exit $rc)"
    failed=1
    continue
  fi
  echo "sweep $args -> $summary, wall $(cat "$WORK/$i.wall") s" >> "$WORK/summary"
  if [ "$rc" != 0 ]; then
    say "FAIL: powercut-sweep $args: not every point passed (exit $rc)"
    failed=1
  fi
done
[ "$failed" = 0 ] || fail "some sweeps failed: see their reports above"
say "every sweep as expected ($n sweeps, $jobs_max at a time):"
cat "$WORK/summary" >&2
