r"""Lark grammars for xgram: lowered to xgram's EBNF, hence to the same grammar IR.

The dialect is the one XGrammar 0.2.9's ``Grammar.from_lark`` reads (llguidance's Lark), and
the lowering follows what XGrammar does with it::

    grammar = grammar_from_lark(r'''
        %import common (INT, WS)
        %ignore WS
        start: item ("," item)*
        item: "id=" INT
    ''')

Supported
---------
* the entry rule ``start``; rules (lowercase names, ``?rule`` and ``!rule`` prefixes, which
  only shape Lark's parse trees) and TERMINALS (uppercase names) defined with ``:``;
  aliases ``-> name`` (ignored, as in XGrammar);
* alternatives ``|`` (an alternative may continue on a line that starts with ``|``), groups
  ``( )``, optional ``[ ]`` and ``?``, ``*``, ``+``, ``~ n``, ``~ n..m`` and ``{n}``,
  ``{n,}``, ``{,m}``, ``{n,m}``;
* string literals ``"..."`` with JSON escapes and ``\xHH``, case-insensitive with ``"..."i``
  (ASCII letters fold; a literal holding a cased non-ASCII letter is refused, as in XGrammar);
  character ranges ``"a".."z"`` (any code points);
* regexes ``/pattern/flags`` with the flags ``i`` (ASCII folding, as in XGrammar), ``s`` and
  ``u`` (no effect), through :meth:`xgram.Grammar.from_regex` (see xgram._lark_regex);
* ``%import common.NAME [-> ALIAS]`` and ``%import common (A, B)`` for Lark's common
  terminals (DIGIT, HEXDIGIT, INT, SIGNED_INT, DECIMAL, _EXP, FLOAT, SIGNED_FLOAT, NUMBER,
  SIGNED_NUMBER, ESCAPED_STRING, LCASE_LETTER, UCASE_LETTER, LETTER, WORD, CNAME, WS_INLINE,
  WS, CR, LF, NEWLINE, SH_COMMENT, CPP_COMMENT, C_COMMENT, SQL_COMMENT), spelled as XGrammar
  spells them;
* ``%ignore`` (several are merged) and ``%grammar_options {"allow_initial_skip": true}``;
* comments ``//`` and ``#``.

Refused, with a :class:`~xgram.GrammarError` naming the construct and its line
--------------------------------------------------------------------------------
priorities ``NAME.N`` / ``rule.N``; ``%declare``, ``%override``, ``%extend``; ``%import``
of anything but ``common``; templates ``name{...}`` and parametric ``::``; the complement
``~item`` and intersection ``&``; the llguidance extensions ``%json {...}``, nested
``%lark {...}``, ``%llguidance {...}``, ``%regex {...}``, ``%if``, special-token elements
``<|name|>`` / ``<[id,...]>``, named grammars ``@name`` and rule attributes
``name[max_tokens=N]``, ``[lazy]``, ``[capture]``, ``[suffix=...]``; ``%grammar_options``
``no_forcing`` / ``allow_invalid_utf8`` set to true; regex flags other than ``i``, ``s``,
``u``; and what xgram's regex engine refuses (lookaround, back-references, ``\b``, inline
flags, ``\p{...}``).

Semantics: a context-free lowering, as in XGrammar
--------------------------------------------------
Lark matches terminals with a lexer (greedy longest match, priorities, collisions resolved
by the lexer); this lowering, like XGrammar's, makes each terminal a rule of the
context-free grammar, so the language is what the rules describe when any split of the text
into terminals is allowed. For example ``start: A "a"`` with ``A: /a+/`` accepts ``aa``
here and in XGrammar, while Lark's LALR parser, whose lexer takes ``aa`` as one ``A``,
rejects it; ``start: WORD WORD`` accepts ``ab``. Other differences from Lark:

* ``%ignore``: the ignored text may follow every lexeme of a rule (literal, range, regex,
  terminal), so it may come between lexemes and at the end, but not before the first
  lexeme unless ``allow_initial_skip`` is set (Lark allows it there); it is never inserted
  inside a terminal;
* in regexes ``\d``, ``\w`` and ``\s`` have their ASCII / ECMA-262 meaning, not Python's
  Unicode one, and ``i`` folds ASCII letters only;
* ``common.ESCAPED_STRING`` admits a raw line break inside the quotes (XGrammar's spelling;
  Lark's does not);
* a grammar whose ``start`` can never complete is a GrammarError when it is built or first
  used (XGrammar accepts it and then matches nothing).
"""

from __future__ import annotations

from ._lark_lowering import COMMON_TERMINALS, lark_grammar_handle, lark_to_ebnf
from .grammar import Grammar

__all__ = ["COMMON_TERMINALS", "grammar_from_lark", "lark_to_ebnf"]


def grammar_from_lark(lark_text: str) -> Grammar:
    """A grammar accepting what the Lark grammar ``lark_text`` describes from its ``start`` rule.

    Parameters
    ----------
    lark_text : str
        Lark grammar text in XGrammar's / llguidance's dialect (see the module docstring).

    Raises
    ------
    GrammarError
        For syntax errors, unknown rules or terminals and refused constructs, with the line
        and column in ``lark_text``.

    """
    return Grammar(lark_grammar_handle(lark_text))
