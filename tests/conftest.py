"""Shared pytest hooks."""

from __future__ import annotations

SHARED_MARKER = "../shared/tokenizers not found"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say loudly how many real-tokenizer cases skipped because ../shared is missing."""
    skipped = 0
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        reason = (
            longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        )
        if SHARED_MARKER in reason:
            skipped += 1
    if skipped:
        terminalreporter.write_sep(
            "=",
            f"{skipped} real-tokenizer case(s) skipped: ../shared/tokenizers is missing",
            yellow=True,
        )
