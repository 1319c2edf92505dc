"""Exceptions shared by the JSON Schema lowering modules.

The helper modules (numbers, formats, strings) raise these without knowing where in
the schema they are; the converter catches them and re-raises
:class:`xgram.SchemaError` with the keyword and the JSON pointer filled in.
"""

from __future__ import annotations


class Inexpressible(Exception):
    """A constraint that no exact grammar here can express.

    Parameters
    ----------
    keyword : str
        The keyword that cannot be honoured exactly (e.g. ``"multipleOf"``).
    message : str
        Why, in words a schema author understands.

    """

    def __init__(self, keyword: str, message: str) -> None:
        super().__init__(message)
        self.keyword = keyword
        self.message = message


class Unsatisfiable(Exception):
    """Constraints that no JSON value satisfies (e.g. ``minimum`` above ``maximum``).

    Parameters
    ----------
    keyword : str
        The keyword that made the domain empty.
    message : str
        Why the domain is empty.

    """

    def __init__(self, keyword: str, message: str) -> None:
        super().__init__(message)
        self.keyword = keyword
        self.message = message


#: The largest count written as an ``{m,n}`` repetition bound (the regex parser's
#: limit; the EBNF parser's is higher). A lower count past it (minLength, minItems,
#: minContains) is a SchemaError; an upper one is dropped under ``lenient``.
MAX_COUNT_BOUND = 1 << 20
