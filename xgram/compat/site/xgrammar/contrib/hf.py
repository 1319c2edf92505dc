"""XGrammar's ``transformers`` logits processor, backed by xgram's (:mod:`xgram.contrib.hf`)."""

from __future__ import annotations

from typing import List, Union

from xgram.contrib.hf import LogitsProcessor as _XgramLogitsProcessor

from ..compiler import CompiledGrammar

__all__ = ["LogitsProcessor"]


class LogitsProcessor(_XgramLogitsProcessor):
    """Constrain ``model.generate`` to compiled grammars, one matcher per batch row.

    Parameters
    ----------
    compiled_grammar : CompiledGrammar or list of CompiledGrammar
        One grammar for every row (a single grammar, or a list of one), or one
        per row of the batch.

    Notes
    -----
    Unlike XGrammar's, the processor may be reused: it starts over when it
    sees a new prompt (see :class:`xgram.contrib.hf.LogitsProcessor`).

    """

    def __init__(self, compiled_grammar: Union[CompiledGrammar, List[CompiledGrammar]]) -> None:
        grammars = compiled_grammar if isinstance(compiled_grammar, list) else [compiled_grammar]
        for grammar in grammars:
            if not isinstance(grammar, CompiledGrammar):
                kind = type(grammar).__name__
                raise TypeError(f"compiled_grammar must hold xgrammar.CompiledGrammar, got {kind}")
        inner = [grammar._xgram for grammar in grammars]
        # XGrammar broadcasts a list of one grammar to the whole batch, as a single grammar.
        super().__init__(inner[0] if len(inner) == 1 else inner)
