#!/bin/sh
# Replays every seed corpus tests/fuzz/NAME/ through its fuzz target tests/fuzz_NAME, built with
# the corpus-replay driver (tests/fuzz_main.c), so each decoder's seeds are a regression test.
# Under --enable-fuzzer the targets are libFuzzer binaries and this test is not run.
set -u
builddir=${FUZZ_BUILDDIR:?}
status=0
count=0
for dir in "$TESTS_DIR"/fuzz/*/; do
  name=$(basename "$dir")
  target="$builddir/tests/fuzz_$name"
  if [ ! -x "$target" ]; then
    echo "FAIL: no fuzz target $target for corpus $dir"
    status=1
    continue
  fi
  if "$target" "$dir"; then
    count=$((count + 1))
  else
    echo "FAIL: fuzz_$name on its corpus"
    status=1
  fi
done
[ "$count" -gt 0 ] || { echo "FAIL: no corpus replayed"; exit 1; }
exit $status
