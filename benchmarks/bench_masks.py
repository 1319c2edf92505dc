"""Per-token mask time and compile time: xgram vs XGrammar vs llguidance.

All three engines run in this one process, on one thread, with the Llama-3
tokenizer (``/work/shared/tokenizers/llama3``).  Workloads:

* ``json``: the builtin JSON grammar over real JSON documents (the valid test
  instances of ``/work/shared/schemas/jsonschemabench-maskbench/*.jsonl.gz``,
  top-level objects and arrays only, serialised with ``json.dumps``, some of
  them indented).  For llguidance, which has no builtin JSON grammar, the JSON
  schema ``{"type": ["object", "array"]}`` with flexible whitespace is used: it
  is the same language as XGrammar's builtin grammar (an object or an array at
  the top level, any JSON inside, any JSON whitespace between tokens).
* ``arithmetic``, ``chess``, ``minilang``: the EBNF grammars of ``grammars/``
  with their ``grammars/examples/<name>/valid_*.txt`` inputs.  llguidance gets
  them through ``llguidance.grammar_from("gbnf", text)`` (GBNF -> Lark); an
  engine that cannot compile a grammar is reported and skipped for it.

The EBNF text given to llguidance has its ``| alternative`` continuation lines
joined onto the previous line (its GBNF->Lark converter rejects them
otherwise); the language is unchanged, and the acceptance check below would
show any difference.

Each document is tokenized without special tokens; for each token the
benchmark times ``fill_next_token_bitmask`` (the mask time) and then accepts
the token.  At the end of the document it fills one more mask and checks that
a stop token is allowed.  Every rejection and every missing stop token is
reported (never hidden).  One matcher per engine and grammar is used, with
``reset()`` between documents.  Mask timing per engine and workload stops after
``--mask-budget`` seconds (XGrammar is very slow on ``minilang``); the rest of
the tokens are still accepted and the stop token still checked, and the
number of timed tokens is printed.

xgram appears twice: ``xgram-lazy`` (default compile: mask-cache entries are
computed on first use, so the first pass pays for them inside the mask times)
and ``xgram-eager`` (the same grammar after ``cg.precompute(1)``).

Also measured: compile time (fresh compiler, no cache; xgram lazy, xgram
eager = compile + ``precompute(1)``, XGrammar, llguidance = grammar
conversion + ``LLMatcher`` construction) and time to first mask; TokenizerInfo
build time; the CPU apply-bitmask kernel on a (16, 128256) float32 tensor.

Absolute numbers drift on a shared 2-core machine: compare ratios from the
same run, and rerun before drawing conclusions from small differences.

Run from the repository root::

    python benchmarks/bench_masks.py            # default, a few minutes
    python benchmarks/bench_masks.py --quick    # short run
"""

from __future__ import annotations

import os

# One thread everywhere; must be set before torch / rayon start their pools.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS", "TOKENIZERS_PARALLELISM"):
    os.environ.setdefault(_var, "1" if _var != "TOKENIZERS_PARALLELISM" else "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import argparse  # noqa: E402
import gc  # noqa: E402
import glob  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import llguidance  # noqa: E402
import llguidance.hf  # noqa: E402
import llguidance.numpy  # noqa: E402
import transformers  # noqa: E402
import xgrammar  # noqa: E402

import xgram  # noqa: E402

torch.set_num_threads(1)

TOKENIZER_DIR = "/work/shared/tokenizers/llama3"
SCHEMA_DIR = "/work/shared/schemas/jsonschemabench-maskbench"
EBNF_NAMES = ("arithmetic", "chess", "minilang")
LLG_JSON_SCHEMA = {"type": ["object", "array"]}
LLG_JSON_OVERRIDES = {"whitespace_flexible": True}
ENGINES = ("xgram-lazy", "xgram-eager", "xgrammar", "llguidance")


# ----------------------------------------------------------------------------
# helpers


def now() -> float:
    return time.perf_counter()


def timed(fn: Callable[[], Any]) -> Tuple[float, Any]:
    t0 = now()
    r = fn()
    return now() - t0, r


def bit_set(mask_row: np.ndarray, token_id: int) -> bool:
    return bool((int(mask_row[token_id >> 5]) >> (token_id & 31)) & 1)


def fmt_ratio(a: Optional[float], b: Optional[float]) -> str:
    if a is None or b is None or b == 0:
        return "n/a"
    r = a / b
    return f"{r:.2f}x" if r >= 0.1 else f"{r:.4f}x"


def fmt(v: Optional[float], digits: int = 1) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"


@dataclass
class MaskStats:
    times_us: List[float] = field(default_factory=list)
    accept_us: List[float] = field(default_factory=list)
    docs: int = 0
    unmeasured: int = 0
    mismatches: List[str] = field(default_factory=list)

    def summary(self) -> Dict[str, Optional[float]]:
        if not self.times_us:
            return {"mean": None, "p50": None, "p99": None, "max": None, "accept": None}
        a = np.asarray(self.times_us)
        return {
            "mean": float(a.mean()),
            "p50": float(np.percentile(a, 50)),
            "p99": float(np.percentile(a, 99)),
            "max": float(a.max()),
            "accept": float(np.mean(self.accept_us)) if self.accept_us else None,
        }


# ----------------------------------------------------------------------------
# workloads


def load_json_docs(n: int, seed: int = 0) -> List[str]:
    """``n`` valid JSON instances (objects / arrays) of varied size."""
    pool: List[str] = []
    for path in sorted(glob.glob(os.path.join(SCHEMA_DIR, "*.jsonl.gz"))):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                tests = rec.get("tests") or []
                if isinstance(tests, str):
                    continue
                for t in tests:
                    if (
                        isinstance(t, dict)
                        and t.get("valid")
                        and isinstance(t.get("data"), (dict, list))
                    ):
                        pool.append(json.dumps(t["data"], ensure_ascii=False))
    pool = sorted(set(pool), key=lambda s: (len(s), s))
    if not pool:
        raise SystemExit(f"no JSON instances found under {SCHEMA_DIR}")
    # Evenly spaced over the size-sorted pool (varied sizes), deterministic.
    n = min(n, len(pool))
    idx = sorted({int(i * (len(pool) - 1) / max(1, n - 1)) for i in range(n)})
    rng = random.Random(seed)
    docs = []
    for k, i in enumerate(idx):
        s = pool[i]
        # Every fourth document indented, to exercise whitespace in the grammar.
        if k % 4 == 3 and len(s) < 20000:
            s = json.dumps(json.loads(s), indent=2, ensure_ascii=False)
        docs.append(s)
    rng.shuffle(docs)
    return docs


def load_ebnf(name: str) -> Tuple[str, List[Tuple[str, str]]]:
    text = (REPO_ROOT / "grammars" / f"{name}.ebnf").read_text(encoding="utf-8")
    docs = []
    for p in sorted((REPO_ROOT / "grammars" / "examples" / name).glob("valid_*.txt")):
        docs.append((f"{name}/{p.name}", p.read_text(encoding="utf-8")))
    return text, docs


# ----------------------------------------------------------------------------
# engines: each exposes compile(workload) -> handle, matcher(handle), fill,
# accept, stop-allowed


class Engines:
    def __init__(self, hf_tok: Any, vocab_size: int) -> None:
        self.hf_tok = hf_tok
        self.vocab_size = vocab_size
        self.xg_info = xgram.TokenizerInfo.from_huggingface(hf_tok)
        self.xgr_info = xgrammar.TokenizerInfo.from_huggingface(hf_tok, vocab_size=vocab_size)
        self.llg_tok = llguidance.hf.from_tokenizer(hf_tok, n_vocab=vocab_size)
        self.stop_ids = {
            "xgram": list(self.xg_info.stop_token_ids),
            "xgrammar": list(self.xgr_info.stop_token_ids),
            "llguidance": [int(hf_tok.eos_token_id)],
        }
        # The stop check uses the tokenizer's EOS (<|end_of_text|>), which every
        # engine treats as a stop token, so the check is the same for all.
        self.stop_check = [int(hf_tok.eos_token_id)]

    # -- compile ---------------------------------------------------------------

    def compile_xgram(self, workload: str, ebnf: Optional[str]) -> Any:
        comp = xgram.GrammarCompiler(self.xg_info, max_threads=1, cache_enabled=False)
        return comp.compile_builtin_json_grammar() if ebnf is None else comp.compile_grammar(ebnf)

    def compile_xgrammar(self, workload: str, ebnf: Optional[str]) -> Any:
        comp = xgrammar.GrammarCompiler(self.xgr_info, max_threads=1, cache_enabled=False)
        return comp.compile_builtin_json_grammar() if ebnf is None else comp.compile_grammar(ebnf)

    def llg_grammar(self, ebnf: Optional[str]) -> str:
        if ebnf is None:
            return llguidance.LLMatcher.grammar_from_json_schema(
                LLG_JSON_SCHEMA,
                overrides=LLG_JSON_OVERRIDES,  # type: ignore[arg-type]
            )
        return llguidance.grammar_from("gbnf", join_continuations(ebnf))

    def compile_llg(self, workload: str, ebnf: Optional[str]) -> Any:
        m = llguidance.LLMatcher(self.llg_tok, self.llg_grammar(ebnf), log_level=0)
        if m.is_error():
            raise RuntimeError(m.get_error())
        return m


def join_continuations(ebnf: str) -> str:
    """llguidance's GBNF->Lark converter rejects an alternative that starts a
    line (``    | number``); join such lines onto the previous one.  This only
    moves newlines, so the grammar's language is unchanged."""
    out: List[str] = []
    for line in ebnf.splitlines():
        if line.lstrip().startswith("|") and out:
            # Drop a trailing comment on the line being continued.
            prev = out[-1]
            out[-1] = (
                (prev.split("#", 1)[0] if _comment_free(prev) else prev).rstrip()
                + " "
                + line.strip()
            )
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def _comment_free(line: str) -> bool:
    # True when a '#' in the line can only start a comment (no quotes or brackets).
    return "#" in line and not any(c in line for c in "\"'[")


class Runner:
    """Uniform per-engine matcher interface."""

    def __init__(self, kind: str, eng: Engines, handle: Any) -> None:
        self.kind = kind
        self.eng = eng
        vs = eng.vocab_size
        if kind in ("xgram-lazy", "xgram-eager"):
            self.m = xgram.GrammarMatcher(handle)
            self.bm = np.zeros(xgram.get_bitmask_shape(1, eng.xg_info.vocab_size), np.int32)
            self.row = self.bm[0]
            self.stop = eng.stop_check
            self._fill = lambda: self.m.fill_next_token_bitmask(self.bm)
            self._accept = self.m.accept_token
        elif kind == "xgrammar":
            self.m = xgrammar.GrammarMatcher(handle)
            self.bm_t = xgrammar.allocate_token_bitmask(1, vs)
            self.row = self.bm_t.numpy()[0]
            self.stop = eng.stop_check
            self._fill = lambda: self.m.fill_next_token_bitmask(self.bm_t)
            self._accept = self.m.accept_token
        else:
            # LLMatcher built at compile time.  reset() does not leave the error
            # state, so keep a pristine copy to restart from after a rejection.
            self.template = handle.deep_copy()
            self.m = handle
            self.bm = llguidance.numpy.allocate_token_bitmask(1, vs)
            self.row = self.bm[0]
            self.stop = eng.stop_check
            row = self.row
            ptr, nbytes = row.ctypes.data, row.size * row.itemsize
            self._fill = lambda: self.m.unsafe_compute_mask_ptr(ptr, nbytes)
            self._accept = lambda t: self.m.consume_token(t) and not self.m.is_error()

    def reset(self) -> None:
        self.m.reset()
        if self.kind == "llguidance" and self.m.is_error():
            self.m = self.template.deep_copy()

    def fill(self) -> None:
        self._fill()

    def accept(self, tok: int) -> bool:
        return bool(self._accept(tok))

    def allowed(self, tok: int) -> bool:
        return bit_set(self.row, tok)

    def stop_allowed(self) -> bool:
        return any(self.allowed(t) for t in self.stop)

    def error_detail(self) -> str:
        if self.kind == "llguidance" and self.m.is_error():
            lines = self.m.get_error().splitlines() or [""]
            return " llg error: " + lines[0][:200]
        return ""


def run_docs(
    runner: Runner,
    docs: Sequence[Tuple[str, List[int]]],
    hf_tok: Any,
    stats: MaskStats,
    budget_s: float,
) -> None:
    """Time the masks of every token; after ``budget_s`` seconds stop timing but
    keep accepting (and checking the stop token) so correctness is still
    verified on every document."""
    gc.collect()
    gc.disable()
    start = now()
    try:
        for name, ids in docs:
            runner.reset()
            stats.docs += 1
            ok = True
            for i, t in enumerate(ids):
                measure = now() - start < budget_s
                if measure:
                    t0 = now()
                    runner.fill()
                    t1 = now()
                    allowed: Optional[bool] = runner.allowed(t)
                else:
                    t1 = now()
                    allowed = None  # mask not computed
                acc = runner.accept(t)
                t2 = now()
                if measure:
                    stats.times_us.append((t1 - t0) * 1e6)
                    stats.accept_us.append((t2 - t1) * 1e6)
                else:
                    stats.unmeasured += 1
                if not acc or allowed is False:
                    ctx = hf_tok.decode(ids[max(0, i - 8) : i])
                    what = "rejected by accept_token" if not acc else "accepted but not in mask"
                    bit = "n/a" if allowed is None else int(allowed)
                    stats.mismatches.append(
                        f"{runner.kind}: doc {name}: token #{i} id={t} {hf_tok.decode([t])!r} "
                        f"{what} (mask bit={bit}); after ...{ctx!r}{runner.error_detail()}"
                    )
                    if not acc:  # the matcher state is unusable from here
                        ok = False
                        break
            if ok:
                runner.fill()
                if not runner.stop_allowed():
                    stats.mismatches.append(
                        f"{runner.kind}: doc {name}: stop token(s) {runner.stop} not allowed "
                        f"after all {len(ids)} tokens (tail {hf_tok.decode(ids[-8:])!r})"
                    )
    finally:
        gc.enable()


# ----------------------------------------------------------------------------
# sections


def bench_tokenizer_info(hf_tok: Any, vocab_size: int, reps: int) -> Dict[str, float]:
    fns = {
        "xgram": lambda: xgram.TokenizerInfo.from_huggingface(hf_tok),
        "xgrammar": lambda: xgrammar.TokenizerInfo.from_huggingface(hf_tok, vocab_size=vocab_size),
        "llguidance": lambda: llguidance.hf.from_tokenizer(hf_tok, n_vocab=vocab_size),
    }
    out = {}
    for name, fn in fns.items():
        ts = []
        for _ in range(reps):
            gc.collect()
            ts.append(timed(fn)[0])
        out[name] = min(ts) * 1e3
    return out


def bench_compile(
    eng: Engines, workload: str, ebnf: Optional[str], reps: int, first_doc: List[int]
) -> Tuple[Dict[str, Dict[str, Optional[float]]], List[str]]:
    """Per engine: compile ms, time to first mask ms (median over reps)."""
    res: Dict[str, Dict[str, List[float]]] = {e: {"compile": [], "ttfm": []} for e in ENGINES}
    errors: List[str] = []
    skip: set = set()
    for _ in range(reps):
        for e in ENGINES:
            if e in skip:
                continue
            gc.collect()
            try:
                t0 = now()
                if e in ("xgram-lazy", "xgram-eager"):
                    h = eng.compile_xgram(workload, ebnf)
                    if e == "xgram-eager":
                        h.precompute(1)
                elif e == "xgrammar":
                    h = eng.compile_xgrammar(workload, ebnf)
                else:
                    h = eng.compile_llg(workload, ebnf)
                t1 = now()
                r = Runner(e, eng, h)
                r.fill()
                t2 = now()
            except Exception as ex:  # report, skip this engine for the workload
                errors.append(
                    f"{e}: {workload}: compile failed: {type(ex).__name__}: {str(ex)[:300]}"
                )
                skip.add(e)
                continue
            res[e]["compile"].append((t1 - t0) * 1e3)
            res[e]["ttfm"].append((t2 - t0) * 1e3)
    out: Dict[str, Dict[str, Optional[float]]] = {}
    for e in ENGINES:
        c, f = res[e]["compile"], res[e]["ttfm"]
        out[e] = {
            "compile": statistics.median(c) if c else None,
            "ttfm": statistics.median(f) if f else None,
        }
    return out, errors


def bench_apply(reps: int, vocab_size: int) -> Dict[str, Optional[float]]:
    batch = 16
    rng = np.random.default_rng(0)
    words = (vocab_size + 31) // 32
    bm_np = rng.integers(-(2**31), 2**31 - 1, size=(batch, words), dtype=np.int64).astype(np.int32)
    bm_t = torch.from_numpy(bm_np.copy())
    base = rng.standard_normal((batch, vocab_size), dtype=np.float32)
    out: Dict[str, Optional[float]] = {}

    def run(name: str, fn: Callable[[], None]) -> None:
        try:
            fn()  # warm-up (and first-call dispatch)
        except Exception as ex:
            print(f"  apply {name}: failed: {type(ex).__name__}: {ex}")
            out[name] = None
            return
        ts = []
        gc.disable()
        try:
            for _ in range(reps):
                t0 = now()
                fn()
                ts.append(now() - t0)
        finally:
            gc.enable()
        out[name] = statistics.mean(ts) * 1e6

    lt = torch.from_numpy(base.copy())
    ln = base.copy()
    lx = torch.from_numpy(base.copy())
    run("xgram torch", lambda: xgram.apply_token_bitmask_inplace(lt, bm_t))
    run("xgram numpy", lambda: xgram.apply_token_bitmask_inplace(ln, bm_np))
    run("xgrammar torch", lambda: xgrammar.apply_token_bitmask_inplace(lx, bm_t))
    # Correctness: all three must agree.
    ref = lx.numpy()
    same_t = np.array_equal(lt.numpy(), ref)
    same_n = np.array_equal(ln, ref)
    out["agree"] = float(same_t and same_n)
    if not (same_t and same_n):
        print(f"  APPLY MISMATCH: xgram torch equal={same_t}, xgram numpy equal={same_n}")
    return out


# ----------------------------------------------------------------------------


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="short run (fewer documents and repeats)")
    ap.add_argument(
        "--json-docs",
        type=int,
        default=None,
        help="number of JSON documents (default 80, quick 20)",
    )
    ap.add_argument(
        "--compile-reps", type=int, default=None, help="compile repeats (default 3, quick 1)"
    )
    ap.add_argument(
        "--mask-budget",
        type=float,
        default=None,
        help="seconds of mask timing per engine and workload (default 30, quick 8); "
        "past it tokens are still accepted and checked but not timed",
    )
    ap.add_argument("--workloads", default="json," + ",".join(EBNF_NAMES))
    args = ap.parse_args(argv)
    n_json = args.json_docs or (20 if args.quick else 80)
    creps = args.compile_reps or (1 if args.quick else 3)
    tok_reps = 1 if args.quick else 2
    mask_budget = args.mask_budget or (8.0 if args.quick else 30.0)
    apply_reps = 20 if args.quick else 100
    workloads = [w for w in args.workloads.split(",") if w]

    t_start = now()
    print("# bench_masks: xgram vs XGrammar vs llguidance (one thread, Llama-3 tokenizer)")
    print(
        f"python {platform.python_version()}, {platform.machine()}, cpus={os.cpu_count()}, "
        f"torch threads={torch.get_num_threads()}, xgrammar {_version('xgrammar')}, "
        f"llguidance {llguidance.__version__}, transformers {transformers.__version__}"
    )
    print("note: shared 2-core machine; absolute numbers drift between runs, compare ratios.\n")

    hf_tok = transformers.AutoTokenizer.from_pretrained(TOKENIZER_DIR)
    vocab_size = len(hf_tok)
    eng = Engines(hf_tok, vocab_size)
    print(
        f"tokenizer: {TOKENIZER_DIR}, vocab={vocab_size} (xgram {eng.xg_info.vocab_size}, "
        f"xgrammar {eng.xgr_info.vocab_size}); stop ids: {eng.stop_ids}\n"
    )

    # -- TokenizerInfo ---------------------------------------------------------
    tinfo = bench_tokenizer_info(hf_tok, vocab_size, tok_reps)
    print(f"## TokenizerInfo build (best of {tok_reps}, ms)")
    for k, v in tinfo.items():
        print(f"  {k:<11} {v:9.1f} ms")
    print(
        f"  ratio xgram/xgrammar {fmt_ratio(tinfo['xgram'], tinfo['xgrammar'])}, "
        f"xgram/llguidance {fmt_ratio(tinfo['xgram'], tinfo['llguidance'])}\n"
    )

    # -- workloads -------------------------------------------------------------
    all_rows: List[
        Tuple[str, str, Dict[str, Optional[float]], int, Dict[str, Optional[float]]]
    ] = []
    all_mismatch: List[str] = []
    all_errors: List[str] = []
    for w in workloads:
        if w == "json":
            ebnf = None
            texts = [(f"json/{i}", s) for i, s in enumerate(load_json_docs(n_json))]
        else:
            ebnf, texts = load_ebnf(w)
        docs = [(name, hf_tok.encode(s, add_special_tokens=False)) for name, s in texts]
        n_tok = sum(len(ids) for _, ids in docs)
        n_bytes = sum(len(s.encode()) for _, s in texts)
        print(f"## workload {w}: {len(docs)} documents, {n_bytes} bytes, {n_tok} tokens")
        comp, errs = bench_compile(eng, w, ebnf, creps, docs[0][1])
        all_errors += errs
        for e in errs:
            print(f"  COMPILE ERROR {e}")
        print(f"  compile (median of {creps}, ms) / time to first mask (ms):")
        for e in ENGINES:
            print(
                f"    {e:<12} compile {fmt(comp[e]['compile'], 2):>9}   "
                f"first mask {fmt(comp[e]['ttfm'], 2):>9}"
            )

        # Fresh grammars for the mask pass (the lazy one starts cold).
        handles: Dict[str, Any] = {}
        for e in ENGINES:
            try:
                if e == "xgram-lazy":
                    handles[e] = eng.compile_xgram(w, ebnf)
                elif e == "xgram-eager":
                    h = eng.compile_xgram(w, ebnf)
                    h.precompute(1)
                    handles[e] = h
                elif e == "xgrammar":
                    handles[e] = eng.compile_xgrammar(w, ebnf)
                else:
                    handles[e] = eng.compile_llg(w, ebnf)
            except Exception as ex:
                if not any(x.startswith(f"{e}: {w}:") for x in all_errors):
                    msg = f"{e}: {w}: compile failed: {type(ex).__name__}: {str(ex)[:300]}"
                    all_errors.append(msg)
                    print(f"  COMPILE ERROR {msg}")
        print("  mask time per token (µs):")
        for e in ENGINES:
            if e not in handles:
                print(f"    {e:<12} skipped (no grammar)")
                continue
            st = MaskStats()
            run_docs(Runner(e, eng, handles[e]), docs, hf_tok, st, mask_budget)
            s = st.summary()
            all_rows.append((w, e, s, len(st.times_us), comp[e]))
            all_mismatch += st.mismatches
            print(
                f"    {e:<12} mean {fmt(s['mean']):>8}  p50 {fmt(s['p50']):>8}  "
                f"p99 {fmt(s['p99']):>8}  max {fmt(s['max']):>9}  "
                f"accept {fmt(s['accept']):>6}  tokens {len(st.times_us):>6}  "
                f"mismatches {len(st.mismatches)}"
                + (f"  (budget hit: {st.unmeasured} tokens not timed)" if st.unmeasured else "")
            )
            for mm in st.mismatches[:5]:
                print(f"      MISMATCH {mm}")
            if len(st.mismatches) > 5:
                print(f"      ... {len(st.mismatches) - 5} more")
        by = {e: s for (ww, e, s, _, _) in all_rows if ww == w}
        for xe in ("xgram-lazy", "xgram-eager"):
            for peer in ("xgrammar", "llguidance"):
                if xe in by and peer in by:
                    a, b = by[xe], by[peer]
                    print(
                        f"  ratio {xe}/{peer}: mean {fmt_ratio(a['mean'], b['mean'])}, "
                        f"p50 {fmt_ratio(a['p50'], b['p50'])}, "
                        f"p99 {fmt_ratio(a['p99'], b['p99'])}, "
                        f"compile {fmt_ratio(comp[xe]['compile'], comp[peer]['compile'])}, "
                        f"first mask {fmt_ratio(comp[xe]['ttfm'], comp[peer]['ttfm'])}"
                    )
        print()

    # -- apply kernel ----------------------------------------------------------
    ap_res = bench_apply(apply_reps, vocab_size)
    print(
        f"## apply_token_bitmask_inplace, logits (16, {vocab_size}) float32 CPU, "
        f"mean of {apply_reps} (µs)"
    )
    for k in ("xgram torch", "xgram numpy", "xgrammar torch"):
        print(f"  {k:<15} {fmt(ap_res.get(k)):>10} µs")
    print(
        f"  results agree: {bool(ap_res.get('agree'))}; ratio xgram torch/xgrammar "
        f"{fmt_ratio(ap_res.get('xgram torch'), ap_res.get('xgrammar torch'))}, "
        "xgram numpy/xgrammar "
        f"{fmt_ratio(ap_res.get('xgram numpy'), ap_res.get('xgrammar torch'))}\n"
    )

    # -- Markdown ----------------------------------------------------------------
    print("## Markdown summary\n")
    print(
        "| workload | engine | mask mean µs | p50 µs | p99 µs | max µs | tokens | compile ms | "
        "time to first mask ms | mismatches |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for w, e, s, n, c in all_rows:
        nm = sum(1 for m in all_mismatch if m.startswith(f"{e}: ") and _mm_workload(m) == w)
        print(
            f"| {w} | {e} | {fmt(s['mean'])} | {fmt(s['p50'])} | {fmt(s['p99'])} | "
            f"{fmt(s['max'])} | {n} | "
            f"{fmt(c['compile'], 2)} | {fmt(c['ttfm'], 2)} | {nm} |"
        )
    print()
    print("| TokenizerInfo build | ms |")
    print("|---|---:|")
    for k, v in tinfo.items():
        print(f"| {k} | {v:.1f} |")
    print()
    print("| apply kernel (16 x vocab, CPU) | µs |")
    print("|---|---:|")
    for k in ("xgram torch", "xgram numpy", "xgrammar torch"):
        print(f"| {k} | {fmt(ap_res.get(k))} |")
    print()

    print(f"## correctness: {len(all_mismatch)} mismatch(es), {len(all_errors)} compile error(s)")
    for m in all_mismatch:
        print(f"  MISMATCH {m}")
    for e in all_errors:
        print(f"  COMPILE ERROR {e}")
    print(f"\ntotal wall time {now() - t_start:.1f} s")
    return 1 if all_mismatch else 0


def _mm_workload(msg: str) -> str:
    # "<engine>: doc <workload>/<name>: ..." -> workload
    try:
        return msg.split(": doc ", 1)[1].split("/", 1)[0]
    except IndexError:
        return ""


def _version(pkg: str) -> str:
    try:
        from importlib.metadata import version

        return version(pkg)
    except Exception:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
