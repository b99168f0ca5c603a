#!/usr/bin/env bash
# combinations.sh: one bug's findings do not depend on what stands beside it. Runs the embedded
# server's broken variants (those that break a rule: `ecr-conformance variants`) over seeds
# 1..SEEDS, and prints two tables:
#
#   1. variant x alternative: every broken variant served with every allowed alternative alone,
#      and with advisory-mix (`run --variant V --alternatives A`, `run --variant V,advisory-mix`).
#      A cell deviates when, at some seed, its gate classes are not exactly the variant's own at
#      that seed. Where an alternative makes the bug's answer right (it removes what the variant
#      gets wrong; `ecr-conformance variants --format json` names each such pair and why), the cell
#      is `masked` and may lose the variant's classes, never gain one.
#   2. variant pairs: every two broken variants served together (`run --variant A,B`). A cell
#      deviates when, at some seed, it has a gate class that neither variant has alone.
#
# Exits 1 when a cell deviates (or a run does not complete). The full sweep takes a while (about
# 10,000 runs of CASES cases at SEEDS=10); CI does not run it yet:
#
#   scripts/combinations.sh                                   # both tables, seeds 1..10
#   SEEDS=2 VARIANTS="mismatch-ignored echo-drops-tag" scripts/combinations.sh
#   TABLES=alternatives scripts/combinations.sh               # only the first table (or: pairs)
#
# Environment: SEEDS (10), CASES (300), VARIANTS (all broken ones), ALTERNATIVES (all, and
# advisory-mix), TABLES (alternatives,pairs), JOBS (the number of cores), ECRC_BIN.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="${ECRC_BIN:-target/release/ecr-conformance}"
[[ -n "${ECRC_BIN:-}" ]] || cargo build --release --quiet
export BIN
exec python3 - "$@" <<'PY'
import concurrent.futures as cf, itertools, json, os, subprocess, sys, tempfile

BIN = os.environ["BIN"]
SEEDS = int(os.environ.get("SEEDS", "10"))
CASES = os.environ.get("CASES", "300")
JOBS = int(os.environ.get("JOBS", str(os.cpu_count() or 2)))
TABLES = os.environ.get("TABLES", "alternatives,pairs").split(",")

listing = json.loads(subprocess.run([BIN, "variants", "--format", "json"], check=True,
                                    capture_output=True, text=True).stdout)
broken = [v["name"] for v in listing["variants"] if v["group"] == "broken"]
if os.environ.get("VARIANTS"):
    broken = os.environ["VARIANTS"].split()
alternatives = [a["name"] for a in listing["alternatives"]] + ["advisory-mix"]
if os.environ.get("ALTERNATIVES"):
    alternatives = os.environ["ALTERNATIVES"].split()
masks = {(m["variant"], a["name"]): m["reason"] for a in listing["alternatives"] for m in a.get("masks", [])}
# A variant that changes the state on reads does so in the order its requests come: one at a time.
ORDERED = {v["name"] for v in listing["variants"] if v.get("changesStateOnReads")}

tmp = tempfile.mkdtemp(prefix="ecrc-combinations-")
failed_runs = []

def run(variants, alternative, seed):
    """The gate classes (slugs) of one run, or None when it did not complete."""
    name = ",".join(variants) + ("+" + alternative if alternative else "")
    out = os.path.join(tmp, f"{name}-{seed}".replace(",", "_").replace("+", "__"))
    args = [BIN, "run", "--variant", ",".join(variants), "--seed", str(seed), "--cases", CASES,
            "--shrink-seconds", "0", "--no-snapshots", "--no-case-files", "--out", out, "-q"]
    if alternative:
        args += ["--alternatives", alternative]
    if ORDERED & set(variants):
        args += ["--concurrency", "1"]
    code = subprocess.run(args, capture_output=True).returncode
    try:
        report = json.load(open(os.path.join(out, "report.json")))
    except (OSError, ValueError):
        report = None
    if code >= 2 or report is None:
        failed_runs.append(f"{name} seed {seed}: exit {code}")
        return None
    return frozenset(c["slug"] for c in report["classes"] if c["level"] == "gate")

def sweep(jobs):
    """Runs every (variants, alternative, seed) of `jobs` side by side: their gate classes."""
    with cf.ThreadPoolExecutor(JOBS) as pool:
        futures = {job: pool.submit(run, *job) for job in jobs}
        return {job: f.result() for job, f in futures.items()}

seeds = range(1, SEEDS + 1)
alone_jobs = [((v,), None, s) for v in broken for s in seeds]
table_jobs = []
if "alternatives" in TABLES:
    for v in broken:
        for a in alternatives:
            variants = (v, "advisory-mix") if a == "advisory-mix" else (v,)
            alt = None if a == "advisory-mix" else a
            table_jobs += [(variants, alt, s) for s in seeds]
pairs = list(itertools.combinations(broken, 2)) if "pairs" in TABLES else []
pair_jobs = [(p, None, s) for p in pairs for s in seeds]
results = sweep(alone_jobs + table_jobs + pair_jobs)
alone = {(v, s): results[((v,), None, s)] for v in broken for s in seeds}

def short(slugs):
    return ",".join(sorted(x.replace("-gate-model", "").replace("-gate-", "/") for x in slugs)) or "-"

deviating = 0
if "alternatives" in TABLES:
    print(f"variant x alternative: gate classes beside each alternative, seeds 1..{SEEDS} "
          f"('.' the variant's own at every seed; 'm' masked; 'X' other classes)")
    for i, a in enumerate(alternatives):
        print(f"  {i + 1:>2} {a}")
    print(f"{'':<30} " + "".join(f"{i + 1:>3}" for i in range(len(alternatives))))
    notes = []
    cells = masked = bad = 0
    for v in broken:
        row = ""
        for a in alternatives:
            variants = (v, "advisory-mix") if a == "advisory-mix" else (v,)
            alt = None if a == "advisory-mix" else a
            mark = "."
            for s in seeds:
                got, own = results[(variants, alt, s)], alone[(v, s)]
                if got is None or own is None:
                    mark = "?"
                    continue
                if (v, a) in masks and got <= own:
                    mark = "m" if mark == "." else mark
                    if got != own:
                        notes.append(f"  masked {v} + {a} (seed {s}): {masks[(v, a)]}; loses {short(own - got)}")
                elif got != own:
                    mark = "X"
                    notes.append(f"  DEVIATES {v} + {a} (seed {s}): alone {short(own)}; together {short(got)}")
            cells += 1
            masked += mark == "m"
            bad += mark in "X?"
            row += f"{mark:>3}"
        print(f"{v:<30} {row}")
    seen = set()
    for n in notes:
        key = n.split(" (seed")[0]
        if key not in seen:
            seen.add(key)
            print(n)
    print(f"variant x alternative: {cells} cells, {bad} deviating, {masked} masked")
    deviating += bad

if pairs:
    bad = 0
    print(f"variant pairs: gate classes of two variants together, seeds 1..{SEEDS}")
    for a, b in pairs:
        extra, missing = set(), set()
        for s in seeds:
            got, own = results[((a, b), None, s)], (alone[(a, s)] or frozenset()) | (alone[(b, s)] or frozenset())
            if got is None:
                extra.add("(did not complete)")
                continue
            extra |= got - own
            missing |= own - got
        if extra:
            bad += 1
            print(f"  DEVIATES {a} + {b}: {short(extra)} that neither gives alone")
        elif missing and os.environ.get("VERBOSE"):
            print(f"  {a} + {b}: hides {short(missing)}")
    print(f"variant pairs: {len(pairs)} pairs, {bad} deviating")
    deviating += bad

for f in failed_runs:
    print(f"combinations: {f} did not complete", file=sys.stderr)
sys.exit(1 if deviating or failed_runs else 0)
PY
