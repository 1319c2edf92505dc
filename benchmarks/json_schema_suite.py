"""JSON-Schema-Test-Suite conformance: xgram vs. XGrammar vs. llguidance.

Runs the harness of ``tests/schema_suite_runner.py`` for each engine over
draft2020-12 and draft7 (required files plus ``optional/format``) and prints a
side-by-side table per draft: passes, false negatives, compile errors (schema
refused), timeouts/crashes, false positives (invalid instance accepted: the
unsound case), the total and the pass ratio.

Every instance is checked twice, compact and indented (``indent=2``); a test
passes only when both verdicts are right. The "compact only" rows count the
compact text alone, which is how other harnesses (and the XGrammar numbers
quoted in the issue: 1,264 passes, 688 false positives on draft2020-12) count.

Engines and options:

* ``xgram``: ``Grammar.from_json_schema(schema, strict_mode=False, any_whitespace=True)``,
  ``Grammar.accepts``; "n/a" while that API does not exist. A schema naming the
  suite's ``http://localhost:1234/`` server also gets ``refs=`` its ``remotes/``
  documents; the peers fetch nothing, so their remote references fail to compile.
* ``xgrammar``: ``Grammar.from_json_schema(schema, any_whitespace=True, strict_mode=False)``
  compiled for an empty vocabulary; ``GrammarMatcher.accept_string`` + ``is_terminated``.
* ``llguidance``: ``LLMatcher.grammar_from_json_schema(schema,
  defaults={"whitespace_flexible": True})``; the text is fed one byte per token
  (``--llg-tokenizer llama3`` feeds llama3 tokens instead); accepted when every
  token is consumed and ``is_accepting()``.

A peer that raises on a schema (or whose matcher starts in an error state)
counts as a compile error. Each case runs in a worker subprocess with a time
limit (``--timeout``). Run from the repository root::

    python benchmarks/json_schema_suite.py [--engines xgram,xgrammar,llguidance]
        [--draft draft7] [--jobs 2] [--timeout 20] [--json-out results.json]

Exits 1 when xgram accepts an invalid instance.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))

import schema_suite_runner as ssr  # noqa: E402

ENGINE_ORDER = ("xgram", "xgrammar", "llguidance")


def _row_values(counts: Optional[Dict[str, int]]) -> Dict[str, str]:
    """The table cells of one engine for one draft (``None``: engine unavailable)."""
    keys = (
        "pass",
        "false_negative",
        "compile_error",
        "timeout_crash",
        "false_positive",
        "total",
        "ratio",
        "c_pass",
        "c_fp",
    )
    if counts is None:
        return {k: "n/a" for k in keys}
    total = sum(counts[o] for o in ssr.OUTCOMES)
    return {
        "pass": str(counts["pass"]),
        "false_negative": str(counts["false_negative"]),
        "compile_error": str(sum(counts[o] for o in ssr.COMPILE_ERRORS)),
        "timeout_crash": str(counts["timeout"] + counts["crash"]),
        "false_positive": str(counts["false_positive"]),
        "total": str(total),
        "ratio": f"{100.0 * counts['pass'] / total:.1f}%" if total else "n/a",
        "c_pass": str(counts.get("compact_pass", 0)),
        "c_fp": str(counts.get("compact_false_positive", 0)),
    }


ROWS = (
    ("pass", "pass"),
    ("false_negative", "false negative"),
    ("compile_error", "compile error (all kinds)"),
    ("timeout_crash", "timeout / crash"),
    ("false_positive", "FALSE POSITIVE"),
    ("total", "total tests"),
    ("ratio", "pass ratio"),
    ("c_pass", "compact only: pass"),
    ("c_fp", "compact only: false positive"),
)


def format_table(draft: str, per_engine: Dict[str, Optional[Dict[str, int]]]) -> str:
    """Side-by-side table of one draft."""
    engines = list(per_engine)
    cells = {e: _row_values(per_engine[e]) for e in engines}
    label_w = max(len(label) for _, label in ROWS) + 2
    col_w = max(12, *(len(e) + 2 for e in engines))
    lines = [f"{draft:<{label_w}}" + "".join(f"{e:>{col_w}}" for e in engines)]
    lines.append("-" * (label_w + col_w * len(engines)))
    for key, label in ROWS:
        lines.append(f"{label:<{label_w}}" + "".join(f"{cells[e][key]:>{col_w}}" for e in engines))
    return "\n".join(lines)


def format_breakdown(draft: str, per_engine: Dict[str, Optional[Dict[str, int]]]) -> str:
    """The compile-error categories of one draft, per engine."""
    parts = []
    for engine, counts in per_engine.items():
        if counts is None:
            continue
        detail = ", ".join(
            f"{o.replace('compile_error_', '')} {counts[o]}" for o in ssr.COMPILE_ERRORS
        )
        parts.append(f"  {engine}: {detail}")
    return f"compile errors by kind ({draft}):\n" + "\n".join(parts) if parts else ""


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--engines",
        default=",".join(ENGINE_ORDER),
        help="comma-separated subset of " + ",".join(ENGINE_ORDER),
    )
    ap.add_argument(
        "--draft",
        action="append",
        choices=ssr.DRAFTS,
        help="draft to run (repeatable; default: all)",
    )
    ap.add_argument(
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="worker subprocesses per engine (0: in process, unprotected)",
    )
    ap.add_argument(
        "--timeout",
        type=float,
        default=ssr.DEFAULT_CASE_TIMEOUT_S,
        help="per-case limit in seconds (compile + all checks)",
    )
    ap.add_argument(
        "--llg-tokenizer",
        default="byte",
        help="llguidance tokenizer: 'byte' or a folder of ../shared/tokenizers",
    )
    ap.add_argument("--slowest", type=int, default=5, help="slowest cases listed per engine")
    ap.add_argument("--json-out", type=Path, help="write per-test outcomes of every engine here")
    args = ap.parse_args(argv)

    if not ssr.SUITE_DIR.is_dir():
        print(f"JSON-Schema-Test-Suite not found at {ssr.SUITE_DIR}", file=sys.stderr)
        return 2
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for e in engines:
        if e not in ssr.ENGINES:
            ap.error(f"unknown engine {e!r}")
    drafts = tuple(args.draft or ssr.DRAFTS)
    cases = ssr.load_suite(drafts)
    print(
        f"JSON-Schema-Test-Suite: {len(cases)} cases, "
        f"{sum(len(c.tests) for c in cases)} tests ({', '.join(drafts)}); "
        f"{args.jobs} worker(s) per engine, {args.timeout:g} s per case"
    )

    results: Dict[str, Optional[Dict[str, Dict[str, int]]]] = {}
    dumps: Dict[str, Dict[str, str]] = {}
    notes: List[str] = []
    for engine in engines:
        why = ssr.engine_unavailable(engine) if engine == "xgram" else None
        if why is not None:
            results[engine] = None
            notes.append(f"{engine}: n/a ({why})")
            continue
        t0 = time.perf_counter()
        try:
            runs = ssr.run_cases(
                engine,
                cases,
                jobs=args.jobs,
                timeout=args.timeout,
                llg_tokenizer=args.llg_tokenizer,
            )
        except Exception as exc:  # an engine that cannot start at all
            results[engine] = None
            notes.append(f"{engine}: n/a ({type(exc).__name__}: {exc})")
            continue
        wall = time.perf_counter() - t0
        both = ssr.classify_all(cases, runs)
        compact = ssr.classify_all(cases, runs, forms=(0,))
        per_draft: Dict[str, Dict[str, int]] = {}
        for draft in drafts:
            prefix = draft + "/"
            counts = dict(ssr.summarize(o for o in both if o.test_id.startswith(prefix)))
            c_counts = ssr.summarize(o for o in compact if o.test_id.startswith(prefix))
            counts["compact_pass"] = c_counts["pass"]
            counts["compact_false_positive"] = c_counts["false_positive"]
            per_draft[draft] = counts
        results[engine] = per_draft
        dumps[engine] = {o.test_id: o.outcome for o in both}
        busy = sum(r.seconds for r in runs)
        notes.append(
            f"{engine}: {wall:.1f} s wall, {busy:.1f} s in compile + check\n"
            + ssr.format_slowest(runs, args.slowest)
        )

    for draft in drafts:
        per_engine = {e: (results[e] or {}).get(draft) if results[e] else None for e in engines}
        print()
        print(format_table(draft, per_engine))
        breakdown = format_breakdown(draft, per_engine)
        if breakdown:
            print(breakdown)
    print()
    print("\n".join(notes))
    print("\nCompile errors count a refused schema, with the tests of that case:")
    print(
        "  all_invalid: every test of the case is invalid; valid / invalid: the test's own "
        "validity when the case also holds valid tests."
    )

    if args.json_out:
        args.json_out.write_text(
            json.dumps(dumps, indent=1, sort_keys=True) + "\n", encoding="utf-8"
        )
        print(f"wrote {args.json_out}")
    xgram_counts = results.get("xgram")
    if xgram_counts and any(c["false_positive"] for c in xgram_counts.values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
