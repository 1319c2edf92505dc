"""MaskBench on local data: JSON Schema coverage, per-token mask time and compile time.

Reproduces MaskBench (``guidance-ai/jsonschemabench``, ``maskbench/``) for
xgram, XGrammar and llguidance on the JSONSchemaBench MaskBench records in
``<work>/shared/schemas/jsonschemabench-maskbench/*.jsonl.gz`` (one record per
line: ``{id, subset, description, meta, schema, tests: [{description, valid,
data, ...}]}``).

Method (as MaskBench's ``runner.py``, with the differences noted):

* Sample: ``--num-schemas`` records (default 200) drawn uniformly with
  ``random.Random(--seed)`` from all records of all files that have at least
  one test instance (optionally only ``--subset``; or exactly the ids of
  ``--schemas-from``).  ``--num-schemas all`` (or ``--all``) takes every such
  record, in file order; ``--include-untested`` adds the records without test
  instances (compile and first mask only), so that every schema is compiled.
* Engines, one thread each, same tokenizer (Llama-3, 128,256 tokens, from
  ``<work>/shared/tokenizers/llama3``), set up as ``bench_masks.py`` does:

  - ``xgram``: ``GrammarCompiler(info, max_threads=1, cache_enabled=False)
    .compile_json_schema(schema, any_whitespace=True, strict_mode=False)``
    (lazy: mask-cache entries are computed on first use, so they land in the
    per-token times; ``--xgram-precompute`` computes them all at compile time);
  - ``xgrammar``: the same call on XGrammar with the schema as a string (this
    is MaskBench's "XGrammar (compliant)" mode, ``--xgr-compliant``);
  - ``llguidance``: ``LLMatcher(tok, LLMatcher.grammar_from_json_schema(schema,
    overrides={"whitespace_flexible": True}))`` (an error state is a compile
    error).

* Per schema: time the compile (``compile``), and compile + a fresh matcher +
  its first mask (``first mask``, MaskBench's TTFM).  Then for each test
  instance: serialise it compactly (``json.dumps(data, separators=(",", ":"),
  ensure_ascii=False)``; MaskBench uses ``json.dumps`` defaults, i.e. ``", "``
  and ``": "``), tokenise it with the HF tokenizer (no special tokens), and
  feed it token by token to a fresh matcher: each step computes the mask and
  accepts the token, and that pair is the per-token time (MaskBench's
  ``compute_mask`` + ``commit_token``).  A token is taken only if it is in
  the mask *and* the matcher accepts it (any disagreement is counted as a
  mask/accept mismatch); the instance stops at the first refused token.
  After the last token one more mask is computed (not timed; MaskBench has no
  such step) and the instance is accepted only if the stop token
  (``<|end_of_text|>``) is allowed, i.e. the matcher can finish; the engine's
  own end test (``is_completed()`` / ``is_accepting()``) is cross-checked.
* Errors per schema: compile error (exception, or llguidance error state),
  timeout (``--timeout`` seconds for the compile and all instances), crash
  (the worker died, e.g. a segfault), validation error (a valid instance
  refused), invalidation error (an invalid instance accepted), matcher
  exception.  A schema passes if it compiled, did not time out or crash, and
  had no validation or invalidation error and no matcher exception.
* Isolation: each engine runs in its own worker process (``multiprocessing``,
  spawn), one schema at a time; on a timeout the worker is killed and
  restarted, a crashed worker is restarted.  The engines take turns schema by
  schema, never two at once, so drift on a shared machine hits all of them
  alike.  Each worker's address space is capped at ``--mem-limit-gb``.
* Out of memory versus crash: under the cap an allocation fails instead of the
  machine swapping, which Python reports as ``MemoryError`` (a C++
  ``std::bad_alloc`` crossing the binding becomes one too); a worker that dies
  with ``std::bad_alloc`` or ``MemoryError`` on its stderr (kept in a file per
  worker, its tail saved with the result), or by a SIGKILL the benchmark did
  not send (the kernel's OOM killer), is out of memory (status ``oom``); any
  other death (SIGSEGV, SIGABRT, ...) is a crash.  A worker that raised
  ``MemoryError`` is replaced before the next schema.
* Long runs: ``--json`` is rewritten every ``--checkpoint-every`` schemas and on
  SIGTERM / Ctrl-C; ``--resume`` loads it and skips the schemas it already has
  (the wall time adds up over the segments); a progress line is printed every
  ``--progress-every`` schemas.  Runs of every schema (``--all``) also print
  the reliability table: crashes, timeouts, out-of-memory, wrong verdicts,
  refusals by cause, wall time (``--reliability`` prints it for any run).
* Statistics: the per-token times of every measured token of every schema
  that compiled (failing schemas included, as in MaskBench); compile and
  first-mask times over the schemas that compiled.  Ratios xgram / peer are
  given over all schemas and over the schemas both engines compiled.

Absolute numbers drift on a shared 2-core machine: compare ratios from one
run.  ``bench_masks.py`` is not imported: it imports every engine (and torch)
at module level, and each worker here must load only its own engine.

Run from the repository root::

    python benchmarks/maskbench.py                                  # 200 schemas, 3 engines
    python benchmarks/maskbench.py --engines xgrammar,llguidance --num-schemas 200
    python benchmarks/maskbench.py --num-schemas 20 --json /tmp/mb.json
    python benchmarks/maskbench.py --load /tmp/mb.json --list-failures xgram
    python benchmarks/maskbench.py --schemas-from ids.txt --engines xgram   # rerun ids
    python benchmarks/maskbench.py --subset Github_hard,Kubernetes --num-schemas 50
    python benchmarks/maskbench.py --engines xgram --all --include-untested \
        --timeout 120 --mem-limit-gb 6 --json corpus.json --resume   # every schema
    python benchmarks/maskbench.py --load corpus.json --reliability --list-failures xgram
"""

from __future__ import annotations

import os

# One thread everywhere; set before any engine, torch or tokenizers starts a pool
# (spawned workers inherit the environment).
for _var, _val in (
    ("OMP_NUM_THREADS", "1"),
    ("MKL_NUM_THREADS", "1"),
    ("OPENBLAS_NUM_THREADS", "1"),
    ("RAYON_NUM_THREADS", "1"),
    ("TOKENIZERS_PARALLELISM", "false"),
    ("HF_HUB_OFFLINE", "1"),
    ("TRANSFORMERS_OFFLINE", "1"),
):
    os.environ.setdefault(_var, _val)

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import multiprocessing as mp  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from multiprocessing.connection import Connection, wait  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Dict, List, Optional, Sequence, Tuple  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from maskbench_engines import (  # noqa: E402
    ENGINE_CLASSES,
    EngineBase,
    memory_mb,
    package_version,
)
from maskbench_report import (  # noqa: E402
    finish,
    is_memory_error,
    print_failures,
    print_progress,
    print_reliability,
    print_table,
    resume_from,
    write_json,
)
from maskbench_sample import Record, load_sample, prepare  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
TOKENIZER_DIR = SHARED / "tokenizers" / "llama3"
ENGINES = ("xgram", "xgrammar", "llguidance")
INIT_TIMEOUT_S = 600.0
STDERR_TAIL_BYTES = 2000
# What a worker that ran out of memory leaves on its stderr: Python's MemoryError, a
# C++ std::bad_alloc that reached std::terminate, or a C library's ENOMEM message.
OOM_MARKERS = ("MemoryError", "std::bad_alloc", "Cannot allocate memory", "out of memory")

Result = Dict[str, Any]
Test = Tuple[bool, List[int]]


# ----------------------------------------------------------------------------
# engines (run inside the worker processes only)


def _short(ex: BaseException, limit: int = 500) -> str:
    text = str(ex).strip()
    first = text.splitlines()[0] if text else ""
    more = " [...]" if len(text.splitlines()) > 1 else ""
    return f"{type(ex).__name__}: {first[:limit]}{more}"


def run_schema(eng: EngineBase, schema: Any, tests: Sequence[Test], conn: Connection) -> Result:
    """Compile one schema and run all its instances (inside a worker)."""
    res: Result = {
        "compile_ms": None,
        "ttfm_ms": None,
        "compile_error": None,
        "instances": [],
        "times_us": [],
        "mismatches": [],
    }
    times: List[float] = res["times_us"]
    now = time.perf_counter_ns
    gc.collect()
    try:
        t0 = now()
        eng.compile(schema)
        t1 = now()
        eng.new_matcher()
        eng.fill()
        t2 = now()
    except Exception as ex:
        res["compile_error"] = _short(ex)
        eng.drop()
        return res
    res["compile_ms"] = (t1 - t0) / 1e6
    res["ttfm_ms"] = (t2 - t0) / 1e6
    conn.send(("compiled", res["compile_ms"]))
    for k, (valid, ids) in enumerate(tests):
        inst: Dict[str, Any] = {"valid": valid, "tokens": len(ids), "accepted": False}
        gc.disable()
        try:
            eng.new_matcher()
            refused = False
            for i, t in enumerate(ids):
                a = now()
                eng.fill()
                acc = eng.accept(t)
                b = now()
                times.append((b - a) / 1e3)
                bit = eng.allowed(t)
                if acc != bit:
                    res["mismatches"].append(
                        f"test #{k} token #{i} ({t}): mask bit {int(bit)}, accept {acc}"
                    )
                if not (acc and bit):
                    inst["at"] = i
                    why = eng.reason() or (
                        "not in the mask" if not bit else "accept_token returned False"
                    )
                    inst["why"] = why.strip().splitlines()[0][:300] if why.strip() else why
                    refused = True
                    break
            if not refused:
                eng.fill()
                end = eng.allowed(eng.eos)
                api = eng.can_end()
                if api is not None and api != end:
                    res["mismatches"].append(
                        f"test #{k} end: stop token bit {int(end)}, engine says can end {api}"
                    )
                if not end:
                    inst["at"] = len(ids)
                    inst["why"] = "stop token not allowed after the last token"
                inst["accepted"] = end
        except Exception as ex:
            inst["exception"] = _short(ex, 300)
        finally:
            gc.enable()
        res["instances"].append(inst)
    eng.drop()
    return res


def _worker_main(
    engine: str,
    tokenizer_dir: str,
    conn: Connection,
    mem_limit_gb: float,
    options: Dict[str, Any],
    stderr_path: str,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # The worker's stderr (C++ aborts included) goes to a file the parent reads when
    # the worker dies: it tells an allocation failure from a segfault.
    err_fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(err_fd, 2)
    os.close(err_fd)
    if mem_limit_gb > 0:
        import resource

        limit = int(mem_limit_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        import transformers

        hf_tok = transformers.AutoTokenizer.from_pretrained(tokenizer_dir)
        eng = ENGINE_CLASSES[engine](hf_tok, options)
        info = eng.info()
    except BaseException as ex:
        conn.send(("init_error", _short(ex)))
        return
    # The tokenizer and engine objects live as long as the worker: keeping them
    # out of the collector makes the untimed gc.collect() per schema cheap.
    gc.collect()
    gc.freeze()
    conn.send(("ready", info))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg[0] != "run":
            return
        res = run_schema(eng, msg[1], msg[2], conn)
        res.update(memory_mb())
        conn.send(("result", res))


# ----------------------------------------------------------------------------
# worker handling (parent)


class Worker:
    """A restartable worker process for one engine."""

    def __init__(self, engine: str, args: argparse.Namespace) -> None:
        self.engine = engine
        self.args = args
        self.ctx = mp.get_context("spawn")
        self.proc: Any = None
        self.conn: Optional[Connection] = None
        self.info: Dict[str, Any] = {}
        self.restarts = 0
        self.err_dir = tempfile.mkdtemp(prefix=f"maskbench-{engine}-")
        self.err_path = os.path.join(self.err_dir, "stderr.txt")

    def start(self) -> Optional[str]:
        """Start the worker; an error message if the engine cannot be set up."""
        parent, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(
            target=_worker_main,
            args=(
                self.engine,
                str(self.args.tokenizer),
                child,
                self.args.mem_limit_gb,
                {"xgram_precompute": self.args.xgram_precompute},
                self.err_path,
            ),
            name=f"maskbench-{self.engine}",
            daemon=True,
        )
        self.proc.start()
        child.close()
        self.conn = parent
        if not parent.poll(INIT_TIMEOUT_S):
            self.kill()
            return f"worker did not start within {INIT_TIMEOUT_S:.0f} s"
        try:
            kind, payload = parent.recv()
        except (EOFError, OSError):
            self.proc.join(10)
            code = self.proc.exitcode
            self.kill()
            tail = self._stderr_since(0).strip().splitlines()
            last = f": {tail[-1][:200]}" if tail else ""
            return f"worker died while starting ({_exit_text(code)}){last}"
        if kind != "ready":
            self.kill()
            return str(payload)
        self.info = payload
        return None

    def kill(self) -> None:
        if self.proc is not None:
            if self.proc.is_alive():
                self.proc.kill()
            self.proc.join(10)
        if self.conn is not None:
            self.conn.close()
        self.proc = self.conn = None

    def close(self) -> None:
        """Stop the worker and remove its stderr file."""
        if self.conn is not None:
            try:
                self.conn.send(("stop",))
            except OSError:
                pass
        self.kill()
        shutil.rmtree(self.err_dir, ignore_errors=True)

    def _stderr_size(self) -> int:
        try:
            return os.path.getsize(self.err_path)
        except OSError:
            return 0

    def _stderr_since(self, offset: int) -> str:
        """What the worker wrote to stderr since ``offset`` (its last bytes)."""
        try:
            with open(self.err_path, "rb") as fh:
                fh.seek(max(offset, self._stderr_size() - STDERR_TAIL_BYTES))
                return fh.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def run(self, schema: Any, tests: Sequence[Test], timeout: float) -> Result:
        if self.proc is None or not self.proc.is_alive():
            if self.proc is not None:
                self.kill()
            err = self.start()
            self.restarts += 1
            if err is not None:
                return {"status": "crash", "error": f"worker restart failed: {err}"}
        assert self.conn is not None and self.proc is not None
        t_start = time.monotonic()
        err_offset = self._stderr_size()
        self.conn.send(("run", schema, list(tests)))
        deadline = t_start + timeout
        phase, compile_ms = "compile", None
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                return {
                    "status": "timeout",
                    "error": f"timeout ({timeout:g} s) during {phase}",
                    "compile_ms": compile_ms,
                }
            ready = wait([self.conn, self.proc.sentinel], left)
            if self.conn in ready:
                try:
                    kind, payload = self.conn.recv()
                except (EOFError, OSError):
                    ready = [self.proc.sentinel]
                else:
                    if kind == "compiled":
                        phase, compile_ms = "matching", payload
                        continue
                    payload["wall_s"] = time.monotonic() - t_start
                    if is_memory_error(payload):
                        # A failed allocation may have left the worker half-updated.
                        self.kill()
                        payload["worker_replaced"] = "after MemoryError"
                    return payload
            if self.proc.sentinel in ready:
                self.proc.join(10)
                code = self.proc.exitcode
                self.kill()
                tail = self._stderr_since(err_offset)
                return {
                    "status": _death_status(code, tail),
                    "error": f"worker died during {phase} ({_exit_text(code)})",
                    "exit_code": code,
                    "stderr_tail": tail,
                    "compile_ms": compile_ms,
                    "wall_s": time.monotonic() - t_start,
                }


def _death_status(code: Optional[int], stderr_tail: str) -> str:
    """``oom`` for a worker that died for want of memory, else ``crash``."""
    if code == -signal.SIGKILL:
        return "oom"  # the benchmark kills only on timeouts: the kernel's OOM killer
    if any(marker in stderr_tail for marker in OOM_MARKERS):
        return "oom"
    return "crash"


def _exit_text(code: Optional[int]) -> str:
    if code is None:
        return "exit status unknown"
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


# ----------------------------------------------------------------------------
# data


# ----------------------------------------------------------------------------
# results


def _git_state() -> str:
    """The checkout's commit, and whether files differ from it (what code the run measured)."""
    import subprocess

    try:
        head = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return head + (" (modified: " + ", ".join(dirty.split()[1::2][:8]) + ")" if dirty else "")


def _new_doc(args: argparse.Namespace, engines: List[str], recs: List[Record]) -> Dict[str, Any]:
    return {
        "meta": {
            "argv": sys.argv[1:],
            "seed": args.seed,
            "all": args.num_schemas == "all",
            "include_untested": args.include_untested,
            "timeout_s": args.timeout,
            "mem_limit_gb": args.mem_limit_gb,
            "tokenizer": str(args.tokenizer),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "versions": {
                "xgrammar": package_version("xgrammar"),
                "llguidance": package_version("llguidance"),
                "transformers": package_version("transformers"),
            },
            "run_segments_s": [],
            "git": _git_state(),
        },
        "sample": [
            {
                "id": r.id,
                "subset": r.subset,
                "instances": len(r.tests),
                "valid": sum(1 for t in r.tests if t.get("valid")),
                "tokens": sum(len(ids) for ids in r.token_ids),
            }
            for r in recs
        ],
        "engines": {e: {"info": {}, "unavailable": None, "schemas": {}} for e in engines},
    }


def _schema_line(e: str, res: Result) -> str:
    extra = ""
    if res["status"] not in ("pass", "fail"):
        extra = ": " + str(res.get("error", ""))[:100]
    elif res["status"] == "fail":
        extra = (
            f" (val {res['validation_errors']}, inval {res['invalidation_errors']}, "
            f"exc {res['exceptions']})"
        )
    cms = res.get("compile_ms")
    return f"{e} {res['status']}{extra}" + (f" {cms:.1f}ms" if cms is not None else "")


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM ends a background run as Ctrl-C does: results kept


def _start_workers(
    args: argparse.Namespace, engines: List[str], doc: Dict[str, Any]
) -> Dict[str, Worker]:
    workers: Dict[str, Worker] = {}
    for e in engines:
        t0 = time.monotonic()
        wk = Worker(e, args)
        err = wk.start()
        if err is not None:
            doc["engines"][e]["unavailable"] = err
            print(f"{e}: unavailable: {err}", file=sys.stderr)
            wk.close()
            continue
        wk.restarts = doc["engines"][e].get("worker_restarts", 0)
        workers[e] = wk
        doc["engines"][e]["info"] = wk.info
        print(f"{e}: worker ready in {time.monotonic() - t0:.1f} s: {wk.info}", file=sys.stderr)
    return workers


def run(args: argparse.Namespace, engines: List[str]) -> Dict[str, Any]:
    import transformers

    hf_tok = transformers.AutoTokenizer.from_pretrained(str(args.tokenizer))
    recs = prepare(load_sample(args), hf_tok)
    comp = Counter(r.subset for r in recs)
    n_valid = sum(1 for r in recs for t in r.tests if t.get("valid"))
    n_inst = sum(len(r.tests) for r in recs)
    n_tok = sum(len(ids) for r in recs for ids in r.token_ids)
    print(
        f"sample: {len(recs)} schemas, {n_inst} instances ({n_valid} valid, "
        f"{n_inst - n_valid} invalid), {n_tok:,} tokens (compact JSON, Llama-3 tokenizer)"
    )
    print("by subset: " + ", ".join(f"{k} {v}" for k, v in comp.most_common()))
    doc = _new_doc(args, engines, recs)
    if args.resume:
        resume_from(doc, args.json)
    todo = [r for r in recs if not all(r.id in doc["engines"][e]["schemas"] for e in engines)]
    workers = _start_workers(args, engines, doc) if todo else {}
    t_run = time.monotonic()
    previous_s = sum(doc["meta"]["run_segments_s"])
    doc["meta"]["run_segments_s"].append(0.0)
    old_term = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        for k, rec in enumerate(todo):
            tests: List[Test] = [
                (bool(t.get("valid")), ids) for t, ids in zip(rec.tests, rec.token_ids)
            ]
            line = [f"[{k + 1 + len(recs) - len(todo)}/{len(recs)}] {rec.id}"]
            for e, wk in workers.items():
                if rec.id in doc["engines"][e]["schemas"]:
                    continue
                res = finish(wk.run(rec.schema, tests, args.timeout), rec, hf_tok)
                if not args.keep_times:
                    res["times_us"] = [round(t, 2) for t in res.get("times_us", [])]
                doc["engines"][e]["schemas"][rec.id] = res
                doc["engines"][e]["worker_restarts"] = wk.restarts
                line.append(_schema_line(e, res))
            print("  ".join(line), file=sys.stderr, flush=True)
            doc["meta"]["run_segments_s"][-1] = time.monotonic() - t_run
            if args.progress_every > 0 and (k + 1) % args.progress_every == 0:
                print_progress(doc, k + 1, len(todo), time.monotonic() - t_run)
            if args.json and args.checkpoint_every > 0 and (k + 1) % args.checkpoint_every == 0:
                doc["meta"]["run_s"] = previous_s + doc["meta"]["run_segments_s"][-1]
                write_json(doc, args.json)
    except KeyboardInterrupt:
        print("\ninterrupted: reporting the schemas finished so far", file=sys.stderr)
        done = [r.id for r in recs if all(r.id in doc["engines"][e]["schemas"] for e in workers)]
        for e in workers:
            sch = doc["engines"][e]["schemas"]
            doc["engines"][e]["schemas"] = {i: sch[i] for i in done}
        doc["meta"]["interrupted"] = True
    finally:
        signal.signal(signal.SIGTERM, old_term)
        for wk in workers.values():
            wk.close()
    doc["meta"]["run_segments_s"][-1] = time.monotonic() - t_run
    doc["meta"]["run_s"] = sum(doc["meta"]["run_segments_s"])
    for e, wk in workers.items():
        doc["engines"][e]["worker_restarts"] = wk.restarts
    return doc


def _count_or_all(text: str) -> Any:
    if text == "all":
        return "all"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'all', got {text!r}") from None


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--engines", default=",".join(ENGINES), help="comma list of " + ", ".join(ENGINES)
    )
    ap.add_argument(
        "--num-schemas",
        type=_count_or_all,
        default=200,
        help="how many records to sample, or 'all' (every record with tests, in file order)",
    )
    ap.add_argument("--all", action="store_true", help="same as --num-schemas all")
    ap.add_argument(
        "--include-untested",
        action="store_true",
        help="also take the records without test instances (compile and first mask only)",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--subset", default="", help="only these subsets (comma list), e.g. Github_hard"
    )
    ap.add_argument(
        "--schemas-from",
        default="",
        help="run exactly these ids: a --json output or one id per line (first word)",
    )
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per schema and engine")
    ap.add_argument(
        "--mem-limit-gb", type=float, default=16.0, help="address-space cap per worker (0: none)"
    )
    ap.add_argument("--tokenizer", default=str(TOKENIZER_DIR))
    ap.add_argument(
        "--xgram-precompute",
        action="store_true",
        help="xgram: GrammarCompiler(precompute=True), all mask-cache entries at compile time",
    )
    ap.add_argument("--json", default="", help="write per-schema results of every engine here")
    ap.add_argument(
        "--keep-times", action="store_true", help="keep full-precision per-token times in --json"
    )
    ap.add_argument(
        "--list-failures",
        action="append",
        default=[],
        metavar="ENGINE",
        help="print ENGINE's failing schemas grouped by message (repeatable; 'all')",
    )
    ap.add_argument("--load", default="", help="report on a saved --json file instead of running")
    ap.add_argument(
        "--resume",
        action="store_true",
        help="take the results already in --json and run only the schemas it lacks",
    )
    ap.add_argument(
        "--checkpoint-every",
        type=int,
        default=100,
        metavar="N",
        help="rewrite --json every N schemas (0: only at the end)",
    )
    ap.add_argument(
        "--progress-every",
        type=int,
        default=200,
        metavar="N",
        help="print a progress line every N schemas (0: never)",
    )
    ap.add_argument(
        "--reliability",
        action="store_true",
        help="print the reliability table (crashes, timeouts, OOM, refusals by cause); "
        "always printed for --all runs",
    )
    args = ap.parse_args(argv)
    if args.all:
        args.num_schemas = "all"
    if args.resume and not args.json:
        ap.error("--resume needs --json (the file to resume from and to write)")

    if args.load:
        doc = json.loads(Path(args.load).read_text(encoding="utf-8"))
    else:
        engines = [e for e in args.engines.split(",") if e]
        bad = [e for e in engines if e not in ENGINES]
        if bad:
            ap.error(f"unknown engine(s) {bad}; choose from {ENGINES}")
        print(
            "# maskbench: JSON Schema coverage, per-token mask time and compile time "
            "(one thread each, Llama-3 tokenizer)"
        )
        print(
            f"python {platform.python_version()}, {platform.machine()}, cpus={os.cpu_count()}, "
            f"xgrammar {package_version('xgrammar')}, llguidance {package_version('llguidance')}, "
            f"timeout {args.timeout:g} s/schema"
        )
        print("note: shared 2-core machine; absolute numbers drift between runs, compare ratios.")
        doc = run(args, engines)
        print(f"run time {doc['meta']['run_s']:,.1f} s (engines take turns, schema by schema)\n")
    print_table(doc)
    if args.reliability or doc["meta"].get("all"):
        print_reliability(doc)
    for e in args.list_failures:
        for name in doc["engines"] if e == "all" else [e]:
            print_failures(doc, name)
    if args.json:
        write_json(doc, args.json)
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
