#!/usr/bin/env bash
# install-test-deps.sh: what the test suite needs beyond Rust, installed from the registries:
# Debian's Chromium (the HTML report is checked in a real headless browser) and the ECR emulators
# the harness is run against (scripts/install-peers.sh). Idempotent; needs root for apt-get.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if ! command -v chromium >/dev/null 2>&1; then
    echo "install-test-deps: installing chromium" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
command -v chromium >/dev/null 2>&1 || { echo "install-test-deps: ERROR: chromium did not install" >&2; exit 1; }

"${ROOT}/scripts/install-peers.sh" all
