#!/usr/bin/env bash
# The last part of `make run`, in the foreground: the web viewer on
# http://127.0.0.1:8080/ (STRATA_DEMO_LISTEN to change it), served by
# strata-server with embedded storage in target/demo/data, the demo
# directories of examples/demo pushed (app v1, v2, v3 = latest; billing v1),
# and a SQLite target `demo` (target/demo/demo.db) to deploy them to.
# Everything under target/demo is recreated on each run. Ctrl-C stops it.
#
#   scripts/viewer-demo.sh SERVER_BIN WWW_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
SERVER=${1:?usage: $0 SERVER_BIN WWW_DIR}
WWW=${2:?usage: $0 SERVER_BIN WWW_DIR}
LISTEN=${STRATA_DEMO_LISTEN:-127.0.0.1:8080}
STRATA="node pkg/bin/strata.mjs"
DEMO=$PWD/target/demo
DATA=$DEMO/data

[ -f "$WWW/index.html" ] && [ -f "$WWW/strata_bg.wasm" ] || {
	echo "$WWW has no viewer (index.html, strata_bg.wasm): build it with \`make www\`" >&2
	exit 1
}
# The port first: a clear message rather than a server error after setup.
if (exec 3<>"/dev/tcp/${LISTEN%:*}/${LISTEN##*:}") 2>/dev/null; then
	echo "port ${LISTEN##*:} is in use on ${LISTEN%:*}: another program (an earlier demo?) listens there." >&2
	echo "Stop it (\`ss -ltnp 'sport = :${LISTEN##*:}'\` shows which process), or run on another address:" >&2
	echo "  STRATA_DEMO_LISTEN=127.0.0.1:8081 make run" >&2
	exit 1
fi

rm -rf "$DEMO"
mkdir -p "$DATA"

step() { printf '\n== %s\n' "$*"; }

step "a SQLite target \`demo\` (target/demo/demo.db, foreign keys on) in target/demo/targets.toml"
cat >"$DEMO/targets.toml" <<EOF
[targets.demo]
url = "sqlite://$DEMO/demo.db?_fk=1"
lock_timeout = "5s"
EOF
cat "$DEMO/targets.toml"

step "tokens: read (browse), read+deploy on target demo (apply), read+push (the pushes below)"
token() { "$SERVER" token create --data "$DATA" "$@"; }
READ_TOKEN=$(token --scope read --name viewer)
DEPLOY_TOKEN=$(token --scope read,deploy --target demo --name deployer)
PUSH_TOKEN=$(token --scope read,push --name demo-ci)
printf '%s\n' "$READ_TOKEN" >"$DEMO/read.token"
printf '%s\n' "$DEPLOY_TOKEN" >"$DEMO/deploy.token"
"$SERVER" token list --data "$DATA"

step "strata-server serve --www $WWW --listen $LISTEN"
# The SQLite lock file of the target (Atlas's, in TMPDIR) stays in target/demo.
TMPDIR=$DEMO RUST_LOG=${RUST_LOG:-warn} "$SERVER" serve --data "$DATA" --targets "$DEMO/targets.toml" \
	--www "$WWW" --listen "$LISTEN" >"$DEMO/stdout" 2>"$DEMO/server.log" &
PID=$!
stop() {
	trap - INT TERM EXIT
	kill -TERM $PID 2>/dev/null || true
	wait $PID 2>/dev/null || true
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT
for _ in $(seq 100); do
	grep -q '^listening on ' "$DEMO/stdout" 2>/dev/null && break
	if ! kill -0 $PID 2>/dev/null; then
		cat "$DEMO/server.log" >&2
		grep -qi 'address.*in use' "$DEMO/server.log" \
			&& echo "port ${LISTEN##*:} is in use: stop what listens there or set STRATA_DEMO_LISTEN" >&2
		exit 1
	fi
	sleep 0.1
done
URL=$(sed -n 's/^listening on //p' "$DEMO/stdout")
[ -n "$URL" ] || { echo "strata-server did not start listening; its log:" >&2; cat "$DEMO/server.log" >&2; exit 1; }

step "strata push: app v1, v2, v3 (latest: v3 drops a table and a column), billing v1"
export STRATA_REGISTRY=$URL STRATA_TOKEN=$PUSH_TOKEN
for v in v1 v2 v3; do
	$STRATA push --dir examples/demo/app/$v --name app --tag $v
done
$STRATA push --dir examples/demo/billing/v1 --name billing --tag v1
$STRATA tags app

cat <<EOF

== the viewer is ready

  Viewer:        $URL/
  Read token:    $READ_TOKEN
  Deploy token:  $DEPLOY_TOKEN

  Paste a token when the page asks for one: the read token browses
  directories, versions, diffs, plans and deployments; the deploy token
  can also apply to the target \`demo\` (a SQLite database in
  target/demo/demo.db). Both are in target/demo/*.token; the server's log
  is target/demo/server.log.
  Try: $URL/d/app/diff/v1/v3, then $URL/d/app/v/v3/plan/demo

  Ctrl-C to stop.
EOF
wait $PID
