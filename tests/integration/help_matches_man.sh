#!/bin/sh
# What `PROGRAM --help` lists and what its man page documents are the same, for iapd(8),
# iapctl(1) and iapd-image(1):
#   - the long options, and which short form goes with which long name, against the .It lines
#     of the man page's OPTIONS section ("Fl f , Fl -foreground");
#   - the commands, for a program that has them (iapctl): the first word of each line under
#     "Commands:" in --help, against the ".It Cm NAME" lines of the COMMANDS section.
#
# Needs no network and no privilege. Exit status (automake): 0 pass, 1 fail, 99 hard error.
# Environment, set by `make check`: IAPD, IAPCTL (the programs), TESTS_DIR (the source
# tree's tests/ folder).

TEST_NAME=help_matches_man

hard_error() {
  printf '%s: ERROR: %s\n' "$TEST_NAME" "$*" >&2
  exit 99
}

[ -n "${TESTS_DIR:-}" ] || hard_error "TESTS_DIR is not set (the source tree's tests/ folder)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/help_matches_man.XXXXXX") || hard_error "mktemp failed"
trap 'rm -rf "$WORK"' EXIT
trap 'exit 99' HUP INT TERM

status=0

# report FILE_A FILE_B WHAT_A_HAS WHAT_B_LACKS: the lines of A that B does not have.
report() {
  comm -23 "$1" "$2" >"$WORK/diff"
  if [ -s "$WORK/diff" ]; then
    printf '%s: %s but not %s:\n' "$TEST_NAME" "$3" "$4" >&2
    sed 's/^/    /' "$WORK/diff" >&2
    status=1
  fi
}

# compare NAME PROGRAM MAN_SRC
compare() {
  name=$1 program=$2 man_src=$3 d=$WORK/$1
  [ -x "$program" ] || hard_error "$program is not an executable: build it first"
  [ -r "$man_src" ] || hard_error "cannot read $man_src"
  mkdir -p "$d"

  # --help must succeed; its text goes through a file so its exit status is seen.
  "$program" --help >"$d/help.txt" 2>"$d/help.err" ||
    hard_error "$program --help failed (status $?): $(cat "$d/help.err")"

  # Every --word of the help text: option lines and any mention in the prose alike.
  tr ' \t,=[]()' '\n\n\n\n\n\n\n\n' <"$d/help.txt" |
    sed -n 's/^\(--[a-z][a-z0-9-]*\).*/\1/p' | sort -u >"$d/help.long"
  # Short and long forms listed together, as "  -f, --foreground".
  sed -n 's/^ *\(-[A-Za-z]\), *\(--[a-z][a-z0-9-]*\).*/\1 \2/p' "$d/help.txt" |
    sort -u >"$d/help.pairs"
  # The first word of each line of the "Commands:" block, up to the next blank line.
  awk '/^Commands:/ { on = 1; next } /^$/ { on = 0 } on && /^  [a-z]/ { print $1 }' \
    "$d/help.txt" | sort -u >"$d/help.commands"

  # The OPTIONS section: from ".Sh OPTIONS" to the next ".Sh"; each ".It" line names one
  # option, its short form first if it has one ("Fl f , Fl -foreground"). The COMMANDS
  # section: each ".It Cm NAME" line names one command.
  awk '
    /^\.Sh[ \t]/ { section = $2; next }
    section == "OPTIONS" && /^\.It[ \t]/ {
      short = ""
      for (i = 2; i < NF; i++) {
        if ($i != "Fl")
          continue
        opt = $(i + 1)
        sub(/[,.;:)]+$/, "", opt)
        if (opt ~ /^-[a-z][a-z0-9-]*$/)
          print "long -" opt
        else if (opt ~ /^[A-Za-z]$/)
          short = "-" opt
        if (opt ~ /^-[a-z]/ && short != "")
          print "pair " short " -" opt
      }
    }
    section == "COMMANDS" && /^\.It[ \t]+Cm[ \t]/ { print "command " $3 }
  ' "$man_src" >"$d/man.all" || hard_error "awk failed on $man_src"
  sed -n 's/^long //p' "$d/man.all" | sort -u >"$d/man.long"
  sed -n 's/^pair //p' "$d/man.all" | sort -u >"$d/man.pairs"
  sed -n 's/^command //p' "$d/man.all" | sort -u >"$d/man.commands"

  # An empty side means the extraction broke, not that both are empty.
  [ -s "$d/help.long" ] || hard_error "found no --option in the output of $program --help"
  [ -s "$d/man.long" ] || hard_error "found no .It Fl -option in the OPTIONS section of $man_src"
  if grep -q '^\.Sh COMMANDS' "$man_src"; then
    [ -s "$d/man.commands" ] || hard_error "found no .It Cm command in the COMMANDS of $man_src"
    [ -s "$d/help.commands" ] || hard_error "found no Commands: block in $program --help"
  fi

  man_name=$(basename "$man_src")
  report "$d/help.long" "$d/man.long" "listed by $name --help" "in the OPTIONS of $man_name"
  report "$d/man.long" "$d/help.long" "in the OPTIONS of $man_name" "listed by $name --help"
  report "$d/help.pairs" "$d/man.pairs" "short forms in $name --help" "in $man_name"
  report "$d/man.pairs" "$d/help.pairs" "short forms in $man_name" "in $name --help"
  report "$d/help.commands" "$d/man.commands" "commands in $name --help" "in the COMMANDS of $man_name"
  report "$d/man.commands" "$d/help.commands" "in the COMMANDS of $man_name" "in $name --help"

  printf '%s: %s: %s long options, %s short forms, %s commands\n' "$TEST_NAME" "$name" \
    "$(wc -l <"$d/help.long" | tr -d ' ')" "$(wc -l <"$d/help.pairs" | tr -d ' ')" \
    "$(wc -l <"$d/help.commands" | tr -d ' ')"
}

[ -n "${IAPD:-}" ] || hard_error "IAPD is not set (run through make check, or set IAPD=path/to/iapd)"
[ -n "${IAPCTL:-}" ] || hard_error "IAPCTL is not set (run through make check, or set IAPCTL=path/to/iapctl)"
compare iapd "$IAPD" "$TESTS_DIR/../man/iapd.8.in"
compare iapctl "$IAPCTL" "$TESTS_DIR/../man/iapctl.1.in"
compare iapd-image "${IAPD_IMAGE:-$(dirname "$IAPD")/iapd-image}" "$TESTS_DIR/../man/iapd-image.1.in"
exit "$status"
