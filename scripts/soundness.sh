#!/usr/bin/env bash
# soundness.sh: the soundness proof of the comparer over many seeds. Runs the embedded server's
# advisory-mix variant (per seed a different combination of the answers the reference allows beside
# the model's, see `ecr-conformance variants`) and expects no gate deviation for any seed.
#
# Prints per seed the exit code, the number of gate deviations and the alternatives drawn; then
# `advisory-mix: K of N seeds with gate deviations` and the gate classes seen (deviations, seeds).
# Exits 1 if any seed failed (a gate deviation, or an exit code other than 0).
#
# Environment: SEEDS (default 100: seeds 1..SEEDS), CASES (default 400), CARGO_TARGET_DIR.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SEEDS="${SEEDS:-100}"
CASES="${CASES:-400}"
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/ecr-conformance"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# gate_deviations REPORT: the report's number of gate deviations.
# gate_classes REPORT: one line per gate class, "COUNT<TAB>TITLE".
if command -v jq >/dev/null 2>&1; then
    gate_deviations() { jq -r '.counts.gateDeviations' "$1"; }
    gate_classes() { jq -r '.classes[] | select(.failsGate) | "\(.count)\t\(.title)"' "$1"; }
else
    gate_deviations() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counts"]["gateDeviations"])' "$1"; }
    gate_classes() {
        python3 -c 'import json,sys
for c in json.load(open(sys.argv[1]))["classes"]:
    if c["failsGate"]: print(f"{c[\"count\"]}\t{c[\"title\"]}")' "$1"
    }
fi

failed=0
: > "$TMP/classes"
for seed in $(seq 1 "$SEEDS"); do
    out="$TMP/seed-$seed"
    code=0
    # Not -q: it silences the progress lines too, and one of them names the alternatives drawn.
    "$BIN" run --variant advisory-mix --seed "$seed" --cases "$CASES" --shrink-seconds 0 --no-snapshots \
        --out "$out" >"$out.stdout" 2>"$out.stderr" || code=$?
    drawn="$(sed -n 's/^ecr-conformance: alternatives //p' "$out.stderr")"
    if [[ -f "$out/report.json" ]]; then
        gate="$(gate_deviations "$out/report.json")"
        gate_classes "$out/report.json" >> "$TMP/classes"
    else
        gate="(no report)"
    fi
    printf 'seed %-4s exit %s  gate deviations %-6s %s\n' "$seed" "$code" "$gate" "$drawn"
    if [[ "$code" != 0 || "$gate" != 0 ]]; then
        failed=$((failed + 1))
    fi
done

echo "advisory-mix: $failed of $SEEDS seeds with gate deviations"
if [[ -s "$TMP/classes" ]]; then
    echo "gate classes seen (deviations, seeds):"
    # Sum the deviations per class title and count the seeds it appeared in.
    awk -F'\t' '{ n[$2] += $1; s[$2] += 1 } END { for (t in n) printf "%8d %4d  %s\n", n[t], s[t], t }' \
        "$TMP/classes" | sort -k1,1nr
fi
[[ "$failed" == 0 ]]
