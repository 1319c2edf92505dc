"""Smoke test of benchmarks/schema_coverage.py (the whole-corpus run is a script).

Runs the script on a small random sample of the shared JSONSchemaBench corpus, in its
crash-isolated workers, and checks its verdicts: no invalid instance accepted, no
crash. Skipped without ``../shared``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "benchmarks" / "schema_coverage.py"
CORPUS = REPO.parent / "shared" / "schemas" / "jsonschemabench-maskbench"


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"{CORPUS} is missing (the shared corpus)")
def test_sample_of_the_corpus() -> None:
    args = ["--limit", "25", "--seed", "3", "--workers", "1", "--timeout", "60"]
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "invalid instances accepted: 0" in proc.stdout
    assert "crash         0" in proc.stdout
