#!/usr/bin/env bash
# xgram on free-threaded CPython (PEP 703, "3.14t": no GIL), built here if need be.
#
#   bash scripts/free_threaded.sh                       # the thread tests (default)
#   bash scripts/free_threaded.sh tests -q              # the whole suite
#   bash scripts/free_threaded.sh --bench [args]        # benchmarks/bench_threads.py, column xgram-ft
#
# On an interpreter with a GIL, Python threads that call short native methods
# cannot run faster together than one thread alone (benchmarks/README.md,
# bench_threads.py). xgram's extension declares that it does not need the GIL, so
# on a free-threaded interpreter its matchers run in parallel on Python threads.
# This script checks that claim:
#
# 1. The interpreter: $FT_PYTHON if set; else build/py314t/bin/python3, built the
#    first time (minutes) from CPython's source with
#    --disable-gil: $CPYTHON_TARBALL if set, else downloaded from $CPYTHON_URL and
#    checked against $CPYTHON_SHA256 (defaults: 3.14.4, from Ubuntu's archive,
#    which answers where python.org may not).
# 2. numpy, tokenizers and the test dependencies go into that interpreter's own
#    prefix (never the system's); the core is built for it into
#    build/free-threaded and copied into xgram/ beside the Python files, where its
#    name (_core.cpython-314t-...so) keeps other interpreters from loading it.
#    Importing xgram there must leave the GIL off, or the script fails.
# 3. pytest (or the benchmark) runs from the checkout, as with the normal build.
#
# FT_OPTIONAL=1: when no interpreter can be had (no download), say so and exit 0.
set -euo pipefail

CPYTHON_URL="${CPYTHON_URL:-http://archive.ubuntu.com/ubuntu/pool/main/p/python3.14/python3.14_3.14.4.orig.tar.xz}"
CPYTHON_SHA256="${CPYTHON_SHA256:-d923c51303e38e249136fc1bdf3568d56ecb03214efdef48516176d3d7faaef8}"

give_up() {
    if [ "${FT_OPTIONAL:-0}" = 1 ]; then
        echo "free-threaded check skipped: $1"
        exit 0
    fi
    echo "$1" >&2
    exit 1
}

build_interpreter() {
    local prefix="$1" work tarball
    work="$(mktemp -d)"
    tarball="${CPYTHON_TARBALL:-$work/cpython.tar.xz}"
    if [ -z "${CPYTHON_TARBALL:-}" ]; then
        echo "==> downloading $CPYTHON_URL"
        curl -fsSL -m 600 -o "$tarball" "$CPYTHON_URL" || give_up "could not download $CPYTHON_URL"
        echo "$CPYTHON_SHA256  $tarball" | sha256sum -c --quiet - ||
            give_up "$CPYTHON_URL does not have the sha256 $CPYTHON_SHA256"
    fi
    mkdir "$work/src"
    tar -xJf "$tarball" -C "$work/src" --strip-components=1
    echo "==> building free-threaded CPython into $prefix (log: $work/build.log)"
    (cd "$work/src" && ./configure --disable-gil --prefix="$prefix" --with-ensurepip=install &&
        make -j"$(nproc)" && make install) > "$work/build.log" 2>&1 ||
        { tail -30 "$work/build.log" >&2; exit 1; }
    rm -rf "$work/src"
}

install_xgram() {
    local python="$1" build="build/free-threaded"
    echo "==> numpy, tokenizers and the test dependencies into $("$python" -c 'import sys; print(sys.prefix)')"
    "$python" -m pip install -q --disable-pip-version-check numpy tokenizers "pytest>=7" \
        "hypothesis>=6" "lark>=1.1" "regex>=2023.0" "jsonschema>=4.0" "pybind11>=2.13" ||
        give_up "could not install the test dependencies into $python (no network, no ssl module?)"
    echo "==> building the core for it in $build"
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE="$python" \
        -Dpybind11_DIR="$("$python" -m pybind11 --cmakedir)" > /dev/null
    ninja -C "$build" > /dev/null
    cp "$build"/_core.cpython-*t-*.so xgram/
    "$python" -W error::RuntimeWarning -c '
import sys, xgram
assert not sys._is_gil_enabled(), "importing xgram turned the GIL on"
print(f"==> Python {sys.version.split()[0]} without the GIL imports xgram; the GIL is still off")'
}

main() {
    cd "$(dirname "$0")/.."
    local python="${FT_PYTHON:-}"
    if [ -z "$python" ]; then
        python="$PWD/build/py314t/bin/python3"
        [ -x "$python" ] || build_interpreter "$PWD/build/py314t"
    fi
    "$python" -c 'import sysconfig, sys; sys.exit(sysconfig.get_config_var("Py_GIL_DISABLED") != 1)' ||
        give_up "$python is not a free-threaded build"
    install_xgram "$python"
    export HF_HUB_OFFLINE=1
    if [ "${1:-}" = --bench ]; then
        shift
        exec python3 benchmarks/bench_threads.py --free-threaded "$python" "$@"
    fi
    if [ $# -eq 0 ]; then
        set -- tests/test_free_threading.py tests/test_thread_stress.py tests/test_batch_fill.py \
            tests/test_serving_api.py -q -p no:cacheprovider
    fi
    "$python" -m pytest "$@"
}

main "$@"
