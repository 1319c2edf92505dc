"""Hostile grammars and schemas against xgram's compile budget (issue 22, item 5).

A serving engine compiles grammars written by strangers; every compile must honour
``xgram.set_compile_limits(max_seconds=...)`` and no mask fill or match may run
unbounded. This benchmark runs a table of hostile inputs (exponential DFAs, huge
counted repetitions, 10^5-way alternations, 10^4-deep nesting, 10^6-member enums,
huge numbers, exponential key patterns, nested counted repetitions at matching
time, and a few more) and records for each one what happened and how long it took.

Each case runs in its own subprocess, so a hang or a crash cannot stop the run:
the parent kills a case that runs past ``--timeout`` (default 120 s, counted from
the moment the child has loaded its tokenizer) and reads a negative exit status as
a crash. The child's address space is capped (``--mem-limit-gb``) so a runaway
allocation raises ``MemoryError`` instead of exhausting a shared machine.

In the child every case is cut into timed stages, reported to the parent as they
start and end (so a killed case still names the stage it was in):

``compile``
    One ``GrammarCompiler`` call with ``max_seconds``: ``compile_json_schema``,
    ``compile_regex`` or ``compile_grammar`` (EBNF text), with the tokenizer
    (Llama-3 from ``<work>/shared/tokenizers/llama3``, or a small synthetic
    vocabulary when that is absent). The budget covers the whole call: the
    JSON Schema conversion, the parse and the automaton.
``parse``, ``automaton``
    For the cases that match without a tokenizer: ``Grammar.from_regex`` /
    ``from_ebnf`` and ``Grammar.automaton_stats()``, under the process-wide
    budget (``xgram.set_compile_limits``).
``mask``
    A ``GrammarMatcher`` and ``fill_next_token_bitmask`` (every fill, when a case
    feeds its whole instance).
``match``
    ``accept_token`` over the first ``--prefix-tokens`` tokens of a valid instance
    (all of them for the matching-time cases), or ``Grammar.accepts`` for the
    cases that measure matching without a tokenizer.

Every case runs with ``max_seconds=--max-seconds`` (default 5). The budget is
*honoured* when the compile stages (compile, or parse + automaton) end,
with a result or an error, within ``max_seconds * 1.1 + 1`` seconds (the issue's
"within 10% plus a small constant"); otherwise the slowest compile stage is named.
Mask fills and matching are not under that budget; the table flags any single
fill, token or ``accepts`` call that takes longer than the same limit.

Run from the repository root::

    python benchmarks/hostile_inputs.py --md hostile.md --json hostile.json
    python benchmarks/hostile_inputs.py --cases enum,nested --timeout 30
    python benchmarks/hostile_inputs.py --list

Exits 1 when some case crashed, timed out or broke the budget, else 0.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, TextIO, Tuple

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

DEFAULT_TOKENIZER = REPO_ROOT.parent / "shared" / "tokenizers" / "llama3"
COMPILE_STAGES = ("convert", "parse", "automaton", "compile")
BUDGET_SLACK_FACTOR = 1.1
BUDGET_SLACK_SECONDS = 1.0

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostile_inputs_cases import Case, all_cases  # noqa: E402

CASES_BY_NAME = {case.name: case for case in all_cases()}


# ---------------------------------------------------------------------------
# The child: one case, its stages reported to the parent as JSON lines
# ---------------------------------------------------------------------------
class Reporter:
    """Writes the child's events, one JSON object a line, flushed at once.

    The parent reads them as they come, so a case it has to kill still tells
    which stage it was in and since when.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.current: Optional[Tuple[str, float]] = None

    def emit(self, event: str, **fields: Any) -> None:
        self.stream.write(json.dumps({"event": event, **fields}) + "\n")
        self.stream.flush()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.emit("start", stage=name)
        self.current = (name, time.perf_counter())
        yield
        self.emit("end", stage=name, seconds=time.perf_counter() - self.current[1])
        self.current = None

    def fail(self, exc: BaseException) -> None:
        stage, started = self.current or ("setup", time.perf_counter())
        lines = str(exc).strip().splitlines()
        self.emit(
            "error",
            stage=stage,
            seconds=time.perf_counter() - started,
            type=type(exc).__name__,
            message=shorten(lines[0]) if lines else "",
        )


def shorten(line: str, most: int = 180) -> str:
    """``line``, its middle cut out when long (a JSON pointer 10^4 levels deep)."""
    if len(line) <= most:
        return line
    return f"{line[: most * 2 // 3]} ... {line[-(most // 3) :]}"


def peak_rss_kb() -> int:
    """This process's peak resident set so far (Linux reports kilobytes)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


SYNTHETIC_PIECES = (
    ["</s>", "\n", "\t", "é", "ö", '{"', '":', '": "', '"}', ', "', '", "', "[[", "[[[["]
    + ["a" * n for n in (2, 4, 8, 16)]
    + ["ab", "ba", "abab", "w1", "w12", "123", "00", "99"]
)


def synthetic_tokenizer() -> Tuple[Any, Callable[[str], List[int]], str]:
    """A small RAW vocabulary (printable ASCII and a few pieces), greedy longest match."""
    import xgram  # noqa: PLC0415

    vocab = list(dict.fromkeys(SYNTHETIC_PIECES + [chr(c) for c in range(32, 127)]))
    index = {piece: i for i, piece in enumerate(vocab)}
    longest = max(len(piece) for piece in vocab)

    def encode(text: str) -> List[int]:
        ids, at = [], 0
        while at < len(text):
            for size in range(min(longest, len(text) - at), 0, -1):
                if text[at : at + size] in index:
                    ids.append(index[text[at : at + size]])
                    at += size
                    break
            else:
                at += 1  # a character the vocabulary lacks: the sample skips it
        return ids

    info = xgram.TokenizerInfo(vocab, stop_token_ids=[0], special_token_ids=[0])
    return info, encode, f"synthetic ({len(vocab)} tokens)"


def load_tokenizer(directory: Path) -> Tuple[Any, Callable[[str], List[int]], str]:
    """Llama-3's tokenizer from ``directory``, else the synthetic one."""
    path = directory / "tokenizer.json"
    if not path.exists():
        return synthetic_tokenizer()
    import tokenizers  # noqa: PLC0415

    import xgram  # noqa: PLC0415

    tokenizer = tokenizers.Tokenizer.from_file(str(path))
    info = xgram.TokenizerInfo.from_huggingface(tokenizer)

    def encode(text: str) -> List[int]:
        return list(tokenizer.encode(text, add_special_tokens=False).ids)

    return info, encode, directory.name


def build_grammar(case: Case, source: Any, reporter: Reporter) -> Any:
    """The grammar of an ``accepts`` case (no tokenizer), through the ``parse`` stage."""
    import xgram  # noqa: PLC0415

    with reporter.stage("parse"):
        if case.kind == "accepts_json":
            return xgram.Grammar.builtin_json_grammar()
        if case.kind in ("regex", "accepts"):
            return xgram.Grammar.from_regex(source)
        return xgram.Grammar.from_ebnf(source)


def compile_case(case: Case, source: Any, compiler: Any, max_seconds: float) -> Any:
    """One ``GrammarCompiler`` call, as a server makes it: the budget covers all of it."""
    if case.kind == "schema":
        return compiler.compile_json_schema(source, max_seconds=max_seconds)
    if case.kind == "regex":
        return compiler.compile_regex(source, max_seconds=max_seconds)
    return compiler.compile_grammar(source, max_seconds=max_seconds)


def feed_matcher(
    compiled: Any,
    token_ids: Optional[List[int]],
    feed_all: bool,
    reporter: Reporter,
) -> Any:
    """Fill one mask, then accept the sample's tokens (filling before each when ``feed_all``)."""
    import xgram  # noqa: PLC0415

    bitmask = xgram.allocate_token_bitmask(1, compiled.tokenizer_info.vocab_size)
    with reporter.stage("mask"):
        matcher = xgram.GrammarMatcher(compiled)
        matcher.fill_next_token_bitmask(bitmask)
    if token_ids is None:
        return matcher
    stats = FeedStats()
    try:
        with reporter.stage("match"):
            feed_tokens(matcher, bitmask, token_ids, feed_all, reporter, stats)
    finally:  # also when a step raises (MatchBudgetError): what ran before it counts
        reporter.emit(
            "info",
            tokens=f"{stats.accepted}/{len(token_ids)}",
            slowest_fill_s=stats.slowest_fill,
            slowest_accept_s=stats.slowest_accept,
        )
    return matcher


@dataclass
class FeedStats:
    """Tokens accepted so far and the slowest fill and accept, in seconds."""

    accepted: int = 0
    slowest_fill: float = 0.0
    slowest_accept: float = 0.0


def feed_tokens(
    matcher: Any,
    bitmask: Any,
    token_ids: List[int],
    feed_all: bool,
    reporter: Reporter,
    stats: FeedStats,
) -> None:
    """Accept ``token_ids`` (filling before each when ``feed_all``), keeping ``stats`` current."""
    for position, token_id in enumerate(token_ids):
        started = time.perf_counter()
        if feed_all and position:
            matcher.fill_next_token_bitmask(bitmask)
        filled = time.perf_counter()
        ok = matcher.accept_token(token_id)
        done = time.perf_counter()
        stats.slowest_fill = max(stats.slowest_fill, filled - started)
        stats.slowest_accept = max(stats.slowest_accept, done - filled)
        if feed_all:
            reporter.emit(
                "progress", tokens=position + 1, fill_s=filled - started, accept_s=done - filled
            )
        if not ok:
            return
        stats.accepted += 1


def run_stages(
    case: Case,
    info: Any,
    encode: Callable[[str], List[int]],
    args: argparse.Namespace,
    reporter: Reporter,
    held: Dict[str, Any],
) -> None:
    """Build, compile and match ``case``, each stage timed and reported.

    The objects made are kept in ``held`` so that the caller can time (and
    survive) their destruction as a stage of its own.
    """
    import xgram  # noqa: PLC0415

    with reporter.stage("setup"):
        source = case.make()
        sample = case.sample() if case.sample else None
    if case.kind.startswith("accepts"):
        held["grammar"] = grammar = build_grammar(case, source, reporter)
        with reporter.stage("automaton"):
            stats = grammar.automaton_stats()
        reporter.emit("info", automaton=stats)
        with reporter.stage("match"):
            accepted = grammar.accepts(sample)
        reporter.emit("info", sample_accepted=accepted)
        return
    held["compiler"] = compiler = xgram.GrammarCompiler(info)
    with reporter.stage("compile"):
        held["compiled"] = compiled = compile_case(case, source, compiler, args.max_seconds)
    reporter.emit("info", automaton=compiled.grammar.automaton_stats())
    reporter.emit("info", compiled_bytes=compiled.memory_size_bytes)
    token_ids = None
    if sample is not None:
        token_ids = encode(sample)
        if not case.feed_all:
            token_ids = token_ids[: args.prefix_tokens]
    held["matcher"] = feed_matcher(compiled, token_ids, case.feed_all, reporter)


def limit_address_space(gigabytes: float) -> None:
    """Cap the child's address space: a runaway allocation fails instead of swamping the host."""
    if gigabytes > 0:
        cap = int(gigabytes * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def warm_up(info: Any, encode: Callable[[str], List[int]]) -> None:
    """Pay the one-time costs (the tokenizer's first encode, importing torch) before timing."""
    import xgram  # noqa: PLC0415

    encode('{"warm": "up", "n": [1, 2.5]}')
    xgram.allocate_token_bitmask(1, info.vocab_size)


def child_main(args: argparse.Namespace) -> int:
    """Run one case and report it on the real stdout; everything else goes to stderr.

    Ends with ``os._exit``: the interpreter's own teardown (torch, the tokenizer)
    is no part of the case, while freeing the case's objects is timed as ``free``.
    """
    reporter = Reporter(os.fdopen(os.dup(sys.stdout.fileno()), "w"))
    sys.stdout = sys.stderr
    limit_address_space(args.mem_limit_gb)
    case = CASES_BY_NAME[args.child]
    held: Dict[str, Any] = {}
    try:
        import xgram  # noqa: PLC0415

        xgram.set_compile_limits(max_seconds=args.max_seconds)
        info, encode, tokenizer_name = load_tokenizer(args.tokenizer)
        warm_up(info, encode)
        reporter.emit("ready", rss_kb=peak_rss_kb(), tokenizer=tokenizer_name)
        run_stages(case, info, encode, args, reporter, held)
    except BaseException as exc:  # noqa: BLE001 - MemoryError and RecursionError are results too
        reporter.fail(exc)
    try:
        with reporter.stage("free"):
            held.clear()
        gc.collect()
    except BaseException as exc:  # noqa: BLE001
        reporter.fail(exc)
    reporter.emit("done")
    sys.stderr.flush()
    os._exit(0)


# ---------------------------------------------------------------------------
# The parent: one subprocess a case, killed past its time
# ---------------------------------------------------------------------------
class EventReader:
    """Reads the child's events on a thread, stamping each with its arrival time."""

    def __init__(self, stream: TextIO) -> None:
        self.events: List[Tuple[float, Dict[str, Any]]] = []
        self.ready_at: Optional[float] = None
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream: TextIO) -> None:
        for line in stream:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            now = time.monotonic()
            self.events.append((now, event))
            if event.get("event") == "ready":
                self.ready_at = now


@dataclass
class Result:
    """What one case did; times in seconds, memory in MiB."""

    name: str
    what: str
    outcome: str = ""
    stage: str = ""
    stages: Dict[str, float] = field(default_factory=dict)
    running_stage: str = ""
    compile_s: float = 0.0
    mask_s: float = 0.0
    match_s: float = 0.0
    peak_rss_mib: float = 0.0
    ready_rss_mib: float = 0.0
    honoured: bool = True
    over_budget: str = ""
    unbounded: str = ""
    info: Dict[str, Any] = field(default_factory=dict)
    stderr_tail: str = ""


def child_command(case: Case, args: argparse.Namespace) -> List[str]:
    return [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        case.name,
        "--max-seconds",
        str(args.max_seconds),
        "--tokenizer",
        str(args.tokenizer),
        "--mem-limit-gb",
        str(args.mem_limit_gb),
        "--prefix-tokens",
        str(args.prefix_tokens),
    ]


def supervise(
    proc: subprocess.Popen, reader: EventReader, timeout: float
) -> Tuple[int, Any, Optional[float]]:
    """Wait for the child; kill its process group ``timeout`` seconds after it is ready.

    Returns the wait status, the child's own resource usage (``os.wait4``: its peak
    RSS, even when killed) and the time it was killed, if it was.
    """
    setup_deadline = time.monotonic() + max(timeout, 300.0)
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return status, usage, None
        now = time.monotonic()
        deadline = setup_deadline if reader.ready_at is None else reader.ready_at + timeout
        if now > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            return status, usage, now
        time.sleep(0.05)


def run_case(case: Case, args: argparse.Namespace) -> Result:
    """Run ``case`` in a fresh interpreter and summarise what it reported."""
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(
            child_command(case, args),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            start_new_session=True,
        )
        assert proc.stdout is not None
        reader = EventReader(proc.stdout)
        status, usage, killed_at = supervise(proc, reader, args.timeout)
        ended_at = killed_at or time.monotonic()
        reader.thread.join(timeout=5)
        proc.stdout.close()
        stderr.seek(0)
        tail = stderr.read()[-1500:].decode("utf-8", "replace")
    result = Result(case.name, case.what, stderr_tail=tail, peak_rss_mib=usage.ru_maxrss / 1024)
    read_events(result, reader.events, ended_at)
    judge_outcome(result, status, killed_at is not None, case)
    judge_budget(result, args.max_seconds)
    return result


def read_events(
    result: Result, events: List[Tuple[float, Dict[str, Any]]], ended_at: float
) -> None:
    """Fill stage times and infos; a stage started and never ended ran until ``ended_at``."""
    open_stage: Optional[Tuple[str, float]] = None
    for arrived, event in events:
        kind = event["event"]
        if kind == "ready":
            result.ready_rss_mib = event["rss_kb"] / 1024
            result.info["tokenizer"] = event["tokenizer"]
        elif kind == "start":
            open_stage = (event["stage"], arrived)
        elif kind in ("end", "error"):
            result.stages[event["stage"]] = event["seconds"]
            open_stage = None
            if kind == "error" and not result.outcome:
                result.stage = event["stage"]
                result.outcome = f"{event['type']}: {event['message']}"
        elif kind == "info":
            result.info.update({k: v for k, v in event.items() if k != "event"})
        elif kind == "progress":
            result.info["last_progress"] = {k: v for k, v in event.items() if k != "event"}
    if open_stage is not None:
        result.running_stage = open_stage[0]
        result.stage = open_stage[0]
        result.stages[open_stage[0]] = ended_at - open_stage[1]
    result.compile_s = sum(result.stages.get(s, 0.0) for s in COMPILE_STAGES)
    result.mask_s = result.stages.get("mask", 0.0)
    result.match_s = result.stages.get("match", 0.0)


def judge_outcome(result: Result, status: int, killed: bool, case: Case) -> None:
    """Name the outcome: compiled, an exception, TIMEOUT or CRASH."""
    if killed:
        where = result.running_stage or "setup"
        result.outcome = f"TIMEOUT in {where}"
    elif os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        result.outcome = f"CRASH {name} in {result.running_stage or 'setup'}"
    elif os.WEXITSTATUS(status) != 0 and not result.outcome:
        line = result.stderr_tail.strip().splitlines()[-1:] or [""]
        result.outcome = f"EXIT {os.WEXITSTATUS(status)}: {line[0][:160]}"
    elif not result.outcome:
        result.outcome = "matched" if case.kind.startswith("accepts") else "compiled"
        if "sample_accepted" in result.info:
            result.outcome += ", sample " + (
                "accepted" if result.info["sample_accepted"] else "REJECTED"
            )
        if "tokens" in result.info:
            result.outcome += f", {result.info['tokens']} tokens accepted"


def budget_limit(max_seconds: float) -> float:
    """The issue's tolerance: the budget plus 10% plus a small constant."""
    return max_seconds * BUDGET_SLACK_FACTOR + BUDGET_SLACK_SECONDS


def judge_budget(result: Result, max_seconds: float) -> None:
    """Did the compile stages end within the limit; did any fill or match step run past it?"""
    limit = budget_limit(max_seconds)
    compile_times = {s: result.stages[s] for s in COMPILE_STAGES if s in result.stages}
    if result.compile_s > limit:
        result.honoured = False
        slowest = max(compile_times, key=compile_times.__getitem__)
        result.over_budget = f"{slowest} {compile_times[slowest]:.1f} s"
    steps = {
        "mask": result.mask_s,
        "fill": result.info.get("slowest_fill_s", 0.0),
        "token": result.info.get("slowest_accept_s", 0.0),
    }
    if result.running_stage == "match" or (result.match_s > limit and "tokens" not in result.info):
        steps["match"] = result.match_s
    slow = [f"{name} {seconds:.1f} s" for name, seconds in steps.items() if seconds > limit]
    if result.running_stage in ("mask", "match"):
        seconds = result.stages[result.running_stage]
        slow = [f"{result.running_stage} killed after {seconds:.0f} s"]
        progress = result.info.get("last_progress")
        if progress:
            slow.append(
                f"after token {progress['tokens']} (its fill {progress['fill_s']:.2f} s, "
                f"accept {progress['accept_s']:.2f} s)"
            )
    result.unbounded = ", ".join(slow)


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------
def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _seconds(result: Result, value: float, stage: str) -> str:
    if stage == "compile":
        ran = any(s in result.stages for s in COMPILE_STAGES)
        killed = result.running_stage in COMPILE_STAGES
    else:
        ran, killed = stage in result.stages, result.running_stage == stage
    if not ran:
        return "-"
    return f"{value:.0f}+" if killed else f"{value:.3f}"


def _budget_cell(result: Result) -> str:
    text = "yes" if result.honoured else f"**NO** ({result.over_budget})"
    if result.unbounded:
        text += f"; **slow matching**: {result.unbounded}"
    return text


def _stages_cell(result: Result) -> str:
    parts = [f"{name} {seconds:.3f}" for name, seconds in result.stages.items() if name != "setup"]
    return ", ".join(parts)


TABLE_HEADER = (
    "| # | case | what | outcome | compile s | mask s | match s | peak RSS MiB (+case) "
    "| budget honoured | stages (s) |\n"
    "|---|---|---|---|---:|---:|---:|---:|---|---|\n"
)


def table_row(number: int, result: Result) -> str:
    rss = (
        f"{result.peak_rss_mib:,.0f} (+{max(0.0, result.peak_rss_mib - result.ready_rss_mib):,.0f})"
    )
    cells = [
        str(number),
        result.name,
        result.what,
        result.outcome,
        _seconds(result, result.compile_s, "compile"),
        _seconds(result, result.mask_s, "mask"),
        _seconds(result, result.match_s, "match"),
        rss,
        _budget_cell(result),
        _stages_cell(result),
    ]
    return "| " + " | ".join(_cell(c) for c in cells) + " |\n"


def markdown(results: List[Result], meta: Dict[str, Any]) -> str:
    lines = [
        "# Hostile inputs (issue 22, item 5)\n\n",
        *(f"- {key}: {value}\n" for key, value in meta.items()),
        "\n",
        TABLE_HEADER,
        *(table_row(i + 1, r) for i, r in enumerate(results)),
    ]
    broken = [
        r
        for r in results
        if not r.honoured or r.unbounded or r.outcome.startswith(("TIMEOUT", "CRASH"))
    ]
    lines.append(
        f"\n{len(results)} cases; budget broken, slow matching, timeout or crash: {len(broken)}"
    )
    lines.append(" (" + ", ".join(r.name for r in broken) + ")\n" if broken else "\n")
    return "".join(lines)


def git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
        ).stdout
        return rev + (" (working tree modified)" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def run_metadata(args: argparse.Namespace) -> Dict[str, Any]:
    tokenizer = (
        args.tokenizer.name
        if (args.tokenizer / "tokenizer.json").exists()
        else "synthetic (no Llama-3 found)"
    )
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "git": git_revision(),
        "host": f"{platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "load average at start": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "tokenizer": tokenizer,
        "max_seconds": args.max_seconds,
        "budget honoured when compile stages end within": f"{budget_limit(args.max_seconds):.1f} s",
        "timeout per case": f"{args.timeout:.0f} s (after the tokenizer is loaded)",
        "address-space cap per case": f"{args.mem_limit_gb} GiB",
    }


def write_outputs(results: List[Result], meta: Dict[str, Any], args: argparse.Namespace) -> None:
    if args.md:
        Path(args.md).write_text(markdown(results, meta), encoding="utf-8")
    if args.json:
        document = {"meta": meta, "results": [asdict(r) for r in results]}
        Path(args.json).write_text(json.dumps(document, indent=1), encoding="utf-8")


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------
def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds a case may run (default 120)"
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=5.0,
        help="compile budget set in every case (default 5)",
    )
    parser.add_argument(
        "--tokenizer", type=Path, default=DEFAULT_TOKENIZER, help="directory with tokenizer.json"
    )
    parser.add_argument(
        "--mem-limit-gb", type=float, default=8.0, help="address-space cap per case (0: none)"
    )
    parser.add_argument(
        "--prefix-tokens", type=int, default=8, help="tokens of the sample to accept"
    )
    parser.add_argument(
        "--cases", default="", help="comma-separated substrings of case names to run"
    )
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--md", help="write the markdown table here")
    parser.add_argument("--json", help="write the results as JSON here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def selected_cases(pattern: str) -> List[Case]:
    wanted = [p.strip() for p in pattern.split(",") if p.strip()]
    return [c for c in all_cases() if not wanted or any(w in c.name for w in wanted)]


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child_main(args)
    cases = selected_cases(args.cases)
    if args.list:
        for case in cases:
            print(f"{case.name:40} {case.what}")
        return 0
    meta = run_metadata(args)
    print("".join(f"{key}: {value}\n" for key, value in meta.items()), flush=True)
    results: List[Result] = []
    for number, case in enumerate(cases, 1):
        result = run_case(case, args)
        results.append(result)
        print(f"[{number}/{len(cases)}] {table_row(number, result)}", end="", flush=True)
        if result.outcome.startswith(("CRASH", "EXIT")) and result.stderr_tail:
            print("    stderr: " + result.stderr_tail.strip().replace("\n", "\n    "), flush=True)
        write_outputs(results, meta, args)
    meta["load average at end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    write_outputs(results, meta, args)
    print("\n" + markdown(results, meta), flush=True)
    broken = [
        r
        for r in results
        if not r.honoured or r.unbounded or r.outcome.startswith(("TIMEOUT", "CRASH"))
    ]
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
