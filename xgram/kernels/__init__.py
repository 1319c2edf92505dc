"""Bitmask application on accelerators.

CUDA tensors use a Triton kernel when Triton is importable (one program per
block of 32·k columns of one row: load the packed words, expand bits, write
-inf where a bit is clear); otherwise a vectorised torch fallback that unpacks
the bitmask on the device. Neither is imported by ``import xgram``.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from ..errors import UsageError

_triton_kernel: Any = None


def _unpack_torch(bitmask: Any, columns: int) -> Any:
    import torch

    shifts = torch.arange(32, device=bitmask.device, dtype=torch.int32)
    bits = (bitmask.unsqueeze(-1) >> shifts) & 1
    return bits.reshape(bitmask.shape[0], -1)[:, :columns].bool()


def _get_triton_kernel() -> Any:
    global _triton_kernel
    if _triton_kernel is not None:
        return _triton_kernel
    import triton
    import triton.language as tl

    @triton.jit
    def apply_bitmask_kernel(
        logits_ptr,
        bitmask_ptr,
        indices_ptr,
        num_columns,
        logits_row_stride,
        bitmask_row_stride,
        HAS_INDICES: tl.constexpr,
        BLOCK: tl.constexpr,
    ):
        pid_row = tl.program_id(0)
        pid_block = tl.program_id(1)
        row = pid_row
        if HAS_INDICES:
            row = tl.load(indices_ptr + pid_row)
        offsets = pid_block * BLOCK + tl.arange(0, BLOCK)
        in_range = offsets < num_columns
        words = tl.load(
            bitmask_ptr + row * bitmask_row_stride + offsets // 32, mask=in_range, other=-1
        )
        allowed = ((words >> (offsets % 32)) & 1) != 0
        tl.store(
            logits_ptr + row * logits_row_stride + offsets,
            -float("inf"),
            mask=in_range & ~allowed,
        )

    _triton_kernel = apply_bitmask_kernel
    return _triton_kernel


def apply_token_bitmask_inplace_gpu(
    logits: Any,
    bitmask: Any,
    *,
    vocab_size: Optional[int] = None,
    indices: Optional[Sequence[int]] = None,
) -> None:
    """Set disallowed logits of a device tensor to -inf (see ``apply_token_bitmask_inplace``).

    Every row the kernel touches is checked to exist first: the Triton kernel
    reads and writes device memory with no bounds of its own.

    Raises
    ------
    UsageError
        For a bitmask that is not int32, shapes that are not 1-D or 2-D, a
        negative ``vocab_size``, or a row (an index, or a logits row without
        indices) missing from the logits or the bitmask.

    """
    import numpy as np
    import torch

    if isinstance(bitmask, np.ndarray):
        bitmask = torch.from_numpy(bitmask)
    if logits.dim() not in (1, 2) or bitmask.dim() not in (1, 2):
        raise UsageError(
            "logits and bitmask must be 1-D or 2-D, got shapes "
            f"{tuple(logits.shape)} and {tuple(bitmask.shape)}"
        )
    two_d = logits if logits.dim() == 2 else logits.view(1, -1)
    mask = bitmask if bitmask.dim() == 2 else bitmask.view(1, -1)
    if mask.dtype != torch.int32:
        raise UsageError(f"bitmask must be int32, got {mask.dtype}")
    if mask.device != two_d.device:
        mask = mask.to(two_d.device, non_blocking=True)
    columns = min(two_d.shape[1], mask.shape[1] * 32)
    if vocab_size is not None:
        if int(vocab_size) < 0:
            raise UsageError(f"vocab_size must be >= 0, got {vocab_size}")
        columns = min(columns, int(vocab_size))
    rows = list(range(two_d.shape[0])) if indices is None else [int(i) for i in indices]
    present = min(two_d.shape[0], mask.shape[0])
    outside = [row for row in rows if not 0 <= row < present]
    if outside:
        what = "index" if indices is not None else "logits row"
        raise UsageError(
            f"{what} {outside[0]} is out of range: {two_d.shape[0]} rows of logits, "
            f"{mask.shape[0]} of bitmask"
        )
    try:
        kernel = _get_triton_kernel() if two_d.device.type == "cuda" else None
    except ImportError:
        kernel = None
    if kernel is not None and two_d.stride(1) == 1 and mask.is_contiguous():
        import triton

        block = 4096
        idx = torch.tensor(rows, dtype=torch.int32, device=two_d.device)
        grid = (len(rows), triton.cdiv(columns, block))
        kernel[grid](
            two_d,
            mask,
            idx,
            columns,
            two_d.stride(0),
            mask.stride(0),
            HAS_INDICES=indices is not None,
            BLOCK=block,
        )
        return
    row_index = torch.tensor(rows, dtype=torch.long, device=two_d.device)
    allowed = _unpack_torch(mask.index_select(0, row_index), columns)
    view = two_d[:, :columns]
    selected = view.index_select(0, row_index)
    selected.masked_fill_(~allowed, float("-inf"))
    view.index_copy_(0, row_index, selected)
