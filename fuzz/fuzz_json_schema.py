"""Fuzz target: ``Grammar.from_json_schema`` on structurally mutated real schemas.

Input layout: one byte of option bits, then the schema's JSON text. Bits:
0 ``any_whitespace=False``, 1 ``strict_mode=False``, 2 ``lenient``, 3 ``any_order``,
4 ``general_unicode_escapes``, 5 ``indent=2`` (with bit 0), 6 pass the schema as
text rather than parsed, 7 ``max_whitespace_cnt=3``.

The custom mutator (:mod:`schema_mutations`) parses the schema and edits it as a
tree (drop/duplicate/swap keys, schema-ish values, nesting under combinators,
types, ``$ref`` pointers, leaf nudges, subschemas grafted from MaskBench
schemas); one input in ten, and anything that is not JSON, goes to libFuzzer's
byte-level mutator instead. The seeds are the hand-written schemas of
fuzz/seeds/ and, in the working corpus, MaskBench schemas (fuzz/make_seeds.py).

Clean rejections: ``SchemaError`` and ``CompileBudgetError``. Any other exception
(a ``GrammarError`` or ``RecursionError`` escaping the converter included), a
grammar whose printed EBNF does not parse back or matches differently, a
sanitizer report, a crash or a hang is a finding, but for the known findings set
aside below (see fuzz/README.md).

Run with ``fuzz/run.sh fuzz_json_schema SECONDS``.
"""

from __future__ import annotations

import json
import math
import random
import sys
import traceback
import warnings
from pathlib import Path
from typing import Any, Dict, List

import atheris
from fuzz_support import instrumented_imports

with instrumented_imports():
    from fuzz_support import OutcomeFeedback, run, size_bucket
    from grammar_checks import check_string_matching
    from schema_mutations import SchemaMutator, mutate_input, split_options, subschemas

    import xgram
    import xgram.json_schema.convert  # noqa: F401  (instrument the converter: it loads lazily)

CLEAN = (xgram.SchemaError, xgram.CompileBudgetError)
PROBES = ["{}", "[]", "null", "0", "-1.5e3", '"a"', "true", '{"a": 1}', '{"a":"b","c":[1,{}]}']
FUZZ_DIR = Path(__file__).resolve().parent


def load_donors(limit: int = 4000) -> List[Any]:
    """Subschemas to graft: from MaskBench when ../shared is present, else from the seeds."""
    import make_seeds  # noqa: PLC0415  (its MaskBench reader; not instrumented)

    schemas = [row["schema"] for row in make_seeds.maskbench_rows()]
    if not schemas:
        for seed in sorted((FUZZ_DIR / "seeds" / "fuzz_json_schema").iterdir()):
            schemas.append(json.loads(seed.read_bytes()[1:]))
    donors = [node for schema in schemas for node in subschemas(schema)]
    random.Random(7).shuffle(donors)
    return donors[:limit]


MUTATOR = SchemaMutator(load_donors())
FEEDBACK = OutcomeFeedback()


def options_from(bits: int) -> Dict[str, Any]:
    """The ``from_json_schema`` keyword arguments encoded by the option byte."""
    any_whitespace = not bits & 1
    return {
        "any_whitespace": any_whitespace,
        "strict_mode": not bits & 2,
        "lenient": bool(bits & 4),
        "any_order": bool(bits & 8),
        "general_unicode_escapes": bool(bits & 16),
        "indent": 2 if bits & 32 and not any_whitespace else None,
        "max_whitespace_cnt": 3 if bits & 128 and any_whitespace else None,
    }


def constant_spelling_size(value: Any) -> int:
    """Roughly how many grammar pieces spell the constant ``value`` (see the known finding).

    Known finding (tests/test_fuzz_regressions.py): ``const``/``enum`` objects of
    up to four keys are spelled in every key order, each order inlining the
    members' own spellings, so the grammar grows 24-fold per nesting level.
    """
    if isinstance(value, list):
        return 1 + sum(constant_spelling_size(v) for v in value)
    if isinstance(value, dict):
        inner = len(value) + sum(constant_spelling_size(v) for v in value.values())
        return inner * (math.factorial(len(value)) if len(value) <= 4 else 1)
    return 1


def has_exploding_constant(node: Any, depth: int = 0) -> bool:
    """Whether a ``const``/``enum`` anywhere in ``node`` would hit the known blow-up."""
    if depth > 200:
        return False
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("const", "enum") and constant_spelling_size(value) > 100_000:
                return True
            if has_exploding_constant(value, depth + 1):
                return True
    elif isinstance(node, list):
        return any(has_exploding_constant(v, depth + 1) for v in node)
    return False


def raised_in_negation(exc: BaseException) -> bool:
    """Whether ``exc`` comes from the negation of a subschema (a known finding).

    Known finding (tests/test_fuzz_regressions.py): under ``not``, keyword values
    are used without the checks made elsewhere, so ``{"not": {"type": 5}}`` raises
    TypeError (and ``properties: "x"`` AttributeError, ``maxLength: "x"``
    ValueError) instead of SchemaError.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    return any(frame.filename.endswith("json_schema/negation.py") for frame in frames)


def test_one_input(data: bytes) -> None:
    """Convert one schema and check the grammar's matching properties."""
    bits, raw = split_options(data)
    text = raw.decode("utf-8", "replace")
    try:
        parsed: Any = json.loads(text)
    except (ValueError, RecursionError):
        parsed = None  # the converter must reject the text itself, cleanly
    schema = text if bits & 64 or parsed is None else parsed
    if has_exploding_constant(parsed):
        FEEDBACK.observe("known", "exploding constant")
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", xgram.SchemaRelaxedWarning)
        try:
            grammar = xgram.Grammar.from_json_schema(schema, **options_from(bits))
        except CLEAN as exc:
            FEEDBACK.observe_error("convert", exc, getattr(exc, "keyword", ""))
            return
        except xgram.GrammarError as exc:
            # Known finding (tests/test_fuzz_regressions.py): minItems/maxItems past
            # the EBNF repetition bound reach the parser instead of a SchemaError.
            if "repetition bound is too large" not in str(exc):
                raise
            FEEDBACK.observe_error("known-items-bound", exc)
            return
        except (AttributeError, TypeError, ValueError) as exc:
            if isinstance(exc, xgram.XgramError) or not raised_in_negation(exc):
                raise
            FEEDBACK.observe_error("known-negation", exc)
            return
    FEEDBACK.observe("rules", size_bucket(len(grammar.rule_names)), size_bucket(len(str(grammar))))
    check_string_matching(grammar, PROBES, FEEDBACK)


def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
    """Structural schema edits (see :func:`schema_mutations.mutate_input`)."""
    return mutate_input(data, max_size, seed, MUTATOR, atheris.Mutate)


if __name__ == "__main__":
    run(test_one_input, custom_mutator=custom_mutator, argv=sys.argv)
