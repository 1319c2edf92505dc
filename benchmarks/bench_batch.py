"""Batch mask fill: xgram vs XGrammar's BatchGrammarMatcher vs llguidance's parallel fill.

Rows are drawn from MaskBench instances at real positions (Llama-3 tokenizer):
``--schemas`` schemas that every engine compiles, each row a matcher of one of
them advanced along a valid instance. A step fills the masks of the whole batch
(timed) and then accepts each row's next token (timed apart: one batch call for
xgram and XGrammar, ``batch_accept_token``; a loop of ``consume_token`` for
llguidance, which has no batch accept); a row at the end of its instance starts
again. So every fill is a real next-step fill, never a repeat of the last one.
Reported per engine, batch size and thread count: rows per second over the warm
steps (after one pass over the instances), the p99 of a batch, the ratio to
xgram, and the accepted rows per second. Run::

    python benchmarks/bench_batch.py                      # 16, 64, 256 rows; 1 and 2 threads
    python benchmarks/bench_batch.py --sizes 64 --threads 1,2,4 --steps 40
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "schemas" / "jsonschemabench-maskbench"
LLAMA3 = SHARED / "tokenizers" / "llama3"


def compact(value: Any) -> str:
    """The instance as MaskBench writes it: compact JSON."""
    return json.dumps(value, separators=(",", ":"))


def load_cases(count: int, seed: int) -> List[Tuple[Any, List[Any]]]:
    """(schema, valid instances) of `count` random MaskBench records with valid instances."""
    records = []
    for path in sorted(CORPUS.glob("*.jsonl.gz")):
        with gzip.open(path, "rt") as f:
            for line in f:
                rec = json.loads(line)
                valid = [t["data"] for t in rec.get("tests", []) if t["valid"]]
                if valid:
                    records.append((rec["schema"], valid))
    return random.Random(seed).sample(records, min(len(records), count * 3))


class Rows:
    """One engine's matchers for the batch, each walking its instance's tokens."""

    def __init__(
        self,
        new_matcher: Callable[[int], Any],
        accept: Callable[[Any, int], bool],
        plans: List[Tuple[int, List[int], int]],
    ) -> None:
        self.new_matcher, self.accept, self.plans = new_matcher, accept, plans
        self.matchers: List[Any] = []
        self.positions: List[int] = []
        for grammar, tokens, start in plans:
            m = new_matcher(grammar)
            for t in tokens[:start]:
                assert accept(m, t)
            self.matchers.append(m)
            self.positions.append(start)

    def advance(
        self, batch_accept: Optional[Callable[[List[Any], List[int]], List[bool]]] = None
    ) -> float:
        """Accept each row's next token; returns the seconds the accepts took.

        With ``batch_accept`` the live rows accept in one call, else one by one.
        """
        live = [r for r, (_, tokens, _) in enumerate(self.plans) if self.positions[r] < len(tokens)]
        tokens = [self.plans[r][1][self.positions[r]] for r in live]
        start = time.perf_counter()
        if batch_accept is not None:
            accepted = batch_accept([self.matchers[r] for r in live], tokens)
        else:
            accepted = [self.accept(self.matchers[r], t) for r, t in zip(live, tokens)]
        seconds = time.perf_counter() - start
        done = set(r for r, ok in zip(live, accepted) if ok)
        for row, (grammar, _, _) in enumerate(self.plans):
            if row in done:
                self.positions[row] += 1
            else:
                self.matchers[row] = self.new_matcher(grammar)
                self.positions[row] = 0
        return seconds


def make_fill(
    name: str, threads: int, size: int, vocab_size: int, rows: Rows
) -> Callable[[], None]:
    """A call that fills the batch's masks with engine `name` on `threads` threads."""
    import llguidance
    import llguidance.numpy
    import xgrammar

    import xgram
    from xgram.batch import BatchGrammarMatcher

    if name == "xgram":
        bitmask = xgram.allocate_token_bitmask(size, vocab_size)
        batch = BatchGrammarMatcher(threads)
        return lambda: batch.batch_fill_next_token_bitmask(rows.matchers, bitmask)
    if name == "xgrammar":
        xbitmask = xgrammar.allocate_token_bitmask(size, vocab_size)
        xbatch = xgrammar.BatchGrammarMatcher(threads)
        return lambda: xbatch.batch_fill_next_token_bitmask(rows.matchers, xbitmask)
    lbitmask = llguidance.numpy.allocate_token_bitmask(size, vocab_size)
    executor = llguidance.LLExecutor(threads)
    return lambda: llguidance.numpy.fill_next_token_bitmask_par(
        executor, [(m, i) for i, m in enumerate(rows.matchers)], lbitmask
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="16,64,256")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--schemas", type=int, default=24)
    parser.add_argument("--steps", type=int, default=30, help="timed steps per configuration")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not CORPUS.is_dir() or not LLAMA3.is_dir():
        print(f"skipped: {CORPUS} or {LLAMA3} is missing (the shared data)")
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(ROOT))
    import llguidance
    import llguidance.hf
    import llguidance.numpy
    import transformers
    import xgrammar

    import xgram
    from xgram.batch import BatchGrammarMatcher

    hf = transformers.AutoTokenizer.from_pretrained(str(LLAMA3))
    vocab_size = len(hf)
    xg_info = xgram.TokenizerInfo.from_huggingface(hf, vocab_size=vocab_size)
    xg_comp = xgram.GrammarCompiler(xg_info)
    xr_info = xgrammar.TokenizerInfo.from_huggingface(hf, vocab_size=vocab_size)
    xr_comp = xgrammar.GrammarCompiler(xr_info)
    llg_tok = llguidance.hf.from_tokenizer(hf, n_vocab=vocab_size)

    # Schemas every engine compiles, with their instances' tokens.
    compiled: List[Dict[str, Any]] = []
    for schema, valid in load_cases(args.schemas, args.seed):
        if len(compiled) == args.schemas:
            break
        text = json.dumps(schema)
        try:
            ours = xg_comp.compile_json_schema(text, any_whitespace=True, strict_mode=False)
            theirs = xr_comp.compile_json_schema(text, any_whitespace=True, strict_mode=False)
            grammar = llguidance.LLMatcher.grammar_from_json_schema(text)
            template = llguidance.LLMatcher(llg_tok, grammar, log_level=0)
            if template.is_error():
                continue
        except Exception:  # noqa: BLE001 - a schema some engine refuses is left out
            continue
        tokens = [hf.encode(compact(v), add_special_tokens=False) for v in valid]
        compiled.append(
            {"xgram": ours, "xgrammar": theirs, "llguidance": template, "tokens": tokens}
        )
    print(f"{len(compiled)} schemas compiled by every engine; Llama-3 vocabulary {vocab_size}")

    batch_accepts = {
        "xgram": BatchGrammarMatcher.batch_accept_token,
        "xgrammar": xgrammar.BatchGrammarMatcher.batch_accept_token,
        "llguidance": None,
    }
    engines = {
        "xgram": (
            lambda g: xgram.GrammarMatcher(compiled[g]["xgram"]),
            lambda m, t: m.accept_token(t),
        ),
        "xgrammar": (
            lambda g: xgrammar.GrammarMatcher(compiled[g]["xgrammar"]),
            lambda m, t: m.accept_token(t),
        ),
        "llguidance": (
            lambda g: compiled[g]["llguidance"].deep_copy(),
            lambda m, t: m.consume_token(t) and not m.is_error(),
        ),
    }
    sizes = [int(s) for s in args.sizes.split(",")]
    thread_counts = [int(t) for t in args.threads.split(",")]
    print(
        f"machine: {os.cpu_count()} CPUs; steps per configuration: {args.steps} (after a warm pass)"
    )
    print(f"{'rows':>5} {'threads':>7}  " + "  ".join(f"{e:>22}" for e in engines) + "   ratios")
    for size in sizes:
        rng = random.Random(size)
        plans = []
        for _ in range(size):
            g = rng.randrange(len(compiled))
            tokens = rng.choice(compiled[g]["tokens"])
            plans.append((g, tokens, rng.randrange(len(tokens))))
        for threads in thread_counts:
            results = {}
            for name, (new_matcher, accept) in engines.items():
                rows = Rows(new_matcher, accept, plans)
                fill = make_fill(name, threads, size, vocab_size, rows)
                for _ in range(max(len(p[1]) for p in plans) // 4 + 2):  # warm pass
                    fill()
                    rows.advance()
                times, accept_seconds = [], 0.0
                for _ in range(args.steps):
                    start = time.perf_counter()
                    fill()
                    times.append(time.perf_counter() - start)
                    accept_seconds += rows.advance(batch_accepts[name])
                total = sum(times)
                p99 = sorted(times)[max(0, int(len(times) * 0.99) - 1)]
                results[name] = (size * len(times) / total, p99, size * len(times) / accept_seconds)
            cells = "  ".join(
                f"{results[e][0]:>10,.0f}/s p99 {results[e][1] * 1e3:6.2f}ms" for e in engines
            )
            ours = results["xgram"][0]
            ratios = "  ".join(f"{e} {ours / results[e][0]:.2f}x" for e in engines if e != "xgram")
            print(f"{size:>5} {threads:>7}  {cells}   xgram vs {ratios}")
            accepts = "  ".join(f"{e} {results[e][2]:,.0f}/s" for e in engines)
            print(f"{'':>13}  accepted rows: {accepts}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
