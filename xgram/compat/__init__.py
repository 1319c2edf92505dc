"""XGrammar drop-in: a package named ``xgrammar`` backed by xgram.

``python -m xgram.compat`` prints a directory; with it first on ``PYTHONPATH``,
``import xgrammar`` in any process (a vLLM or SGLang server, its worker
processes) loads :mod:`xgram`'s XGrammar 0.2.9-compatible package instead of
XGrammar itself::

    PYTHONPATH="$(python -m xgram.compat)${PYTHONPATH:+:$PYTHONPATH}" vllm serve ...

The package only maps XGrammar's names, signatures, return types and
exceptions onto xgram's own API; every grammar is parsed, compiled and matched
by xgram. It needs ``torch`` and ``pydantic`` (as XGrammar does); ``xgram``
itself needs neither. ``xgram/compat/NAMES.md`` lists every public name of
XGrammar 0.2.9 and what the drop-in does with it.

This module imports nothing heavy: it holds the two classes the drop-in raises
and warns with, so callers can catch them without importing ``xgrammar``.
"""

from __future__ import annotations

import os
from typing import List

from ..errors import SchemaRelaxedWarning

__all__ = ["NotSupportedByXgramError", "XGrammarSchemaRelaxedWarning", "site_dir"]


def site_dir() -> str:
    """The directory to put first on ``PYTHONPATH`` so ``import xgrammar`` finds the drop-in."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "site")


class NotSupportedByXgramError(NotImplementedError):
    """An XGrammar name the drop-in cannot honour exactly, raised when it is called.

    The drop-in never approximates: a feature xgram lacks (a token-level
    structural-tag format, a built-in model template, an XGrammar debugging
    hook) raises this error naming the XGrammar name and the reason.

    Attributes
    ----------
    name : str
        The XGrammar name that was called, e.g. ``"GrammarMatcher.get_captures"``.
    reason : str
        Why xgram cannot provide it.

    """

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"xgrammar.{name} is not supported by xgram's XGrammar drop-in: {reason}")
        self.name = name
        self.reason = reason


class XGrammarSchemaRelaxedWarning(SchemaRelaxedWarning):
    """A JSON schema was compiled with constraints dropped, as XGrammar would have.

    XGrammar ignores some JSON Schema keywords silently; xgram refuses them by
    default (:class:`xgram.SchemaError`). So that a serving request does not
    fail where it would have succeeded with XGrammar, the drop-in compiles such
    a schema again with ``lenient=True`` and warns once per schema, naming each
    constraint that is not enforced.

    Attributes
    ----------
    relaxations : list of str
        The dropped constraints, each with its keyword and JSON pointer.

    """

    def __init__(self, relaxations: List[str]) -> None:
        listed = "; ".join(relaxations) if relaxations else "none"
        super().__init__(
            "JSON schema compiled leniently, as XGrammar does; constraints not enforced: " + listed
        )
        self.relaxations = list(relaxations)

    def __reduce__(self) -> tuple:
        # Rebuilt from the relaxations (not from the message) when copied or pickled.
        return (type(self), (self.relaxations,))
