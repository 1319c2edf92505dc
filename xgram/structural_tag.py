"""Structural tags: XGrammar's JSON description of tagged, tool-call-shaped output, as a grammar.

A structural tag says, for instance, "free text, but when ``<tool_call>`` appears, a JSON object
for one of these functions follows, then ``</tool_call>``". The description is XGrammar 0.2.9's
JSON form, ``{"type": "structural_tag", "format": FORMAT}``, where a format is one of:

- ``const_string`` (a literal), ``json_schema`` (JSON, or a model's XML argument ``style``),
  ``grammar`` (EBNF or Lark), ``regex``, ``any_text`` (free text, optionally without
  ``excludes`` and at most ``max_chars`` characters);
- ``sequence``, ``or``, ``optional``, ``plus``, ``star``, ``repeat`` (combinators);
- ``tag`` (``begin content end``), ``triggered_tags`` (free text until a trigger, then one of
  the tags that trigger begins), ``tags_with_separator``, ``dispatch`` (free text until a
  pattern, then that pattern's format).

Everything lowers into xgram's EBNF, so a structural tag becomes the same grammar IR and the
same automaton as any other grammar. Sub-grammars (JSON schemas, EBNF, regexes) are printed and
embedded with their rules renamed apart.

The free-text parts are regular languages written with EBNF's difference operator, which the
automaton builder turns into one DFA (a product automaton, like Aho-Corasick over the
triggers), so a token inside free text is classified once per DFA state at compile time and
costs nothing extra per step:

- free text is ``[^]* - ([^]* (T1 | ... | E1 | ...) [^]*)``: any text containing no trigger
  ``Ti`` and no excluded string ``Ej``;
- the text that leads into trigger ``Ti`` is ``([^]* Ti) - ([^]* (T1 | ...) [^]+) - (...)``:
  text ending with ``Ti`` in which no trigger ends earlier, i.e. the dispatch happens at the
  first trigger that completes, as in XGrammar's Aho-Corasick ``TagDispatch``.

Inside a ``tag``, free text cannot contain the tag's end strings (XGrammar's automatic end
detection), so ``<a>`` + any text + ``</a>`` ends at the first ``</a>``.

Token-level formats (``token``, ``any_tokens``, ``token_triggered_tags``, ``token_dispatch``,
a ``TokenFormat`` begin or end) name vocabulary tokens by id, written ``Token(id)`` in the
EBNF (see ``cpp/token_marker.h``): a grammar that names a token matches it by id only, never
as text, so ``<tool_call>`` named as a token is that one token. Token strings are resolved
with the tokenizer (compile with :meth:`GrammarCompiler.compile_structural_tag`). Free tokens
(``any_tokens``, the text before a trigger token) are any text plus the named tokens not
excluded. Refused with :class:`StructuralTagError`: ``exclude_token`` (exactly one token of
any text is not a byte-level language) and token budgets (``max_tokens``).
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Union

from ._structural_tag_lowering import (
    ANY_CHAR,
    End,
    StructuralTagError,
    ebnf_literal,
    structural_tag_grammar_handle,
    structural_tag_to_ebnf,
)
from .grammar import Grammar

__all__ = [
    "ANY_CHAR",
    "End",
    "StructuralTagError",
    "ebnf_literal",
    "grammar_from_structural_tag",
    "structural_tag_to_ebnf",
]


def grammar_from_structural_tag(
    structural_tag: Union[str, Dict[str, Any], Sequence[Any]],
    triggers: Optional[Sequence[str]] = None,
    *,
    lenient: bool = False,
    tokenizer_info: Any = None,
) -> Grammar:
    """A grammar for a structural tag in XGrammar 0.2.9's JSON form.

    Parameters
    ----------
    structural_tag : str, dict or list
        ``{"type": "structural_tag", "format": {...}}`` or a bare format, as JSON text or a
        dict; or, with ``triggers``, the legacy list of ``{"begin", "schema", "end"}`` tags.
    triggers : list of str, optional
        The legacy form's triggers: free text until a trigger, then a tag it begins.
    lenient : bool, default False
        Passed to the JSON-schema conversions (drop what cannot be enforced, with warnings).
    tokenizer_info : TokenizerInfo, optional
        Reserved for token-level formats, which are refused today.

    Raises
    ------
    StructuralTagError
        For a malformed structural tag or one that cannot be enforced exactly, with the JSON
        pointer of the offending format.

    """
    handle = structural_tag_grammar_handle(
        structural_tag, triggers, lenient=lenient, tokenizer_info=tokenizer_info
    )
    return Grammar(handle)
