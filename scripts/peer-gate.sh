#!/usr/bin/env bash
# peer-gate.sh: the conformance gate against the real peers (moto, MiniStack) installed by
# scripts/install-peers.sh, each started by the tool itself (--spawn) and gated against its
# committed baseline under snapshots/<peer>/ with --strict: a new deviation class fails, and so
# does a known one that disappears. A second run with another seed must find the same gate classes
# (a class that depends on the seed is not one the gate can keep). Then the README's conformance
# matrix must be the current one.
#
#   scripts/peer-gate.sh            # the gate (what CI runs)
#   RECORD=1 scripts/peer-gate.sh   # write pending snapshots for review instead of gating
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="${ECRC_BIN:-target/release/ecr-conformance}"
[[ -x "$BIN" ]] || cargo build --release --quiet
# The baseline's examples are those of this seed and these settings: keep them with the snapshots.
COMMON=(--seed 1 --cases 300 --shrink-seconds 900 --deadline 1500 -q)
status=0
for peer in moto ministack; do
    [[ -x ".peers/${peer}-venv/bin/$([[ $peer == moto ]] && echo moto_server || echo ministack)" ]] \
        || { echo "peer-gate: ${peer} is not installed (scripts/install-peers.sh)" >&2; exit 1; }
    if [[ "${RECORD:-0}" == "1" ]]; then
        "$BIN" run --spawn "scripts/start-peer.sh ${peer} {port}" --target "$peer" --out "reports/${peer}" "${COMMON[@]}" || true
    else
        "$BIN" run --spawn "scripts/start-peer.sh ${peer} {port}" --target "$peer" --out "reports/${peer}" --strict "${COMMON[@]}" \
            || { echo "peer-gate: ${peer} deviates from its baseline (reports/${peer}/summary.md)" >&2; status=1; }
    fi
    # The same classes from another seed (no baseline, no shrinking: only the classes count).
    rc=0
    mkdir -p "reports/${peer}-seed2"
    "$BIN" run --spawn "scripts/start-peer.sh ${peer} {port}" --target "$peer" --out "reports/${peer}-seed2" \
        --seed 2 --cases 300 --shrink-seconds 0 --no-snapshots -q >"reports/${peer}-seed2/run.log" 2>&1 || rc=$?
    if (( rc >= 2 )); then
        cat "reports/${peer}-seed2/run.log" >&2
        echo "peer-gate: ${peer}: the run with seed 2 did not complete (exit ${rc})" >&2; status=1
    else
        # Gate classes must not depend on the seed; an advisory class that one seed's cases
        # reach and another's do not (an upper-case digest of a stored image, say) is listed only.
        out="$("$BIN" classes "reports/${peer}/report.json" "reports/${peer}-seed2/report.json" 2>&1)" || true
        echo "$out"
        if grep -qE -- '-gate-[a-z-]+: only in' <<<"$out"; then
            echo "peer-gate: ${peer} shows other gate classes with another seed" >&2; status=1
        fi
    fi
done
# The reference column: a run against the embedded reference server, made here so that the
# matrix never reads a stale report.
"$BIN" run --seed 1 --no-snapshots --out reports/embedded -q >/dev/null
MATRIX=(reports/embedded/report.json=embedded reports/moto/report.json=moto reports/ministack/report.json=MiniStack)
if [[ "${RECORD:-0}" == "1" ]]; then
    "$BIN" matrix "${MATRIX[@]}" --readme README.md
else
    "$BIN" matrix "${MATRIX[@]}" --readme README.md --check || status=1
fi
exit $status
