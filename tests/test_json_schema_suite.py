"""xgram's JSON-schema front-end against the official JSON-Schema-Test-Suite.

Runs ``tests/schema_suite_runner.py`` for xgram over draft2020-12 and draft7
(required files plus ``optional/format``), every instance serialised compact and
indented, and checks:

* no ``false_positive`` anywhere: an invalid instance must never be accepted;
* no regression against ``tests/data/json_schema_suite_baseline.json``: a test
  whose outcome is worse than its baseline category fails. Improvements are
  listed at the end of the run; re-run
  ``python tests/schema_suite_runner.py --update-baseline`` to record them.

Summary counts and the slowest cases are printed at the end of the pytest run.
Each case runs in a worker subprocess with a time limit, so a crash or a hang
is reported as that case's ``crash`` / ``timeout`` outcome.
"""

from __future__ import annotations

import json
import os
import time
from typing import Dict, List, Optional

import pytest
import schema_suite_runner as ssr

# idn-hostname's automaton (tens of thousands of states) takes seconds to build on
# a busy machine: the per-case limit leaves room for that, the budget for a slow hour.
CASE_TIMEOUT_S = 30.0
SUITE_BUDGET_S = 300.0  # cases not started by then count as timeouts
JOBS = max(1, min(2, os.cpu_count() or 1))
SUITE_MARKER = "../shared/json-schema-test-suite not found"


def _baseline_counts() -> str:
    """Cases and tests per draft according to the baseline (for the skip message)."""
    if not ssr.BASELINE_PATH.is_file():
        return "the baseline is missing too, so the number of cases is unknown"
    with ssr.BASELINE_PATH.open(encoding="utf-8") as fh:
        cases = json.load(fh)["cases"]
    parts = []
    for draft in ssr.DRAFTS:
        mine = [v for k, v in cases.items() if k.startswith(draft + "/")]
        parts.append(f"{draft}: {len(mine)} cases / {sum(len(v['outcomes']) for v in mine)} tests")
    return "skipped " + "; ".join(parts)


class _SuiteReport:
    """A plugin registered at run time: prints the suite summary after the run."""

    def __init__(self) -> None:
        self.lines: List[str] = []

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not self.lines:
            return
        terminalreporter.write_sep("=", "JSON-Schema-Test-Suite (xgram)")
        for line in self.lines:
            terminalreporter.write_line(line)


class SuiteRun:
    """The whole suite run once for xgram, with its outcomes."""

    def __init__(self, cases: List[ssr.SuiteCase], runs: List[ssr.CaseRun], wall: float) -> None:
        self.cases = cases
        self.runs = runs
        self.wall = wall
        self.outcomes = ssr.classify_all(cases, runs)
        self.by_case: Dict[str, ssr.SuiteCase] = {c.case_id: c for c in cases}

    def describe(self, outcome: ssr.TestOutcome) -> str:
        case_id, _, index = outcome.test_id.rpartition("/")
        return ssr.describe_failure(self.by_case[case_id], int(index), outcome)


@pytest.fixture(scope="module")
def report(request) -> _SuiteReport:
    plugin = _SuiteReport()
    request.config.pluginmanager.register(plugin, "json_schema_suite_report")
    return plugin


@pytest.fixture(scope="module")
def suite_run(report: _SuiteReport) -> SuiteRun:
    if not ssr.SUITE_DIR.is_dir():
        msg = f"{SUITE_MARKER} ({ssr.SUITE_DIR}): {_baseline_counts()}"
        report.lines.append(msg)
        pytest.skip(msg)
    why = ssr.engine_unavailable("xgram")
    if why is not None:
        pytest.skip(f"xgram JSON-schema front-end unavailable ({why}); nothing to run")
    cases = ssr.load_suite(ssr.DRAFTS)
    t0 = time.perf_counter()
    runs = ssr.run_cases("xgram", cases, jobs=JOBS, timeout=CASE_TIMEOUT_S, budget=SUITE_BUDGET_S)
    run = SuiteRun(cases, runs, time.perf_counter() - t0)
    report.lines.append(
        f"{len(cases)} cases in {run.wall:.1f} s ({JOBS} worker(s), {CASE_TIMEOUT_S:g} s per case)"
    )
    for draft in ssr.DRAFTS:
        counts = ssr.summarize(o for o in run.outcomes if o.test_id.startswith(draft + "/"))
        report.lines.append(ssr.format_summary(counts, draft))
    report.lines.append(ssr.format_slowest(runs, 5))
    return run


def test_no_false_positives(suite_run: SuiteRun) -> None:
    bad = [o for o in suite_run.outcomes if o.outcome == "false_positive"]
    if bad:
        listing = "\n".join(suite_run.describe(o) for o in bad[:40])
        more = f"\n... and {len(bad) - 40} more" if len(bad) > 40 else ""
        pytest.fail(
            f"{len(bad)} invalid instance(s) accepted (unsound grammar):\n{listing}{more}",
            pytrace=False,
        )


def test_no_regression_vs_baseline(suite_run: SuiteRun, report: _SuiteReport) -> None:
    if not ssr.BASELINE_PATH.is_file():
        pytest.skip(
            f"baseline {ssr.BASELINE_PATH} is missing: generate it with `{ssr.REGENERATE_HINT}`"
        )
    diff = ssr.compare_to_baseline(suite_run.outcomes, ssr.load_baseline())
    if diff.improvements:
        report.lines.append(
            f"{len(diff.improvements)} test(s) improved on the baseline; record them with "
            f"`{ssr.REGENERATE_HINT}`:"
        )
        for o, old in diff.improvements[:30]:
            report.lines.append(f"  {o.test_id}: {old} -> {o.outcome}  ({o.description})")
        if len(diff.improvements) > 30:
            report.lines.append(f"  ... and {len(diff.improvements) - 30} more")
    if diff.new or diff.missing:
        report.lines.append(
            f"the suite and the baseline differ: {len(diff.new)} new test(s), "
            f"{len(diff.missing)} gone; re-run `{ssr.REGENERATE_HINT}`"
        )
    if diff.regressions:
        listing = "\n".join(
            f"was {old}: " + suite_run.describe(o) for o, old in diff.regressions[:40]
        )
        more = f"\n... and {len(diff.regressions) - 40} more" if len(diff.regressions) > 40 else ""
        pytest.fail(
            f"{len(diff.regressions)} test(s) worse than the baseline "
            f"(order: {' < '.join(ssr.OUTCOMES)}):\n{listing}{more}\n"
            f"If a regression is intended, re-run `{ssr.REGENERATE_HINT}`.",
            pytrace=False,
        )


def _slowest_case(suite_run: SuiteRun) -> Optional[ssr.CaseRun]:
    return max(suite_run.runs, key=lambda r: r.seconds, default=None)


def test_no_timeouts_or_crashes(suite_run: SuiteRun) -> None:
    bad = [r for r in suite_run.runs if r.status in ("timeout", "crash")]
    if bad:
        listing = "\n".join(f"  {r.case_id}: {r.status}: {r.error}" for r in bad)
        slow = _slowest_case(suite_run)
        pytest.fail(
            f"{len(bad)} case(s) hung (> {CASE_TIMEOUT_S:g} s) or crashed:\n{listing}\n"
            f"(slowest finished case: {slow.case_id if slow else '-'})",
            pytrace=False,
        )
