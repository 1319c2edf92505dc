#!/usr/bin/env bash
# Run tests against an instrumented build of the C++ core.
#
#   bash scripts/sanitize.sh address [pytest args]   # AddressSanitizer + UndefinedBehaviorSanitizer
#   bash scripts/sanitize.sh thread  [pytest args]   # ThreadSanitizer
#
# Builds cpp/ with XGRAM_SANITIZE=<mode> into build/<mode> (a few minutes the first
# time), copies the Python package with that extension into build/<mode>-pkg, and
# runs pytest there (default: the thread-pool and serving tests) with the
# sanitizer's runtime preloaded into Python. The installed package is not touched.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE="${1:-address}"
shift || true
TESTS=("$@")
if [ ${#TESTS[@]} -eq 0 ]; then
    TESTS=(tests/test_batch_fill.py tests/test_serving_api.py -q -p no:cacheprovider)
fi
PYTHON="${PYTHON:-python3}"
case "$MODE" in
    address) RUNTIME=libasan.so ;;
    thread) RUNTIME=libtsan.so ;;
    *) echo "mode must be address or thread" >&2; exit 2 ;;
esac
echo "==> building the core with XGRAM_SANITIZE=$MODE in build/$MODE"
cmake -S . -B "build/$MODE" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXGRAM_SANITIZE="$MODE" \
    -Dpybind11_DIR="$("$PYTHON" -m pybind11 --cmakedir)" > /dev/null
ninja -C "build/$MODE" > /dev/null
PKG="build/$MODE-pkg"
rm -rf "$PKG" && mkdir -p "$PKG"
cp -r xgram "$PKG/"
find "$PKG/xgram" -name "_core*.so" -delete
cp "build/$MODE"/_core*.so "$PKG/xgram/"
# libstdc++ too: the sanitizer intercepts __cxa_throw, which it must find loaded
# (Python itself does not link libstdc++).
LIB="$(gcc -print-file-name="$RUNTIME") $(gcc -print-file-name=libstdc++.so)"
echo "==> pytest ${TESTS[*]} with $LIB preloaded"
# The editable install's import hook would load the regular build: step it aside.
export SKBUILD_EDITABLE_SKIP="$(ls -d "$PWD"/build/cp3*-* 2>/dev/null | head -1 || true)"
export PYTHONPATH="$PWD/$PKG${PYTHONPATH:+:$PYTHONPATH}"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"   # CPython's allocator leaks by design
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:die_after_fork=0"  # a forked child may start threads
# Run from the package copy: the repository's own xgram/ must not shadow it.
ARGS=()
for arg in "${TESTS[@]}"; do
    if [ -e "$arg" ]; then ARGS+=("$PWD/$arg"); else ARGS+=("$arg"); fi
done
REPO="$PWD"
cd "$PKG"
LD_PRELOAD="$LIB" "$PYTHON" -c "import xgram._core as c; print('core:', c.__file__)"
LD_PRELOAD="$LIB" "$PYTHON" -m pytest --rootdir "$REPO" -c "$REPO/pyproject.toml" "${ARGS[@]}"
