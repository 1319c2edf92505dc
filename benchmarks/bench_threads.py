"""Many Python threads, each driving its own matchers: aggregate fill + accept steps per second.

The pattern of a server whose request threads each call the matcher: every
thread owns `--matchers` matchers over shared compiled grammars (MaskBench schemas
that both engines compile, Llama-3 tokenizer) and repeats fill, then accept the
next token of its instance, for `--seconds`. Caches are warmed first. Printed per
thread count: xgram and XGrammar steps per second, summed over threads, and
their ratio. Run::

    python benchmarks/bench_threads.py                    # 1, 2, 8 threads
    python benchmarks/bench_threads.py --threads 1,4 --seconds 5
    python benchmarks/bench_threads.py --rounds 5         # interleaved, medians
    bash scripts/free_threaded.sh --bench --rounds 3      # + xgram on CPython 3.14t (no GIL)

``--free-threaded PYTHON`` runs xgram a second time under that interpreter, in
a subprocess (``--only-xgram``: no XGrammar there) on the same schemas and
instances: the columns ``xgram-ft`` and, with ``--control``,
``python-control-ft``. With the GIL, threads cannot beat one thread (the control
shows plain Python code does no better); without it they run in parallel.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_batch import CORPUS, LLAMA3, compact, load_cases  # noqa: E402


def drive(
    new_matcher: Callable[[int], Any],
    fill: Callable[[Any, Any], None],
    accept: Callable[[Any, int], bool],
    make_bitmask: Callable[[], Any],
    plans: List[Tuple[int, List[int]]],
    seconds: float,
    counts: List[int],
    slot: int,
    start_gate: threading.Barrier,
) -> None:
    """One thread: its matchers, fill + accept until the time is up."""
    bitmask = make_bitmask()
    matchers = [new_matcher(g) for g, _ in plans]
    positions = [0] * len(plans)
    steps = 0
    start_gate.wait()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for k, (g, tokens) in enumerate(plans):
            fill(matchers[k], bitmask)
            if positions[k] >= len(tokens) or not accept(matchers[k], tokens[positions[k]]):
                matchers[k] = new_matcher(g)
                positions[k] = 0
            else:
                positions[k] += 1
            steps += 1
    counts[slot] = steps


class PythonControl:
    """A matcher that does a few microseconds of pure Python per call and no native work.

    With ``--control`` it runs as an engine of its own: how one, two and eight
    threads share a GIL interpreter on this machine when nothing is released,
    the ceiling for any engine called from Python threads.
    """

    def __init__(self) -> None:
        self.table: Dict[int, int] = {}

    def fill(self, bitmask: Any) -> None:
        for i in range(24):
            self.table[i] = i * 2

    def accept(self, token: int) -> bool:
        self.table[token & 63] = token
        return True


def parse_args() -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", default="1,2,8")
    parser.add_argument("--matchers", type=int, default=8, help="matchers per thread")
    parser.add_argument("--schemas", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1, help="which MaskBench sample")
    parser.add_argument(
        "--control",
        action="store_true",
        help="also run a pure-Python stand-in matcher (no native code): the GIL's own scaling",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="repeat every (thread count, engine) run this many times, interleaved, and "
        "report the median (the machine's load drifts between runs)",
    )
    parser.add_argument(
        "--quick-fill-us",
        default="",
        help="also run xgram with these thresholds (comma-separated microseconds; -1: always "
        "release the GIL): a fill keeps the GIL when the matcher's last fill took at most this",
    )
    parser.add_argument(
        "--free-threaded",
        metavar="PYTHON",
        default="",
        help="also run xgram (and --control) under this free-threaded interpreter (3.13t/3.14t, "
        "xgram built for it), same schemas and instances, in a subprocess per round: column "
        "xgram-ft",
    )
    parser.add_argument(
        "--only-xgram",
        action="store_true",
        help="run xgram alone (what --free-threaded runs in its subprocess)",
    )
    parser.add_argument("--cases", default="", help="comma-separated load_cases indices to use")
    parser.add_argument("--json", action="store_true", help="end with one line: RATES <json>")
    return parser.parse_args()


def load_tokenizer() -> Tuple[Any, Callable[[str], List[int]], int]:
    """(tokenizer, encode, vocab size): transformers if installed, else ``tokenizers``.

    A free-threaded interpreter may lack transformers; ``tokenizers`` has wheels
    for it, and xgram's ``TokenizerInfo.from_huggingface`` takes either.
    """
    try:
        import transformers  # noqa: PLC0415

        hf = transformers.AutoTokenizer.from_pretrained(str(LLAMA3))
        return hf, lambda text: hf.encode(text, add_special_tokens=False), len(hf)
    except ImportError:
        import tokenizers  # noqa: PLC0415

        tok = tokenizers.Tokenizer.from_file(str(LLAMA3 / "tokenizer.json"))
        return (
            tok,
            lambda text: tok.encode(text, add_special_tokens=False).ids,
            tok.get_vocab_size(with_added_tokens=True),
        )


def compile_grammars(args: argparse.Namespace, tokenizer: Any, vocab_size: int, encode: Any):
    """[(xgram grammar, XGrammar grammar or None, instance tokens)] and the case indices used.

    With XGrammar present only schemas both engines compile are kept; ``--cases``
    fixes the set (how a free-threaded subprocess gets its parent's schemas).
    """
    import xgram  # noqa: PLC0415

    xgrammar = None
    if not args.only_xgram:
        import xgrammar  # noqa: PLC0415
    xg_comp = xgram.GrammarCompiler(
        xgram.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size)
    )
    xr_comp = None
    if xgrammar is not None:
        xr_info = xgrammar.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size)
        xr_comp = xgrammar.GrammarCompiler(xr_info)
    wanted = {int(i) for i in args.cases.split(",") if i}
    grammars: List[Tuple[Any, Any, List[List[int]]]] = []
    used: List[int] = []
    for index, (schema, valid) in enumerate(load_cases(args.schemas, args.seed)):
        if len(grammars) == args.schemas or (wanted and index not in wanted):
            continue
        text = json.dumps(schema)
        try:
            ours = xg_comp.compile_json_schema(text, any_whitespace=True, strict_mode=False)
            theirs = None
            if xr_comp is not None:
                theirs = xr_comp.compile_json_schema(text, any_whitespace=True, strict_mode=False)
        except Exception:  # noqa: BLE001 - a schema one engine refuses is left out
            continue
        grammars.append((ours, theirs, [encode(compact(v)) for v in valid]))
        used.append(index)
    return grammars, used


def make_engines(args: argparse.Namespace, grammars: List[Any], vocab_size: int) -> Dict[str, Any]:
    """Engine name -> (new matcher, fill, accept, make bitmask)."""
    import xgram  # noqa: PLC0415

    engines: Dict[str, Any] = {
        "xgram": (
            lambda g: xgram.GrammarMatcher(grammars[g][0]),
            lambda m, bm: m.fill_next_token_bitmask(bm),
            lambda m, t: m.accept_token(t),
            lambda: xgram.allocate_token_bitmask(1, vocab_size),
        )
    }
    if not args.only_xgram:
        import xgrammar  # noqa: PLC0415

        engines["xgrammar"] = (
            lambda g: xgrammar.GrammarMatcher(grammars[g][1]),
            lambda m, bm: m.fill_next_token_bitmask(bm),
            lambda m, t: m.accept_token(t),
            lambda: xgrammar.allocate_token_bitmask(1, vocab_size),
        )
    for threshold in [int(v) for v in args.quick_fill_us.split(",") if v]:
        engines[f"xgram@{threshold}us"] = engines["xgram"]
    if args.control:
        engines["python-control"] = (
            lambda g: PythonControl(),
            lambda m, bm: m.fill(bm),
            lambda m, t: m.accept(t),
            lambda: None,
        )
    return engines


def free_threaded_rates(args: argparse.Namespace, cases: List[int]) -> Dict[int, Dict[str, float]]:
    """Steps/s per thread count and engine under ``--free-threaded``, one subprocess.

    The engines are xgram and, with ``--control``, the pure-Python control; their
    names get the suffix ``-ft``.
    """
    command = [
        args.free_threaded,
        str(Path(__file__).resolve()),
        "--only-xgram",
        "--json",
        f"--threads={args.threads}",
        f"--matchers={args.matchers}",
        f"--schemas={args.schemas}",
        f"--seconds={args.seconds}",
        f"--seed={args.seed}",
        f"--cases={','.join(map(str, cases))}",
    ] + (["--control"] if args.control else [])
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RATES ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"the free-threaded run failed:\n{done.stdout}\n{done.stderr}")
    report = json.loads(lines[-1][len("RATES ") :])
    if report["gil_enabled"]:
        raise SystemExit(f"{args.free_threaded} ran with the GIL on: {done.stderr}")
    return {
        int(count): {f"{name}-ft": rate for name, rate in rates.items()}
        for count, rates in report["rates"].items()
    }


def main() -> None:
    args = parse_args()
    if not CORPUS.is_dir() or not LLAMA3.is_dir():
        print(f"skipped: {CORPUS} or {LLAMA3} is missing (the shared data)")
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if importlib.util.find_spec("xgram") is None:  # not installed: the checkout's (built) copy
        sys.path.insert(0, str(ROOT))
    tokenizer, encode, vocab_size = load_tokenizer()
    grammars, cases = compile_grammars(args, tokenizer, vocab_size, encode)
    engines = make_engines(args, grammars, vocab_size)
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    print(
        f"{len(grammars)} schemas; {args.matchers} matchers per thread; {os.cpu_count()} CPUs; "
        f"Python {sys.version.split()[0]}, GIL {'on' if gil else 'off'}"
    )
    counts_to_run = [int(t) for t in args.threads.split(",")]
    samples: Dict[Tuple[int, str], List[float]] = {}
    for round_index in range(args.rounds):
        if args.rounds > 1:
            print(f"round {round_index + 1} of {args.rounds}")
        free = free_threaded_rates(args, cases) if args.free_threaded else {}
        for count in counts_to_run:
            rates = run_count(count, engines, grammars, args)
            rates.update(free.get(count, {}))
            for name, rate in rates.items():
                samples.setdefault((count, name), []).append(rate)
            print_rates(count, rates)
    medians = {
        count: {n: statistics.median(samples[(c, n)]) for c, n in samples if c == count}
        for count in counts_to_run
    }
    if args.rounds > 1:
        print(f"median of {args.rounds} rounds")
        for count in counts_to_run:
            print_rates(count, medians[count])
    if args.json:
        print("RATES " + json.dumps({"gil_enabled": gil, "rates": medians}))


def print_rates(count: int, rates: Dict[str, float]) -> None:
    """One line: every engine's steps/s at ``count`` threads, and xgram / XGrammar."""
    line = f"{count:>2} threads:" + "".join(f"   {n} {r:>10,.0f}" for n, r in rates.items())
    if "xgrammar" in rates:
        line += f"   xgram/XGrammar {rates['xgram'] / rates['xgrammar']:.2f}x"
    print(line)
    sys.stdout.flush()


def run_count(
    count: int, engines: Dict[str, Any], grammars: List[Any], args: argparse.Namespace
) -> Dict[str, float]:
    """Steps per second of every engine with ``count`` threads (caches warmed first)."""
    import xgram  # noqa: PLC0415

    rates = {}
    for name, (new_matcher, fill, accept, make_bitmask) in engines.items():
        threshold_us = int(name.split("@")[1][:-2]) if "@" in name else 50
        xgram._core._set_quick_fill_nanoseconds(threshold_us * 1000 if threshold_us >= 0 else -1)
        plans_per_thread = [
            [
                (k % len(grammars), grammars[k % len(grammars)][2][0])
                for k in range(t, t + args.matchers)
            ]
            for t in range(count)
        ]
        # warm the caches: every thread's plans, on this thread
        for plans in plans_per_thread:
            drive(
                new_matcher,
                fill,
                accept,
                make_bitmask,
                plans,
                0.3,
                [0],
                0,
                threading.Barrier(1),
            )
        counts = [0] * count
        gate = threading.Barrier(count)
        threads = [
            threading.Thread(
                target=drive,
                args=(
                    new_matcher,
                    fill,
                    accept,
                    make_bitmask,
                    plans_per_thread[t],
                    args.seconds,
                    counts,
                    t,
                    gate,
                ),
            )
            for t in range(count)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rates[name] = sum(counts) / args.seconds
    return rates


if __name__ == "__main__":
    main()
