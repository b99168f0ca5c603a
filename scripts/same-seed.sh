#!/usr/bin/env bash
# The same seeds give the same run: records what a set of runs against the embedded server wrote
# (report.json without its timings and ports, the pending snapshots, the case files), so that two
# builds of the tool can be compared (a refactor must not change what a run does).
#
#   ECRC_BIN=/tmp/before scripts/same-seed.sh record /tmp/same-before
#   ECRC_BIN=/tmp/after  scripts/same-seed.sh record /tmp/same-after
#   scripts/same-seed.sh compare /tmp/same-before /tmp/same-after   # exit 1 on any difference
#
# Runs: the conforming server, `advisory-mix` (allowed alternatives drawn per seed), three chosen
# alternatives and four broken
# variants, each at seeds 1 and 2, 300 cases.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${ECRC_BIN:-target/release/ecr-conformance}"
SEEDS="${SEEDS:-1 2}"
CASES="${CASES:-300}"
RUNS="${RUNS:-conforming variant=advisory-mix alternatives=dup-each,digest-one-entry,other-texts variant=mismatch-ignored variant=tag-case-insensitive variant=duplicates-answered-twice variant=errors-without-type variant=manifest-reserialised}"

normalise() { # report.json -> stable JSON: no timings, no port, no absolute paths
  python3 - "$1" <<'PY'
import json, re, sys
r = json.load(open(sys.argv[1]))
def scrub(v, key=""):
    if isinstance(v, dict):
        # Timings, and the request count: shrinking works within a time budget, so how many
        # requests it sends varies from run to run (the cases, classes and examples do not).
        return {k: scrub(x, k) for k, x in v.items() if not re.search(r"(?i)seconds|duration|elapsed|^requests$", k)}
    if isinstance(v, list):
        return [scrub(x) for x in v]
    if isinstance(v, str):
        v = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", v)
        return re.sub(r"/tmp/[^\s\"']*", "/tmp/X", v)
    return v
print(json.dumps(scrub(r), indent=1, sort_keys=True))
PY
}

case "${1:-}" in
record)
  out="${2:?usage: same-seed.sh record DIR}"
  rm -rf "$out"; mkdir -p "$out"
  for run in $RUNS; do
    for seed in $SEEDS; do
      name="${run//=/-}-seed-$seed"
      args=(--seed "$seed" --cases "$CASES" --no-snapshots)
      case "$run" in
        conforming) ;;
        alternatives=*) args+=(--alternatives "${run#alternatives=}") ;;
        variant=*) args+=(--variant "${run#variant=}") ;;
      esac
      work="$(mktemp -d)"
      rc=0; "$BIN" run "${args[@]}" --out "$work/reports" >"$work/stdout" 2>&1 || rc=$?
      mkdir -p "$out/$name"
      echo "$rc" >"$out/$name/exit"
      normalise "$work/reports/report.json" >"$out/$name/report.json"
      [ -d "$work/reports/cases" ] && cp -r "$work/reports/cases" "$out/$name/cases"
      rm -rf "$work"
      echo "$name: exit $rc"
    done
  done
  ;;
compare)
  a="${2:?usage: same-seed.sh compare DIR1 DIR2}"; b="${3:?usage: same-seed.sh compare DIR1 DIR2}"
  if diff -r "$a" "$b" >/tmp/same-seed.diff; then
    echo "same: every run wrote the same reports and case files"
  else
    echo "DIFFERENT (first lines of /tmp/same-seed.diff):"; head -40 /tmp/same-seed.diff; exit 1
  fi
  ;;
*) echo "usage: same-seed.sh record DIR | compare DIR1 DIR2" >&2; exit 3 ;;
esac
