#!/bin/sh
# The layers are kept by the build: src/ (libiap.a, shared with the firmware) is compiled with
# only src/, lwIP and lwIP's port on its include path. Every header of emul/ and firmware/
# must therefore be out of its reach, and every header of src/ within it. Preprocesses one
# #include at a time with libiap.a's very flags (LIBIAP_CPP, set by make check).
# Exit status (automake): 0 pass, 1 fail, 99 hard error.
set -u
[ -n "${LIBIAP_CPP:-}" ] || { echo "layers: ERROR: LIBIAP_CPP is not set (run through make check)" >&2; exit 99; }
top=${TESTS_DIR:?}/..
status=0
reachable() {
  printf '#include "%s"\n' "$1" | eval "$LIBIAP_CPP -x c - -o /dev/null" 2>/dev/null
}
checked=0
for h in "$top"/src/*.h; do
  name=$(basename "$h")
  reachable "$name" || { echo "FAIL: src/$name is not reachable from src/"; status=1; }
  checked=$((checked + 1))
done
for h in $(cd "$top" && find emul firmware -name '*.h' ! -path '*/lwip-arch/*'); do
  name=$(basename "$h")
  # A header of the same name in src/ would be the one found: that is not a leak.
  [ -e "$top/src/$name" ] && continue
  if reachable "$name"; then
    echo "FAIL: $h is reachable from src/: a src/ file could include it"
    status=1
  fi
  checked=$((checked + 1))
done
[ "$checked" -gt 20 ] || { echo "layers: ERROR: only $checked headers found under $top" >&2; exit 99; }
echo "layers: $checked headers checked"
exit $status
