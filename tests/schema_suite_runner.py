"""Run the official JSON-Schema-Test-Suite through a JSON-schema grammar engine.

The suite lives next to the repository, in
``<repo>/../shared/json-schema-test-suite`` (``tests/<draft>/*.json`` and
``tests/<draft>/optional/format/*.json`` for draft2020-12 and draft7). Each file
is a list of cases ``{description, schema, tests: [{description, data, valid}]}``.

For every case the engine compiles the schema once; every test instance is then
serialised twice, compact (``separators=(",", ":")``) and indented
(``indent=2``), both with ``ensure_ascii=False``, and both texts are checked.
Each test gets one outcome, best to worst (``OUTCOMES``):

``pass``
    valid: both texts accepted; invalid: both rejected.
``false_negative``
    a valid instance rejected in either serialisation.
``compile_error_all_invalid``
    the schema raised an error, but every test of the case is invalid, so
    nothing valid was lost.
``compile_error_invalid``
    the schema raised an error; this test is invalid, another one of the case
    is valid.
``compile_error_valid``
    the schema raised an error and this test is valid.
``timeout`` / ``crash``
    the case ran past its time limit, the worker process died, or the engine
    raised something that is not a compile error (a bug).
``false_positive``
    an invalid instance accepted in either serialisation: unsound, the worst.

Engines: ``xgram`` (``Grammar.from_json_schema(schema, strict_mode=False,
any_whitespace=True)``), and the peers ``xgrammar`` and ``llguidance`` (used by
``benchmarks/json_schema_suite.py``). The suite's remote references
(``http://localhost:1234/...``, served from its ``remotes/``) reach xgram through
its ``refs=`` registry (``load_remotes()``, passed with every schema that names
that host); the peers fetch nothing, so for them those schemas come out as
compile errors.

By default every case runs in a worker subprocess (``--jobs`` of them), so a
crash or a hang costs one case (``crash`` / ``timeout``), not the run.

Command line (from the repository root)::

    python tests/schema_suite_runner.py                      # xgram vs. the baseline
    python tests/schema_suite_runner.py --update-baseline    # rewrite the baseline
    python tests/schema_suite_runner.py --engine xgrammar --draft draft7 -v
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

REPO_ROOT = Path(__file__).resolve().parents[1]
SUITE_DIR = Path(__file__).resolve().parents[2] / "shared" / "json-schema-test-suite"
BASELINE_PATH = Path(__file__).resolve().parent / "data" / "json_schema_suite_baseline.json"
TOKENIZERS_DIR = Path(__file__).resolve().parents[2] / "shared" / "tokenizers"

DRAFTS: Tuple[str, ...] = ("draft2020-12", "draft7")
REMOTE_PREFIX = "http://localhost:1234/"

OUTCOMES: Tuple[str, ...] = (
    "pass",
    "false_negative",
    "compile_error_all_invalid",
    "compile_error_invalid",
    "compile_error_valid",
    "timeout",
    "crash",
    "false_positive",
)
RANK: Dict[str, int] = {name: i for i, name in enumerate(OUTCOMES)}
COMPILE_ERRORS: Tuple[str, ...] = (
    "compile_error_all_invalid",
    "compile_error_invalid",
    "compile_error_valid",
)

DEFAULT_CASE_TIMEOUT_S = 20.0
REGENERATE_HINT = "python tests/schema_suite_runner.py --update-baseline"


# ---------------------------------------------------------------------------
# The suite
# ---------------------------------------------------------------------------
@dataclass
class SuiteTest:
    """One test instance of a case, with its two serialisations."""

    test_id: str
    description: str
    data: Any
    valid: bool
    compact: str
    pretty: str


@dataclass
class SuiteCase:
    """One schema of the suite with its test instances."""

    case_id: str
    draft: str
    file: str
    index: int
    description: str
    schema: Any
    tests: List[SuiteTest]

    @property
    def schema_text(self) -> str:
        """The schema as compact JSON text (what the engines are given)."""
        return json.dumps(self.schema, ensure_ascii=False)


def serialise(data: Any) -> Tuple[str, str]:
    """Return ``data`` as compact JSON and as JSON indented by 2 (both non-ASCII kept)."""
    compact = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    pretty = json.dumps(data, ensure_ascii=False, indent=2)
    return compact, pretty


def suite_files(draft: str, suite_dir: Path = SUITE_DIR) -> List[Path]:
    """The suite files run for ``draft``: the required ones, then ``optional/format``."""
    base = suite_dir / "tests" / draft
    return sorted(base.glob("*.json")) + sorted((base / "optional" / "format").glob("*.json"))


def load_suite(
    drafts: Sequence[str] = DRAFTS, suite_dir: Path = SUITE_DIR, match: Optional[str] = None
) -> List[SuiteCase]:
    """Load every case of ``drafts``; ``match`` keeps only case ids containing it."""
    cases: List[SuiteCase] = []
    for draft in drafts:
        base = suite_dir / "tests" / draft
        for path in suite_files(draft, suite_dir):
            rel = path.relative_to(base).as_posix()
            with path.open(encoding="utf-8") as fh:
                entries = json.load(fh)
            for ci, entry in enumerate(entries):
                case_id = f"{draft}/{rel}/{ci}"
                if match and match not in case_id:
                    continue
                tests = []
                for ti, t in enumerate(entry["tests"]):
                    compact, pretty = serialise(t["data"])
                    tests.append(
                        SuiteTest(
                            f"{case_id}/{ti}",
                            t["description"],
                            t["data"],
                            bool(t["valid"]),
                            compact,
                            pretty,
                        )
                    )
                cases.append(
                    SuiteCase(case_id, draft, rel, ci, entry["description"], entry["schema"], tests)
                )
    return cases


def load_remotes(suite_dir: Path = SUITE_DIR) -> Dict[str, Any]:
    """Map each ``http://localhost:1234/...`` URL of the suite to its schema."""
    root = suite_dir / "remotes"
    out: Dict[str, Any] = {}
    for path in sorted(root.rglob("*.json")):
        with path.open(encoding="utf-8") as fh:
            out[REMOTE_PREFIX + path.relative_to(root).as_posix()] = json.load(fh)
    return out


def uses_remote_ref(schema: Any) -> bool:
    """True when ``schema`` names a ``http://localhost:1234/`` resource anywhere."""
    return REMOTE_PREFIX in json.dumps(schema)


# ---------------------------------------------------------------------------
# Engines
# ---------------------------------------------------------------------------
class CompileError(Exception):
    """The engine refused the schema (an expected, well-typed failure)."""


Checker = Callable[[str], bool]


class Engine:
    """A JSON-schema front-end: ``compile(schema_text)`` gives a whole-text checker."""

    name = "?"

    def compile(self, schema_text: str) -> Checker:
        """Compile ``schema_text``; raise ``CompileError`` when the engine refuses it."""
        raise NotImplementedError


class XgramEngine(Engine):
    """xgram: ``Grammar.from_json_schema(schema, strict_mode=False, any_whitespace=True)``.

    A schema that names ``http://localhost:1234/`` also gets ``refs=`` the suite's
    ``remotes/`` documents (what a validator would retrieve from that server).
    """

    name = "xgram"

    def __init__(self) -> None:
        if str(REPO_ROOT) not in sys.path:
            sys.path.insert(0, str(REPO_ROOT))
        import xgram

        if not hasattr(xgram.Grammar, "from_json_schema"):
            raise RuntimeError("xgram.Grammar.from_json_schema does not exist yet")
        from xgram import errors

        self._xgram = xgram
        self._remotes = load_remotes() if (SUITE_DIR / "remotes").is_dir() else {}
        names = ("SchemaError", "GrammarError", "CompileBudgetError")
        self._errors: Tuple[type, ...] = tuple(
            getattr(errors, n) for n in names if hasattr(errors, n)
        )

    def compile(self, schema_text: str) -> Checker:
        """Build the grammar; xgram's schema/grammar/budget errors are compile errors."""
        refs = self._remotes if REMOTE_PREFIX in schema_text else None
        try:
            grammar = self._xgram.Grammar.from_json_schema(
                schema_text, strict_mode=False, any_whitespace=True, refs=refs
            )
        except self._errors as exc:
            raise CompileError(f"{type(exc).__name__}: {exc}") from None
        return grammar.accepts


class XGrammarEngine(Engine):
    """XGrammar: ``Grammar.from_json_schema(..., any_whitespace=True, strict_mode=False)``.

    The grammar is compiled against an empty vocabulary; a string is checked with
    ``GrammarMatcher.accept_string`` and ``is_terminated()`` (what
    ``xgrammar.testing._is_grammar_accept_string`` does, minus recompiling).
    """

    name = "xgrammar"

    def __init__(self) -> None:
        import xgrammar

        self._xgr = xgrammar
        self._compiler = xgrammar.GrammarCompiler(xgrammar.TokenizerInfo([]), cache_enabled=False)

    def compile(self, schema_text: str) -> Checker:
        """Any exception while building or compiling the grammar is a compile error."""
        xgr = self._xgr
        try:
            grammar = xgr.Grammar.from_json_schema(
                schema_text, any_whitespace=True, strict_mode=False
            )
            compiled = self._compiler.compile_grammar(grammar)
        except Exception as exc:  # a peer failing counts as a compile error
            raise CompileError(f"{type(exc).__name__}: {exc}") from None

        def check(text: str) -> bool:
            matcher = xgr.GrammarMatcher(compiled, terminate_without_stop_token=True)
            return bool(matcher.accept_string(text)) and bool(matcher.is_terminated())

        return check


class _ByteTokenizer:
    """A 257-token vocabulary for llguidance: one token per byte, then EOS."""

    eos_token_id = 256
    bos_token_id = None
    special_token_ids = [256]
    tokens = [bytes([b]) for b in range(256)] + [b"<eos>"]

    def __call__(self, text: Any) -> List[int]:
        return list(text.encode("utf-8") if isinstance(text, str) else bytes(text))


class LLGuidanceEngine(Engine):
    """llguidance: ``LLMatcher.grammar_from_json_schema`` with flexible whitespace.

    ``tokenizer="byte"`` (default) feeds one token per byte, so the check is exact
    at byte level. A name under ``../shared/tokenizers`` (e.g. ``llama3``) feeds
    that tokenizer's canonical tokens instead. A text is accepted when every token
    is consumed and the matcher ``is_accepting()`` at the end.
    """

    name = "llguidance"

    def __init__(self, tokenizer: str = "byte") -> None:
        import llguidance
        from llguidance._tokenizer import TokenizerWrapper

        self._llg = llguidance
        if tokenizer == "byte":
            self._tok = llguidance.LLTokenizer(TokenizerWrapper(_ByteTokenizer()))
            self._encode: Callable[[str], List[int]] = _ByteTokenizer()
        else:
            self._tok = llguidance.LLTokenizer(str(TOKENIZERS_DIR / tokenizer / "tokenizer.json"))
            self._encode = self._tok.tokenize_str

    def compile(self, schema_text: str) -> Checker:
        """A grammar error (raised, or the new matcher in error) is a compile error."""
        llg = self._llg
        try:
            grammar = llg.LLMatcher.grammar_from_json_schema(
                schema_text, defaults={"whitespace_flexible": True}
            )
            base = llg.LLMatcher(self._tok, grammar, log_level=0)
        except Exception as exc:  # a peer failing counts as a compile error
            raise CompileError(f"{type(exc).__name__}: {exc}") from None
        if base.is_error():
            raise CompileError(base.get_error().splitlines()[0])

        def check(text: str) -> bool:
            matcher = base.deep_copy()
            ok = matcher.consume_tokens(self._encode(text))
            return bool(ok) and not matcher.is_error() and bool(matcher.is_accepting())

        return check


ENGINES: Dict[str, Callable[..., Engine]] = {
    "xgram": XgramEngine,
    "xgrammar": XGrammarEngine,
    "llguidance": LLGuidanceEngine,
}


def make_engine(name: str, llg_tokenizer: str = "byte") -> Engine:
    """Construct engine ``name`` (raises if it is not installed / lacks the API)."""
    if name == "llguidance":
        return LLGuidanceEngine(llg_tokenizer)
    return ENGINES[name]()


def engine_unavailable(name: str) -> Optional[str]:
    """Why engine ``name`` cannot run here, or None when it can."""
    try:
        make_engine(name)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


# ---------------------------------------------------------------------------
# Running one case
# ---------------------------------------------------------------------------
@dataclass
class CaseRun:
    """What an engine did with one case.

    ``status`` is ``"ok"`` (compiled; ``accepted`` holds ``[compact, pretty]`` per
    test), ``"compile_error"``, ``"crash"`` or ``"timeout"`` (``error`` says why).
    """

    case_id: str
    status: str
    accepted: List[List[bool]] = field(default_factory=list)
    error: str = ""
    compile_s: float = 0.0
    check_s: float = 0.0

    @property
    def seconds(self) -> float:
        """Compile plus check time."""
        return self.compile_s + self.check_s


def _run_payload(engine: Engine, schema_text: str, texts: List[List[str]]) -> Dict[str, Any]:
    """Compile ``schema_text`` and check each ``[compact, pretty]`` pair."""
    t0 = time.perf_counter()
    try:
        checker = engine.compile(schema_text)
    except CompileError as exc:
        return {
            "status": "compile_error",
            "error": str(exc)[:500],
            "compile_s": time.perf_counter() - t0,
        }
    except Exception as exc:  # anything else is a bug in the engine
        return {
            "status": "crash",
            "error": f"compile raised {type(exc).__name__}: {exc}"[:500],
            "compile_s": time.perf_counter() - t0,
        }
    t1 = time.perf_counter()
    accepted: List[List[bool]] = []
    try:
        for pair in texts:
            accepted.append([bool(checker(text)) for text in pair])
    except Exception as exc:
        return {
            "status": "crash",
            "error": f"check raised {type(exc).__name__}: {exc}"[:500],
            "compile_s": t1 - t0,
            "check_s": time.perf_counter() - t1,
        }
    return {
        "status": "ok",
        "accepted": accepted,
        "compile_s": t1 - t0,
        "check_s": time.perf_counter() - t1,
    }


def _payload(case: SuiteCase) -> Dict[str, Any]:
    return {"schema": case.schema_text, "texts": [[t.compact, t.pretty] for t in case.tests]}


def _case_run(case: SuiteCase, result: Dict[str, Any]) -> CaseRun:
    return CaseRun(
        case.case_id,
        result["status"],
        result.get("accepted", []),
        result.get("error", ""),
        result.get("compile_s", 0.0),
        result.get("check_s", 0.0),
    )


def run_case_inprocess(engine: Engine, case: SuiteCase) -> CaseRun:
    """Run one case in this process (no protection against crashes or hangs)."""
    return _case_run(case, _run_payload(engine, case.schema_text, _payload(case)["texts"]))


def _worker_main(engine_name: str, llg_tokenizer: str) -> int:
    """Worker loop: one JSON request per stdin line, one JSON reply per stdout line."""
    out = sys.stdout
    sys.stdout = sys.stderr  # engine chatter must not corrupt the protocol
    try:
        engine = make_engine(engine_name, llg_tokenizer)
    except Exception as exc:
        out.write(json.dumps({"fatal": f"{type(exc).__name__}: {exc}"}) + "\n")
        out.flush()
        return 1
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        req = json.loads(line)
        out.write(json.dumps(_run_payload(engine, req["schema"], req["texts"])) + "\n")
        out.flush()
    return 0


class _Worker:
    """A worker subprocess that runs cases for one engine, killed on timeout."""

    def __init__(self, engine_name: str, llg_tokenizer: str, start_timeout: float) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        env.setdefault("HF_HUB_OFFLINE", "1")
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--worker",
                engine_name,
                "--llg-tokenizer",
                llg_tokenizer,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=str(REPO_ROOT),
            env=env,
        )
        self._buf = b""
        self._sel = selectors.DefaultSelector()
        assert self.proc.stdout is not None
        self._sel.register(self.proc.stdout, selectors.EVENT_READ)
        hello = self._readline(start_timeout)
        if hello is None or "ready" not in json.loads(hello):
            reason = json.loads(hello).get("fatal") if hello else self.stderr_tail()
            self.close()
            raise RuntimeError(f"worker for {engine_name} did not start: {reason}")

    def _readline(self, timeout: float) -> Optional[str]:
        """One line from the worker, or None on timeout / end of file."""
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not self._sel.select(left):
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return None
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line.decode("utf-8")

    def stderr_tail(self, n: int = 400) -> str:
        """The last ``n`` characters the worker wrote to stderr."""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")[-n:].strip()

    def run(self, case: SuiteCase, timeout: float) -> Tuple[CaseRun, bool]:
        """Run ``case``; the flag says whether the worker is still usable."""
        assert self.proc.stdin is not None
        t0 = time.perf_counter()
        try:
            self.proc.stdin.write((json.dumps(_payload(case)) + "\n").encode("utf-8"))
            self.proc.stdin.flush()
        except OSError:
            pass
        line = self._readline(timeout)
        if line is not None:
            return _case_run(case, json.loads(line)), True
        elapsed = time.perf_counter() - t0
        if self.proc.poll() is None:
            return CaseRun(
                case.case_id, "timeout", error=f"no answer within {timeout:g} s", compile_s=elapsed
            ), False
        self.proc.wait()
        detail = f"worker died (exit {self.proc.returncode}): {self.stderr_tail()}"
        return CaseRun(case.case_id, "crash", error=detail, compile_s=elapsed), False

    def close(self) -> None:
        """Stop the worker (kill it if it is still running) and free its pipes."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        self._sel.close()
        self._stderr.close()


def run_cases(
    engine_name: str,
    cases: Sequence[SuiteCase],
    *,
    jobs: int = 2,
    timeout: float = DEFAULT_CASE_TIMEOUT_S,
    llg_tokenizer: str = "byte",
    progress: Optional[Callable[[int, int], None]] = None,
    budget: Optional[float] = None,
) -> List[CaseRun]:
    """Run every case through ``engine_name``.

    With ``jobs >= 1`` the cases are shared among that many worker subprocesses;
    a case that runs past ``timeout`` seconds or kills its worker is reported as
    ``timeout`` / ``crash`` and a fresh worker takes over. Once ``budget`` seconds
    have passed in all, the cases not started yet are reported as ``timeout``
    without running. ``jobs=0`` runs in this process, unprotected (for debugging).
    """
    deadline = None if budget is None else time.monotonic() + budget
    results: List[Optional[CaseRun]] = [None] * len(cases)
    if jobs <= 0:
        engine = make_engine(engine_name, llg_tokenizer)
        for i, case in enumerate(cases):
            results[i] = run_case_inprocess(engine, case)
            if progress:
                progress(i + 1, len(cases))
        return [r for r in results if r is not None]

    lock = threading.Lock()
    next_index = [0]
    done = [0]
    failures: List[BaseException] = []
    start_timeout = max(60.0, timeout)

    def loop() -> None:
        worker: Optional[_Worker] = None
        try:
            while True:
                with lock:
                    i = next_index[0]
                    next_index[0] += 1
                if i >= len(cases):
                    return
                if deadline is not None and time.monotonic() > deadline:
                    results[i] = CaseRun(
                        cases[i].case_id,
                        "timeout",
                        error=f"not run: the {budget:g} s suite budget ran out",
                    )
                else:
                    if worker is None:
                        worker = _Worker(engine_name, llg_tokenizer, start_timeout)
                    results[i], alive = worker.run(cases[i], timeout)
                    if not alive:
                        worker.close()
                        worker = None
                with lock:
                    done[0] += 1
                    if progress:
                        progress(done[0], len(cases))
        except BaseException as exc:  # re-raised in the caller
            failures.append(exc)
        finally:
            if worker is not None:
                worker.close()

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(min(jobs, len(cases)))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if failures:
        raise failures[0]
    return [r for r in results if r is not None]


# ---------------------------------------------------------------------------
# Classification and reports
# ---------------------------------------------------------------------------
@dataclass
class TestOutcome:
    """The outcome of one test instance (see ``OUTCOMES``)."""

    test_id: str
    outcome: str
    valid: bool
    case_description: str
    description: str
    detail: str = ""


FORM_NAMES: Tuple[str, str] = ("compact", "indented")


def classify(case: SuiteCase, run: CaseRun, forms: Sequence[int] = (0, 1)) -> List[TestOutcome]:
    """Give each test of ``case`` its outcome from the engine's ``run``.

    ``forms`` picks the serialisations that count: 0 compact, 1 indented (both by
    default; ``(0,)`` gives compact-only numbers, as other harnesses report).
    """
    out: List[TestOutcome] = []
    all_invalid = not any(t.valid for t in case.tests)
    for i, t in enumerate(case.tests):
        detail = run.error
        if run.status == "compile_error":
            if all_invalid:
                outcome = "compile_error_all_invalid"
            else:
                outcome = "compile_error_valid" if t.valid else "compile_error_invalid"
        elif run.status in ("timeout", "crash"):
            outcome = run.status
        else:
            verdicts = [(FORM_NAMES[f], run.accepted[i][f]) for f in forms]
            if t.valid:
                outcome = "pass" if all(ok for _, ok in verdicts) else "false_negative"
                if outcome != "pass":
                    detail = "rejected: " + ", ".join(n for n, ok in verdicts if not ok)
            else:
                outcome = "false_positive" if any(ok for _, ok in verdicts) else "pass"
                if outcome != "pass":
                    detail = "accepted: " + ", ".join(n for n, ok in verdicts if ok)
        out.append(
            TestOutcome(t.test_id, outcome, t.valid, case.description, t.description, detail)
        )
    return out


def classify_all(
    cases: Sequence[SuiteCase], runs: Sequence[CaseRun], forms: Sequence[int] = (0, 1)
) -> List[TestOutcome]:
    """``classify`` over parallel lists of cases and runs."""
    out: List[TestOutcome] = []
    for case, run in zip(cases, runs):
        out.extend(classify(case, run, forms))
    return out


def summarize(outcomes: Iterable[TestOutcome]) -> Counter:
    """Count outcomes by category (every category present, zero or not)."""
    counts: Counter = Counter({name: 0 for name in OUTCOMES})
    counts.update(o.outcome for o in outcomes)
    return counts


def format_summary(counts: Counter, title: str = "") -> str:
    """One-line summary ``title: N tests, pass P (x%), ...``."""
    total = sum(counts.values())
    ratio = f"{100.0 * counts['pass'] / total:.1f}%" if total else "n/a"
    parts = [f"{name} {counts[name]}" for name in OUTCOMES[1:] if counts[name]]
    head = f"{title}: " if title else ""
    return f"{head}{total} tests, pass {counts['pass']} ({ratio})" + (
        ", " + ", ".join(parts) if parts else ""
    )


def slowest(runs: Sequence[CaseRun], n: int = 10) -> List[CaseRun]:
    """The ``n`` cases with the largest compile + check time."""
    return sorted(runs, key=lambda r: r.seconds, reverse=True)[:n]


def format_slowest(runs: Sequence[CaseRun], n: int = 10) -> str:
    """A small table of the slowest cases."""
    lines = [f"slowest {min(n, len(runs))} cases (compile + check seconds):"]
    for r in slowest(runs, n):
        lines.append(
            f"  {r.seconds:8.3f}  (compile {r.compile_s:.3f})  {r.status:13s}  {r.case_id}"
        )
    return "\n".join(lines)


def describe_failure(case: SuiteCase, test_index: int, outcome: TestOutcome) -> str:
    """Id, descriptions, schema and instance of one test, for failure messages."""
    t = case.tests[test_index]
    schema = case.schema_text
    if len(schema) > 600:
        schema = schema[:600] + "..."
    return (
        f"{outcome.test_id} [{outcome.outcome}] {case.description} / {t.description}\n"
        f"    schema:   {schema}\n    instance: {t.compact[:400]}\n"
        + (f"    detail:   {outcome.detail}\n" if outcome.detail else "")
    )


# ---------------------------------------------------------------------------
# Baseline
# ---------------------------------------------------------------------------
def write_baseline(
    cases: Sequence[SuiteCase],
    outcomes: Sequence[TestOutcome],
    path: Path = BASELINE_PATH,
    engine: str = "xgram",
) -> None:
    """Write per-test outcomes, one case per line: ``case_id: {description, outcomes}``."""
    by_id = {o.test_id: o.outcome for o in outcomes}
    counts = summarize(outcomes)
    header = {
        "engine": engine,
        "options": "Grammar.from_json_schema(schema, strict_mode=False, any_whitespace=True)"
        " (and refs= the suite's remotes/ for schemas naming http://localhost:1234/)",
        "regenerate": REGENERATE_HINT,
        "outcome_order": list(OUTCOMES),
        "counts": {k: counts[k] for k in OUTCOMES},
    }
    lines = ["{"]
    for key, value in header.items():
        lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},")
    lines.append('  "cases": {')
    rows = []
    for case in cases:
        entry = {
            "description": case.description,
            "outcomes": [by_id[t.test_id] for t in case.tests],
        }
        rows.append(f"    {json.dumps(case.case_id)}: {json.dumps(entry, ensure_ascii=False)}")
    lines.append(",\n".join(rows))
    lines.append("  }")
    lines.append("}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def load_baseline(path: Path = BASELINE_PATH) -> Dict[str, str]:
    """Per-test outcomes of the baseline file, keyed by test id."""
    with path.open(encoding="utf-8") as fh:
        data = json.load(fh)
    out: Dict[str, str] = {}
    for case_id, entry in data["cases"].items():
        for i, outcome in enumerate(entry["outcomes"]):
            out[f"{case_id}/{i}"] = outcome
    return out


@dataclass
class BaselineDiff:
    """How a run compares with the baseline."""

    regressions: List[Tuple[TestOutcome, str]]
    improvements: List[Tuple[TestOutcome, str]]
    changed_same_rank: List[Tuple[TestOutcome, str]]
    new: List[TestOutcome]
    missing: List[str]


def compare_to_baseline(outcomes: Sequence[TestOutcome], baseline: Dict[str, str]) -> BaselineDiff:
    """Sort tests into worse / better than the baseline, new ones and vanished ones."""
    diff = BaselineDiff([], [], [], [], [])
    seen = set()
    for o in outcomes:
        seen.add(o.test_id)
        old = baseline.get(o.test_id)
        if old is None:
            diff.new.append(o)
        elif RANK[o.outcome] > RANK.get(old, len(OUTCOMES)):
            diff.regressions.append((o, old))
        elif RANK[o.outcome] < RANK.get(old, len(OUTCOMES)):
            diff.improvements.append((o, old))
        elif o.outcome != old:
            diff.changed_same_rank.append((o, old))
    diff.missing = sorted(set(baseline) - seen)
    return diff


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------
def _progress_printer(label: str) -> Callable[[int, int], None]:
    step = [0]

    def show(done: int, total: int) -> None:
        pct = done * 10 // max(total, 1)
        if pct > step[0] or done == total:
            step[0] = pct
            print(f"  {label}: {done}/{total} cases", file=sys.stderr, flush=True)

    return show


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", default="xgram", choices=sorted(ENGINES))
    ap.add_argument(
        "--draft", action="append", choices=DRAFTS, help="draft to run (repeatable; default: all)"
    )
    ap.add_argument("--match", help="only cases whose id contains this text")
    ap.add_argument(
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="worker subprocesses (0: run in this process, unprotected)",
    )
    ap.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_CASE_TIMEOUT_S,
        help="per-case limit in seconds (compile + all checks)",
    )
    ap.add_argument(
        "--llg-tokenizer",
        default="byte",
        help="llguidance tokenizer: 'byte' or a folder of ../shared/tokenizers",
    )
    ap.add_argument(
        "--update-baseline",
        action="store_true",
        help=f"rewrite {BASELINE_PATH.relative_to(REPO_ROOT)} (xgram only)",
    )
    ap.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="list non-pass tests (-vv: with schema and instance)",
    )
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        return _worker_main(args.worker, args.llg_tokenizer)
    if not SUITE_DIR.is_dir():
        print(f"JSON-Schema-Test-Suite not found at {SUITE_DIR}", file=sys.stderr)
        return 2
    if args.update_baseline and (args.engine != "xgram" or args.draft or args.match):
        ap.error("--update-baseline needs the xgram engine over the whole suite")

    why = engine_unavailable(args.engine) if args.engine == "xgram" else None
    if why is not None:
        print(f"engine {args.engine} unavailable: {why}", file=sys.stderr)
        return 2
    drafts = tuple(args.draft or DRAFTS)
    cases = load_suite(drafts, match=args.match)
    t0 = time.perf_counter()
    runs = run_cases(
        args.engine,
        cases,
        jobs=args.jobs,
        timeout=args.timeout,
        llg_tokenizer=args.llg_tokenizer,
        progress=_progress_printer(args.engine),
    )
    wall = time.perf_counter() - t0
    outcomes = classify_all(cases, runs)

    print(f"engine {args.engine}: {len(cases)} cases in {wall:.1f} s ({args.jobs} jobs)")
    for draft in drafts:
        mine = [o for o in outcomes if o.test_id.startswith(draft + "/")]
        if mine:
            print("  " + format_summary(summarize(mine), draft))
    print(format_slowest(runs))

    if args.verbose:
        by_case = {c.case_id: c for c in cases}
        for o in outcomes:
            if o.outcome == "pass":
                continue
            case_id, _, index = o.test_id.rpartition("/")
            if args.verbose > 1:
                print(describe_failure(by_case[case_id], int(index), o))
            else:
                print(
                    f"{o.outcome:26s} {o.test_id}  {o.case_description} / {o.description}"
                    + (f"  [{o.detail[:120]}]" if o.detail else "")
                )

    if args.update_baseline:
        write_baseline(cases, outcomes)
        print(f"wrote {BASELINE_PATH}")
        return 0
    if args.engine == "xgram" and BASELINE_PATH.is_file():
        diff = compare_to_baseline(outcomes, load_baseline())
        for o, old in diff.regressions:
            print(f"REGRESSION {o.test_id}: {old} -> {o.outcome}  ({o.description})")
        for o, old in diff.improvements:
            print(f"improved   {o.test_id}: {old} -> {o.outcome}  ({o.description})")
        if diff.improvements:
            print(f"{len(diff.improvements)} improvement(s): re-run `{REGENERATE_HINT}`")
        fps = [o for o in outcomes if o.outcome == "false_positive"]
        return 1 if diff.regressions or fps else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
