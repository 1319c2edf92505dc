"""xgram on a free-threaded interpreter (PEP 703): the GIL stays off and threads run in parallel.

The extension declares that it does not need the GIL (``py::mod_gil_not_used``);
were it not to, importing it on 3.13t/3.14t would turn the GIL back on with a
RuntimeWarning, and every thread would queue on it again. These tests run only
on such an interpreter: ``bash scripts/free_threaded.sh`` builds one and the
core for it, and runs them with the thread stress and batch tests. On a GIL
build they skip; the concurrency tests elsewhere (test_thread_stress.py,
test_batch_fill.py) run on both.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import threading

import numpy as np
import pytest

import xgram

pytestmark = pytest.mark.skipif(
    sysconfig.get_config_var("Py_GIL_DISABLED") != 1,
    reason="not a free-threaded interpreter (bash scripts/free_threaded.sh runs these)",
)


def test_importing_xgram_leaves_the_gil_off() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
    code = "import sys, xgram; print(sys._is_gil_enabled())"
    done = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_threads_without_the_gil_fill_the_same_masks_as_one_thread() -> None:
    """Eight threads walk one shared compiled grammar at once, each its own matcher."""
    assert not sys._is_gil_enabled()
    vocab = ['{"', '"', "a", "b", ":", ",", "}", "1", "2", " ", "[", "]", "true"]
    info = xgram.TokenizerInfo(vocab)
    schema = {"type": "object", "properties": {"a": {"type": "array", "items": {}}}}
    compiled = xgram.GrammarCompiler(info, cache_enabled=False).compile_json_schema(schema)
    text = ['{"', "a", '"', ":", " ", "[", "1", ",", "true", ",", "[", "2", "]", "]", "}"]
    tokens = [vocab.index(piece) for piece in text]

    def walk() -> list:
        matcher = xgram.GrammarMatcher(compiled)
        bitmask = xgram.allocate_token_bitmask(1, info.vocab_size)
        masks = []
        for token in tokens:
            matcher.fill_next_token_bitmask(bitmask)
            masks.append(np.array(bitmask))
            assert matcher.accept_token(token)
        return masks

    expected = walk()
    start = threading.Barrier(8)
    results: list = []
    failures: list = []

    def worker() -> None:
        start.wait()
        try:
            for _ in range(200):
                masks = walk()
                if any(not np.array_equal(a, b) for a, b in zip(masks, expected)):
                    failures.append("a mask differs from the single-threaded walk")
                    return
            results.append(True)
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(repr(exc))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[:3]
    assert len(results) == 8
