"""XGrammar's :class:`GrammarMatcher`, :class:`BatchGrammarMatcher` and bitmask functions.

The bitmask is XGrammar's: an int32 CPU torch tensor of shape
``(batch, ceil(vocab_size / 32))``, bit ``i % 32`` of word ``i // 32`` set when
token ``i`` is allowed.
"""

from __future__ import annotations

import warnings
from typing import Any, List, Literal, Optional, Tuple, Union

import torch

import xgram
import xgram.batch
from xgram.errors import ArgumentTypeError

from ._shim import as_runtime_error, logger, translate_errors
from .compiler import CompiledGrammar

bitmask_dtype = torch.int32
"""The dtype of the token bitmask."""

_BACKENDS = ("auto", "cpu", "cuda", "triton", "torch_compile", "torch_native")


@translate_errors
def get_bitmask_shape(batch_size: int, vocab_size: int) -> Tuple[int, int]:
    """``(batch_size, ceil(vocab_size / 32))``."""
    return xgram.get_bitmask_shape(batch_size, vocab_size)


@translate_errors
def allocate_token_bitmask(batch_size: int, vocab_size: int) -> torch.Tensor:
    """An int32 CPU tensor of shape :func:`get_bitmask_shape`, every token allowed."""
    return torch.full(get_bitmask_shape(batch_size, vocab_size), -1, dtype=bitmask_dtype)


@translate_errors
def reset_token_bitmask(bitmask: torch.Tensor) -> None:
    """Allow every token again, in place."""
    xgram.reset_token_bitmask(bitmask)


@translate_errors
def apply_token_bitmask_inplace(
    logits: torch.Tensor,
    bitmask: torch.Tensor,
    *,
    vocab_size: Optional[int] = None,
    indices: Optional[List[int]] = None,
    backend: Literal["auto", "cpu", "cuda", "triton", "torch_compile", "torch_native"] = "auto",
) -> None:
    """Set the logits of disallowed tokens to ``-inf``, in place.

    Parameters
    ----------
    logits : torch.Tensor
        ``(batch, vocab)`` or ``(vocab,)``; float32, float16 or bfloat16.
    bitmask : torch.Tensor
        int32, on the device of ``logits``.
    vocab_size : int, optional
        Columns to mask; default ``min(logits.shape[-1], bitmask.shape[-1] * 32)``.
    indices : list of int or tensor, optional
        Rows to mask (default: all).
    backend : str, default "auto"
        XGrammar's kernel choice. Each backend computes the same result; xgram
        applies the mask with its own kernel for the tensors' device (C++ on
        the CPU, Triton or torch on an accelerator).

    Raises
    ------
    ValueError
        When the tensors are on different devices or ``backend`` is unknown.

    """
    if getattr(bitmask, "device", None) != getattr(logits, "device", None):
        raise ValueError(
            "logits and bitmask should be on the same device. "
            f"But got logits.device: {logits.device}, bitmask.device: {bitmask.device}"
        )
    if backend not in _BACKENDS:
        raise ValueError(
            f"Unknown backend: {backend}. The value should be one of {list(_BACKENDS)}"
        )
    if vocab_size is None and bitmask.shape[-1] * 32 < logits.shape[-1]:
        covered = bitmask.shape[-1] * 32
        warnings.warn(
            f"The bitmask covers only {covered} tokens but logits have {logits.shape[-1]}, "
            f"so logits[..., {covered}:] are left unmasked. Allocate the bitmask with the full "
            "vocab size, or pass vocab_size explicitly.",
            stacklevel=3,
        )
    xgram.apply_token_bitmask_inplace(logits, bitmask, vocab_size=vocab_size, indices=indices)


class GrammarMatcher:
    """Follows one generation against a compiled grammar: accepts tokens, fills bitmasks.

    Parameters
    ----------
    compiled_grammar : CompiledGrammar
    override_stop_tokens : int or list of int, optional
        Stop tokens to use instead of the tokenizer's.
    terminate_without_stop_token : bool, default False
        Terminate as soon as the grammar is complete.
    max_rollback_tokens : int, default -1
        Deprecated in XGrammar: rollback is unlimited; another value warns.
    default_temperature : float, optional
        The sampling temperature reported by :attr:`temperature`.

    """

    _xgram: xgram.GrammarMatcher

    @translate_errors
    def __init__(
        self,
        compiled_grammar: CompiledGrammar,
        *,
        override_stop_tokens: Optional[Union[int, List[int]]] = None,
        terminate_without_stop_token: bool = False,
        max_rollback_tokens: int = -1,
        default_temperature: Optional[float] = None,
    ) -> None:
        if not isinstance(compiled_grammar, CompiledGrammar):
            raise ValueError("The grammar should be compiled before passing it to GrammarMatcher.")
        if max_rollback_tokens != -1:
            warnings.warn(
                "max_rollback_tokens is deprecated. You don't need to set it and it's always "
                "unlimited (-1).",
                DeprecationWarning,
                stacklevel=2,
            )
        # Rollback stays unlimited, as in XGrammar, whatever max_rollback_tokens says.
        self._xgram = xgram.GrammarMatcher(
            compiled_grammar._xgram,
            override_stop_tokens=override_stop_tokens,
            terminate_without_stop_token=terminate_without_stop_token,
            default_temperature=default_temperature,
        )

    @classmethod
    def _wrap(cls, inner: xgram.GrammarMatcher) -> GrammarMatcher:
        matcher = cls.__new__(cls)
        matcher._xgram = inner
        return matcher

    def accept_token(self, token_id: int, *, debug_print: bool = False) -> bool:
        """Advance by one token; False (state unchanged) when it is not accepted.

        As in XGrammar, a token id out of range and a token after termination
        are rejected with a warning on the ``xgrammar`` logger, not raised; a
        token id that is not an integer (a float, a string) raises TypeError.
        """
        try:
            return self._xgram.accept_token(token_id, debug_print=debug_print)
        except ArgumentTypeError as exc:
            raise as_runtime_error(exc) from None
        except xgram.UsageError as exc:
            logger.warning("%s. Rejecting the token.", exc)
            return False

    def accept_string(self, input_str: Union[str, bytes], *, debug_print: bool = False) -> bool:
        """Advance by the bytes of ``input_str`` (one rollback step); False when not accepted.

        After termination the string is rejected with a warning, as in XGrammar;
        an input that is not text (TypeError) or holds a lone surrogate
        (ValueError, XGrammar's UnicodeEncodeError) raises.
        """
        try:
            return self._xgram.accept_string(input_str, debug_print=debug_print)
        except xgram.UsageError as exc:
            if isinstance(exc, TypeError) or not self._xgram.is_terminated():
                raise as_runtime_error(exc) from None
            logger.warning("%s. Rejecting the string.", exc)
            return False

    @translate_errors
    def fill_next_token_bitmask(
        self, bitmask: Any, index: int = 0, *, debug_print: bool = False
    ) -> bool:
        """Write the allowed next tokens into row ``index`` of an int32 CPU ``bitmask``.

        Returns
        -------
        bool
            Whether the mask must be applied (False when every token is allowed).

        Raises
        ------
        RuntimeError
            For an invalid bitmask, and after termination.

        """
        return self._xgram.fill_next_token_bitmask(bitmask, index, debug_print=debug_print)

    @translate_errors
    def traverse_draft_tree(
        self,
        retrieve_next_token: torch.Tensor,
        retrieve_next_sibling: torch.Tensor,
        draft_tokens: torch.Tensor,
        token_bitmask: torch.Tensor,
        time_threshold: float = -1.0,
        temperatures: Optional[torch.Tensor] = None,
    ) -> bool:
        """Fill one bitmask row per node of a speculative draft tree (see XGrammar's docs).

        As in XGrammar, a draft token outside the vocabulary is a node that is
        not allowed (its row zeroed), not an error.
        """
        return self._xgram._traverse_draft_tree(
            (retrieve_next_token, retrieve_next_sibling, draft_tokens),
            token_bitmask,
            time_threshold,
            temperatures,
            check_token_ids=False,
        )

    @translate_errors
    def find_jump_forward_string(self) -> str:
        """The text the grammar forces next, whole UTF-8 characters only; state unchanged."""
        return self._xgram.find_jump_forward_string()

    @translate_errors
    def find_jump_forward_tokens(self) -> List[int]:
        """Token ids spelling the forced continuation (see XGrammar's docs); state unchanged."""
        return self._xgram.find_jump_forward_tokens()

    @translate_errors
    def rollback(self, num_tokens: int = 1) -> None:
        """Undo the last ``num_tokens`` steps."""
        self._xgram.rollback(num_tokens)

    @translate_errors
    def get_captures(self, *, deduplicate: bool = True) -> List[Tuple[str, bytes]]:
        """The ``(capture name, matched bytes)`` pairs recorded so far."""
        return self._xgram.get_captures(deduplicate=deduplicate)

    def is_terminated(self) -> bool:
        """True after a stop token (or completion, with ``terminate_without_stop_token``)."""
        return self._xgram.is_terminated()

    def is_completed(self) -> bool:
        """True when the input so far is a complete sentence of the grammar."""
        return self._xgram.is_completed()

    def reset(self) -> None:
        """Back to the initial state."""
        self._xgram.reset()

    def fork(self) -> GrammarMatcher:
        """An independent matcher in the same state, sharing the compiled grammar."""
        return GrammarMatcher._wrap(self._xgram.fork())

    @property
    def max_rollback_tokens(self) -> int:
        """Deprecated: always -1 (unlimited)."""
        return -1

    @property
    def temperature(self) -> Optional[float]:
        """The sampling temperature for the next token, or None."""
        return self._xgram.temperature

    @property
    def stop_token_ids(self) -> List[int]:
        """The stop tokens in force."""
        return self._xgram.stop_token_ids


class BatchGrammarMatcher:
    """Many matchers at once; backed by :class:`xgram.batch.BatchGrammarMatcher`.

    Parameters
    ----------
    max_threads : int or "auto", default "auto"
        Threads for :meth:`batch_fill_next_token_bitmask` ("auto": half the cores).

    """

    def __init__(self, max_threads: Union[int, Literal["auto"]] = "auto") -> None:
        self._xgram = xgram.batch.BatchGrammarMatcher(max_threads)

    @translate_errors
    def batch_fill_next_token_bitmask(
        self,
        matchers: List[GrammarMatcher],
        bitmask: Any,
        indices: Optional[List[int]] = None,
        debug_print: bool = False,
    ) -> None:
        """Fill row ``indices[i]`` (default ``i``) of ``bitmask`` for ``matchers[i]``."""
        self._xgram.batch_fill_next_token_bitmask(
            _unwrap_all(matchers), bitmask, indices, debug_print
        )

    @staticmethod
    @translate_errors
    def batch_fill_temperature(
        matchers: List[GrammarMatcher],
        temperatures: torch.Tensor,
        indices: Optional[List[int]] = None,
    ) -> None:
        """Write each matcher's temperature (-1 when none) into a float32 CPU tensor."""
        xgram.batch.BatchGrammarMatcher.batch_fill_temperature(
            _unwrap_all(matchers), temperatures, indices
        )

    @staticmethod
    @translate_errors
    def batch_accept_token(
        matchers: List[GrammarMatcher], tokens: List[int], debug_print: bool = False
    ) -> List[bool]:
        """Accept ``tokens[i]`` in ``matchers[i]``; whether each was accepted.

        As :meth:`GrammarMatcher.accept_token`, a row that xgram refuses (a token
        out of range, a terminated matcher) is False, with a warning.
        """
        return _accepted_rows(
            xgram.batch.BatchGrammarMatcher.batch_accept_token,
            _unwrap_all(matchers),
            tokens,
            debug_print,
        )

    @staticmethod
    @translate_errors
    def batch_accept_string(
        matchers: List[GrammarMatcher],
        strings: List[Union[str, bytes]],
        debug_print: bool = False,
    ) -> List[bool]:
        """Accept ``strings[i]`` in ``matchers[i]``; whether each was accepted (as above)."""
        return _accepted_rows(
            xgram.batch.BatchGrammarMatcher.batch_accept_string,
            _unwrap_all(matchers),
            strings,
            debug_print,
        )

    @staticmethod
    @translate_errors
    def batch_rollback(
        matchers: List[GrammarMatcher], num_tokens: Union[List[int], int] = 1
    ) -> None:
        """Roll each matcher back by ``num_tokens`` (one count for all, or one each)."""
        xgram.batch.BatchGrammarMatcher.batch_rollback(_unwrap_all(matchers), num_tokens)


def _accepted_rows(accept: Any, matchers: List[Any], inputs: Any, debug_print: bool) -> List[bool]:
    """``accept(matchers, inputs)``; rows xgram refuses as a matcher's usage error are False."""
    try:
        return accept(matchers, inputs, debug_print)
    except xgram.batch.BatchRowError as exc:
        if not all(isinstance(e, xgram.UsageError) for e in exc.failures.values()):
            raise
        for row, error in sorted(exc.failures.items()):
            logger.warning("row %d: %s. Rejecting it.", row, error)
        return [bool(accepted) for accepted in exc.results]


def _unwrap_all(matchers: List[GrammarMatcher]) -> List[xgram.GrammarMatcher]:
    return [matcher._xgram for matcher in matchers]
