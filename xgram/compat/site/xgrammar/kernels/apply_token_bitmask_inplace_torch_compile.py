"""XGrammar's ``apply_token_bitmask_inplace_torch_compile``, applied by xgram (package doc).

The torch.compile backend and the plain torch one differ only inside XGrammar; both names map
onto xgram's one kernel, so they are the same functions under XGrammar's names.
"""

from __future__ import annotations

from .apply_token_bitmask_inplace_torch import (
    apply_token_bitmask_inplace_kernel_indices_torch as apply_token_bitmask_inplace_kernel_indices_torch_compile,  # noqa: E501
)
from .apply_token_bitmask_inplace_torch import (
    apply_token_bitmask_inplace_kernel_no_indices_torch as apply_token_bitmask_inplace_kernel_no_indices_torch_compile,  # noqa: E501
)
from .apply_token_bitmask_inplace_torch import (
    apply_token_bitmask_inplace_torch as apply_token_bitmask_inplace_torch_compile,
)

__all__ = [
    "apply_token_bitmask_inplace_kernel_indices_torch_compile",
    "apply_token_bitmask_inplace_kernel_no_indices_torch_compile",
    "apply_token_bitmask_inplace_torch_compile",
]
