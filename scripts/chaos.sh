#!/usr/bin/env bash
# chaos.sh: faults never become verdicts. Runs the harness through microburst (PyPI, MIT: an
# AWS-protocol-aware fault-injection proxy, pinned below) in front of the embedded server and of
# MiniStack, under fault profiles: throttling 5/20/50/100 %, server errors, resets, truncated and
# corrupted BatchGetImage bodies, timeouts, latency, and a mix of all. Prints per profile the exit
# code, faults, flaky cases, deviations not seen again, retries and wall time.
#
# The runs use --max-attempts 5: at 5 % of server errors, three attempts all fail once in 8,000
# calls, which a run of a few thousand calls meets now and then (a fault: indeterminate).
#
# Fails when a profile gives exit 1 (a fault became a verdict), when one that must pass does not
# (no fault up to 20 % throttling, 5 % server errors or resets: exit 0), when 100 % throttling
# does not end as indeterminate (exit 2), or when a repository is left behind.
#
#   scripts/chaos.sh                         # seed 1, every profile, both targets (CI: fewer)
#   SEEDS="1 2 3" CASES=200 scripts/chaos.sh # the issue's figure
#   TARGETS=embedded PROFILES="throttle-20 mix" scripts/chaos.sh
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
MICROBURST_VERSION="0.10.0"
BIN="${ECRC_BIN:-target/release/ecr-conformance}"
[[ -x "$BIN" ]] || cargo build --release --quiet
SEEDS="${SEEDS:-1}"
CASES="${CASES:-100}"
TARGETS="${TARGETS:-embedded ministack}"
PROFILES="${PROFILES:-none latency throttle-5 throttle-20 throttle-50 throttle-100 5xx-5 reset-5 truncate-5 corrupt-5 timeout-2 mix}"
VENV=".peers/microburst-venv"
TMP="$(mktemp -d)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

# microburst, pinned with its dependencies (scripts/peer-constraints/microburst.txt).
stamp="$(cksum <scripts/peer-constraints/microburst.txt)"
if [[ ! -x "$VENV/bin/microburst" || "$(cat "$VENV/.installed-$MICROBURST_VERSION" 2>/dev/null)" != "$stamp" ]]; then
    echo "chaos: installing microburst ${MICROBURST_VERSION} into ${VENV}" >&2
    rm -rf "$VENV"
    python3 -m venv "$VENV" || { echo "chaos: cannot create ${VENV}" >&2; exit 1; }
    "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input --quiet \
        -c scripts/peer-constraints/microburst.txt "microburst==${MICROBURST_VERSION}" \
        || { echo "chaos: pip install microburst failed" >&2; exit 1; }
    echo "$stamp" >"$VENV/.installed-$MICROBURST_VERSION"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
    for _ in $(seq 1 150); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}

# The rules of a profile (microburst's YAML; service `ecr` is the SigV4 scope of every call).
rules() {
    local batch='operation: BatchGetImage'
    case "$1" in
        none) echo "rules: []" ;;
        latency) printf 'rules:\n- service: ecr\n  latency: {min: 5, max: 40}\n' ;;
        throttle-*) printf 'rules:\n- service: ecr\n  probability: %s\n  error: {code: ThrottlingException, status: 400, message: Rate exceeded}\n' \
            "$(awk -v p="${1#throttle-}" 'BEGIN {print p / 100}')" ;;
        5xx-5) printf 'rules:\n- service: ecr\n  probability: 0.05\n  error: {code: ServerException, status: 500, message: Internal error}\n' ;;
        reset-5) printf 'rules:\n- service: ecr\n  probability: 0.05\n  reset: true\n' ;;
        truncate-5) printf 'rules:\n- service: ecr\n  %s\n  probability: 0.05\n  response: {truncate_frac: 0.5}\n' "$batch" ;;
        corrupt-5) printf 'rules:\n- service: ecr\n  %s\n  probability: 0.05\n  response: {corrupt_bytes: 16}\n' "$batch" ;;
        timeout-2) printf 'rules:\n- service: ecr\n  probability: 0.02\n  timeout_ms: 8000\n' ;;
        mix) printf 'rules:\n- service: ecr\n  probability: 0.05\n  error: {code: ThrottlingException, status: 400, message: Rate exceeded}\n- service: ecr\n  probability: 0.02\n  error: {code: ServerException, status: 500, message: Internal error}\n- service: ecr\n  probability: 0.02\n  reset: true\n- service: ecr\n  %s\n  probability: 0.02\n  response: {truncate_frac: 0.5}\n- service: ecr\n  %s\n  probability: 0.02\n  response: {corrupt_bytes: 16}\n- service: ecr\n  latency: {min: 1, max: 20}\n' "$batch" "$batch" ;;
        *) echo "chaos: no profile $1" >&2; return 1 ;;
    esac
}

# What a profile must end as: "pass" (exit 0), "indeterminate" (exit 2), else "not-fail" (0 or 2).
must() {
    case "$1" in
        none|latency|throttle-5|throttle-20|5xx-5|reset-5) echo pass ;;
        throttle-100) echo indeterminate ;;
        *) echo not-fail ;;
    esac
}

status=0
printf '%-10s %-12s %4s %4s %6s %5s %11s %7s %6s %8s  %s\n' target profile seed exit faults flaky unconfirmed retries left seconds verdict
for target in $TARGETS; do
    for profile in $PROFILES; do
        for seed in $SEEDS; do
            up=$(free_port)
            case "$target" in
                embedded) "$BIN" serve --port "$up" >"$TMP/up.log" 2>&1 & pids+=($!) ;;
                ministack) scripts/start-peer.sh ministack "$up" >"$TMP/up.log" 2>&1 & pids+=($!) ;;
                *) echo "chaos: no target $target" >&2; exit 1 ;;
            esac
            up_pid=$!
            rules "$profile" >"$TMP/rules.yml" || exit 1
            port=$(free_port)
            "$VENV/bin/microburst" --host 127.0.0.1 --port "$port" --upstream "http://127.0.0.1:$up" \
                --no-resign --config "$TMP/rules.yml" >"$TMP/mb.log" 2>&1 & pids+=($!)
            mb_pid=$!
            if ! wait_port "$up" || ! wait_port "$port"; then
                echo "chaos: $target or microburst did not start" >&2; cat "$TMP/up.log" "$TMP/mb.log" >&2
                status=1; kill "$up_pid" "$mb_pid" 2>/dev/null; continue
            fi
            # microburst loads botocore's service models on its first ECR call: warm it up, so
            # that its start is not taken for the endpoint's timeout.
            curl -s -m 60 -o /dev/null -X POST -H 'content-type: application/x-amz-json-1.1' \
                -H 'x-amz-target: AmazonEC2ContainerRegistry_V20150921.DescribeRepositories' \
                -H 'authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ecr/aws4_request, SignedHeaders=host, Signature=0' \
                -d '{}' "http://127.0.0.1:$port/" || true
            out="$TMP/$target-$profile-$seed"
            deadline=600
            [[ $profile == throttle-50 || $profile == throttle-100 ]] && deadline=30
            started=$SECONDS
            # The target's baseline (MiniStack's known deviations) so that only a change gates.
            baseline=(--no-snapshots --target "chaos-$target")
            [[ $target == ministack ]] && baseline=(--target ministack)
            # CI=true: pending snapshots go under --out, never into snapshots/.
            CI=true AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \
                "$BIN" run --endpoint "http://127.0.0.1:$port" --seed "$seed" --cases "$CASES" \
                --shrink-seconds 5 --timeout 5 --max-attempts 5 --deadline "$deadline" "${baseline[@]}" --out "$out" -q \
                >"$out.log" 2>&1
            rc=$?
            took=$((SECONDS - started))
            kill "$mb_pid" "$up_pid" 2>/dev/null; wait "$mb_pid" "$up_pid" 2>/dev/null
            if [[ ! -f "$out/report.json" ]]; then
                echo "chaos: $target $profile seed $seed wrote no report (exit $rc)" >&2; tail -5 "$out.log" >&2
                status=1; continue
            fi
            read -r faults flaky unconfirmed retries left verdict < <(python3 - "$out/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
c = r["counts"]
print(c["faults"], c["flaky"], c.get("unconfirmed", 0), c["retries"], len(r["leftovers"]), r["verdict"])
PY
)
            printf '%-10s %-12s %4s %4s %6s %5s %11s %7s %6s %8s  %s\n' \
                "$target" "$profile" "$seed" "$rc" "$faults" "$flaky" "$unconfirmed" "$retries" "$left" "$took" "$verdict"
            want=$(must "$profile")
            bad=""
            (( rc == 1 )) && bad="a fault became a verdict"
            [[ $want == pass && $rc != 0 ]] && bad="must pass"
            [[ $want == indeterminate && $rc != 2 ]] && bad="must end indeterminate"
            (( rc > 2 )) && bad="the run failed (exit $rc)"
            (( left > 0 )) && bad="repositories left behind"
            if [[ -n $bad ]]; then
                echo "chaos: $target $profile seed $seed: $bad" >&2
                python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); [print("  class", c["slug"], c["status"]) for c in r["classes"] if c["failsGate"]]; [print("  fault", f["trial"], f["message"][:160]) for f in r["faults"][:3]]' "$out/report.json" >&2
                status=1
            fi
        done
    done
done
exit $status
