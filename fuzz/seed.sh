#!/usr/bin/env bash
# Populates fuzz/corpus/<target>/ with seed inputs taken from the Atlas
# conformance data. Idempotent: seeds are named by their SHA-1, as libFuzzer
# names corpus entries.
#
#   fuzz/seed.sh [CONFORMANCE_DIR]     (default: $CONFORMANCE or ../shared/conformance beside the checkout)
#
# Needs bash, jq, sha1sum.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
conf="${1:-${CONFORMANCE:-$here/../../shared/conformance}}"
lex="$conf/atlas-lex"
sum="$conf/atlas-sum"
corpus="$here/corpus"
[ -d "$lex" ] && [ -d "$sum" ] || { echo "seed.sh: no conformance data in $conf" >&2; exit 1; }
command -v jq >/dev/null || { echo "seed.sh: jq is required" >&2; exit 1; }

mkdir -p "$corpus"/{lex,sum_parse,directory,directive}
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT

# put TARGET: stores stdin as one seed of TARGET.
put() {
    cat >"$tmp"
    local h
    h="$(sha1sum "$tmp" | cut -d' ' -f1)"
    cp "$tmp" "$corpus/$1/$h"
}

# The lex target reads a little-endian u16 bitmask of scanner options first;
# bit i is the i-th field of strata::lex::ScanOptions.
bit() {
    case "$1" in
        MatchBegin) echo 0 ;; MatchBeginAtomic) echo 1 ;; MatchBeginTryCatch) echo 2 ;;
        MatchDollarQuote) echo 3 ;; BackslashEscapes) echo 4 ;; EscapedStringExt) echo 5 ;;
        HashComments) echo 6 ;; GoCommand) echo 7 ;; BeginEndTerminator) echo 8 ;;
        OmitDelimiter) echo 9 ;; *) echo "seed.sh: unknown option $1" >&2; exit 1 ;;
    esac
}
# prefix OPTION...: the two option bytes.
prefix() {
    local m=0 o
    for o in "$@"; do m=$((m | 1 << $(bit "$o"))); done
    printf "\\x$(printf %02x $((m & 255)))\\x$(printf %02x $((m >> 8)))"
}

n=0
# 1. lex: the upstream suites with their options (suites.json), plus every
#    input once with all ten options on.
for suite in lex lexgroup lexbegintry lexescaped sqlserver; do
    for f in "$lex/$suite"/*.sql; do
        rel="$suite/$(basename "$f")"
        mapfile -t opts < <(jq -r --arg k "$rel" '.[$k][]?' "$lex/suites.json")
        { prefix "${opts[@]}"; cat "$f"; } | put lex
        { printf '\xff\x03'; cat "$f"; } | put lex
        n=$((n + 2))
    done
done
# 2. lex: the generated edge cases (input + options), when present.
if [ -f "$lex/generated/edge-cases.json" ]; then
    count="$(jq length "$lex/generated/edge-cases.json")"
    for ((i = 0; i < count; i++)); do
        mapfile -t opts < <(jq -r ".[$i].options[]" "$lex/generated/edge-cases.json")
        { prefix "${opts[@]}"; jq -j ".[$i].input" "$lex/generated/edge-cases.json"; } | put lex
        n=$((n + 1))
    done
fi
echo "lex: $n seeds"

# 3. sum_parse: every atlas.sum (and expected-atlas.sum).
n=0
while IFS= read -r -d '' f; do
    put sum_parse <"$f"
    n=$((n + 1))
done < <(find "$sum" -type f \( -name atlas.sum -o -name expected-atlas.sum \) -print0)
echo "sum_parse: $n seeds"

# 4. directory: each conformance directory as entries "name\ncontent",
#    separated by NUL (expected-atlas.sum is passed as atlas.sum); and each
#    lex input as a one-file directory.
n=0
while IFS= read -r -d '' d; do
    ls "$d"/*.sql >/dev/null 2>&1 || continue
    {
        first=1
        for f in "$d"/*; do
            [ -f "$f" ] || continue
            name="$(basename "$f")"
            [ "$name" = expected-atlas.sum ] && name=atlas.sum
            [ $first = 1 ] || printf '\0'
            first=0
            printf '%s\n' "$name"
            tr -d '\0' <"$f"
        done
    } | put directory
    n=$((n + 1))
done < <(find "$sum" -type d -print0)
for f in "$lex"/{lex,lexgroup,lexbegintry,lexescaped,sqlserver}/*.sql; do
    { printf '%s\n' "$(basename "$f")"; cat "$f"; } | put directory
    n=$((n + 1))
done
echo "directory: $n seeds"

# 5. directive: every line mentioning atlas: in the conformance data, and a
#    few hand-written corner cases.
n=0
while IFS= read -r line; do
    printf '%s' "$line" | put directive
    n=$((n + 1))
done < <(grep -rh --include='*.sql' 'atlas:' "$conf" | sort -u)
for s in '-- atlas:sum ignore' '-- atlas:sum ignore\r\nSELECT 1;' '-- atlas:txmode none\n' \
    '# atlas:delimiter //\n' '-- atlas:a atlas:b c' '-- atlas:sum   ' '-- atlas:sum-x y' \
    '/* atlas:checkpoint v1 */' '\t-- atlas:sum ignore' '-- atlas:nolint DS101 MF103'; do
    printf -- "$s" | put directive
    n=$((n + 1))
done
echo "directive: $n seeds"
