"""Bounded memory in a long-running process: resident memory vs schemas processed.

Issue 22, item 2. A serving engine compiles schemas written by strangers for
weeks in one process; every structure that grows with use must be bounded. This
benchmark plays that process: in ONE process, xgram alone, Llama-3 tokenizer
(``<work>/shared/tokenizers/llama3``), it compiles every record of
``<work>/shared/schemas/jsonschemabench-maskbench/*.jsonl.gz`` (files sorted,
records in file order, those without test instances included) through one
:class:`xgram.GrammarCompiler` with ``cache_limit_bytes`` set, with the options
``benchmarks/maskbench.py`` uses for xgram (``any_whitespace=True,
strict_mode=False``). Each valid and invalid instance is serialised as
``maskbench.py`` does (``json.dumps(data, separators=(",", ":"),
ensure_ascii=False)``), tokenised, and fed token by token to a fresh matcher
(fill the mask, accept the token, stop at the first refused token, one more fill
after the last token); a record without instances gets one matcher and its
first mask. The matchers and the compiled grammar are then dropped (the
compiler's cache may keep the grammar, within its limit).

Every ``--every`` schemas it records: schemas processed, resident set (RSS,
``/proc/self/statm``) and its peak (``VmHWM``), the bytes of the three bounded
caches (the compiler's cache, the process-wide shared mask store, the rule
automaton cache) and the number of objects Python's collector tracks.

Refusals (``SchemaError``, ``CompileBudgetError``) are counted and skipped. A
schema is given ``--schema-seconds`` (default 60): the automaton budget
(``xgram.set_compile_limits(max_seconds=...)``) bounds its compile, and its
instances stop once the schema has used its time, so one slow schema cannot
stall the run.

Summary: the configured limits and their sum, RSS at start (tokenizer loaded,
compiler built), the plateau (median RSS over the last third of the samples),
growth per 1,000 schemas over the last half (least-squares slope), peak RSS, and
the documented constant: plateau - (bytes the three caches hold at the end),
what the process holds beyond the bounded caches (tokenizer, Python,
allocator fragmentation). ``--svg`` draws RSS and the caches against schemas
processed, with the sum of the limits as a horizontal line (SVG text written
here: no plotting library needed).

Leak check: ``--limit 200 --stride 28 --cycles 5 --no-compiler-cache`` runs
the same 200 schemas (every 28th record: all subsets) five times with the
compiler's cache off and prints RSS after each cycle; with nothing unbounded it
levels off after the first cycle.

Run from the repository root::

    python benchmarks/bench_memory.py --limit 300 --every 50             # quick look
    nice -n 5 python benchmarks/bench_memory.py \\
        --csv memory.csv --svg memory.svg                                 # every schema
    python benchmarks/bench_memory.py --cache-limit-mb 64 --shared-limit-mb 64
    python benchmarks/bench_memory.py --limit 200 --stride 28 --cycles 5 --no-compiler-cache
"""

from __future__ import annotations

import os

# One thread everywhere (as maskbench.py), set before tokenizers or xgram start a pool.
for _var, _val in (
    ("OMP_NUM_THREADS", "1"),
    ("RAYON_NUM_THREADS", "1"),
    ("TOKENIZERS_PARALLELISM", "false"),
    ("HF_HUB_OFFLINE", "1"),
    ("TRANSFORMERS_OFFLINE", "1"),
):
    os.environ.setdefault(_var, _val)

import argparse  # noqa: E402
import ctypes  # noqa: E402
import gc  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple  # noqa: E402

import numpy as np  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
import xgram  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"
SCHEMA_DIR = SHARED / "schemas" / "jsonschemabench-maskbench"
TOKENIZER_DIR = SHARED / "tokenizers" / "llama3"
MIB = 2**20
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


# ----------------------------------------------------------------------------
# measurements


def rss_bytes() -> int:
    """The process's resident set now (``/proc/self/statm``, second field, in pages)."""
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * PAGE_BYTES


def peak_rss_bytes() -> int:
    """The process's peak resident set (``VmHWM`` in ``/proc/self/status``)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


@dataclass
class Sample:
    """One row of the CSV: the process and its caches after ``schemas`` schemas."""

    schemas: int
    cycle: int
    seconds: float
    rss_mb: float
    peak_rss_mb: float
    heap_in_use_mb: float
    heap_free_held_mb: float
    compiler_cache_mb: float
    compiler_cache_entries: int
    shared_store_mb: float
    shared_store_entries: int
    rule_cache_mb: float
    rule_cache_entries: int
    python_objects: int
    compiled: int
    refused: int
    slow: int
    errors: int
    tokens: int


@dataclass
class Counts:
    """What the run did so far."""

    schemas: int = 0
    compiled: int = 0
    refused: int = 0
    slow: int = 0
    errors: int = 0
    instances: int = 0
    tokens: int = 0
    slow_ids: List[str] = field(default_factory=list)
    error_lines: List[str] = field(default_factory=list)


def take_sample(
    compiler: xgram.GrammarCompiler, counts: Counts, cycle: int, started: float
) -> Sample:
    """Measure the process now (after a collection, so dropped objects are gone)."""
    gc.collect()
    shared = xgram.shared_mask_cache_info()
    rules = xgram.rule_cache_info()
    in_use, free_held = heap_bytes()
    return Sample(
        schemas=counts.schemas,
        cycle=cycle,
        seconds=round(time.monotonic() - started, 1),
        rss_mb=rss_bytes() / MIB,
        peak_rss_mb=peak_rss_bytes() / MIB,
        heap_in_use_mb=in_use / MIB,
        heap_free_held_mb=free_held / MIB,
        compiler_cache_mb=compiler.get_cache_size_bytes() / MIB,
        compiler_cache_entries=len(compiler._cache),
        shared_store_mb=shared["bytes"] / MIB,
        shared_store_entries=shared["entries"],
        rule_cache_mb=rules["bytes"] / MIB,
        rule_cache_entries=rules["entries"],
        python_objects=len(gc.get_objects()),
        compiled=counts.compiled,
        refused=counts.refused,
        slow=counts.slow,
        errors=counts.errors,
        tokens=counts.tokens,
    )


class _MallInfo2(ctypes.Structure):
    """glibc's ``struct mallinfo2`` (all ``size_t``)."""

    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def heap_bytes() -> Tuple[int, int]:
    """C heap (glibc malloc, every arena): bytes in use, and bytes free but still held.

    RSS alone cannot tell memory in use from memory the allocator keeps after a
    free (fragmentation, or pages not yet handed back); the allocator's own
    count can. ``(-1, -1)`` where ``mallinfo2`` is unavailable (not glibc 2.33+).
    """
    try:
        mallinfo2 = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return -1, -1
    mallinfo2.restype = _MallInfo2
    info = mallinfo2()
    return info.uordblks + info.hblkhd, info.fordblks


def malloc_trim() -> bool:
    """Hand freed heap pages back to the system (glibc); False where unavailable."""
    try:
        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
    except (OSError, AttributeError):
        return False


# ----------------------------------------------------------------------------
# the workload


def iter_records(limit: Optional[int], stride: int = 1) -> Iterator[Dict[str, Any]]:
    """MaskBench records (files sorted, lines in order), streamed: one parsed at a time.

    Every ``stride``-th record (the first, then every ``stride`` later), at most
    ``limit`` of them: a stride spreads a short run over every subset.
    """
    files = sorted(SCHEMA_DIR.glob("*.jsonl.gz"))
    if not files:
        raise SystemExit(f"no *.jsonl.gz under {SCHEMA_DIR}")
    taken = seen = 0
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                if limit is not None and taken >= limit:
                    return
                seen += 1
                if (seen - 1) % stride == 0:
                    taken += 1
                    yield json.loads(line)


def instance_token_ids(record: Dict[str, Any], hf_tok: Any) -> List[List[int]]:
    """Each test instance of ``record`` as compact JSON, tokenised (as maskbench.py)."""
    tests = record.get("tests")
    if not isinstance(tests, list):
        return []
    return [
        hf_tok.encode(
            json.dumps(t["data"], separators=(",", ":"), ensure_ascii=False),
            add_special_tokens=False,
        )
        for t in tests
        if isinstance(t, dict) and "data" in t
    ]


class SchemaDriver:
    """Compiles schemas through one compiler and drives fresh matchers through instances."""

    def __init__(self, compiler: xgram.GrammarCompiler, vocab_size: int, budget_s: float) -> None:
        self.compiler = compiler
        self.bitmask = np.zeros(xgram.get_bitmask_shape(1, vocab_size), np.int32)
        self.budget_s = budget_s

    def run(self, record: Dict[str, Any], token_ids: Sequence[List[int]], counts: Counts) -> None:
        """Compile ``record``'s schema and feed its instances; update ``counts``."""
        started = time.monotonic()
        deadline = started + self.budget_s
        try:
            compiled = self.compiler.compile_json_schema(
                record["schema"], any_whitespace=True, strict_mode=False
            )
        except xgram.CompileBudgetError:
            # The automaton's time budget is the schema's budget: out of time is "slow".
            if time.monotonic() - started >= 0.9 * self.budget_s:
                self._slow(record, counts)
            else:
                counts.refused += 1
            return
        except xgram.SchemaError:
            counts.refused += 1
            return
        except Exception as ex:  # counted and reported, never fatal: the run goes on
            self._error(record, "compile", ex, counts)
            return
        counts.compiled += 1
        try:
            if not token_ids:
                xgram.GrammarMatcher(compiled).fill_next_token_bitmask(self.bitmask)
            for ids in token_ids:
                if not self._feed(compiled, ids, deadline, counts):
                    self._slow(record, counts)
                    return
        except Exception as ex:
            self._error(record, "matcher", ex, counts)

    def _feed(self, compiled: Any, ids: List[int], deadline: float, counts: Counts) -> bool:
        """One instance, token by token, on a fresh matcher; False once out of time."""
        matcher = xgram.GrammarMatcher(compiled)
        counts.instances += 1
        for token in ids:
            matcher.fill_next_token_bitmask(self.bitmask)
            counts.tokens += 1
            if not matcher.accept_token(token):
                return time.monotonic() < deadline
            if time.monotonic() >= deadline:
                return False
        matcher.fill_next_token_bitmask(self.bitmask)  # the end mask, as maskbench.py
        return time.monotonic() < deadline

    @staticmethod
    def _slow(record: Dict[str, Any], counts: Counts) -> None:
        counts.slow += 1
        counts.slow_ids.append(str(record.get("id")))

    @staticmethod
    def _error(record: Dict[str, Any], where: str, ex: Exception, counts: Counts) -> None:
        counts.errors += 1
        first = (str(ex).splitlines() or [""])[0][:200]
        counts.error_lines.append(f"{record.get('id')} ({where}): {type(ex).__name__}: {first}")


# ----------------------------------------------------------------------------
# summary


def slope_per_1000(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of ``ys`` against ``xs``, per 1,000 units of x."""
    if len(xs) < 2:
        return float("nan")
    mean_x = statistics.fmean(xs)
    mean_y = statistics.fmean(ys)
    var = sum((x - mean_x) ** 2 for x in xs)
    if var == 0:
        return float("nan")
    cov = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys))
    return 1000.0 * cov / var


@dataclass
class Summary:
    """The figures printed at the end."""

    limits_mb: Dict[str, float]
    limits_sum_mb: float
    start_rss_mb: float
    start_trimmed_mb: float
    plateau_rss_mb: float
    growth_mb_per_1000: float
    heap_growth_mb_per_1000: float
    peak_rss_mb: float
    caches_end_mb: float
    documented_constant_mb: float
    max_compiler_cache_mb: float
    max_shared_store_mb: float
    max_rule_cache_mb: float


def summarise(
    samples: List[Sample], limits_mb: Dict[str, float], start_rss_mb: float, start_trimmed_mb: float
) -> Summary:
    """Plateau, growth, peak and the documented constant from the samples."""
    last_third = samples[-max(1, len(samples) // 3) :]
    last_half = samples[-max(2, len(samples) // 2) :]
    end = samples[-1]
    plateau = statistics.median(s.rss_mb for s in last_third)
    caches_end = end.compiler_cache_mb + end.shared_store_mb + end.rule_cache_mb
    return Summary(
        limits_mb=limits_mb,
        limits_sum_mb=sum(limits_mb.values()),
        start_rss_mb=start_rss_mb,
        start_trimmed_mb=start_trimmed_mb,
        plateau_rss_mb=plateau,
        growth_mb_per_1000=slope_per_1000(
            [s.schemas for s in last_half], [s.rss_mb for s in last_half]
        ),
        heap_growth_mb_per_1000=slope_per_1000(
            [s.schemas for s in last_half], [s.heap_in_use_mb for s in last_half]
        ),
        peak_rss_mb=max(s.peak_rss_mb for s in samples),
        caches_end_mb=caches_end,
        documented_constant_mb=plateau - caches_end,
        max_compiler_cache_mb=max(s.compiler_cache_mb for s in samples),
        max_shared_store_mb=max(s.shared_store_mb for s in samples),
        max_rule_cache_mb=max(s.rule_cache_mb for s in samples),
    )


def print_summary(summary: Summary, counts: Counts, cycle_rss: List[Tuple[int, float]]) -> None:
    limits = ", ".join(f"{name} {mb:,.0f}" for name, mb in summary.limits_mb.items())
    print(f"\nconfigured limits (MiB): {limits}; sum {summary.limits_sum_mb:,.0f}")
    print(
        f"schemas {counts.schemas:,}: compiled {counts.compiled:,}, refused {counts.refused:,}, "
        f"slow (over the per-schema budget) {counts.slow:,}, errors {counts.errors:,}; "
        f"instances {counts.instances:,}, tokens fed {counts.tokens:,}"
    )
    print(
        f"RSS at start (tokenizer loaded, compiler built): {summary.start_rss_mb:,.1f} MiB, "
        f"{summary.start_trimmed_mb:,.1f} after malloc_trim"
    )
    print(f"plateau (median RSS over the last third): {summary.plateau_rss_mb:,.1f} MiB")
    print(
        f"growth over the last half, per 1,000 schemas: RSS {summary.growth_mb_per_1000:+,.1f} MiB,"
        f" C heap in use {summary.heap_growth_mb_per_1000:+,.1f} MiB"
    )
    print(f"peak RSS: {summary.peak_rss_mb:,.1f} MiB")
    print(
        f"caches at the end: {summary.caches_end_mb:,.1f} MiB; largest seen: compiler "
        f"{summary.max_compiler_cache_mb:,.1f}, shared store {summary.max_shared_store_mb:,.1f}, "
        f"rule cache {summary.max_rule_cache_mb:,.1f} MiB"
    )
    print(
        f"documented constant (plateau - caches at the end): "
        f"{summary.documented_constant_mb:,.1f} MiB"
    )
    if len(cycle_rss) > 1:
        print("RSS after each cycle: " + ", ".join(f"{mb:,.1f}" for _, mb in cycle_rss) + " MiB")
    for line in counts.error_lines[:20]:
        print(f"  error: {line}")
    if counts.slow_ids:
        print("  slow: " + ", ".join(counts.slow_ids[:20]))


# ----------------------------------------------------------------------------
# CSV and SVG


def write_csv(path: Path, samples: List[Sample]) -> None:
    names = list(asdict(samples[0]))
    lines = [",".join(names)]
    for s in samples:
        row = asdict(s)
        lines.append(",".join(_csv_cell(row[n]) for n in names))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _csv_cell(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


SVG_WIDTH, SVG_HEIGHT = 900, 480
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 70, 640, 40, 430
SERIES = (  # (Sample field, legend, colour, dash)
    ("rss_mb", "process RSS", "#d62728", ""),
    ("peak_rss_mb", "peak RSS", "#ff9896", "5,2"),
    ("heap_in_use_mb", "C heap in use", "#ff7f0e", "3,2"),
    ("compiler_cache_mb", "compiler cache", "#1f77b4", ""),
    ("shared_store_mb", "shared mask store", "#2ca02c", ""),
    ("rule_cache_mb", "rule cache", "#9467bd", ""),
)


def _nice_step(span: float) -> float:
    """A round grid step giving about five lines over ``span``."""
    raw = max(span / 5.0, 1e-9)
    power = 10 ** int(np.floor(np.log10(raw)))
    for mult in (1, 2, 5, 10):
        if raw <= mult * power:
            return mult * power
    return 10 * power


def svg_plot(samples: List[Sample], summary: Summary, title: str) -> str:
    """A line plot (MiB vs schemas processed) as SVG text."""
    x_max = max(s.schemas for s in samples) or 1
    bound = summary.start_trimmed_mb + summary.limits_sum_mb
    parts = "+".join(f"{mb:g}" for mb in summary.limits_mb.values())
    y_max = 1.08 * max(max(s.peak_rss_mb for s in samples), bound)
    x_of = lambda x: PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * x / x_max  # noqa: E731
    y_of = lambda y: PLOT_BOTTOM - (PLOT_BOTTOM - PLOT_TOP) * y / y_max  # noqa: E731
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SVG_WIDTH}" height="{SVG_HEIGHT}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{SVG_WIDTH}" height="{SVG_HEIGHT}" fill="white"/>',
        f'<text x="{PLOT_LEFT}" y="22" font-size="14">{_escape(title)}</text>',
    ]
    out += _axes(x_max, y_max, x_of, y_of)
    legend = [
        (f"limits: {parts} = {summary.limits_sum_mb:,.0f} MiB", "black", "6,4"),
        (f"start RSS + limits = {bound:,.0f}", "#888", "2,3"),
    ]
    for level, (_, colour, dash) in zip((summary.limits_sum_mb, bound), legend):
        out.append(
            f'<line x1="{PLOT_LEFT}" x2="{PLOT_RIGHT}" y1="{y_of(level):.1f}" '
            f'y2="{y_of(level):.1f}" stroke="{colour}" stroke-dasharray="{dash}"/>'
        )
    for name, label, colour, dash in SERIES:
        points = " ".join(f"{x_of(s.schemas):.1f},{y_of(getattr(s, name)):.1f}" for s in samples)
        out.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.8" '
            f'stroke-dasharray="{dash}"/>'
        )
        legend.append((label, colour, dash))
    for k, (label, colour, dash) in enumerate(legend):
        y = PLOT_TOP + 10 + 20 * k
        out.append(
            f'<line x1="{PLOT_RIGHT + 15}" x2="{PLOT_RIGHT + 45}" y1="{y}" y2="{y}" '
            f'stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>'
        )
        out.append(f'<text x="{PLOT_RIGHT + 50}" y="{y + 4}">{_escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _axes(x_max: float, y_max: float, x_of: Any, y_of: Any) -> List[str]:
    """Frame, grid lines, tick labels and axis titles."""
    out = [
        f'<rect x="{PLOT_LEFT}" y="{PLOT_TOP}" width="{PLOT_RIGHT - PLOT_LEFT}" '
        f'height="{PLOT_BOTTOM - PLOT_TOP}" fill="none" stroke="black"/>'
    ]
    step = _nice_step(y_max)
    for k in range(1, int(y_max / step) + 1):
        y = y_of(k * step)
        out.append(
            f'<line x1="{PLOT_LEFT}" x2="{PLOT_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        label = f"{k * step:g}"
        out.append(f'<text x="{PLOT_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    step = _nice_step(x_max)
    for k in range(0, int(x_max / step) + 1):
        x = x_of(k * step)
        out.append(
            f'<text x="{x:.1f}" y="{PLOT_BOTTOM + 16}" text-anchor="middle">{k * step:g}</text>'
        )
    mid_x = (PLOT_LEFT + PLOT_RIGHT) / 2
    mid_y = (PLOT_TOP + PLOT_BOTTOM) / 2
    out.append(
        f'<text x="{mid_x}" y="{PLOT_BOTTOM + 36}" text-anchor="middle">schemas processed</text>'
    )
    out.append(
        f'<text x="18" y="{mid_y}" text-anchor="middle" '
        f'transform="rotate(-90 18 {mid_y})">MiB</text>'
    )
    return out


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ----------------------------------------------------------------------------
# main


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache-limit-mb", type=float, default=256.0, help="compiler cache limit")
    ap.add_argument("--shared-limit-mb", type=float, default=256.0, help="shared mask store limit")
    ap.add_argument("--rule-cache-mb", type=float, default=32.0, help="rule cache capacity")
    ap.add_argument("--no-compiler-cache", action="store_true", help="cache_enabled=False")
    ap.add_argument("--every", type=int, default=100, help="record a sample every N schemas")
    ap.add_argument("--limit", type=int, default=None, help="only the first N schemas")
    ap.add_argument("--stride", type=int, default=1, help="take every K-th record")
    ap.add_argument("--cycles", type=int, default=1, help="run the schemas this many times")
    ap.add_argument("--schema-seconds", type=float, default=60.0, help="time budget per schema")
    ap.add_argument("--csv", type=Path, default=None)
    ap.add_argument("--svg", type=Path, default=None)
    ap.add_argument("--tokenizer", type=Path, default=TOKENIZER_DIR)
    args = ap.parse_args(argv)
    if min(args.every, args.cycles, args.stride) < 1:
        ap.error("--every, --cycles and --stride must be at least 1")
    return args


def configure(args: argparse.Namespace, info: Any) -> Tuple[Any, Dict[str, float]]:
    """Set the process-wide limits and build the compiler; the configured limits in MiB."""
    xgram.set_shared_mask_cache_limit(int(args.shared_limit_mb * MIB))
    xgram.set_rule_cache_capacity(int(args.rule_cache_mb * MIB))
    xgram.set_compile_limits(max_seconds=args.schema_seconds)
    compiler = xgram.GrammarCompiler(
        info,
        max_threads=1,
        cache_enabled=not args.no_compiler_cache,
        cache_limit_bytes=int(args.cache_limit_mb * MIB),
    )
    limits = {
        "compiler cache": 0.0 if args.no_compiler_cache else args.cache_limit_mb,
        "shared store": args.shared_limit_mb,
        "rule cache": args.rule_cache_mb,
    }
    return compiler, limits


def run(args: argparse.Namespace) -> int:
    import transformers

    hf_tok = transformers.AutoTokenizer.from_pretrained(str(args.tokenizer))
    info = xgram.TokenizerInfo.from_huggingface(hf_tok)
    compiler, limits = configure(args, info)
    driver = SchemaDriver(compiler, info.vocab_size, args.schema_seconds)
    counts = Counts()
    gc.collect()
    start_rss_mb = rss_bytes() / MIB
    # Loading the tokenizer leaves freed heap pages that the first schemas reuse
    # unseen; trimmed, the start is the memory the process really holds.
    malloc_trim()
    start_trimmed_mb = rss_bytes() / MIB
    started = time.monotonic()
    print(
        f"RSS at start: {start_rss_mb:,.1f} MiB ({start_trimmed_mb:,.1f} after malloc_trim); "
        f"limits (MiB): {limits}",
        flush=True,
    )
    samples: List[Sample] = [take_sample(compiler, counts, 0, started)]
    cycle_rss: List[Tuple[int, float]] = []
    for cycle in range(1, args.cycles + 1):
        for record in iter_records(args.limit, args.stride):
            driver.run(record, instance_token_ids(record, hf_tok), counts)
            counts.schemas += 1
            if counts.schemas % args.every == 0:
                samples.append(take_sample(compiler, counts, cycle, started))
                _print_sample(samples[-1])
        if not samples or samples[-1].schemas != counts.schemas:
            samples.append(take_sample(compiler, counts, cycle, started))
            _print_sample(samples[-1])
        cycle_rss.append((cycle, samples[-1].rss_mb))
        if args.cycles > 1:
            print(f"cycle {cycle}: RSS {samples[-1].rss_mb:,.1f} MiB", flush=True)
    summary = summarise(samples, limits, start_rss_mb, start_trimmed_mb)
    print_summary(summary, counts, cycle_rss)
    trimmed = malloc_trim()
    print(f"RSS after malloc_trim(0) at the end: {rss_bytes() / MIB:,.1f} MiB (trim {trimmed})")
    _write_outputs(args, samples, summary)
    return 0


def _print_sample(s: Sample) -> None:
    print(
        f"{s.schemas:6d} schemas {s.seconds:7.1f} s  RSS {s.rss_mb:7.1f}  peak {s.peak_rss_mb:7.1f}"
        f"  heap used {s.heap_in_use_mb:7.1f} free {s.heap_free_held_mb:6.1f}"
        f"  compiler {s.compiler_cache_mb:7.1f} ({s.compiler_cache_entries})"
        f"  shared {s.shared_store_mb:7.1f} ({s.shared_store_entries})"
        f"  rules {s.rule_cache_mb:5.1f}  py objects {s.python_objects:,}",
        flush=True,
    )


def _write_outputs(args: argparse.Namespace, samples: List[Sample], summary: Summary) -> None:
    if args.csv is not None:
        write_csv(args.csv, samples)
        print(f"wrote {args.csv}")
    if args.svg is not None:
        title = "xgram in one process: memory vs MaskBench schemas processed (Llama-3)"
        args.svg.write_text(svg_plot(samples, summary, title), encoding="utf-8")
        print(f"wrote {args.svg}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
