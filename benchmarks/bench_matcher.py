"""Micro benchmarks of xgram's core on pathological grammars and inputs.

For each case: compile time (``Grammar.from_ebnf`` + ``automaton_stats()``, which
builds the automaton), match time of ``Grammar.accepts`` (best of N), the bytes/s
that makes, and the verdict, checked against the expected one.  A last section
measures the peak RSS growth of matching 10 MB JSON inputs in a fresh child
process: ``accepts`` keeps no history, so on flat inputs memory must not grow
beyond the one copy of the input the binding makes (deep nesting needs a stack,
and is shown for contrast).  Exits 1 when a verdict or the memory check is wrong.

Run from the repository root::

    python benchmarks/bench_matcher.py           # default, ~1-2.5 minutes
    python benchmarks/bench_matcher.py --quick   # short run, ~20 s
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import xgram  # noqa: E402

ACCEPT, PREFIX, REJECT = "accepted", "prefix", "rejected"


def verdict(g: xgram.Grammar, data: bytes) -> str:
    # accepts/accepts_prefix rather than check(): check() computes line/column in
    # Python, which is slow on multi-megabyte single-line inputs.
    if g.accepts(data):
        return ACCEPT
    return PREFIX if g.accepts_prefix(data) else REJECT


def best_time(fn: Callable[[], object], repeats: int, budget_s: float = 5.0) -> float:
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
    return min(times)


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def fmt_time(s: float) -> str:
    if s < 1e-3:
        return f"{s * 1e6:7.1f} us"
    if s < 1:
        return f"{s * 1e3:7.2f} ms"
    return f"{s:7.2f} s "


def fmt_rate(n: int, s: float) -> str:
    r = n / s if s > 0 else float("inf")
    if r >= 1e6:
        return f"{r / 1e6:8.2f} MB/s"
    if r >= 1e3:
        return f"{r / 1e3:8.2f} KB/s"
    return f"{r:8.1f}  B/s"


class Bench:
    def __init__(self, repeats: int) -> None:
        self.repeats = repeats
        self.failures: List[str] = []
        self.slow: List[str] = []

    def compile(self, ebnf: str, root: str = "root") -> Tuple[xgram.Grammar, float, Dict[str, int]]:
        def build() -> Tuple[xgram.Grammar, Dict[str, int]]:
            g = xgram.Grammar.from_ebnf(ebnf, root_rule_name=root)
            return g, g.automaton_stats()

        g, stats = build()
        t = best_time(build, self.repeats)
        return g, t, stats

    def section(
        self,
        title: str,
        ebnf: Optional[str],
        root: str = "root",
        grammar: Optional[xgram.Grammar] = None,
        note: str = "",
    ) -> xgram.Grammar:
        print()
        print(f"== {title}")
        if grammar is None:
            assert ebnf is not None
            g, t, stats = self.compile(ebnf, root)
            shown = ebnf.strip().replace("\n", "  ")
            print(f"   grammar: {shown}")
            print(
                f"   compile (from_ebnf + automaton_stats): {fmt_time(t).strip()}  "
                f"states={stats['states']} byte_edges={stats['byte_edges']} "
                f"call_edges={stats['call_edges']} rules={stats['rules']}"
            )
        else:
            g = grammar
        if note:
            print(f"   {note}")
        print(f"   {'input':<40} {'bytes':>9} {'match':>10} {'rate':>13}  verdict")
        return g

    def match(
        self, g: xgram.Grammar, label: str, data: bytes, expect: str, repeats: Optional[int] = None
    ) -> float:
        got = verdict(g, data)
        t = best_time(lambda: g.accepts(data), repeats or self.repeats)
        flag = "" if got == expect else f"   <-- expected {expect}"
        if got != expect:
            self.failures.append(f"{label}: got {got}, expected {expect}")
        print(
            f"   {label:<40} {len(data):>9} {fmt_time(t):>10} {fmt_rate(len(data), t):>13}"
            f"  {got}{flag}"
        )
        if len(data) / t < 1e6:
            self.slow.append(f"{label}: {fmt_time(t).strip()}, {fmt_rate(len(data), t).strip()}")
        return t


def growth(sizes: Sequence[int], times: Sequence[float]) -> str:
    parts = []
    for (n0, t0), (n1, t1) in zip(zip(sizes, times), zip(sizes[1:], times[1:])):
        exponent = math.log(t1 / t0) / math.log(n1 / n0)
        parts.append(f"{n0}->{n1}: x{t1 / t0:.1f} (exponent {exponent:.2f})")
    return "   time growth " + "; ".join(parts)


# Memory --------------------------------------------------------------------------


def _status_kb(field: str) -> int:
    """A ``kB`` field of /proc/self/status (VmRSS, VmHWM); ru_maxrss if unreadable."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def rss_child(path: str) -> None:
    """Child process: read ``path`` and report the peak RSS growth of matching it."""
    g = xgram.Grammar.builtin_json_grammar()
    g.accepts(b'[{"warm": ["up", 1, true]}]')  # builds the automaton
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        data = f.read(size)  # one allocation of exactly the file size: no transient peak
    gc.collect()
    try:  # reset the peak-RSS mark (VmHWM, ru_maxrss) to the current RSS
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        reset = True
    except OSError:
        reset = False
    # VmHWM, not ru_maxrss: after fork+exec, ru_maxrss also counts the parent's RSS that
    # the forked child briefly shared, and clear_refs does not reset that part.
    rss0 = _status_kb("VmRSS")
    peak0 = _status_kb("VmHWM")
    ok = g.accepts(data)
    peak1 = _status_kb("VmHWM")
    rss1 = _status_kb("VmRSS")
    print(
        json.dumps(
            {
                "ok": ok,
                "bytes": size,
                "rss0": rss0,
                "rss1": rss1,
                "peak0": peak0,
                "peak1": peak1,
                "reset": reset,
            }
        )
    )


def memory_section(quick: bool) -> List[str]:
    print()
    print("== Peak RSS growth of g.accepts(data), builtin JSON grammar, fresh child process each")
    print("   (input read from a file into one bytes object first, then the peak-RSS mark")
    print("   VmHWM is reset via /proc/self/clear_refs; growth = VmHWM after the match - VmRSS")
    print("   before it, so the caller's input is not counted; 'beyond copy' = growth minus the")
    print("   input size, since the binding copies the input once into a std::string before")
    print("   matching; 'RSS after' = VmRSS after the match)")
    rng = random.Random(3)
    mb = 1_000_000
    big = 2 * mb if quick else 10 * mb
    record = json.dumps({"id": 1, "name": "ünïcode ✓", "tags": ["a", "b"], "x": [1.5e-3, None]})
    n_rec = big // (len(record.encode()) + 1)
    cases: List[Tuple[str, bytes, bool]] = [
        ("string literal", b'"' + b"abcdefghij" * (big // 10) + b'"', True),
        ("string literal (1/10 size)", b'"' + b"x" * (big // 10) + b'"', True),
        ("array of records", ("[" + ",".join([record] * n_rec) + "]").encode(), True),
        (
            "array of numbers",
            json.dumps([rng.randint(0, 10**6) for _ in range(big // 8)]).encode(),
            True,
        ),
        ("whitespace", b"[" + b" \n" * (big // 2) + b"]", True),
        # Nesting needs a stack of depth N: growth is expected here, shown for contrast.
        ("nesting [ * 10^5 + ] * 10^5", b"[" * 100_000 + b"]" * 100_000, True),
        ("nesting [ * 10^6 + ] * 10^6", b"[" * 1_000_000 + b"]" * 1_000_000, True),
    ]
    if quick:
        cases = cases[:5]
    print(
        f"   {'input':<32} {'bytes':>10} {'RSS before':>11} {'peak growth':>12} "
        f"{'beyond copy':>12} {'per byte':>9} {'RSS after':>10}  verdict"
    )
    problems = []
    for label, data, expect in cases:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            f.write(data)
            path = f.name
        try:
            out = subprocess.run(
                [sys.executable, __file__, "--rss-child", path],
                capture_output=True,
                text=True,
                check=True,
                timeout=300,
            )
        finally:
            os.unlink(path)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        grow_kb = r["peak1"] - max(r["peak0"], r["rss0"])
        beyond = grow_kb * 1024 - r["bytes"]
        print(
            f"   {label:<32} {r['bytes']:>10} {r['rss0'] / 1024:7.1f} MiB "
            f"{grow_kb / 1024:8.2f} MiB {beyond / 2**20:8.2f} MiB "
            f"{grow_kb * 1024 / r['bytes']:7.1f} B "
            f"{r['rss1'] / 1024:6.1f} MiB  {'accepted' if r['ok'] else 'NOT accepted'}"
            f"{'' if r['reset'] else '  (peak mark not reset)'}"
        )
        if r["ok"] != expect:
            problems.append(f"memory case {label}: verdict {r['ok']}")
        if not label.startswith("nesting") and beyond > 0.05 * r["bytes"] + 2**20:
            problems.append(
                f"memory case {label}: peak RSS grew {grow_kb / 1024:.1f} MB "
                f"for a {r['bytes'] / 1e6:.1f} MB input"
            )
    return problems


# Main ----------------------------------------------------------------------------


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller inputs, fewer repeats")
    ap.add_argument("--repeats", type=int, help="runs per measurement (best is shown)")
    ap.add_argument("--rss-child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.rss_child:
        rss_child(args.rss_child)
        return 0

    quick = args.quick
    b = Bench(args.repeats or (2 if quick else 5))
    t_start = time.perf_counter()
    print("xgram matcher micro benchmarks")
    print(f"python {platform.python_version()}, {platform.machine()}")
    print("NOTE: absolute numbers drift on this shared 2-core machine; compare the ratios and")
    print(f"growth rates.  Times are the best of {b.repeats} runs of g.accepts(bytes).")
    print(f"load average at start: {load_average()}")

    # 1. Ambiguous star: every split of a^n is a derivation.
    g = b.section("ambiguous star (exponentially many parses)", 'root ::= ("a" | "a" "a")*')
    for n in (10_000, 100_000) if quick else (10_000, 100_000, 1_000_000):
        b.match(g, f"a * {n}", b"a" * n, ACCEPT)
    b.match(g, "a * 100000 + b", b"a" * 100_000 + b"b", REJECT)

    # 2. S ::= S S | "a": highly ambiguous, shows polynomial growth.
    g = b.section('S ::= S S | "a" (Catalan-many parses)', 'S ::= S S | "a"', root="S")
    sizes = [50, 100, 200] if quick else [100, 200, 400]
    times = [b.match(g, f"a * {n}", b"a" * n, ACCEPT, repeats=3) for n in sizes]
    print(growth(sizes, times))
    b.match(g, f"a * {sizes[-1]} + b", b"a" * sizes[-1] + b"b", REJECT, repeats=1)

    # 3. Big bounded repetition.
    g = b.section("large bounded repetition", "root ::= [a-z]{0,100000}")
    b.match(g, "letters * 100000", bytes(97 + i % 26 for i in range(100_000)), ACCEPT)
    b.match(g, "a * 100001", b"a" * 100_001, REJECT)
    b.match(g, "a * 99999 + A", b"a" * 99_999 + b"A", REJECT)

    g = b.section("bounded repetition with a lower bound", 'root ::= "x"{1000,2000}')
    for n, expect in (
        (999, PREFIX),
        (1000, ACCEPT),
        (1500, ACCEPT),
        (2000, ACCEPT),
        (2001, REJECT),
    ):
        b.match(g, f"x * {n}", b"x" * n, expect)

    # 4. Left and right recursion on long inputs.  Right recursion is much slower
    # (every digit may end all the nested e's), so it gets shorter inputs.
    lr = 'root ::= e\ne ::= e "+" t | t\nt ::= [0-9]+'
    rr = 'root ::= e\ne ::= t "+" e | t\nt ::= [0-9]+'
    recursion_cases = (
        ("left recursion", lr, (10_000, 100_000) if quick else (10_000, 100_000, 1_000_000)),
        ("right recursion", rr, (1_000, 2_000, 4_000) if quick else (1_000, 2_000, 4_000, 8_000)),
    )
    for title, ebnf, lengths in recursion_cases:
        g = b.section(title, ebnf)
        inputs = [("+".join(["12"] * (n // 3)) + "+7").encode() for n in lengths]
        ts = [b.match(g, f"12+12+...+7 ({len(d)} B)", d, ACCEPT, repeats=3) for d in inputs]
        print(growth([len(d) for d in inputs], ts))
        trailing = inputs[-1][:-1]
        b.match(g, f"12+...+12+ ({len(trailing)} B, trailing +)", trailing, PREFIX, repeats=1)

    # The smallest right-recursive grammar: a^n needs n nested root frames, and every
    # byte is a place where all of them may end.
    g = b.section("minimal tail recursion", 'root ::= "a" root | "a"')
    sizes = [500, 1_000, 2_000] if quick else [1_000, 2_000, 4_000]
    times = [b.match(g, f"a * {n}", b"a" * n, ACCEPT, repeats=3) for n in sizes]
    print(growth(sizes, times))
    g = b.section("the same language, written with a star", 'root ::= "a"+')
    for n in sizes + [1_000_000]:
        b.match(g, f"a * {n}", b"a" * n, ACCEPT)

    # 5. Deep JSON nesting with the builtin grammar.
    jg = xgram.Grammar.builtin_json_grammar()
    t0 = time.perf_counter()
    jg2 = xgram.Grammar.builtin_json_grammar()
    jg2.automaton_stats()
    t_json = time.perf_counter() - t0
    b.section(
        "deep nesting, builtin JSON grammar",
        None,
        grammar=jg,
        note=f"builtin_json_grammar() + automaton_stats(): {fmt_time(t_json).strip()}",
    )
    ns = [1_000, 10_000, 100_000] if quick else [1_000, 10_000, 100_000, 1_000_000]
    ts = [b.match(jg, f"[ * {n} + ] * {n}", b"[" * n + b"]" * n, ACCEPT) for n in ns]
    print(growth([2 * n for n in ns], ts))
    n = ns[-1]
    b.match(jg, f'{{"a": * {n} + 1 + }} * {n}', b'{"a":' * n + b"1" + b"}" * n, ACCEPT)
    b.match(jg, f"[ * {n} + ] * {n - 1} (unclosed)", b"[" * n + b"]" * (n - 1), PREFIX)
    b.match(jg, f"[ * {n} + ] * {n + 1} (one too many)", b"[" * n + b"]" * (n + 1), REJECT)

    # 6. Throughput by JSON token class (builtin grammar), flat 2-4 MB inputs.
    b.section("builtin JSON grammar by token class", None, grammar=jg)
    rng = random.Random(0)
    k = 1 if quick else 4
    token_cases = [
        ("one string literal", b'"' + b"abcdefghij" * (k * 100_000) + b'"'),
        (
            "\\u and \\n escapes in strings",
            json.dumps(['\\n\t"\u1234'] * (k * 25_000), ensure_ascii=True).encode(),
        ),
        (
            "non-ASCII UTF-8 strings",
            json.dumps(["日本語 ünïcödé 🎉"] * (k * 25_000), ensure_ascii=False).encode(),
        ),
        (
            "integers",
            json.dumps([rng.randint(-(10**9), 10**9) for _ in range(k * 100_000)]).encode(),
        ),
        (
            "floats",
            json.dumps(
                [rng.random() * 10 ** rng.randint(-30, 30) for _ in range(k * 50_000)]
            ).encode(),
        ),
        ("true/false/null", json.dumps([True, False, None] * (k * 60_000)).encode()),
        ("whitespace", b"[" + b" " * (k * 1_000_000) + b"]"),
        ("empty arrays [],[],...", b"[" + b",".join([b"[]"] * (k * 300_000)) + b"]"),
        ('small objects {"a":1}', json.dumps([{"a": 1}] * (k * 150_000)).encode()),
    ]
    for label, data in token_cases:
        b.match(jg, label, data, ACCEPT, repeats=min(b.repeats, 3))

    problems = memory_section(quick)

    print()
    if b.slow:
        print("Cases under 1 MB/s (the linear-time cases run at several MB/s):")
        for s in b.slow:
            print("   " + s)
    failures = b.failures + problems
    if failures:
        print("PROBLEMS:")
        for f in failures:
            print("   " + f)
    else:
        print(
            "All verdicts as expected; on flat inputs the peak RSS grows by no more than the\n"
            "one copy of the input the binding makes."
        )
    print(f"total time {time.perf_counter() - t_start:.0f}s; load average at end: {load_average()}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
