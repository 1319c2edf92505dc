"""``xgram demo --batch N``: N chat requests decoded together, each under its own grammar.

A serving engine decodes many requests in one batch, and their grammars differ.
This mode gives row ``i`` the ``i mod 4``-th of four targets: the demo's own
(the bundled person schema, or ``--schema`` / ``--grammar``), a product record,
a calendar event and the builtin JSON grammar. The rows are left-padded into one
``model.generate`` call; :class:`xgram.contrib.hf.LogitsProcessor` keeps one
matcher per row and fills all rows' masks in one batch on xgram's C++ threads,
overlapped with the forward pass unless ``--no-overlap``. Every reply is
checked as in the single-request demo, and the report compares the batch's mask
time with the time the sampler waited for it.
"""

from __future__ import annotations

import argparse
import json
from typing import Any, Callable, Dict, List, TextIO

from ._demo_report import (
    DEFAULT_PROMPT,
    EXIT_INVALID,
    EXIT_OK,
    Target,
    _generate,
    _report_per_token,
    _say,
    check_output,
)

PRODUCT_SCHEMA: Dict[str, Any] = {
    "type": "object",
    "properties": {
        "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
        "name": {"type": "string", "minLength": 1, "maxLength": 40},
        "price": {"type": "number", "minimum": 0, "maximum": 100000},
        "in_stock": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 16}, "maxItems": 4},
    },
    "required": ["sku", "name", "price", "in_stock"],
    "additionalProperties": False,
}
"""A shop's product record: the second target of a batch."""
PRODUCT_PROMPT = (
    "Write a product of an online shop as a JSON object with the keys "
    '"sku" (three capital letters, a dash, four digits), "name", "price" (a number), '
    '"in_stock" (true or false) and "tags" (a list of short words). Reply with the JSON only.'
)
EVENT_SCHEMA: Dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 60},
        "date": {"type": "string", "format": "date"},
        "start": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
        "attendees": {"type": "integer", "minimum": 1, "maximum": 500},
        "online": {"type": "boolean"},
    },
    "required": ["title", "date", "start", "attendees", "online"],
    "additionalProperties": False,
}
"""A calendar event: the third target of a batch."""
EVENT_PROMPT = (
    'Write a calendar event as a JSON object with the keys "title", "date" (YYYY-MM-DD), '
    '"start" (HH:MM, 24-hour clock), "attendees" (a number of people) and "online" '
    "(true or false). Reply with the JSON only."
)


def batch_targets(first: Target, size: int) -> List[Target]:
    """The target of each of ``size`` rows: ``first``, product, event, JSON, in turn."""
    import xgram  # noqa: PLC0415 (keeps 'import xgram.demo' light)

    mix = [
        first,
        Target(
            xgram.Grammar.from_json_schema(PRODUCT_SCHEMA),
            "product schema",
            PRODUCT_PROMPT,
            PRODUCT_SCHEMA,
            True,
        ),
        Target(
            xgram.Grammar.from_json_schema(EVENT_SCHEMA),
            "event schema",
            EVENT_PROMPT,
            EVENT_SCHEMA,
            True,
        ),
        Target(xgram.Grammar.builtin_json_grammar(), "builtin JSON", DEFAULT_PROMPT, None, True),
    ]
    return [mix[row % len(mix)] for row in range(size)]


def run_batch(
    args: argparse.Namespace,
    out: TextIO,
    tokenizer: Any,
    model: Any,
    compiler: Any,
    first: Target,
    text_of: Callable[[Any], str],
) -> int:
    """Decode ``args.batch`` requests together; returns the demo's exit status."""
    from .contrib.hf import LogitsProcessor  # noqa: PLC0415 (needs torch)

    targets = batch_targets(first, args.batch)
    compiled_by_target: Dict[int, Any] = {}
    for target in targets:
        if id(target) not in compiled_by_target:
            compiled_by_target[id(target)] = compiler.compile_grammar(target.grammar)
    prompts = []
    for row, target in enumerate(targets):
        text = args.prompt if (args.prompt is not None and row % 4 == 0) else target.prompt
        messages = [{"role": "user", "content": text}]
        prompts.append(
            tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        )
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"  # generation continues every row at the same position
    inputs = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    names = ", ".join(dict.fromkeys(t.name for t in targets))
    _say(out, f"batch: {args.batch} requests decoded together, grammars in turn: {names}")
    processor = LogitsProcessor([compiled_by_target[id(t)] for t in targets])
    rows, elapsed, forward = _generate(model, inputs, args, [processor], tokenizer.pad_token_id)
    _say(out, f"generated in {elapsed:.1f} s")
    all_valid = True
    for row, (ids, target) in enumerate(zip(rows, targets)):
        text = text_of(ids)
        lines, valid = check_output(text, target)
        all_valid = all_valid and valid
        verdict = "valid" if valid else "INVALID"
        _say(out)
        _say(out, f"--- row {row} ({target.name}): {verdict} ---")
        _say(out, text if target.is_json is False else _one_line(text))
        for line in lines:
            if not valid or line.startswith("jsonschema"):
                _say(out, "  " + line)
    _report_per_token(
        out, processor.mask_seconds, forward, processor.wait_seconds, args.overlap, args.batch
    )
    return EXIT_OK if all_valid else EXIT_INVALID


def _one_line(text: str) -> str:
    """A JSON reply on one line (as compact as it parses), else as it is."""
    try:
        return json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        return text
