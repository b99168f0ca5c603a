#!/usr/bin/env bash
# install-peers.sh — install the ECR emulators ("peers") this conformance tester
# runs against, from PyPI, into the git-ignored folder .peers/ at the repo root.
#
#   scripts/install-peers.sh [moto|ministack|all]      (default: all)
#
# Each peer gets its own virtual environment (python3 -m venv) with one pinned
# version:  .peers/moto-venv       moto[server]==$MOTO_VERSION
#           .peers/ministack-venv  ministack==$MINISTACK_VERSION
# Idempotent: a venv holding the marker .installed-<version> is left alone.
# Needs only python3 (with the venv module) and network access to PyPI.
# Start a peer afterwards with scripts/start-peer.sh NAME PORT.
set -euo pipefail

MOTO_VERSION="5.2.5"
MINISTACK_VERSION="1.5.33"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS_DIR="${ROOT}/.peers"
PYTHON="${PYTHON:-python3}"

die() { echo "install-peers: ERROR: $*" >&2; exit 1; }
log() { echo "install-peers: $*" >&2; }

command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found; install python3 (with venv and pip)"

# install_one NAME VERSION REQUIREMENT PROBE_EXECUTABLE
install_one() {
    local name="$1" version="$2" requirement="$3" probe="$4"
    local venv="${PEERS_DIR}/${name}-venv"
    local marker="${venv}/.installed-${version}"

    if [[ -f "$marker" && -x "${venv}/bin/${probe}" ]]; then
        log "${name} ${version} already installed in ${venv#"$ROOT"/} (skipping)"
        return 0
    fi

    log "installing ${requirement} into ${venv#"$ROOT"/}"
    local started=$SECONDS
    # A venv without our marker (other version, half-finished install) is rebuilt from scratch.
    rm -rf "$venv"
    mkdir -p "$PEERS_DIR"
    "$PYTHON" -m venv "$venv" \
        || die "could not create venv ${venv} (on Debian/Ubuntu: apt-get install python3-venv)"
    "${venv}/bin/python" -m pip install --disable-pip-version-check --no-input --quiet --upgrade pip \
        || die "could not upgrade pip in ${venv}"
    "${venv}/bin/python" -m pip install --disable-pip-version-check --no-input --quiet "$requirement" \
        || die "pip install '${requirement}' failed (is PyPI reachable?); ${venv} left incomplete, re-run to retry"
    [[ -x "${venv}/bin/${probe}" ]] \
        || die "${requirement} installed but ${venv}/bin/${probe} is missing"
    local got
    got="$("${venv}/bin/python" -m pip show "$name" 2>/dev/null | sed -n 's/^Version: //p')"
    [[ "$got" == "$version" ]] || die "expected ${name} ${version} in ${venv}, found '${got}'"

    rm -f "${venv}"/.installed-*
    touch "$marker"
    log "${name} ${version} installed in $((SECONDS - started)) s"
}

which_peers="${1:-all}"
case "$which_peers" in
    moto)      install_one moto "$MOTO_VERSION" "moto[server]==${MOTO_VERSION}" moto_server ;;
    ministack) install_one ministack "$MINISTACK_VERSION" "ministack==${MINISTACK_VERSION}" ministack ;;
    all)
        install_one moto "$MOTO_VERSION" "moto[server]==${MOTO_VERSION}" moto_server
        install_one ministack "$MINISTACK_VERSION" "ministack==${MINISTACK_VERSION}" ministack
        ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown peer '${which_peers}' (expected moto, ministack or all)" ;;
esac
