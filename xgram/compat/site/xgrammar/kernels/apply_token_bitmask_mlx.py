"""XGrammar's MLX kernel: not supported (xgram has no MLX kernel)."""

from __future__ import annotations

from typing import Any

from .._shim import not_supported


def apply_token_bitmask_mlx(bitmask: Any, logits: Any, vocab_size: int) -> Any:
    """Not supported: xgram has no MLX kernel."""
    raise not_supported(
        "kernels.apply_token_bitmask_mlx.apply_token_bitmask_mlx", "xgram has no MLX kernel"
    )
