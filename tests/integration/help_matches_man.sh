#!/bin/sh
# The options `iapd --help` lists and the options iapd(8) documents are the same: the long
# names, and which short form goes with which long name. The man page side is read from the
# .It lines of the OPTIONS section of man/iapd.8.in ("Fl f , Fl -foreground").
#
# Needs no network and no privilege. Exit status (automake): 0 pass, 1 fail, 99 hard error.
# Environment, set by `make check`: IAPD (the daemon), TESTS_DIR (the source tests/ folder).

TEST_NAME=help_matches_man

hard_error() {
  printf '%s: ERROR: %s\n' "$TEST_NAME" "$*" >&2
  exit 99
}

[ -n "${IAPD:-}" ] || hard_error "IAPD is not set (run through make check, or set IAPD=path/to/iapd)"
[ -x "$IAPD" ] || hard_error "$IAPD is not an executable: build it first"
[ -n "${TESTS_DIR:-}" ] || hard_error "TESTS_DIR is not set (the source tree's tests/ folder)"
MAN_SRC=$TESTS_DIR/../man/iapd.8.in
[ -r "$MAN_SRC" ] || hard_error "cannot read $MAN_SRC"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/help_matches_man.XXXXXX") || hard_error "mktemp failed"
trap 'rm -rf "$WORK"' EXIT
trap 'exit 99' HUP INT TERM

# --help must succeed; its text goes through a file so its exit status is seen.
"$IAPD" --help >"$WORK/help.txt" 2>"$WORK/help.err" ||
  hard_error "$IAPD --help failed (status $?): $(cat "$WORK/help.err")"

# Every --word of the help text: option lines and any mention in the prose alike.
tr ' \t,=[]()' '\n\n\n\n\n\n\n\n' <"$WORK/help.txt" |
  sed -n 's/^\(--[a-z][a-z0-9-]*\).*/\1/p' | sort -u >"$WORK/help.long"
# Short and long forms listed together, as "  -f, --foreground".
sed -n 's/^ *\(-[A-Za-z]\), *\(--[a-z][a-z0-9-]*\).*/\1 \2/p' "$WORK/help.txt" |
  sort -u >"$WORK/help.pairs"

# The OPTIONS section: from ".Sh OPTIONS" to the next ".Sh"; each ".It" line names one
# option, its short form first if it has one ("Fl f , Fl -foreground").
awk '
  /^\.Sh[ \t]/ { in_options = ($2 == "OPTIONS"); next }
  in_options && /^\.It[ \t]/ {
    short = ""
    for (i = 2; i < NF; i++) {
      if ($i != "Fl")
        continue
      name = $(i + 1)
      sub(/[,.;:)]+$/, "", name)
      if (name ~ /^-[a-z][a-z0-9-]*$/)
        print "long -" name
      else if (name ~ /^[A-Za-z]$/)
        short = "-" name
      if (name ~ /^-[a-z]/ && short != "")
        print "pair " short " -" name
    }
  }' "$MAN_SRC" >"$WORK/man.all" || hard_error "awk failed on $MAN_SRC"
sed -n 's/^long //p' "$WORK/man.all" | sort -u >"$WORK/man.long"
sed -n 's/^pair //p' "$WORK/man.all" | sort -u >"$WORK/man.pairs"

# An empty side means the extraction broke, not that both are empty.
[ -s "$WORK/help.long" ] || hard_error "found no --option in the output of $IAPD --help"
[ -s "$WORK/man.long" ] || hard_error "found no .It Fl -option in the OPTIONS section of $MAN_SRC"

status=0
report() { # report FILE_A FILE_B WHAT_A_HAS WHAT_B_LACKS
  comm -23 "$1" "$2" >"$WORK/diff"
  if [ -s "$WORK/diff" ]; then
    printf '%s: %s but not %s:\n' "$TEST_NAME" "$3" "$4" >&2
    sed 's/^/    /' "$WORK/diff" >&2
    status=1
  fi
}
report "$WORK/help.long" "$WORK/man.long" "listed by iapd --help" "in the OPTIONS of iapd.8.in"
report "$WORK/man.long" "$WORK/help.long" "in the OPTIONS of iapd.8.in" "listed by iapd --help"
report "$WORK/help.pairs" "$WORK/man.pairs" "short forms in iapd --help" "in iapd.8.in"
report "$WORK/man.pairs" "$WORK/help.pairs" "short forms in iapd.8.in" "in iapd --help"

if [ "$status" -eq 0 ]; then
  printf '%s: %s long options, %s short forms agree\n' "$TEST_NAME" \
    "$(wc -l <"$WORK/help.long" | tr -d ' ')" "$(wc -l <"$WORK/help.pairs" | tr -d ' ')"
fi
exit "$status"
