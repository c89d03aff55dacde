#!/usr/bin/env bash
# scripts/check-fuzz-dict.sh - checks that the keyword block of tests/fuzz/fuzz_compile.dict (the
# lines between "# keywords:" and "# end of keywords") holds exactly the words grammar/lexer.l
# matches as keywords, so that a new keyword cannot be left out of the fuzzer's mutations.
# A keyword is a rule of the lexer's rules section whose pattern is made of quoted lower-case
# words ("ruleset", "min"|"max", "not"{WS}+"in"). Also that every dictionary of tests/fuzz/ is
# ASCII: libFuzzer refuses a dictionary with a raw UTF-8 byte (write \xC2\xA5 for ¥) and the
# fuzz target then fails before it starts. Prints the differences and exits 1 if any.
set -u
cd "$(dirname "$0")/.."
lexer=grammar/lexer.l
dict=tests/fuzz/fuzz_compile.dict

lexer_words=$(awk '/^%%/ { part++; next } part == 1' "$lexer" | grep -E '^"[a-z]' | awk '{ print $1 }' |
  grep -oE '"[a-z_]+"' | sort)
dict_words=$(awk '/^# end of keywords/ { inside = 0 } inside && !/^#/ { print } /^# keywords:/ { inside = 1 }' "$dict" | sort)

status=0
if [ -z "$lexer_words" ] || [ -z "$dict_words" ]; then
  echo "check-fuzz-dict: found no keywords in $lexer or no keyword block in $dict"; exit 1
fi
dups=$(echo "$dict_words" | uniq -d)
[ -n "$dups" ] && { echo "$dict: listed twice in the keyword block:"; echo "$dups"; status=1; }
missing=$(comm -23 <(echo "$lexer_words" | sort -u) <(echo "$dict_words" | sort -u))
[ -n "$missing" ] && { echo "$dict: keywords of $lexer missing from the keyword block:"; echo "$missing"; status=1; }
extra=$(comm -13 <(echo "$lexer_words" | sort -u) <(echo "$dict_words" | sort -u))
[ -n "$extra" ] && { echo "$dict: not keywords of $lexer (move them below '# end of keywords'):"; echo "$extra"; status=1; }
# a word outside the block that is a keyword would be a second copy
others=$(awk '/^# end of keywords/ { after = 1; next } after && !/^#/' "$dict" | sort)
twice=$(comm -12 <(echo "$lexer_words" | sort -u) <(echo "$others" | sort -u))
[ -n "$twice" ] && { echo "$dict: keywords listed again after the keyword block:"; echo "$twice"; status=1; }
raw=$(LC_ALL=C grep -nP '[^\x00-\x7F]' tests/fuzz/*.dict)
[ -n "$raw" ] && { echo "tests/fuzz: raw non-ASCII bytes in a dictionary (libFuzzer wants \\xNN escapes):"; echo "$raw"; status=1; }
exit $status
