#!/usr/bin/env bash
# Run one fuzz target against the AddressSanitizer + UBSan build of the core.
#
#   fuzz/run.sh TARGET SECONDS [libFuzzer flags...]
#   e.g. fuzz/run.sh fuzz_ebnf 1800        (TARGET: fuzz_ebnf, fuzz_regex,
#        fuzz_json_schema, fuzz_deserialize, fuzz_matcher)
#   fuzz/run.sh TARGET repro FILE...       run saved inputs once each (a finding's
#                                          crash-*/timeout-* file), under the sanitizers
#
# Needs the instrumented package that `bash scripts/sanitize.sh address` leaves in
# build/address-pkg (or set XGRAM_FUZZ_PKG to another copy of the package); this
# script never builds it. The working corpus is fuzz/corpus/TARGET (git-ignored;
# created from fuzz/seeds/TARGET plus MaskBench seeds when ../shared is present),
# findings go to fuzz/corpus/artifacts/TARGET/. libFuzzer stops at the first
# finding; the run is then restarted until SECONDS have passed, so one finding
# does not end the campaign. The exit status is 1 when anything was found.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="${1:?usage: fuzz/run.sh TARGET SECONDS [libFuzzer flags]}"
TOTAL="${2:?usage: fuzz/run.sh TARGET SECONDS [libFuzzer flags]}"
shift 2
SCRIPT="$REPO/fuzz/$TARGET.py"
[ -f "$SCRIPT" ] || { echo "no fuzz target $SCRIPT" >&2; exit 2; }
PYTHON="${PYTHON:-python3}"
PKG="${XGRAM_FUZZ_PKG:-$REPO/build/address-pkg}"
ls "$PKG"/xgram/_core*.so > /dev/null 2>&1 || {
    echo "no instrumented build in $PKG: run 'bash scripts/sanitize.sh address' once" >&2; exit 2; }

if [ "$TOTAL" = repro ]; then
    MODE=repro
    FILES=()
    for FILE in "$@"; do FILES+=("$(cd "$(dirname "$FILE")" && pwd)/$(basename "$FILE")"); done
else
    MODE=fuzz
fi
CORPUS="$REPO/fuzz/corpus/$TARGET"
ARTIFACTS="$REPO/fuzz/corpus/artifacts/$TARGET"
if [ ! -d "$CORPUS" ]; then
    mkdir -p "$CORPUS"
    "$PYTHON" "$REPO/fuzz/make_seeds.py" corpus "$TARGET"
fi
mkdir -p "$ARTIFACTS"

# As scripts/sanitize.sh: preload the sanitizer runtime (and libstdc++, whose
# __cxa_throw it intercepts), step the editable install's import hook aside,
# import the package copy, and run from outside the repository so its own xgram/
# does not shadow the copy. Two differences: the interpreter binary itself is run
# (a pyenv shim would carry the preload into its own helpers), and atheris'
# libFuzzer is preloaded *ahead of* libasan. GCC's libasan defines the
# __sanitizer_cov_* entry points too, as empty stubs; first in the search order,
# they would receive atheris' coverage counters and the fuzzer would run blind
# ("Coverage symbols are being provided by a library other than libFuzzer").
# ASan's check that it comes first is switched off for that: nothing ahead of it
# defines malloc, so its interceptors still take effect.
PY="$("$PYTHON" -c 'import sys; print(sys.executable)')"
LIBFUZZER="$("$PYTHON" -c 'import atheris, glob, os; print(glob.glob(os.path.join(os.path.dirname(atheris.__file__), "core_with_libfuzzer*.so"))[0])')"
PRELOAD="$LIBFUZZER $(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libstdc++.so)"
export SKBUILD_EDITABLE_SKIP="$(ls -d "$REPO"/build/cp3*-* 2>/dev/null | head -1 || true)"
export PYTHONPATH="$PKG"
# CPython's allocator leaks by design; a too-large allocation is a finding (libFuzzer's
# -malloc_limit_mb reports it), not a crash of the sanitizer itself.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allocator_may_return_null=1:verify_asan_link_order=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1"  # abort: libFuzzer then saves the input
cd "$PKG"

# Per-input limits: -timeout turns a hang into a finding; the grammar budgets in
# fuzz_support.py keep legitimate work well below it.
case "$TARGET" in
    fuzz_regex | fuzz_matcher) MAX_LEN=1024 ;;
    fuzz_ebnf) MAX_LEN=4096 ;;
    fuzz_json_schema) MAX_LEN=8192 ;;
    *) MAX_LEN=16384 ;;
esac
# The schema converter is Python, and atheris' bytecode instrumentation slows it
# down some fifty times: a schema that converts in a second can take a minute.
TIMEOUT=60
[ "$TARGET" = fuzz_json_schema ] && TIMEOUT=300
FLAGS=(-timeout="$TIMEOUT" -rss_limit_mb=4096 -malloc_limit_mb=2048 -max_len="$MAX_LEN"
       -detect_leaks=0 -print_final_stats=1 "-artifact_prefix=$ARTIFACTS/")
if [ "$MODE" = repro ]; then
    LD_PRELOAD="$PRELOAD" exec "$PY" "$SCRIPT" -timeout=60 -rss_limit_mb=4096 "${FILES[@]}"
fi
START=$(date +%s)
FOUND=0
while :; do
    LEFT=$(( TOTAL - ($(date +%s) - START) ))
    [ "$LEFT" -gt 5 ] || break
    set +e
    LD_PRELOAD="$PRELOAD" "$PY" "$SCRIPT" "${FLAGS[@]}" -max_total_time="$LEFT" "$@" "$CORPUS" "$REPO/fuzz/seeds/$TARGET"
    STATUS=$?
    set -e
    [ "$STATUS" -eq 0 ] && break
    FOUND=1
    echo "==> $TARGET: finding (exit $STATUS), artifacts in $ARTIFACTS; restarting" >&2
    sleep 1
done
exit "$FOUND"
