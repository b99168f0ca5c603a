#!/usr/bin/env bash
# bench.sh: throughput and memory of a conformance run against the embedded reference server
# (release build), at a few sizes. Prints one line per run: cases, HTTP requests, wall time,
# requests per second, peak memory. Figures, not assertions: the machines are shared and noisy.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
cargo build --release --quiet
BIN=target/release/ecr-conformance
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
printf '%-8s %-12s %-10s %-10s %-10s %-10s %s\n' cases concurrency requests seconds req/s peak-MiB variant
# measure CASES CONCURRENCY VARIANT
measure() {
    if [[ -x /usr/bin/time ]]; then TIMER=(/usr/bin/time -f '%M' -o "$OUT/rss"); else echo 0 > "$OUT/rss"; TIMER=(); fi
    "${TIMER[@]}" "$BIN" run --seed 1 --cases "$1" --concurrency "$2" --variant "$3" --shrink-seconds 0 \
        --no-snapshots --out "$OUT" -q >/dev/null 2>&1 || true
    python3 - "$OUT/report.json" "$OUT/rss" "$1" "$2" "$3" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
rss_kib = int(open(sys.argv[2]).read().split()[-1])
secs = r["durationSeconds"]
req = r["counts"]["requests"]
print(f"{sys.argv[3]:<8} {sys.argv[4]:<12} {req:<10} {secs:<10.2f} {req / secs:<10.0f} {rss_kib / 1024:<10.1f} {sys.argv[5]}")
PY
}
for cases in 400 2000 10000; do
    for concurrency in 8 32; do
        measure "$cases" "$concurrency" reference
    done
done
# Deviating answers take the comparer's longest path: every entry attributed by assignment, both
# readings judged. Variants that answer every repetition, and every image matching tag or digest.
for variant in duplicates-answered-twice mismatch-ignored; do
    measure 2000 8 "$variant"
done
