"""XGrammar's ``apply_token_bitmask_inplace_cuda``, applied by xgram (see the package doc)."""

from __future__ import annotations

from typing import List, Optional, Union

import torch

import xgram

from .._shim import translate_errors


@translate_errors
def apply_token_bitmask_inplace_cuda(
    logits: torch.Tensor,
    bitmask: torch.Tensor,
    indices: Optional[Union[List[int], torch.Tensor]] = None,
) -> None:
    """Set the logits of the tokens ``bitmask`` disallows to -inf, in place."""
    xgram.apply_token_bitmask_inplace(logits, bitmask, indices=indices)
