"""JSON Schema coverage over the whole shared JSONSchemaBench corpus, grammar level.

Converts every schema of ``../shared/schemas/jsonschemabench-maskbench`` with
``Grammar.from_json_schema(schema, any_whitespace=True, strict_mode=False)`` (the
"compliant" reading: what the schema says and nothing more) and checks every test
instance, compact ``json.dumps``, with ``Grammar.accepts``. No tokenizer is
involved: this measures what the converter can express, fast enough to run the
whole corpus (token-level masks are ``maskbench.py``'s job).

Per schema the outcome is one of: ``ok`` (compiled; the instance verdicts are
counted), ``refused`` (``SchemaError``, grouped by cause: keyword plus message
with quoted values and numbers blanked), ``error`` (any other exception: a bug),
``timeout`` or ``crash`` (the worker died). Workers are long-lived processes that
are killed and restarted on a timeout or a crash, so one failure hides nothing.

Exit status 1 when an invalid instance was accepted, or a worker crashed.

Usage::

    python benchmarks/schema_coverage.py                    # all schemas, 2 workers
    python benchmarks/schema_coverage.py --limit 300 --seed 1
    python benchmarks/schema_coverage.py --json /tmp/cov.json --show refused
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import multiprocessing as mp
import random
import re
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "schemas" / "jsonschemabench-maskbench"

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\b\d+(\.\d+)?\b")
_POINTER = re.compile(r" at [#/]\S*?(?=: | \()")


def cause_of(message: str) -> str:
    """A refusal message with its particulars blanked, so that causes group."""
    text = _POINTER.sub("", message.splitlines()[0] if message else "")
    keyword = text.split(":", 1)[0] if ":" in text else ""
    rest = text.split(":", 1)[1] if ":" in text else text
    rest = _NUMBER.sub("N", _QUOTED.sub("'…'", rest)).strip()
    return f"{keyword}: {rest[:110]}"


def check_schema(schema: Any, tests: Sequence[Tuple[bool, Any]]) -> Dict[str, Any]:
    """Convert one schema and judge its instances (runs in a worker)."""
    import xgram  # noqa: PLC0415

    started = time.perf_counter()
    try:
        g = xgram.Grammar.from_json_schema(schema, any_whitespace=True, strict_mode=False)
        g.accepts("")  # builds the automaton: its errors count as the compile's
    except xgram.SchemaError as e:
        return {"outcome": "refused", "cause": cause_of(str(e)), "message": str(e)[:300]}
    except Exception as e:  # noqa: BLE001 - every other exception is a finding
        return {"outcome": "error", "cause": type(e).__name__, "message": str(e)[:300]}
    compile_s = time.perf_counter() - started
    valid_rejected: List[int] = []
    invalid_accepted: List[int] = []
    for i, (valid, data) in enumerate(tests):
        text = json.dumps(data, ensure_ascii=False)
        if g.accepts(text) != valid:
            (valid_rejected if valid else invalid_accepted).append(i)
    return {
        "outcome": "ok",
        "compile_s": compile_s,
        "valid_rejected": valid_rejected,
        "invalid_accepted": invalid_accepted,
    }


def _worker(conn: Connection) -> None:
    while True:
        job = conn.recv()
        if job is None:
            return
        conn.send(check_schema(*job))


class Worker:
    """A long-lived worker process, restarted after a timeout or a crash."""

    def __init__(self) -> None:
        self.proc: Optional[mp.process.BaseProcess] = None
        self.conn: Optional[Connection] = None
        self.busy_with: Optional[Tuple[str, float]] = None

    def start(self) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child,), daemon=True)
        self.proc.start()

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.join()
        self.proc = None

    def submit(self, rec_id: str, schema: Any, tests: Any) -> None:
        if self.proc is None or not self.proc.is_alive():
            self.start()
        assert self.conn is not None
        self.conn.send((schema, tests))
        self.busy_with = (rec_id, time.monotonic())


def load_records(limit: Optional[int], seed: int) -> List[Dict[str, Any]]:
    """Every corpus record (or ``limit`` drawn with ``seed``), with its tests."""
    records = []
    for path in sorted(CORPUS.glob("*.jsonl.gz")):
        with gzip.open(path, "rt") as f:
            for line in f:
                rec = json.loads(line)
                records.append(
                    {
                        "id": rec["id"],
                        "schema": rec["schema"],
                        "tests": [(bool(t["valid"]), t["data"]) for t in rec.get("tests", [])],
                    }
                )
    if limit is not None and limit < len(records):
        records = random.Random(seed).sample(records, limit)
    return records


def run(records: List[Dict[str, Any]], workers: int, timeout: float) -> Dict[str, Any]:
    """Run every record through the worker pool; return per-id results."""
    pool = [Worker() for _ in range(workers)]
    results: Dict[str, Any] = {}
    queue = list(reversed(records))
    started = time.monotonic()
    while queue or any(w.busy_with for w in pool):
        for w in pool:
            if w.busy_with is None and queue:
                rec = queue.pop()
                w.submit(
                    rec["id"],
                    json.loads(rec["schema"]) if isinstance(rec["schema"], str) else rec["schema"],
                    rec["tests"],
                )
        for w in pool:
            if w.busy_with is None:
                continue
            rec_id, since = w.busy_with
            assert w.conn is not None and w.proc is not None
            try:
                ready = w.conn.poll(0.01)
            except (EOFError, OSError):
                ready = False
            if ready:
                try:
                    results[rec_id] = w.conn.recv()
                except (EOFError, OSError):
                    results[rec_id] = {"outcome": "crash", "cause": f"exit {w.proc.exitcode}"}
                    w.kill()
                w.busy_with = None
            elif not w.proc.is_alive():
                results[rec_id] = {"outcome": "crash", "cause": f"exit {w.proc.exitcode}"}
                w.kill()
                w.busy_with = None
            elif time.monotonic() - since > timeout:
                results[rec_id] = {"outcome": "timeout", "cause": f"over {timeout:g} s"}
                w.kill()
                w.busy_with = None
        done = len(results)
        if done and done % 500 == 0 and not any(w.busy_with for w in pool if w is pool[0]):
            print(f"  {done}/{len(records)} in {time.monotonic() - started:.0f} s", flush=True)
    for w in pool:
        if w.conn is not None and w.proc is not None and w.proc.is_alive():
            w.conn.send(None)
        w.kill()
    return results


def report(results: Dict[str, Any], show: str) -> int:
    """Print the summary; return the exit status."""
    total = len(results)
    outcomes = collections.Counter(r["outcome"] for r in results.values())
    ok = [r for r in results.values() if r["outcome"] == "ok"]
    valid_rej = sum(len(r["valid_rejected"]) for r in ok)
    invalid_acc = sum(len(r["invalid_accepted"]) for r in ok)
    passing = sum(1 for r in ok if not r["valid_rejected"] and not r["invalid_accepted"])
    print(f"\nschemas: {total}")
    for name in ("ok", "refused", "error", "timeout", "crash"):
        n = outcomes.get(name, 0)
        print(f"  {name:8} {n:6}  ({100.0 * n / max(total, 1):.2f}%)")
    print(f"  passing (compiled, every instance judged right): {passing}")
    print(f"  valid instances rejected: {valid_rej}; invalid instances accepted: {invalid_acc}")
    causes = collections.Counter(
        r["cause"] for r in results.values() if r["outcome"] in ("refused", "error", "timeout")
    )
    print("\nrefusals and errors by cause:")
    for cause, n in causes.most_common():
        print(f"  {n:5}  {cause}")
    if show:
        print(f"\nids ({show}):")
        for rec_id, r in sorted(results.items()):
            if r["outcome"] == show or (show == "wrong" and r.get("invalid_accepted")):
                print(f"  {rec_id}: {r.get('message', r.get('invalid_accepted', ''))}")
    bad = invalid_acc or outcomes.get("crash", 0)
    return 1 if bad else 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="a random sample of this size")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample (with --limit)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per schema")
    parser.add_argument("--json", help="write per-id results here")
    parser.add_argument("--load", help="report a saved --json run instead of running")
    parser.add_argument(
        "--show", default="", help="list ids with this outcome (refused, error, timeout, wrong)"
    )
    args = parser.parse_args(argv)
    if args.load:
        results = json.loads(Path(args.load).read_text())
        return report(results, args.show)
    if not CORPUS.is_dir():
        print(f"skipped: {CORPUS} is missing (the shared corpus)")
        return 0
    records = load_records(args.limit, args.seed)
    print(f"{len(records)} schemas from {CORPUS}")
    started = time.monotonic()
    results = run(records, args.workers, args.timeout)
    print(f"ran in {time.monotonic() - started:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(results))
    return report(results, args.show)


if __name__ == "__main__":
    sys.exit(main())
