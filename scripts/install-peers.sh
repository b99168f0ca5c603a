#!/usr/bin/env bash
# install-peers.sh — install the ECR emulators ("peers") this conformance tester
# runs against, from PyPI, into the git-ignored folder .peers/ at the repo root.
#
#   scripts/install-peers.sh [moto|ministack|all]      (default: all)
#
# Each peer gets its own virtual environment (python3 -m venv) with one pinned
# version:  .peers/moto-venv       moto[server]==$MOTO_VERSION
#           .peers/ministack-venv  ministack==$MINISTACK_VERSION
# Their dependencies are held to scripts/peer-constraints/<name>.txt (pip -c);
# set PEERS_NO_CONSTRAINTS=1 to let pip resolve them freely instead.
# Idempotent: a venv whose marker .installed-<version> records the current
# constraints file is left alone; anything else is rebuilt from scratch.
# Needs only python3 (with the venv module and ensurepip) and access to PyPI.
# Start a peer afterwards with scripts/start-peer.sh NAME PORT.
set -euo pipefail

MOTO_VERSION="5.2.5"
MINISTACK_VERSION="1.5.33"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS_DIR="${ROOT}/.peers"
CONSTRAINTS_DIR="${ROOT}/scripts/peer-constraints"
PYTHON="${PYTHON:-python3}"

die() { echo "install-peers: ERROR: $*" >&2; exit 1; }
log() { echo "install-peers: $*" >&2; }

command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found; install python3 (with venv and pip)"

# install_one NAME VERSION REQUIREMENT EXECUTABLE
install_one() {
    local name="$1" version="$2" requirement="$3" exe="$4"
    local venv="${PEERS_DIR}/${name}-venv"
    local marker="${venv}/.installed-${version}"
    local constraints="${CONSTRAINTS_DIR}/${name}.txt"
    local -a pip_args=(--disable-pip-version-check --no-input --quiet)
    local stamp="unconstrained"

    if [[ "${PEERS_NO_CONSTRAINTS:-0}" != "1" ]]; then
        [[ -f "$constraints" ]] || die "constraints file ${constraints} is missing"
        pip_args+=(-c "$constraints")
        stamp="$(cksum <"$constraints")"
    fi

    if [[ -f "$marker" && -x "${venv}/bin/${exe}" && "$(cat "$marker")" == "$stamp" ]]; then
        log "${name} ${version} already installed in ${venv#"$ROOT"/} (skipping)"
        return 0
    fi

    log "installing ${requirement} into ${venv#"$ROOT"/}"
    local started=$SECONDS
    # No marker, another version or other constraints, or a half-finished
    # install: start again from an empty venv.
    rm -rf "$venv"
    mkdir -p "$PEERS_DIR"
    "$PYTHON" -m venv "$venv" \
        || die "could not create venv ${venv} (on Debian/Ubuntu: apt-get install python3-venv)"
    "${venv}/bin/python" -m pip install "${pip_args[@]}" "$requirement" \
        || die "pip install '${requirement}' failed (is PyPI reachable? see pip's message above); ${venv} is incomplete, re-run to retry"
    [[ -x "${venv}/bin/${exe}" ]] \
        || die "${requirement} installed but ${venv}/bin/${exe} is missing"
    local got
    got="$("${venv}/bin/python" -m pip show "$name" 2>/dev/null | sed -n 's/^Version: //p')"
    [[ "$got" == "$version" ]] || die "expected ${name} ${version} in ${venv}, found '${got}'"

    printf '%s\n' "$stamp" >"$marker"
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
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown peer '${which_peers}' (expected moto, ministack or all)" ;;
esac
