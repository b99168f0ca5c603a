#!/usr/bin/env bash
# variant-classes.sh: what each bug produces, and whether the seed changes it. Runs every broken
# variant of the embedded server with seeds 1..N (no shrinking, no baseline; a variant that changes
# state on reads, one request at a time, so that it does so in one order), and prints per variant
# its gate and advisory classes and whether every seed found the same ones (`ecr-conformance
# classes`).
#
# The classes a variant produces over those seeds are committed in snapshots/variants/<variant>.txt:
# a change in what a bug produces is a reviewed change. The script fails when a variant's classes
# differ from its committed file, or a run does not complete; it reports, without failing, a
# variant whose classes depend on the seed (the set it compares is the union over the seeds).
#
#   scripts/variant-classes.sh                      # seeds 1..10, every broken variant (CI)
#   SEEDS=3 scripts/variant-classes.sh mismatch-ignored
#   RECORD=1 scripts/variant-classes.sh             # write snapshots/variants/*.txt for review
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="${ECRC_BIN:-target/release/ecr-conformance}"
[[ -x "$BIN" ]] || cargo build --release --quiet
SEEDS="${SEEDS:-10}"
CASES="${CASES:-300}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
if (( $# > 0 )); then
    variants=("$@")
else
    # The broken variants: the listing's first block, less those that conform or pass the gate.
    mapfile -t variants < <("$BIN" variants | awk '/^$/ {exit} $2 != "(conforms)" && $2 != "(gate" && $1 != "reference" {print $1}')
fi
mkdir -p snapshots/variants
status=0
unstable=0
gates=()
printf '%-30s %5s %9s  %s\n' variant gate advisory "the same classes for seeds 1..$SEEDS"
for v in "${variants[@]}"; do
    reports=()
    concurrency=8
    [[ $v == get-moves-mismatched-tag ]] && concurrency=1
    for s in $(seq 1 "$SEEDS"); do
        out="$TMP/$v/$s"
        "$BIN" run --variant "$v" --seed "$s" --cases "$CASES" --concurrency "$concurrency" --shrink-seconds 0 \
            --no-snapshots --no-case-files --out "$out" -q >"$TMP/$v-$s.log" 2>&1
        rc=$?
        if (( rc >= 2 )) || [[ ! -f "$out/report.json" ]]; then
            echo "variant-classes: $v seed $s did not complete (exit $rc)" >&2; cat "$TMP/$v-$s.log" >&2
            status=1; continue
        fi
        reports+=("$out/report.json")
    done
    (( ${#reports[@]} > 0 )) || continue
    stable=yes
    "$BIN" classes "${reports[@]}" >"$TMP/$v-classes.txt" 2>&1 || { stable=no; unstable=$((unstable + 1)); }
    # Every class any seed found, one "level title" per line.
    python3 - "${reports[@]}" >"$TMP/$v.txt" <<'PY'
import json, sys
found = set()
for path in sys.argv[1:]:
    for c in json.load(open(path))["classes"]:
        found.add(f'{c["level"]:8} {c["title"]}')
print("\n".join(sorted(found)))
PY
    gate=$(grep -c '^gate' "$TMP/$v.txt")
    advisory=$(grep -c '^advisory' "$TMP/$v.txt")
    gates+=("$gate")
    printf '%-30s %5s %9s  %s\n' "$v" "$gate" "$advisory" "$stable"
    [[ $stable == yes ]] || sed -e 's/^/    /' -e "s|$TMP/$v/||g" "$TMP/$v-classes.txt"
    if [[ "${RECORD:-0}" == "1" ]]; then
        cp "$TMP/$v.txt" "snapshots/variants/$v.txt"
    elif [[ -f "snapshots/variants/$v.txt" ]]; then
        if ! diff -u "snapshots/variants/$v.txt" "$TMP/$v.txt" >"$TMP/$v.diff"; then
            echo "variant-classes: $v finds other classes than snapshots/variants/$v.txt:" >&2
            cat "$TMP/$v.diff" >&2; status=1
        fi
    else
        echo "variant-classes: no committed class set for $v (RECORD=1 writes it)" >&2; status=1
    fi
done
median=$(printf '%s\n' "${gates[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
max=$(printf '%s\n' "${gates[@]}" | sort -n | tail -1)
echo "variant-classes: ${#gates[@]} variants, gate classes median ${median}, at most ${max}; ${unstable} depend on the seed"
exit $status
