"""Per-token mask cost of structural tags with triggers: xgram vs XGrammar, same run.

Workload: tool-call transcripts, the Llama-3 tokenizer (``../shared/tokenizers/llama3``).
Each transcript is free text with tool calls in one of three model styles:

* ``llama``: ``<function=NAME>{json}</function>`` behind the trigger ``<function=``;
* ``qwen``: ``<tool_call>\\n{"name": NAME, "arguments": {json}}\\n</tool_call>`` behind
  ``<tool_call>``, the name fixed per tag;
* ``harmony-like``: a ``tag`` whose content is ``triggered_tags`` (free text inside a tag,
  ending at the tag's end string), with ``at_least_one``.

and 1, 8 or 32 tools whose argument schemas come from a small set of realistic shapes. Both
engines get the same structural tag (XGrammar's JSON form), the same transcript and the same
tokenizer (xgram's ``TokenizerInfo`` with ``special_tokens_as_text=True``: XGrammar's
semantics for special tokens). For each token: fill the mask (timed), check that the token is
allowed, accept it. Each engine compiles with a fresh compiler; the first pass over each
transcript is reported as ``cold`` (xgram computes mask entries lazily on first use; XGrammar
computes them at compile time, which is reported as compile time), a second pass with a fresh
matcher as ``warm``.

Run from the repository root::

    python benchmarks/bench_structural_tags.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from typing import Any, Dict, List, Tuple

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import xgram  # noqa: E402

TOKENIZER = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "tokenizers", "llama3")

SHAPES: List[Dict[str, Any]] = [
    {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
        "required": ["city"],
    },
    {
        "type": "object",
        "properties": {
            "query": {"type": "string", "maxLength": 200},
            "limit": {"type": "integer", "minimum": 1, "maximum": 50},
        },
        "required": ["query"],
    },
    {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"type": "string"}},
            "urgent": {"type": "boolean"},
            "note": {"type": ["string", "null"]},
        },
        "required": ["items", "urgent"],
    },
]

ARGS = [
    {"city": "Paris", "unit": "c"},
    {"query": "weather in Lyon tomorrow", "limit": 5},
    {"items": ["milk", "bread"], "urgent": False, "note": None},
]

TEXTS = [
    "Let me look that up for you.",
    "I will call a tool now, then summarise the answer in plain words.",
    "Sure! Here is what I found: the forecast is mild, with rain later.",
]


def make_case(style: str, n_tools: int, rng: random.Random) -> Tuple[Dict[str, Any], str]:
    """A structural tag for ``n_tools`` tools and a valid transcript with 2 calls."""
    names = [f"tool_{i}" for i in range(n_tools)]
    schema_of = {n: SHAPES[i % len(SHAPES)] for i, n in enumerate(names)}
    calls = [rng.choice(names) for _ in range(2)]

    def args(name: str) -> str:
        return json.dumps(ARGS[names.index(name) % len(ARGS)])

    if style == "llama":
        tags = [
            {
                "type": "tag",
                "begin": f"<function={n}>",
                "content": {"type": "json_schema", "json_schema": schema_of[n]},
                "end": "</function>",
            }
            for n in names
        ]
        fmt: Dict[str, Any] = {"type": "triggered_tags", "triggers": ["<function="], "tags": tags}
        text = " ".join(f"{rng.choice(TEXTS)} <function={c}>{args(c)}</function>" for c in calls)
        return {"type": "structural_tag", "format": fmt}, text + " " + rng.choice(TEXTS)
    if style == "qwen":
        tags = [
            {
                "type": "tag",
                "begin": f'<tool_call>\n{{"name": "{n}", "arguments": ',
                "content": {"type": "json_schema", "json_schema": schema_of[n]},
                "end": "}\n</tool_call>",
            }
            for n in names
        ]
        fmt = {"type": "triggered_tags", "triggers": ["<tool_call>"], "tags": tags}
        text = "".join(
            f'{rng.choice(TEXTS)}\n<tool_call>\n{{"name": "{c}", "arguments": {args(c)}}}\n'
            "</tool_call>\n"
            for c in calls
        )
        return {"type": "structural_tag", "format": fmt}, text
    inner = {
        "type": "triggered_tags",
        "triggers": ["<call:"],
        "tags": [
            {
                "type": "tag",
                "begin": f"<call:{n}>",
                "content": {"type": "json_schema", "json_schema": schema_of[n]},
                "end": "</call>",
            }
            for n in names
        ],
        "at_least_one": True,
    }
    fmt = {"type": "tag", "begin": "<|start|>", "content": inner, "end": "<|end|>"}
    body = " ".join(f"<call:{c}>{args(c)}</call> {rng.choice(TEXTS)}" for c in calls)
    return {"type": "structural_tag", "format": fmt}, f"<|start|>{body}<|end|>"


class Engine:
    """One engine's compile, matcher and bitmask calls."""

    def __init__(self, name: str, tokenizer: Any) -> None:
        self.name = name
        if name == "xgram":
            self.info = xgram.TokenizerInfo.from_huggingface(tokenizer, special_tokens_as_text=True)
        else:
            import xgrammar  # noqa: PLC0415

            self.xgr = xgrammar
            self.info = xgrammar.TokenizerInfo.from_huggingface(tokenizer)
        self.vocab_size = self.info.vocab_size

    def compile(self, spec: Dict[str, Any]) -> Any:
        if self.name == "xgram":
            return xgram.GrammarCompiler(self.info, cache_enabled=False).compile_structural_tag(
                spec
            )
        compiler = self.xgr.GrammarCompiler(self.info, max_threads=1, cache_enabled=False)
        return compiler.compile_structural_tag(json.dumps(spec))

    def matcher(self, compiled: Any) -> Any:
        if self.name == "xgram":
            return xgram.GrammarMatcher(compiled)
        return self.xgr.GrammarMatcher(compiled)

    def bitmask(self) -> Any:
        if self.name == "xgram":
            return np.zeros(xgram.get_bitmask_shape(1, self.vocab_size), np.int32)
        return self.xgr.allocate_token_bitmask(1, self.vocab_size)


def walk(engine: Engine, compiled: Any, ids: List[int]) -> List[float]:
    """Mask times (s) along ``ids``; raises if a token is masked or rejected."""
    matcher = engine.matcher(compiled)
    bitmask = engine.bitmask()
    words = bitmask.numpy() if hasattr(bitmask, "numpy") else bitmask
    times = []
    for token in ids:
        start = time.perf_counter()
        matcher.fill_next_token_bitmask(bitmask)
        times.append(time.perf_counter() - start)
        if not (int(words[0, token // 32]) >> (token % 32)) & 1:
            raise AssertionError(f"{engine.name} masks token {token}")
        if not matcher.accept_token(token):
            raise AssertionError(f"{engine.name} rejects token {token}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer transcripts")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import transformers  # noqa: PLC0415

    tokenizer = transformers.AutoTokenizer.from_pretrained(TOKENIZER)
    engines = [Engine("xgram", tokenizer)]
    try:
        engines.append(Engine("xgrammar", tokenizer))
    except ImportError:
        print("xgrammar not installed: xgram alone")
    rng = random.Random(args.seed)
    per_case = 1 if args.quick else 3
    rows = []
    for style in ("llama", "qwen", "harmony-like"):
        for n_tools in (1, 8, 32):
            cases = [make_case(style, n_tools, rng) for _ in range(per_case)]
            row: Dict[str, Any] = {"style": style, "tools": n_tools}
            for engine in engines:
                cold: List[float] = []
                warm: List[float] = []
                compile_s: List[float] = []
                for spec, text in cases:
                    ids = tokenizer.encode(text, add_special_tokens=False)
                    start = time.perf_counter()
                    compiled = engine.compile(spec)
                    compile_s.append(time.perf_counter() - start)
                    cold += walk(engine, compiled, ids)
                    warm += walk(engine, compiled, ids)
                row[engine.name] = (compile_s, cold, warm)
            rows.append(row)
            report_row(row, [e.name for e in engines])
    summary(rows, [e.name for e in engines])


def us(values: List[float], q: float) -> float:
    return 1e6 * float(np.percentile(values, q)) if q >= 0 else 1e6 * float(np.mean(values))


def report_row(row: Dict[str, Any], names: List[str]) -> None:
    parts = [f"{row['style']:>13} {row['tools']:>3} tools"]
    for name in names:
        compile_s, cold, warm = row[name]
        parts.append(
            f"| {name}: compile {1e3 * float(np.median(compile_s)):7.1f} ms, cold mean "
            f"{us(cold, -1):7.1f} p99 {us(cold, 99):8.1f}, warm mean {us(warm, -1):6.1f} "
            f"p99 {us(warm, 99):7.1f} us"
        )
    print(" ".join(parts), flush=True)


def summary(rows: List[Dict[str, Any]], names: List[str]) -> None:
    print("\nall transcripts (us per mask; compile ms, median):")
    totals = {}
    for name in names:
        compile_s = [c for r in rows for c in r[name][0]]
        cold = [t for r in rows for t in r[name][1]]
        warm = [t for r in rows for t in r[name][2]]
        totals[name] = (compile_s, cold, warm)
        print(
            f"  {name:>8}: {len(cold)} masks; cold mean {us(cold, -1):.1f} p50 {us(cold, 50):.1f}"
            f" p99 {us(cold, 99):.1f}; warm mean {us(warm, -1):.1f} p50 {us(warm, 50):.1f} "
            f"p99 {us(warm, 99):.1f}; compile {1e3 * float(np.median(compile_s)):.1f}"
        )
    if len(names) == 2:
        (ca, coa, wa), (cb, cob, wb) = totals[names[0]], totals[names[1]]
        print(
            f"  ratio {names[0]}/{names[1]}: cold mean {np.mean(coa) / np.mean(cob):.2f}x, "
            f"cold p99 {np.percentile(coa, 99) / np.percentile(cob, 99):.2f}x, warm mean "
            f"{np.mean(wa) / np.mean(wb):.2f}x, warm p99 "
            f"{np.percentile(wa, 99) / np.percentile(wb, 99):.2f}x, compile "
            f"{np.median(ca) / np.median(cb):.2f}x"
        )
    print("Absolute times drift on this shared 2-core machine: compare the ratios.")


if __name__ == "__main__":
    main()
