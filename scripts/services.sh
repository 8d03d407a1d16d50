#!/usr/bin/env bash
# Real servers for the registry's "scale-out" test run, on loopback:
# PostgreSQL (initdb/pg_ctl in a temp dir) for metadata, and moto's
# S3-compatible server (PyPI, in a venv under .tools/) for blobs.
#
#   eval "$(scripts/services.sh start)"   start both, print the variables
#   scripts/services.sh stop              stop both
#
# `start` prints `export` lines: STRATA_TEST_METADATA (a PostgreSQL URL whose
# user may CREATE DATABASE), STRATA_TEST_BLOBS (s3://bucket) and the AWS_*
# variables object_store reads. Everything else goes to stderr. Idempotent:
# a second `start` reuses running servers.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STATE=$ROOT/target/services
VENV=$ROOT/.tools/venv
BUCKET=strata-test

log() { echo "services: $*" >&2; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Runs a command as the postgres user when we are root (PostgreSQL refuses
# to run as root), as ourselves otherwise.
as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
	if [ -f "$STATE/pg.env" ] && as_pg pg_ctl -D "$(cat "$STATE/pg.dir")" status >/dev/null 2>&1; then
		cat "$STATE/pg.env"
		return
	fi
	local dir port
	dir=$(mktemp -d /tmp/strata-pg.XXXXXX)
	[ "$(id -u)" = 0 ] && chown postgres: "$dir"
	port=$(free_port)
	as_pg initdb -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 >"$STATE/pg.log" 2>&1
	# fsync off: the tests kill strata-server, never the machine.
	as_pg pg_ctl -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >>"$STATE/pg.log" 2>&1 \
		|| { cat "$dir/server.log" >&2; exit 1; }
	echo "$dir/data" >"$STATE/pg.dir"
	echo "export STRATA_TEST_METADATA=postgres://postgres@127.0.0.1:$port/postgres" >"$STATE/pg.env"
	log "PostgreSQL on 127.0.0.1:$port ($dir)"
	cat "$STATE/pg.env"
}

install_moto() {
	if [ ! -x "$VENV/bin/moto_server" ]; then
		log "installing moto[server] into $VENV"
		python3 -m venv "$VENV"
		"$VENV/bin/pip" install -q --disable-pip-version-check 'moto[server]' >&2
	fi
}

start_s3() {
	if [ -f "$STATE/s3.env" ] && kill -0 "$(cat "$STATE/s3.pid")" 2>/dev/null; then
		cat "$STATE/s3.env"
		return
	fi
	install_moto
	local port
	port=$(free_port)
	nohup "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$STATE/s3.log" 2>&1 &
	echo $! >"$STATE/s3.pid"
	for _ in $(seq 100); do
		curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break
		sleep 0.2
	done
	# moto does not check signatures: a plain PUT creates the bucket.
	curl -fsS -X PUT -o /dev/null "http://127.0.0.1:$port/$BUCKET"
	cat >"$STATE/s3.env" <<EOF
export STRATA_TEST_BLOBS=s3://$BUCKET
export AWS_ENDPOINT_URL=http://127.0.0.1:$port
export AWS_ACCESS_KEY_ID=strata-test
export AWS_SECRET_ACCESS_KEY=strata-test
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_ALLOW_HTTP=true
EOF
	log "S3 (moto) on 127.0.0.1:$port, bucket $BUCKET"
	cat "$STATE/s3.env"
}

stop() {
	if [ -f "$STATE/pg.dir" ]; then
		as_pg pg_ctl -D "$(cat "$STATE/pg.dir")" -m fast stop >/dev/null 2>&1 || true
		rm -rf "$(dirname "$(cat "$STATE/pg.dir")")"
		rm -f "$STATE/pg.dir" "$STATE/pg.env"
	fi
	if [ -f "$STATE/s3.pid" ]; then
		kill "$(cat "$STATE/s3.pid")" 2>/dev/null || true
		rm -f "$STATE/s3.pid" "$STATE/s3.env"
	fi
}

mkdir -p "$STATE"
case "${1:-}" in
start)
	start_postgres
	start_s3
	;;
stop) stop ;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
