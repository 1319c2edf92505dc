"""Throughput of xgram's builtin JSON grammar against json.loads and lark.

Every document is run whole through ``Grammar.accepts`` (the byte-level
pushdown matcher), ``json.loads`` and lark's LALR parser; lark's Earley parser
is far slower and gets a smaller valid slice of each document.  Documents are
built from the JSONSchemaBench records in ``../shared/schemas/`` (relative to
the repository root); synthetic documents stand in when that folder is missing.

Run from the repository root::

    python benchmarks/bench_json_throughput.py           # default, ~2-3 minutes
    python benchmarks/bench_json_throughput.py --quick   # short run, ~20 s
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence, Tuple

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import lark  # noqa: E402

import xgram  # noqa: E402

SCHEMA_DIR = REPO_ROOT.parent / "shared" / "schemas" / "jsonschemabench-maskbench"

# The JSON grammar of lark's documentation (examples/json_parser.py, the tutorial's
# grammar), written out here.  SIGNED_NUMBER and ESCAPED_STRING are slightly looser
# than ECMA-404, which only makes lark's job easier.
LARK_JSON_GRAMMAR = r"""
?start: value

?value: object
      | array
      | string
      | SIGNED_NUMBER      -> number
      | "true"             -> true
      | "false"            -> false
      | "null"             -> null

array  : "[" [value ("," value)*] "]"
object : "{" [pair ("," pair)*] "}"
pair   : string ":" value

string : ESCAPED_STRING

%import common.ESCAPED_STRING
%import common.SIGNED_NUMBER
%import common.WS
%ignore WS
"""

# Files whose schemas make up the large documents (several MB together).
BIG_FILES = ("Github_hard", "WashingtonPost", "Snowplow", "Glaiveai2K")
NESTED_FILE = "Github_medium"
NESTING_DEPTH = 1000  # levels of {"next": [...]} wrapped around real records

MB = 1e6


# Documents ---------------------------------------------------------------------


class Document:
    """A JSON text built from a list of items, so valid smaller slices can be cut."""

    def __init__(self, name: str, items: Sequence[Any], render: Callable[[Sequence[Any]], str]):
        self.name = name
        self.items = items
        self.render = render
        self.text = render(items)
        self.data = self.text.encode("utf-8")

    def fit(self, max_bytes: int) -> int:
        """How many leading items render to at most ``max_bytes`` (at least one)."""
        lo, hi = 1, len(self.items)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if len(self.render(self.items[:mid]).encode("utf-8")) <= max_bytes:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def cut(self, max_bytes: int) -> Tuple[str, bytes]:
        """The rendering of the largest prefix of the items that fits in ``max_bytes``."""
        if len(self.data) <= max_bytes:
            return self.text, self.data
        text = self.render(self.items[: self.fit(max_bytes)])
        return text, text.encode("utf-8")


def load_records(stem: str) -> List[dict]:
    with gzip.open(SCHEMA_DIR / f"{stem}.jsonl.gz", "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _compact(obj: Any, ensure_ascii: bool = False) -> str:
    return json.dumps(obj, ensure_ascii=ensure_ascii, separators=(",", ":"))


def _strings(obj: Any, out: List[str]) -> None:
    if isinstance(obj, str):
        out.append(obj)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out.append(k)
            _strings(v, out)
    elif isinstance(obj, list):
        for v in obj:
            _strings(v, out)


def _render_nested(records: Sequence[Any]) -> str:
    # {"id": .., "schema": .., "next": [{"id": .., "next": [ ... ]}]}, one level per record.
    head, tail = [], []
    for r in records:
        body = _compact({"id": r["id"], "schema": r["schema"]})
        head.append(body[:-1] + ',"next":[')
        tail.append("]}")
    return "".join(head) + "null" + "".join(tail)


def _depth(text: str) -> int:
    depth = best = 0
    in_str = esc = False
    for c in text:
        if in_str:
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "[{":
            depth += 1
            best = max(best, depth)
        elif c in "]}":
            depth -= 1
    return best


def synthetic_items(target_bytes: int, seed: int = 0) -> List[Any]:
    rng = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "naïve", "日本語", "emoji 🎉", 'q"uote', "tab\t"]

    def value(depth: int) -> Any:
        k = rng.randrange(8 if depth < 4 else 5)
        if k == 0:
            return rng.randint(-(10**9), 10**9)
        if k == 1:
            return rng.uniform(-1e6, 1e6)
        if k == 2:
            return " ".join(rng.choice(words) for _ in range(rng.randint(1, 6)))
        if k == 3:
            return rng.choice([True, False, None])
        if k == 4:
            return rng.random() * 10 ** rng.randint(-30, 30)
        if k in (5, 6):
            n = rng.randint(0, 5)
            return {f"key_{rng.randrange(1000)}": value(depth + 1) for _ in range(n)}
        return [value(depth + 1) for _ in range(rng.randint(0, 6))]

    items: List[Any] = []
    size = 0
    while size < target_bytes:
        tags = [rng.choice(words) for _ in range(3)]
        item = {"id": len(items), "payload": value(0), "tags": tags}
        items.append(item)
        size += len(_compact(item).encode("utf-8")) + 1
    return items


def build_documents(max_bytes: Optional[int]) -> Tuple[List[Document], bool]:
    """The documents to measure, and whether they came from the real data set."""
    docs: List[Document] = []
    real = SCHEMA_DIR.is_dir() and any(SCHEMA_DIR.glob("*.jsonl.gz"))

    def add(doc: Document) -> None:
        if max_bytes is not None and len(doc.data) > max_bytes:
            doc = Document(doc.name, doc.items[: doc.fit(max_bytes)], doc.render)
        docs.append(doc)

    if real:
        schemas = [r["schema"] for stem in BIG_FILES for r in load_records(stem)]
        add(Document("schemas, compact", schemas, _compact))
        add(
            Document(
                "schemas, indent=2",
                schemas,
                lambda xs: json.dumps(xs, indent=2, ensure_ascii=False),
            )
        )
        all_records = [
            r
            for p in sorted(SCHEMA_DIR.glob("*.jsonl.gz"))
            for r in load_records(p.name[: -len(".jsonl.gz")])
        ]
        instances = [t["data"] for r in all_records for t in r.get("tests", [])]
        add(Document("test instances", instances, _compact))
        strings: List[str] = []
        for r in all_records:
            _strings(r["schema"], strings)
            for t in r.get("tests", []):
                _strings(t["data"], strings)
        uni = sorted({s for s in strings if any(ord(c) > 127 for c in s)})
        uni_items = uni * (2_000_000 // max(1, sum(len(s.encode()) + 3 for s in uni)) + 1)
        add(Document("unicode strings, raw UTF-8", uni_items, _compact))
        add(
            Document(
                "unicode strings, \\u-escaped",
                uni_items,
                lambda xs: _compact(xs, ensure_ascii=True),
            )
        )
        nested = load_records(NESTED_FILE)[:NESTING_DEPTH]
        add(Document("nested records", nested, _render_nested))
    else:
        items = synthetic_items(4_000_000, seed=1)
        add(Document("synthetic A, compact", items, _compact))
        add(
            Document(
                "synthetic A, indent=2",
                items,
                lambda xs: json.dumps(xs, indent=2, ensure_ascii=False),
            )
        )
        add(Document("synthetic A, \\u-escaped", items, lambda xs: _compact(xs, ensure_ascii=True)))
        nested_items = [{"id": f"n{i}", "schema": v} for i, v in enumerate(items[:NESTING_DEPTH])]
        add(Document("nested records", nested_items, _render_nested))
    add(
        Document(
            "json.dumps(generated)",
            synthetic_items(3_000_000, seed=7),
            lambda xs: json.dumps(xs, ensure_ascii=False),
        )
    )
    return docs, real


# Timing ------------------------------------------------------------------------


def time_runs(fn: Callable[[], Any], repeats: int, budget_s: float) -> Tuple[float, float, int]:
    """Best and median wall time of ``fn`` over up to ``repeats`` runs within ``budget_s``.

    The cyclic garbage collector is off while timing (as in :mod:`timeit`): otherwise
    json.loads and lark, which allocate many containers, pay for full collections of
    the benchmark's own heap.
    """
    times: List[float] = []
    start = time.perf_counter()
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
            if time.perf_counter() - start > budget_s:
                break
    finally:
        gc.enable()
    return min(times), statistics.median(times), len(times)


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def fmt_size(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 100_000 else f"{n / 1e3:.0f} KB"


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small documents, few repeats")
    ap.add_argument("--repeats", type=int, help="runs of xgram and json.loads (best/median)")
    ap.add_argument("--lalr-bytes", type=int, help="cap on the slice lark-LALR parses")
    ap.add_argument("--earley-bytes", type=int, help="cap on the slice lark-Earley parses")
    args = ap.parse_args(argv)

    max_doc = 400_000 if args.quick else None
    repeats = args.repeats or (2 if args.quick else 5)
    lalr_cap = args.lalr_bytes or (150_000 if args.quick else 500_000)
    earley_cap = args.earley_bytes or (20_000 if args.quick else 100_000)
    lark_repeats = 1 if args.quick else 2

    # Document (d) nests ~1000 levels of real schemas: lift the recursion limit that
    # json.loads and lark observe (ample C stack remains at this depth).
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))

    print("xgram JSON throughput benchmark")
    print(
        f"python {platform.python_version()}, lark {lark.__version__}, "
        f"{platform.machine()}, {platform.processor() or platform.system()}"
    )
    print("NOTE: absolute numbers drift on this shared 2-core machine; compare the ratios.")
    print(f"load average at start: {load_average()}")
    print(
        "MB = 10^6 bytes of UTF-8.  xgram/json.loads: whole document, best of "
        f"{repeats} (median in the second table)."
    )
    print(
        f"lark-LALR: first <= {fmt_size(lalr_cap)} of each document, best of {lark_repeats}; "
        f"lark-Earley: first <= {fmt_size(earley_cap)} (it is slow), one run."
    )
    print(
        "Slices are valid JSON (a prefix of the document's items); xgram is re-timed on each "
        "slice so the lark ratios compare the same bytes."
    )
    print()

    t0 = time.perf_counter()
    docs, real = build_documents(max_doc)
    if not real:
        print(f"WARNING: {SCHEMA_DIR} not found; using synthetic documents only.")
    print(
        f"built {len(docs)} documents in {time.perf_counter() - t0:.1f}s from "
        f"{'JSONSchemaBench records in ' + str(SCHEMA_DIR) if real else 'synthetic data'}"
    )
    print()

    g = xgram.Grammar.builtin_json_grammar()
    g.automaton_stats()  # build the automaton outside the timed region
    lalr = lark.Lark(LARK_JSON_GRAMMAR, parser="lalr")
    earley = lark.Lark(LARK_JSON_GRAMMAR, parser="earley")

    rows = []
    failures = []
    for doc in docs:
        data, text = doc.data, doc.text
        if not g.accepts(data):
            failures.append(f"{doc.name}: xgram rejected ({g.check(data)})")
        # A document minus its last byte must be a proper prefix, not accepted.
        if g.accepts(data[:-1]) or not g.accepts_prefix(data[:-1]):
            failures.append(f"{doc.name}: xgram verdict on the truncated document is wrong")
        json.loads(data)  # raises on bad documents

        x_best, x_med, x_n = time_runs(lambda d=data: g.accepts(d), repeats, 30)
        j_best, j_med, _ = time_runs(lambda d=data: json.loads(d), repeats, 30)

        l_text, l_data = doc.cut(lalr_cap)
        l_best, l_med, _ = time_runs(lambda t=l_text: lalr.parse(t), lark_repeats, 20)
        xl_best, _, _ = time_runs(lambda d=l_data: g.accepts(d), repeats, 10)

        e_text, e_data = doc.cut(earley_cap)
        e_best, _, _ = time_runs(lambda t=e_text: earley.parse(t), 1, 1)
        xe_best, _, _ = time_runs(lambda d=e_data: g.accepts(d), repeats, 10)

        n = len(data)
        row = {
            "name": doc.name,
            "size": n,
            "depth": _depth(text),
            "x": n / x_best / MB,
            "x_med": n / x_med / MB,
            "j": n / j_best / MB,
            "j_med": n / j_med / MB,
            "lalr": len(l_data) / l_best / MB,
            "lalr_size": len(l_data),
            "x_lalr": len(l_data) / xl_best / MB,
            "earley": len(e_data) / e_best / MB,
            "earley_size": len(e_data),
            "x_earley": len(e_data) / xe_best / MB,
            "runs": x_n,
        }
        rows.append(row)
        print(
            f"  measured {doc.name:<30} {fmt_size(n):>9}  xgram {row['x']:7.2f} MB/s  "
            f"({time.perf_counter() - t0:.0f}s elapsed)",
            flush=True,
        )

    print()
    hdr = (
        f"{'document':<30} {'size':>9} {'depth':>5} | {'xgram':>7} {'json':>7} "
        f"{'LALR':>6} {'Earley':>7} | {'x/json':>6} {'x/LALR':>6} {'x/Earley':>8}"
    )
    print("Throughput in MB/s (best run); ratios = xgram MB/s / other MB/s on the same bytes")
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        print(
            f"{r['name']:<30} {fmt_size(r['size']):>9} {r['depth']:>5} | "
            f"{r['x']:7.2f} {r['j']:7.1f} {r['lalr']:6.3f} {r['earley']:7.4f} | "
            f"{r['x'] / r['j']:6.3f} {r['x_lalr'] / r['lalr']:6.1f} "
            f"{r['x_earley'] / r['earley']:8.0f}"
        )
    print()
    print("Median runs and slice sizes")
    hdr2 = (
        f"{'document':<30} {'xgram med':>9} {'json med':>8} {'runs':>4} | "
        f"{'LALR slice':>10} {'xgram@slice':>11} | {'Earley slice':>12} {'xgram@slice':>11}"
    )
    print(hdr2)
    print("-" * len(hdr2))
    for r in rows:
        print(
            f"{r['name']:<30} {r['x_med']:9.2f} {r['j_med']:8.1f} {r['runs']:>4} | "
            f"{fmt_size(r['lalr_size']):>10} {r['x_lalr']:11.2f} | "
            f"{fmt_size(r['earley_size']):>12} {r['x_earley']:11.2f}"
        )
    print()
    if failures:
        print("VERDICT MISMATCH:")
        for f in failures:
            print("  " + f)
        return 1
    print(
        f"xgram accepted all {len(docs)} documents (and classed each one minus its last byte "
        "as a prefix)."
    )
    print(f"total time {time.perf_counter() - t0:.0f}s; load average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
