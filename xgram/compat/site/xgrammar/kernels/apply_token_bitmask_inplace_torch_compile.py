"""XGrammar's ``apply_token_bitmask_inplace_torch_compile``, applied by xgram (package doc)."""

from __future__ import annotations

from typing import List, Optional, Union

import torch

import xgram

from .._shim import translate_errors


@translate_errors
def apply_token_bitmask_inplace_torch_compile(
    logits: torch.Tensor,
    bitmask: torch.Tensor,
    vocab_size: Optional[int] = None,
    indices: Optional[Union[List[int], torch.Tensor]] = None,
) -> None:
    """Set the logits of the tokens ``bitmask`` disallows to -inf, in place."""
    xgram.apply_token_bitmask_inplace(logits, bitmask, vocab_size=vocab_size, indices=indices)


@translate_errors
def apply_token_bitmask_inplace_kernel_no_indices_torch_compile(
    logits: torch.Tensor, bitmask: torch.Tensor, vocab_size: int
) -> None:
    """Mask every row of ``logits`` up to ``vocab_size`` (an XGrammar kernel name)."""
    xgram.apply_token_bitmask_inplace(logits, bitmask, vocab_size=vocab_size)


@translate_errors
def apply_token_bitmask_inplace_kernel_indices_torch_compile(
    logits: torch.Tensor, bitmask: torch.Tensor, vocab_size: int, indices: List[int]
) -> None:
    """Mask the rows ``indices`` of ``logits`` up to ``vocab_size`` (an XGrammar kernel name)."""
    xgram.apply_token_bitmask_inplace(logits, bitmask, vocab_size=vocab_size, indices=indices)
