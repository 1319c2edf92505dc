"""Fuzz target: random sequences of GrammarMatcher calls on a few small grammars.

The whole input is read by a ``FuzzedDataProvider`` as a program (see
:mod:`matcher_programs`): which grammar, matcher options (stop-token overrides,
out-of-range ones included; termination; rollback window), then up to 40
operations - accept_token (ids the mask allows, any id, negative and huge
ids), accept_string, fill_next_token_bitmask on bitmasks of odd shapes, dtypes,
strides and read-only memory, rollback, fork, reset, find_jump_forward_string
and _tokens, validate_tokens (lists, tuples, numpy arrays), traverse_draft_tree
(valid and broken trees), apply_token_bitmask_inplace (odd widths, dtypes,
indices) - each checked against the invariants the API promises.

The grammars are compiled once, for a synthetic 294-id tokenizer (every
single byte, some multi-byte and UTF-8-splitting tokens, a stop, a special
token, five padding ids), so each step takes microseconds.

Clean rejections: ``UsageError`` and ``TypeError`` (an argument of the wrong
kind, or an integer too large for the core). Any other exception, a broken
invariant, a sanitizer report, a crash or a hang is a finding.

Run with ``fuzz/run.sh fuzz_matcher SECONDS``.
"""

from __future__ import annotations

import sys

import atheris
from fuzz_support import instrumented_imports

with instrumented_imports():
    from fuzz_support import OutcomeFeedback, run, small_tokenizer
    from matcher_programs import MatcherProgram

    import xgram

GRAMMARS = [
    xgram.Grammar.builtin_json_grammar(),
    xgram.Grammar.from_regex(r"[a-c]{2,5}(-\d+)?"),
    xgram.Grammar.from_ebnf('root ::= item ("," item)* "."\nitem ::= [a-z]+ (= [,.])\n'),
    xgram.Grammar.from_json_schema(
        {
            "type": "object",
            "properties": {
                "a": {"type": "integer"},
                "b": {"type": "array", "items": {"type": "string", "maxLength": 3}},
            },
            "required": ["a"],
        }
    ),
    xgram.Grammar.from_ebnf('root ::= ("é" | "€" | [^a-z])* "x"'),
    xgram.Grammar.from_ebnf('root ::= ([a-c]{0,40} - ("ab" [^]*)) "\\n"?'),
    xgram.Grammar.from_ebnf('root ::= ""'),
    xgram.Grammar.from_ebnf('root ::= "a" root "b" | ""'),
]
COMPILER = xgram.GrammarCompiler(small_tokenizer(), max_threads=1)
COMPILED = [COMPILER.compile_grammar(g) for g in GRAMMARS]
FEEDBACK = OutcomeFeedback()


def test_one_input(data: bytes) -> None:
    """Run one program of matcher calls."""
    MatcherProgram(atheris.FuzzedDataProvider(data), COMPILED, FEEDBACK).run()


if __name__ == "__main__":
    run(test_one_input, argv=sys.argv)
