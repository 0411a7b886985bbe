#!/bin/bash
# TFTP under adverse conditions: tftp_chaos.py, a scripted client, duplicates, drops, delays
# and interleaves packets (duplicate DATA and WRQ, the Sorcerer's Apprentice, lost ACKs, a
# client that goes quiet or vanishes, foreign TIDs, a second client, a lost final ACK,
# malformed packets), and does the same with options: the exact OACK, values left out, gaps,
# copies and reordering inside windows, ERROR 8 after the OACK, tsize too large, a lost OACK,
# a longer dally, IP fragments, netascii split across blocks and windows, block numbers
# wrapping in windows. It asserts every packet iapd sends back and the flash it leaves.
# Runs in a network namespace of its own, or over --user-net where there is none (lib.sh
# net_enter); about 60 s.
#
# CHAOS_SCENARIOS=name,name,... runs only those scenarios (default: all).

. "${TESTS_DIR:?TESTS_DIR must name the tests directory: run with make check}/integration/lib.sh"
net_enter "$0" "$@"

# --verbose: the dup-wrq scenario counts iapd's "erased sector 4" debug lines.
board_start --verbose

timeout 180 python3 "$TESTS_DIR/integration/tftp_chaos.py" --server "$TFTP_HOST" \
  --port "$TFTP_PORT" \
  --flash "$WORK/flash.bin" --log "$WORK/iapd.log" --mkimage "$MKIMAGE" --workdir "$WORK" \
  --scenario "${CHAOS_SCENARIOS:-all}"
rc=$?
[ "$rc" = 124 ] && fail "tftp_chaos.py did not finish within 180 s"
[ "$rc" = 0 ] || fail "tftp_chaos.py: scenarios failed (exit status $rc), see above"
proc_alive "$IAPD_PID" || fail "iapd exited during the scenarios"
grep -E 'AddressSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$WORK/iapd.log" >&2 \
  && fail "iapd reported a sanitizer error"
board_stop
say "all TFTP chaos scenarios passed; iapd exited 0 on SIGTERM"
exit 0
