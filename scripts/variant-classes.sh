#!/usr/bin/env bash
# variant-classes.sh: one bug, one set of classes, whatever the seed. Runs every broken variant of
# the embedded server with seeds 1..N (no shrinking, no baseline: only the classes count), checks
# with `ecr-conformance classes` that every seed found the same classes, prints per variant the
# number of gate and advisory classes, and compares the set with the committed one under
# snapshots/variants/<variant>.txt (RECORD=1 writes them instead).
#
#   scripts/variant-classes.sh            # seeds 1..10, every broken variant (what CI runs)
#   SEEDS=3 scripts/variant-classes.sh mismatch-ignored
#   RECORD=1 scripts/variant-classes.sh   # write snapshots/variants/*.txt for review
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
    mapfile -t variants < <("$BIN" variants | awk '$2 != "(conforms)" && $1 != "advisory-mix" {print $1}')
fi
mkdir -p snapshots/variants
status=0
printf '%-30s %5s %9s  %s\n' variant gate advisory "stable over seeds 1..$SEEDS"
for v in "${variants[@]}"; do
    reports=()
    for s in $(seq 1 "$SEEDS"); do
        out="$TMP/$v/$s"
        "$BIN" run --variant "$v" --seed "$s" --cases "$CASES" --shrink-seconds 0 --no-snapshots \
            --no-case-files --out "$out" -q >"$TMP/$v-$s.log" 2>&1
        rc=$?
        if (( rc >= 2 )); then
            echo "variant-classes: $v seed $s did not complete (exit $rc)" >&2; cat "$TMP/$v-$s.log" >&2
            status=1; continue
        fi
        reports+=("$out/report.json")
    done
    stable=yes
    "$BIN" classes "${reports[@]}" >"$TMP/$v-classes.txt" 2>&1 || { stable=no; status=1; }
    # The class set of the first seed, one title per line.
    python3 - "${reports[0]}" >"$TMP/$v.txt" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for c in sorted(r["classes"], key=lambda c: c["slug"]):
    print(f'{c["level"]:8} {c["title"]}')
PY
    gate=$(grep -c '^gate' "$TMP/$v.txt")
    advisory=$(grep -c '^advisory' "$TMP/$v.txt")
    printf '%-30s %5s %9s  %s\n' "$v" "$gate" "$advisory" "$stable"
    [[ $stable == yes ]] || sed 's/^/    /' "$TMP/$v-classes.txt"
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
exit $status
