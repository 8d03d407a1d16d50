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
apply="$conf/atlas-apply"
corpus="$here/corpus"
[ -d "$lex" ] && [ -d "$sum" ] || { echo "seed.sh: no conformance data in $conf" >&2; exit 1; }
command -v jq >/dev/null || { echo "seed.sh: jq is required" >&2; exit 1; }

mkdir -p "$corpus"/{lex,sum_parse,directory,directive,plan}
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

# 6. plan: the planner cases of atlas-apply/executor-cases.json (inline
#    directories and executor-dirs/*), and variants of executor-dirs/sub.
#    Layout (fuzz_targets/plan.rs, fuzz/README.md): a 14-byte header, each
#    file as 0xff NAME \n 0x00 CONTENT \0, then 8 bytes per revision row,
#    then one byte per executor step.
if [ -f "$apply/executor-cases.json" ]; then
    cases="$apply/executor-cases.json"
    dirs="$apply/executor-dirs"
    # bytes N...: the bytes with these decimal values.
    bytes() { local v; for v in "$@"; do printf "\\x$(printf %02x "$v")"; done; }
    # sel VERSION: the selector byte naming VERSION from the target's
    # alphabet (VERSIONS then EXTRA_VERSIONS; a byte >= 0xc0 picks entry
    # byte % 18), or nothing when VERSION is not in it.
    alphabet=(1 2 2.5 2.6 3 4 10 1.a 2.10.x-20 20240101000000 20240102000000 0 "" 9 .atlas_cloud_identifier 1_a 2. "3 ")
    sel() {
        local i
        for i in "${!alphabet[@]}"; do
            [ "${alphabet[$i]}" = "$1" ] && { echo $((192 + (i + 6) % 18)); return; }
        done
    }
    # files_of DIR: the migration files of a folder, as the target encodes them.
    files_of() {
        local f
        for f in "$1"/*.sql; do
            [ -f "$f" ] || continue
            printf '\xff%s\n\x00' "$(basename "$f")"
            tr -d '\0' <"$f"
            printf '\0'
        done
    }
    n=0
    for kind in pending_cases execute_cases; do
        count="$(jq ".$kind | length" "$cases")"
        for ((i = 0; i < count; i++)); do
            c=".$kind[$i]"
            dirtype="$(jq -r "$c.dir | type" "$cases")"
            if [ "$dirtype" = string ]; then
                d="$dirs/$(jq -r "$c.dir" "$cases")"
                nfiles="$(find "$d" -maxdepth 1 -name '*.sql' | wc -l)"
                # A folder's atlas.sum is taken as it is (sum mode 3).
                summode=3
            else
                nfiles="$(jq "$c.dir.files | length" "$cases")"
                summode=0
            fi
            flags=0
            baseline=0
            b="$(jq -r "$c.options.baseline // empty" "$cases")"
            [ -n "$b" ] && { flags=$((flags | 1)); baseline="$(sel "$b")"; baseline="${baseline:-0}"; }
            [ "$(jq -r "$c.options.allow_dirty // false" "$cases")" = true ] && flags=$((flags | 2))
            [ "$(jq -r "$c.db_clean // true" "$cases")" = false ] && flags=$((flags | 16))
            case "$(jq -r "$c.options.exec_order // \"linear\"" "$cases")" in
                linear-skip) order=1 ;; non-linear) order=2 ;; *) order=0 ;;
            esac
            to=0
            v="$(jq -r "if (.op | type) == \"object\" and .op.op == \"execute_to\" then .op.version else empty end" <<<"$(jq "$c" "$cases")")"
            [ -n "$v" ] && { flags=$((flags | 4)); to="$(sel "$v")"; to="${to:-0}"; }
            mapfile -t revs < <(jq -c "$c.revisions[]" "$cases")
            rows=()
            for r in "${revs[@]}"; do
                s="$(sel "$(jq -r .version <<<"$r")")"
                [ -n "$s" ] && rows+=("$s $(jq -r '"\(.applied // 0 | . % 8) \(.total // 0 | . % 8) \(if (.error // "") != "" then 1 else 0 end)"' <<<"$r")")
            done
            {
                # Sorted revisions (flag 6), one per version.
                bytes 0 "$summode" 0 0 $((flags | 64)) "$order" "$baseline" "$to" 0 0 "${#rows[@]}" "$nfiles" 0 0
                if [ "$dirtype" = string ]; then
                    files_of "$d"
                    tr -d '\0' <"$d/atlas.sum"
                    printf '\0'
                else
                    for ((k = 0; k < nfiles; k++)); do
                        printf '\xff%s\n\x00' "$(jq -r "$c.dir.files[$k].name" "$cases")"
                        jq -j "$c.dir.files[$k].content" "$cases" | tr -d '\0'
                        printf '\0'
                    done
                fi
                for row in "${rows[@]}"; do
                    read -r s a t e <<<"$row"
                    # version, own description, type 0, applied, total, no
                    # partial hashes, error, the file's hash
                    bytes "$s" 0 128 "$a" "$t" 0 "$e" 0
                done
            } | put plan
            n=$((n + 1))
        done
    done
    # executor-dirs/sub with each dialect, sum mode and tx mode, and a few
    # failing steps.
    sub="$dirs/sub"
    for dialect in 0 1 2 3 4; do
        for summode in 0 1 2 3; do
            { bytes "$dialect" "$summode" 1 7 0 $((dialect % 3 * 3)) 0 0 0 0 0 3 0 0; files_of "$sub"
              if [ $summode = 3 ]; then cat "$sub/atlas.sum"; printf '\0'; fi; } | put plan
            n=$((n + 1))
        done
    done
    for tape in '\x00\x00\x00\x0f' '\x00\x0f' '\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x1f' \
        '\x00\x00\x00\x00\x00\x00\x00\x2f' '\x0f\x0f\x0f\x0f'; do
        for tx in 0 3 6; do
            { bytes 0 0 0 0 0 "$tx" 0 0 0 0 0 3 0 0; files_of "$sub"; printf "$tape"; } | put plan
            n=$((n + 1))
        done
    done
    # sub with 1.a and 2.10.x-20 applied and 3 partly applied (one statement, its hash
    # taken from the plan), resumed; baseline + not clean; to/amount/set.
    { bytes 0 0 0 0 64 0 0 0 0 0 3 3 0 0; files_of "$sub"
      bytes "$(sel 1.a)" 0 0 2 2 0 0 0 "$(sel 2.10.x-20)" 0 0 1 1 0 0 0 "$(sel 3)" 0 0 1 128 1 1 0; } | put plan
    { bytes 1 0 0 0 $((1 | 16)) 6 "$(sel 1.a)" 0 0 0 0 3 0 0; files_of "$sub"; } | put plan
    { bytes 2 0 0 0 $((4 | 8 | 128)) 2 0 "$(sel 3)" 1 "$(sel 2.10.x-20)" 0 3 0 0; files_of "$sub"; } | put plan
    # The regression of report::file_notes: a partial row with u64::MAX
    # applied statements (applied byte 0xfe).
    { bytes 0 0 0 0 64 0 0 0 0 0 3 3 0 0; files_of "$sub"
      bytes "$(sel 1.a)" 0 0 2 2 0 0 0 "$(sel 2.10.x-20)" 0 0 1 1 0 0 0 "$(sel 3)" 0 0 254 2 0 0 0; } | put plan
    n=$((n + 4))
    echo "plan: $n seeds"
else
    echo "plan: no $apply/executor-cases.json, no seeds" >&2
fi
