#!/usr/bin/env bash
# CI smoke test: run every fuzz target for a few seconds against the installed
# (normal, uninstrumented) build, from its committed seeds.
#
#   fuzz/smoke.sh [SECONDS_PER_TARGET]      (default 20)
#   FUZZ_SMOKE_RUNS=N fuzz/smoke.sh          N inputs per target instead of a time:
#                                            the same inputs on every machine (CI)
#
# The corpus grows in a temporary directory that is thrown away. A finding (an
# unexpected exception, a broken invariant, a crash or a hang) fails the run;
# the target's log tail, with the input in Base64, is printed. Skips (exit 0)
# when atheris is not installed.
set -uo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
EACH="${1:-20}"
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c "import atheris" 2> /dev/null; then
    echo "fuzz smoke: atheris is not installed, skipping"
    exit 0
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
STATUS=0
# libFuzzer with a fixed seed and a fixed number of runs makes the same inputs
# whatever the machine's speed; a time budget explores further on a faster one.
if [ -n "${FUZZ_SMOKE_RUNS:-}" ]; then
    BUDGET="-runs=$FUZZ_SMOKE_RUNS"
    SPENT="$FUZZ_SMOKE_RUNS runs"
else
    BUDGET="-max_total_time=$EACH"
    SPENT="${EACH}s"
fi
for TARGET in fuzz_ebnf fuzz_regex fuzz_json_schema fuzz_deserialize fuzz_matcher; do
    mkdir -p "$WORK/$TARGET"
    # From a scratch directory, so that nothing is written into the repository.
    if (cd "$WORK" && "$PYTHON" "$REPO/fuzz/$TARGET.py" -seed=1 "$BUDGET" \
            -timeout=60 -rss_limit_mb=4096 -max_len=4096 -print_final_stats=1 \
            "-artifact_prefix=$WORK/$TARGET-" "$WORK/$TARGET" "$REPO/fuzz/seeds/$TARGET" \
            > "$WORK/$TARGET.log" 2>&1); then
        RUNS="$(grep -o 'number_of_executed_units: *[0-9]*' "$WORK/$TARGET.log" | grep -o '[0-9]*$')"
        echo "fuzz smoke: $TARGET ok (${RUNS:-?} inputs, $SPENT)"
    else
        echo "fuzz smoke: $TARGET FOUND SOMETHING; log tail:"
        grep -v -E '^#[0-9]+ +(NEW|REDUCE|pulse)|^INFO: Instrumenting' "$WORK/$TARGET.log" | tail -40
        STATUS=1
    fi
done
exit "$STATUS"
