"""Token-level matching and bitmasks: :class:`GrammarMatcher` and the bitmask helpers.

Bitmask layout (XGrammar's): int32 array of shape ``(batch, ceil(vocab_size / 32))``;
token ``i`` is allowed when bit ``i % 32`` of word ``i // 32`` is set.
"""

from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _core
from .compiler import CompiledGrammar
from .errors import UsageError


def get_bitmask_shape(batch_size: int, vocab_size: int) -> Tuple[int, int]:
    """Shape of the bitmask for ``batch_size`` rows of ``vocab_size`` tokens."""
    return (int(batch_size), (int(vocab_size) + 31) // 32)


def allocate_token_bitmask(batch_size: int, vocab_size: int) -> Any:
    """A bitmask with every token allowed.

    Returns a torch int32 tensor when torch is importable (as XGrammar does),
    otherwise a numpy int32 array.
    """
    try:
        import torch
    except ImportError:
        return np.full(get_bitmask_shape(batch_size, vocab_size), -1, dtype=np.int32)
    return torch.full(get_bitmask_shape(batch_size, vocab_size), -1, dtype=torch.int32)


def reset_token_bitmask(bitmask: Any) -> None:
    """Allow every token again, in place."""
    bitmask.fill(-1) if isinstance(bitmask, np.ndarray) else bitmask.fill_(-1)


def _row_pointer(bitmask: Any, index: int) -> Tuple[int, int]:
    """(address of row ``index``, words in a row) of an int32 bitmask."""
    if isinstance(bitmask, np.ndarray):
        if bitmask.dtype != np.int32 or not bitmask.flags.c_contiguous:
            raise UsageError("bitmask must be a C-contiguous int32 array")
        arr = bitmask if bitmask.ndim == 2 else bitmask.reshape(1, -1)
        if not 0 <= index < arr.shape[0]:
            raise UsageError(f"index {index} out of range for a bitmask of {arr.shape[0]} rows")
        return arr.ctypes.data + index * arr.strides[0], arr.shape[1]
    # torch tensor
    if str(bitmask.dtype) != "torch.int32" or not bitmask.is_contiguous():
        raise UsageError("bitmask must be a contiguous int32 tensor")
    if bitmask.device.type != "cpu":
        raise UsageError("fill the bitmask on the CPU, then copy it to the device")
    t = bitmask if bitmask.dim() == 2 else bitmask.view(1, -1)
    if not 0 <= index < t.shape[0]:
        raise UsageError(f"index {index} out of range for a bitmask of {t.shape[0]} rows")
    return t.data_ptr() + index * t.stride(0) * 4, t.shape[1]


class GrammarMatcher:
    """Follows one generation: accepts tokens and computes next-token masks.

    Parameters
    ----------
    compiled_grammar : CompiledGrammar
    override_stop_tokens : int or list of int, optional
        Replaces the tokenizer's stop tokens.
    terminate_without_stop_token : bool, default False
        Report termination as soon as the grammar is complete.
    max_rollback_tokens : int, default -1
        How many tokens can be rolled back (-1: all); older history is released,
        so memory stays bounded over arbitrarily long outputs.

    """

    __slots__ = ("_handle", "_compiled")

    def __init__(
        self,
        compiled_grammar: CompiledGrammar,
        *,
        override_stop_tokens: Optional[Union[int, Sequence[int]]] = None,
        terminate_without_stop_token: bool = False,
        max_rollback_tokens: int = -1,
    ) -> None:
        if not isinstance(compiled_grammar, CompiledGrammar):
            raise TypeError("compiled_grammar must be an xgram.CompiledGrammar")
        if isinstance(override_stop_tokens, int):
            override_stop_tokens = [override_stop_tokens]
        self._compiled = compiled_grammar
        self._handle = _core.GrammarMatcher(
            compiled_grammar._handle,
            None if override_stop_tokens is None else [int(t) for t in override_stop_tokens],
            bool(terminate_without_stop_token),
            int(max_rollback_tokens),
        )

    def accept_token(self, token_id: int) -> bool:
        """Advance by one token; False (and no change) if it is not allowed.

        Raises
        ------
        UsageError
            If ``token_id`` is out of range or the matcher has terminated.

        """
        return self._handle.accept_token(int(token_id))

    def accept_string(self, text: Union[str, bytes]) -> bool:
        """Advance by the bytes of ``text`` (one rollback unit); False if invalid."""
        return self._handle.accept_string(text)

    def fill_next_token_bitmask(self, bitmask: Any, index: int = 0) -> bool:
        """Write the allowed next tokens into row ``index`` of ``bitmask``.

        Returns
        -------
        bool
            True when the mask must be applied (some token is disallowed).

        """
        address, words = _row_pointer(bitmask, int(index))
        return self._handle.fill_next_token_bitmask_ptr(address, words)

    def find_jump_forward_string(self) -> str:
        """The text the grammar forces next (may be empty); the matcher is unchanged."""
        return self._handle.find_jump_forward_string().decode("utf-8", errors="replace")

    def rollback(self, num_tokens: int = 1) -> None:
        """Undo the last ``num_tokens`` accepted tokens."""
        self._handle.rollback(int(num_tokens))

    def reset(self) -> None:
        """Back to the start of the grammar."""
        self._handle.reset()

    def fork(self) -> GrammarMatcher:
        """An independent copy in the same state."""
        clone = GrammarMatcher.__new__(GrammarMatcher)
        clone._compiled = self._compiled
        clone._handle = self._handle.fork()
        return clone

    def is_terminated(self) -> bool:
        """True after a stop token (or completion, with terminate_without_stop_token)."""
        return self._handle.is_terminated()

    def is_completed(self) -> bool:
        """True when the output so far is a complete sentence of the grammar."""
        return self._handle.is_completed()

    @property
    def stop_token_ids(self) -> List[int]:
        """Stop tokens in force."""
        return list(self._handle.stop_token_ids)

    @property
    def compiled_grammar(self) -> CompiledGrammar:
        """The compiled grammar being matched."""
        return self._compiled


_DTYPE_CODES = {"float32": 0, "float16": 1, "bfloat16": 2}


def apply_token_bitmask_inplace(
    logits: Any,
    bitmask: Any,
    *,
    vocab_size: Optional[int] = None,
    indices: Optional[Sequence[int]] = None,
) -> None:
    """Set the logits of disallowed tokens to -inf, in place.

    Parameters
    ----------
    logits : numpy array or torch tensor, shape (batch, vocab) or (vocab,)
        float32, float16 or bfloat16 (torch); CPU or CUDA.
    bitmask : int32 array or tensor, shape (batch, ceil(vocab / 32))
        Allowed tokens, one bit each.
    vocab_size : int, optional
        Columns to mask (default: the smaller of the logits' and the bitmask's width).
    indices : sequence of int, optional
        Rows to mask (row i of logits with row i of bitmask); default all.

    """
    if not isinstance(logits, np.ndarray):
        try:
            import torch
        except ImportError as exc:  # pragma: no cover - only without torch
            raise TypeError("logits must be a numpy array or a torch tensor") from exc
        if not isinstance(logits, torch.Tensor):
            raise TypeError(
                f"logits must be a numpy array or a torch tensor, got {type(logits).__name__}"
            )
        if logits.device.type != "cpu":
            from .kernels import apply_token_bitmask_inplace_gpu

            apply_token_bitmask_inplace_gpu(logits, bitmask, vocab_size=vocab_size, indices=indices)
            return
    _apply_cpu(logits, bitmask, vocab_size, indices)


def _apply_cpu(
    logits: Any, bitmask: Any, vocab_size: Optional[int], indices: Optional[Sequence[int]]
) -> None:
    two_d = logits if logits.ndim == 2 else logits.reshape(1, -1)
    mask = bitmask if bitmask.ndim == 2 else bitmask.reshape(1, -1)
    if isinstance(logits, np.ndarray):
        dtype = str(two_d.dtype)
        address, row_stride = two_d.ctypes.data, two_d.strides[0] // two_d.itemsize
        if two_d.strides[1] != two_d.itemsize:
            raise UsageError("logits rows must be contiguous")
    else:
        dtype = str(two_d.dtype).replace("torch.", "")
        address, row_stride = two_d.data_ptr(), two_d.stride(0)
        if two_d.stride(1) != 1:
            raise UsageError("logits rows must be contiguous")
    if dtype not in _DTYPE_CODES:
        raise UsageError(f"unsupported logits dtype {dtype} (float32, float16, bfloat16)")
    if isinstance(mask, np.ndarray):
        if mask.dtype != np.int32 or not mask.flags.c_contiguous:
            raise UsageError("bitmask must be a C-contiguous int32 array")
        mask_address, mask_stride = mask.ctypes.data, mask.shape[1]
    else:
        if (
            str(mask.dtype) != "torch.int32"
            or not mask.is_contiguous()
            or mask.device.type != "cpu"
        ):
            raise UsageError("bitmask must be a contiguous int32 CPU tensor")
        mask_address, mask_stride = mask.data_ptr(), mask.shape[1]
    rows = two_d.shape[0]
    if mask.shape[0] < rows and indices is None:
        raise UsageError(f"bitmask has {mask.shape[0]} rows for {rows} rows of logits")
    columns = min(two_d.shape[1], mask_stride * 32)
    if vocab_size is not None:
        columns = min(columns, int(vocab_size))
    idx = None if indices is None else [int(i) for i in indices]
    if idx is not None and any(i >= mask.shape[0] for i in idx):
        raise UsageError("an index is out of range for the bitmask")
    _core.apply_token_bitmask_ptr(
        address, _DTYPE_CODES[dtype], rows, row_stride, columns, mask_address, mask_stride, idx
    )
