#!/usr/bin/env bash
# start-peer.sh — run one ECR emulator ("peer") installed by scripts/install-peers.sh
# in the foreground (exec), listening on 127.0.0.1:PORT only.
#
#   scripts/start-peer.sh moto PORT
#   scripts/start-peer.sh ministack PORT
#
# Readiness: moto answers GET /moto-api/ (200) once up; MiniStack answers
# GET /_ministack/health (200). Reset between cases: POST /moto-api/reset (moto),
# POST /_ministack/reset (MiniStack). Stop with SIGTERM/SIGINT to this process.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS_DIR="${ROOT}/.peers"

die() { echo "start-peer: ERROR: $*" >&2; exit 1; }

[[ $# -eq 2 ]] || die "usage: $0 moto|ministack PORT"
name="$1" port="$2"
[[ "$port" =~ ^[0-9]+$ ]] && (( port > 0 && port < 65536 )) || die "bad port '${port}'"

case "$name" in
    moto)
        bin="${PEERS_DIR}/moto-venv/bin/moto_server"
        [[ -x "$bin" ]] || die "moto is not installed; run scripts/install-peers.sh moto"
        exec "$bin" -H 127.0.0.1 -p "$port"
        ;;
    ministack)
        bin="${PEERS_DIR}/ministack-venv/bin/ministack"
        [[ -x "$bin" ]] || die "ministack is not installed; run scripts/install-peers.sh ministack"
        # ministack.app:main binds BIND_HOST (default 0.0.0.0!) on GATEWAY_PORT
        # (which wins over EDGE_PORT). Other listeners it can open are switched
        # off so that nothing binds outside loopback: the IoT mTLS MQTT listener
        # (0.0.0.0:8883 when `cryptography` is importable), the SFTP listener,
        # and the extra :443 bind that USE_SSL adds. Persistence is off so every
        # start begins empty.
        exec env \
            BIND_HOST=127.0.0.1 \
            GATEWAY_PORT="$port" \
            EDGE_PORT="$port" \
            IOT_MTLS_ENABLED=0 \
            SFTP_ENABLED=0 \
            USE_SSL=0 \
            PERSIST_STATE=0 \
            S3_PERSIST=0 \
            LOCALSTACK_PERSISTENCE=0 \
            "$bin"
        ;;
    *) die "unknown peer '${name}' (expected moto or ministack)" ;;
esac
