#!/bin/bash
# The tests that need no privilege, run the way an unprivileged CI job or a laptop without sudo
# runs them: as an ordinary user with no capabilities, in the machine's own network namespace,
# the board over --user-net (IAPD_TEST_BACKEND=user). Any of them that fails or skips fails
# the run: here a skip would mean a test that should work without privileges does not.
#
#   make check-unprivileged            (sets the environment below, builds what the tests need)
#   tests/unprivileged.sh [USER]       as root: as USER (default nobody), every capability
#                                      dropped with setpriv; as anyone else: as that user,
#                                      who must hold no capabilities
#
# Environment, set by make: IAPD, MKIMAGE, TESTS_DIR (and IAPD_MAN, IAPD_UNIT). The build
# and source trees must be readable by USER; logs go to a temporary directory, kept and named
# on failure. IAPD_UNPRIVILEGED_TESTS="a.sh b.sh" runs only those.
set -u

# Every integration test that only needs to reach the board, and the backend's unit test. The
# browser tests need tests/browser/node_modules (scripts/bootstrap.sh deps: npm ci).
TESTS="check_slirpif
  user_net.sh tftp_clients.sh tftp_refusals.sh tftp_chaos.sh boot_jump.sh
  http_upload.sh http_put.sh http_refusals.sh control_api.sh control_systemd.sh
  pcap_capture.sh firmware_blink.sh firmware_flash_driver.sh
  control_page.sh http_browser.sh"

say() { printf 'unprivileged: %s\n' "$*" >&2; }
die() { printf 'unprivileged: ERROR: %s\n' "$*" >&2; exit 99; }

for v in IAPD MKIMAGE TESTS_DIR; do
  [ -n "${!v:-}" ] || die "$v is not set: run make check-unprivileged"
done
[ -x "$IAPD" ] || die "$IAPD is not built"
build_tests=$(dirname "$IAPD")/tests

# --- as root: become USER with nothing, and run this script again --------------------------
if [ "$(id -u)" -eq 0 ]; then
  user=${1:-nobody}
  id "$user" >/dev/null 2>&1 || die "no user '$user' (useradd it, or name another)"
  command -v setpriv >/dev/null || die "setpriv is not installed (util-linux)"
  [ "$(id -u "$user")" -ne 0 ] || die "'$user' is root"
  # Reaching the binaries and sources is all USER needs; say so plainly if it cannot.
  for f in "$IAPD" "$MKIMAGE" "$TESTS_DIR/integration/lib.sh" "$build_tests/check_slirpif"; do
    setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups test -r "$f" \
      || die "$user cannot read $f: make the build and source trees world-readable"
  done
  say "running as $user (uid $(id -u "$user")), no capabilities, no new privileges"
  exec setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups \
    --inh-caps=-all --bounding-set=-all --no-new-privs \
    env HOME=/tmp USER="$user" "${BASH:-/bin/bash}" "$0"
fi

# --- as the unprivileged user ----------------------------------------------------------------
cap_eff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
[ -n "$cap_eff" ] && [ "$((16#$cap_eff))" -eq 0 ] \
  || die "this user holds capabilities (CapEff $cap_eff): the run would prove nothing"
logs=$(mktemp -d "${TMPDIR:-/tmp}/iapd-unprivileged.XXXXXX") || die "mktemp failed"
export IAPD_TEST_BACKEND=user
export IAPD_ARTEFACTS=$logs/artefacts BROWSER_SHOTS_DIR=$logs/browser-shots
say "as $(id -un) (uid $(id -u), CapEff $cap_eff), logs in $logs"

pass=0 failed=""
for t in ${IAPD_UNPRIVILEGED_TESTS:-$TESTS}; do
  case "$t" in
    *.sh) cmd=("${BASH:-/bin/bash}" "$TESTS_DIR/integration/$t") ;;
    *)    cmd=("$build_tests/$t") ;;
  esac
  start=$(date +%s)
  (cd "$logs" && timeout 600 "${cmd[@]}") > "$logs/$t.log" 2>&1
  rc=$?
  took=$(( $(date +%s) - start ))
  case $rc in
    0)  pass=$((pass + 1)); say "PASS: $t (${took} s)" ;;
    77) failed="$failed $t"; say "SKIP, which counts as a failure here: $t: $(grep '^SKIP' "$logs/$t.log")" ;;
    *)  failed="$failed $t"; say "FAIL: $t (exit $rc); last lines of $logs/$t.log:"
        tail -n 15 "$logs/$t.log" | sed 's/^/    /' >&2 ;;
  esac
done

if [ -n "$failed" ]; then
  say "$pass passed; failed or skipped:$failed (logs kept in $logs)"
  exit 1
fi
say "$pass passed as $(id -un) with no capabilities and no network namespace"
rm -rf "$logs"
exit 0
