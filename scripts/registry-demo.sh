#!/usr/bin/env bash
# The registry part of `make run`: a strata-server with embedded storage in
# target/run/registry, a push of examples/migrations, its tags, a pull that
# verifies every byte, a pull request's preview (strata plan --base), and a
# push after the merge that only uploads what changed. The server is
# stopped (SIGTERM) at the end.
#
#   scripts/registry-demo.sh SERVER_BIN
set -euo pipefail
cd "$(dirname "$0")/.."
SERVER=${1:?usage: $0 SERVER_BIN}
STRATA="node pkg/bin/strata.mjs"
RUN=target/run
DATA=$RUN/registry
rm -rf "$DATA" "$RUN/pulled" "$RUN/next"
mkdir -p "$DATA"

step() { printf '\n== %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "strata-server token create: a token for CI (read and push), printed once"
echo "\$ strata-server token create --data $DATA --scope read,push --name demo > $RUN/token"
"$SERVER" token create --data "$DATA" --scope read,push --name demo >"$RUN/token"
STRATA_TOKEN=$(cat "$RUN/token")
export STRATA_TOKEN
echo "(token saved in $RUN/token)"

step "strata-server serve: embedded storage (SQLite + files) in $DATA"
"$SERVER" serve --data "$DATA" --listen 127.0.0.1:0 >"$DATA/stdout" 2>"$DATA/server.log" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do
	grep -q '^listening on ' "$DATA/stdout" 2>/dev/null && break
	kill -0 $PID 2>/dev/null || { cat "$DATA/server.log"; exit 1; }
	sleep 0.1
done
STRATA_REGISTRY=$(sed -n 's/^listening on //p' "$DATA/stdout")
export STRATA_REGISTRY
echo "listening on $STRATA_REGISTRY (STRATA_REGISTRY)"

step "strata push: upload the blobs, create the version, move latest and v1"
show $STRATA push --dir examples/migrations --name app --tag v1

step "strata tags"
show $STRATA tags app

step "strata pull: fetch app@v1, verify every blob and atlas.sum, write the files"
show $STRATA pull app@v1 --out "$RUN/pulled"
show diff -r examples/migrations "$RUN/pulled"
echo "identical"

step "strata plan --base: a pull request adds a migration; its preview against app@latest (exit 4: warnings only)"
cp -r examples/migrations "$RUN/next"
printf 'ALTER TABLE users ADD COLUMN bio text;\nCREATE INDEX users_bio ON users (bio);\n' >"$RUN/next/20240201000000_add_bio.sql"
$STRATA hash --dir "$RUN/next"
code=0
echo "\$ $STRATA plan --dir $RUN/next --base app@latest --dialect postgres --format markdown > $RUN/preview.md"
$STRATA plan --dir "$RUN/next" --base app@latest --dialect postgres --format markdown >"$RUN/preview.md" || code=$?
cat "$RUN/preview.md"
test $code -eq 4

step "strata push after the merge: only the new file is uploaded"
show $STRATA push --dir "$RUN/next" --name app --tag v2
show $STRATA tags app

step "the protocol with curl: the tag's manifest, then a conditional GET (304)"
show curl -sS -H "Authorization: Bearer $STRATA_TOKEN" -D "$RUN/headers" "$STRATA_REGISTRY/v1/dirs/app/tags/v1"
echo
ETAG=$(sed -n 's/^etag: //Ip' "$RUN/headers" | tr -d '\r')
show curl -sS -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $STRATA_TOKEN" -H "If-None-Match: $ETAG" "$STRATA_REGISTRY/v1/dirs/app/tags/v1"
