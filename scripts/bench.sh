#!/usr/bin/env bash
# bench.sh: what a conformance run costs, against the embedded reference server (release build).
# Prints, in one run:
#   (a) requests/s of the harness and of a raw load generator (wrk) on the same server, and their
#       ratio;
#   (b) at `serve --latency-ms 20`: a default run's wall time beside the ideal (requests x 20 ms /
#       concurrency), and their ratio;
#   (c) peak memory at 1,000, 10,000 and 100,000 cases (`--shrink-seconds 0 --no-snapshots`);
#   (d) the median and maximum time to shrink a class (report.json's `minimal[].shrinkSeconds`) on
#       two broken variants.
# Figures, not assertions: the machines are shared and noisy. Needs wrk, GNU time, curl and
# python3 (as root, the missing Debian packages are installed). BASELINE=path/to/binary measures
# another build of the tool beside this one in (a) and (b), for before-and-after figures.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
missing=()
command -v wrk >/dev/null || missing+=(wrk)
[[ -x /usr/bin/time ]] || missing+=(time)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
    apt-get install -y "${missing[@]}" >/dev/null
fi
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/ecr-conformance"
OUT="$(mktemp -d)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$OUT"
}
trap cleanup EXIT
# The embedded server checks the credential's scope, not the signature: one fixed header serves
# every raw request.
AUTH='AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ecr/aws4_request, SignedHeaders=host, Signature=0'

# serve NAME [ARGS...]: starts `serve` on a free port; its URL in $OUT/NAME.url.
serve() {
    local name=$1
    shift
    "$BIN" serve "$@" >"$OUT/$name.url" 2>/dev/null &
    PIDS+=($!)
    for _ in $(seq 100); do
        [[ -s "$OUT/$name.url" ]] && return
        sleep 0.1
    done
    echo "serve $name did not start" >&2
    exit 1
}

# ecr URL OPERATION BODY: one raw call.
ecr() {
    curl -s -X POST "$1/" -H "Authorization: $AUTH" -H 'Content-Type: application/x-amz-json-1.1' \
        -H "X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.$2" -d "$3"
}

# field FILE EXPRESSION: a figure of a report (python expression over `r`).
field() {
    python3 -c "import json, sys; r = json.load(open(sys.argv[1])); print($2)" "$1"
}

echo "== (a) requests/s: harness vs raw load generator (wrk), same server, concurrency 8"
serve raw
URL="$(cat "$OUT/raw.url")"
# A repository seeded by the tool itself, kept: the one with most images, ten of its ids.
"$BIN" run --endpoint "$URL" --seed 99 --cases 100 --no-case-files --no-snapshots --shrink-seconds 0 \
    --keep --out "$OUT/seedrun" -q >/dev/null 2>&1 || true
REPOS="$(ecr "$URL" DescribeRepositories '{}')"
BODY="$(python3 - "$URL" "$AUTH" "$REPOS" <<'PY'
import json, subprocess, sys
url, auth, repos = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
best = None
for r in repos["repositories"]:
    name = r["repositoryName"]
    out = subprocess.run(["curl", "-s", "-X", "POST", url + "/", "-H", "Authorization: " + auth,
        "-H", "Content-Type: application/x-amz-json-1.1",
        "-H", "X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.ListImages",
        "-d", json.dumps({"repositoryName": name})], capture_output=True, text=True).stdout
    ids = json.loads(out).get("imageIds", [])
    if best is None or len(ids) > len(best[1]):
        best = (name, ids)
name, ids = best
ids = (ids * 10)[:10] if ids else [{"imageTag": "latest"}] * 10
print(json.dumps({"repositoryName": name, "imageIds": ids}))
PY
)"
printf '%s' "$BODY" > "$OUT/body.json"
cat > "$OUT/post.lua" <<LUA
wrk.method = "POST"
local f = io.open("$OUT/body.json", "r")
wrk.body = f:read("*a")
f:close()
wrk.headers["Authorization"] = "$AUTH"
wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
wrk.headers["X-Amz-Target"] = "AmazonEC2ContainerRegistry_V20150921.BatchGetImage"
LUA
RAW="$(wrk -t2 -c8 -d10s -s "$OUT/post.lua" "$URL/" | awk '/Requests\/sec/ {print $2}')"
# harness LABEL BINARY: requests/s of a 10,000-case run against the same server.
harness() {
    "$2" run --endpoint "$URL" --seed 1 --cases 10000 --no-case-files --no-snapshots --shrink-seconds 0 \
        --out "$OUT/$1" -q >/dev/null 2>&1 || true
    local rps
    rps="$(field "$OUT/$1/report.json" 'round(r["counts"]["requests"] / r["durationSeconds"])')"
    printf '%-10s %8s req/s   raw wrk %8.0f req/s   ratio %.2f   (goal: at least 0.5)\n' \
        "$1" "$rps" "$RAW" "$(python3 -c "print($rps / $RAW)")"
}
harness harness "$BIN"
[[ -n "${BASELINE:-}" ]] && harness baseline "$BASELINE"

echo "== (b) a default run at serve --latency-ms 20 (400 cases, concurrency 8)"
serve slow --latency-ms 20
SLOW="$(cat "$OUT/slow.url")"
# slow LABEL BINARY
slow() {
    "$2" run --endpoint "$SLOW" --seed 1 --no-snapshots --out "$OUT/slow-$1" -q >/dev/null 2>&1 || true
    python3 - "$OUT/slow-$1/report.json" "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
req, wall = r["counts"]["requests"], r["durationSeconds"]
ideal = req * 0.020 / 8
print(f"{sys.argv[2]:<10} {req} requests  wall {wall:.1f} s  ideal {ideal:.1f} s  ratio {wall / ideal:.2f}   (goal: at most 1.5)")
PY
}
slow harness "$BIN"
[[ -n "${BASELINE:-}" ]] && slow baseline "$BASELINE"

echo "== (c) peak memory (--shrink-seconds 0 --no-snapshots, embedded server in process)"
PEAKS=()
for cases in 1000 10000 100000; do
    /usr/bin/time -f '%M' -o "$OUT/rss" "$BIN" run --seed 1 --cases "$cases" --shrink-seconds 0 --no-snapshots \
        --out "$OUT/mem" -q >/dev/null 2>&1 || true
    kib="$(tail -1 "$OUT/rss")"
    PEAKS+=("$kib")
    printf '%-7s cases  %8s requests  %7.1f s  peak %6.1f MiB\n' "$cases" \
        "$(field "$OUT/mem/report.json" 'r["counts"]["requests"]')" \
        "$(field "$OUT/mem/report.json" 'r["durationSeconds"]')" "$(python3 -c "print($kib / 1024)")"
done
printf 'peak at 100,000 / peak at 1,000: %.2f   (goal: at most 1.5)\n' "$(python3 -c "print(${PEAKS[2]} / ${PEAKS[0]})")"

echo "== (d) time to shrink a class (default run, --shrink-seconds 30, no baseline)"
for variant in mismatch-ignored tag-case-insensitive; do
    "$BIN" run --seed 1 --variant "$variant" --no-snapshots --out "$OUT/shrink" -q >/dev/null 2>&1 || true
    python3 - "$OUT/shrink/report.json" "$variant" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))
shrunk = [m["shrinkSeconds"] for m in r["minimal"] if m["shrunk"]]
classes = len(r["classes"])
if shrunk:
    print(f"{sys.argv[2]:<22} {len(shrunk)} of {classes} classes shrunk  median {statistics.median(shrunk):.2f} s  max {max(shrunk):.2f} s   (goal: median under 10 s)")
else:
    print(f"{sys.argv[2]:<22} 0 of {classes} classes shrunk")
PY
done
