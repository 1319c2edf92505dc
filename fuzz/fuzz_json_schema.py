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
import random
import sys
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


def test_one_input(data: bytes) -> None:
    """Convert one schema and check the grammar's matching properties."""
    bits, raw = split_options(data)
    text = raw.decode("utf-8", "replace")
    try:
        parsed: Any = json.loads(text)
    except (ValueError, RecursionError):
        parsed = None  # the converter must reject the text itself, cleanly
    schema = text if bits & 64 or parsed is None else parsed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", xgram.SchemaRelaxedWarning)
        try:
            grammar = xgram.Grammar.from_json_schema(schema, **options_from(bits))
        except CLEAN as exc:
            FEEDBACK.observe_error("convert", exc, getattr(exc, "keyword", ""))
            return
    FEEDBACK.observe("rules", size_bucket(len(grammar.rule_names)), size_bucket(len(str(grammar))))
    check_string_matching(grammar, PROBES, FEEDBACK)


def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
    """Structural schema edits (see :func:`schema_mutations.mutate_input`)."""
    return mutate_input(data, max_size, seed, MUTATOR, atheris.Mutate)


if __name__ == "__main__":
    run(test_one_input, custom_mutator=custom_mutator, argv=sys.argv)
