#!/usr/bin/env bash
# Run tests against an instrumented build of the C++ core.
#
#   bash scripts/sanitize.sh address [pytest args]   # AddressSanitizer + UndefinedBehaviorSanitizer
#   bash scripts/sanitize.sh thread  [pytest args]   # ThreadSanitizer
#
# Builds cpp/ with XGRAM_SANITIZE=<mode> into build/<mode> (a few minutes the first
# time) and runs pytest from the repository (default: the thread-pool and serving
# tests) with the sanitizer's runtime preloaded into Python and `xgram._core` taken
# from that build: a sitecustomize.py in build/<mode>-site puts an import hook first,
# and PYTHONPATH names that folder, so subprocesses (`python -m xgram`) load the
# instrumented core too, and tests see the repository's files at their usual paths.
# The installed package is not touched. A copy of the package with the instrumented
# core is also left in build/<mode>-pkg, for fuzz/run.sh.
#
# Environment:
#   SANITIZE_DIR=build/asan-suite  build there (the hook in $SANITIZE_DIR-site, the copy
#                                  in $SANITIZE_DIR-pkg) instead of build/<mode>, so that
#                                  several runs, or a run beside a fuzzer using
#                                  build/address-pkg, do not collide.
#   SANITIZE_SOURCE=/tmp/patched   build the C++ core from that copy of the repository
#                                  (its CMakeLists.txt and cpp/), e.g. to try a fix to cpp/
#                                  without touching the checkout; tests and Python stay here.
#   PYTHON=python3.11              the interpreter (default python3).
#   ASAN_OPTIONS, UBSAN_OPTIONS, TSAN_OPTIONS
#                                  added after this script's defaults, so they win
#                                  (TSAN_OPTIONS=halt_on_error=0 collects every report).
# ThreadSanitizer reads its suppressions from scripts/tsan.supp; each entry says why
# the race it hides is not xgram's.
set -euo pipefail

main() {
    cd "$(dirname "$0")/.."
    local mode="${1:-address}"
    shift || true
    local tests=("$@")
    if [ ${#tests[@]} -eq 0 ]; then
        tests=(tests/test_batch_fill.py tests/test_serving_api.py -q -p no:cacheprovider)
    fi
    local python="${PYTHON:-python3}" runtime
    case "$mode" in
        address) runtime=libasan.so ;;
        thread) runtime=libtsan.so ;;
        *) echo "mode must be address or thread" >&2; exit 2 ;;
    esac
    local build="${SANITIZE_DIR:-build/$mode}"
    build="${build%/}"
    case "$build" in /*) ;; *) build="$PWD/$build" ;; esac
    local source
    source="$(cd "${SANITIZE_SOURCE:-.}" && pwd)"
    if [ -f "$build/CMakeCache.txt" ] &&
        ! grep -qx "CMAKE_HOME_DIRECTORY:INTERNAL=$source" "$build/CMakeCache.txt"; then
        rm -rf "$build"  # configured from another source tree, which CMake refuses
    fi
    echo "==> building the core from $source with XGRAM_SANITIZE=$mode in $build"
    cmake -S "$source" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXGRAM_SANITIZE="$mode" \
        -DPython_EXECUTABLE="$(command -v "$python")" \
        -Dpybind11_DIR="$("$python" -m pybind11 --cmakedir)" > /dev/null
    ninja -C "$build" > /dev/null
    local core
    core="$(ls "$build"/_core*.so)"
    write_package_copy "$build-pkg" "$core"
    write_import_hook "$build-site" "$core"
    # libstdc++ too: the sanitizer intercepts __cxa_throw, which it must find loaded
    # (Python itself does not link libstdc++).
    local preload
    preload="$(gcc -print-file-name="$runtime") $(gcc -print-file-name=libstdc++.so)"
    export PYTHONPATH="$build-site${PYTHONPATH:+:$PYTHONPATH}"
    export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"   # CPython's allocator leaks by design
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
    # die_after_fork=0: a forked child may start threads (tests/test_batch_fill.py does).
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:die_after_fork=0:suppressions=$PWD/scripts/tsan.supp${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
    echo "==> pytest ${tests[*]} with $preload preloaded"
    LD_PRELOAD="$preload" "$python" -c "import xgram, xgram._core as c; print('xgram:', xgram.__file__); print('core:', c.__file__)"
    # --capture=sys: pytest's default capture of file descriptor 2 would swallow the
    # report of a sanitizer that then ends the process; this way it reaches the log.
    LD_PRELOAD="$preload" "$python" -m pytest --capture=sys "${tests[@]}"
}

# The package with the instrumented core, for tools that put it on PYTHONPATH
# themselves (fuzz/run.sh, which also sets SKBUILD_EDITABLE_SKIP).
write_package_copy() {
    local pkg="$1" core="$2"
    rm -rf "$pkg" && mkdir -p "$pkg"
    cp -r xgram "$pkg/"
    find "$pkg/xgram" -name "_core*.so" -delete
    cp "$core" "$pkg/xgram/"
}

# An import hook, first in sys.meta_path, that answers `xgram._core` with the
# instrumented build; the rest of xgram comes from the repository as usual.
write_import_hook() {
    local site="$1" core="$2"
    mkdir -p "$site"
    cat > "$site/sitecustomize.py" <<PY
"""Written by scripts/sanitize.sh: xgram._core from the instrumented build."""

import importlib.abc
import importlib.util
import sys

CORE = "$core"


class InstrumentedCore(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "xgram._core":
            return importlib.util.spec_from_file_location(name, CORE)
        return None


sys.meta_path.insert(0, InstrumentedCore())
PY
}

main "$@"
exit
