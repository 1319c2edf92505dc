"""Bitmasks on the CPU: their shape and allocation, and applying them to logits.

Bitmask layout (XGrammar's): int32 array of shape ``(batch, ceil(vocab_size / 32))``;
token ``i`` is allowed when bit ``i % 32`` of word ``i // 32`` is set. Logits on an
accelerator go to :func:`xgram.kernels.apply_token_bitmask_inplace_gpu`; the rest
to the C++ kernel. Also here: the checks of integer-vector arguments that the
matcher shares (token ids, row indices), so that each names the argument at fault.
"""

from __future__ import annotations

import sys
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np

from .. import _core
from ..errors import ArgumentTypeError, UsageError, integer_argument


def get_bitmask_shape(batch_size: int, vocab_size: int) -> Tuple[int, int]:
    """Shape of the bitmask for ``batch_size`` rows of ``vocab_size`` tokens."""
    rows = integer_argument(batch_size, "batch_size")
    tokens = integer_argument(vocab_size, "vocab_size")
    if rows < 0 or tokens < 0:
        raise UsageError(f"batch_size and vocab_size must be >= 0, got {rows} and {tokens}")
    return (rows, (tokens + 31) // 32)


def allocate_token_bitmask(batch_size: int, vocab_size: int) -> Any:
    """A bitmask with every token allowed.

    Returns a torch int32 tensor when torch is importable (as XGrammar does),
    otherwise a numpy int32 array.
    """
    shape = get_bitmask_shape(batch_size, vocab_size)
    try:
        import torch
    except ImportError:
        return np.full(shape, -1, dtype=np.int32)
    return torch.full(shape, -1, dtype=torch.int32)


def reset_token_bitmask(bitmask: Any) -> None:
    """Allow every token again, in place."""
    if isinstance(bitmask, np.ndarray):
        if not bitmask.flags.writeable:
            raise UsageError("bitmask is read-only")
        bitmask.fill(-1)
        return
    tensor_type = _torch_tensor_type()
    if tensor_type is None or not isinstance(bitmask, tensor_type):
        raise ArgumentTypeError(
            f"bitmask must be a numpy array or a torch tensor, got {type(bitmask).__name__}"
        )
    bitmask.fill_(-1)


def _torch_tensor_type() -> Any:
    """``torch.Tensor`` when torch is already imported, else None.

    A value can only be a tensor if torch is loaded, so checking ``sys.modules``
    avoids importing torch (seconds) just to learn that a list is not a tensor.
    """
    torch = sys.modules.get("torch")
    return None if torch is None else torch.Tensor


def _int_vector(values: Any, name: str) -> List[int]:
    """A 1-D list, tuple, numpy array or torch tensor of integers, as Python ints."""
    tensor_type = _torch_tensor_type()
    if tensor_type is not None and isinstance(values, tensor_type):
        integer = not (values.is_floating_point() or values.is_complex())
        if values.dim() != 1 or not integer or str(values.dtype) == "torch.bool":
            raise UsageError(f"{name} must be a 1-D integer tensor, got {values.dtype}")
        return [int(v) for v in values.tolist()]
    if isinstance(values, np.ndarray):
        if values.ndim != 1 or values.dtype.kind not in "iu":
            raise UsageError(
                f"{name} must be a 1-D integer array, got shape {values.shape} {values.dtype}"
            )
        return [int(v) for v in values.tolist()]
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ArgumentTypeError(
            f"{name} must be a sequence of integers, got {type(values).__name__}"
        )
    result = []
    for position, value in enumerate(values):
        if type(value) is not int:
            value = integer_argument(value, f"{name}[{position}]")
        result.append(value)
    return result


def _out_of_range(ids: Sequence[int], name: str, size: int, start: int = 0) -> Optional[str]:
    """The message for the first of ``ids[start:]`` outside ``[0, size)``, or None."""
    for position in range(start, len(ids)):
        if not 0 <= ids[position] < size:
            return f"{name}[{position}] = {ids[position]} is out of range [0, {size})"
    return None


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

    Raises
    ------
    ArgumentTypeError
        If ``logits`` or ``bitmask`` is neither a numpy array nor a torch tensor,
        or ``vocab_size`` or an index is not an integer.
    UsageError
        For a dtype, shape or layout the kernel cannot use, read-only logits, a
        negative ``vocab_size`` or an index outside the rows.

    """
    tensor_type = _torch_tensor_type()
    is_tensor = tensor_type is not None and isinstance(logits, tensor_type)
    if not (is_tensor or isinstance(logits, np.ndarray)):
        raise ArgumentTypeError(
            f"logits must be a numpy array or a torch tensor, got {type(logits).__name__}"
        )
    if not (isinstance(bitmask, np.ndarray) or (tensor_type and isinstance(bitmask, tensor_type))):
        raise ArgumentTypeError(
            f"bitmask must be a numpy array or a torch tensor, got {type(bitmask).__name__}"
        )
    if logits.ndim not in (1, 2) or bitmask.ndim not in (1, 2):
        raise UsageError(
            "logits and bitmask must be 1-D or 2-D, got shapes "
            f"{tuple(logits.shape)} and {tuple(bitmask.shape)}"
        )
    if vocab_size is not None:
        vocab_size = integer_argument(vocab_size, "vocab_size")
        if vocab_size < 0:
            raise UsageError(f"vocab_size must be >= 0, got {vocab_size}")
    if indices is not None:
        indices = _int_vector(indices, "indices")
    if is_tensor and logits.device.type != "cpu":
        from . import apply_token_bitmask_inplace_gpu

        apply_token_bitmask_inplace_gpu(logits, bitmask, vocab_size=vocab_size, indices=indices)
        return
    _apply_cpu(logits, bitmask, vocab_size, indices)


def _apply_cpu(
    logits: Any, bitmask: Any, vocab_size: Optional[int], idx: Optional[List[int]]
) -> None:
    two_d = logits if logits.ndim == 2 else logits.reshape(1, -1)
    mask = bitmask if bitmask.ndim == 2 else bitmask.reshape(1, -1)
    if isinstance(logits, np.ndarray):
        dtype = str(two_d.dtype)
        address, row_stride = two_d.ctypes.data, two_d.strides[0] // two_d.itemsize
        if two_d.strides[1] != two_d.itemsize or two_d.strides[0] % two_d.itemsize:
            raise UsageError(f"logits rows must be contiguous, got strides {two_d.strides}")
        if not two_d.flags.writeable:
            raise UsageError("logits is read-only")
    else:
        dtype = str(two_d.dtype).replace("torch.", "")
        address, row_stride = two_d.data_ptr(), two_d.stride(0)
        if two_d.stride(1) != 1:
            raise UsageError(f"logits rows must be contiguous, got strides {two_d.stride()}")
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
    if mask.shape[0] < rows and idx is None:
        raise UsageError(f"bitmask has {mask.shape[0]} rows for {rows} rows of logits")
    columns = min(two_d.shape[1], mask_stride * 32)
    if vocab_size is not None:
        columns = min(columns, vocab_size)
    if idx is not None:
        problem = _out_of_range(idx, "indices", min(rows, mask.shape[0]))
        if problem:
            raise UsageError(f"{problem}: {rows} rows of logits, {mask.shape[0]} of bitmask")
    _core.apply_token_bitmask_ptr(
        address, _DTYPE_CODES[dtype], rows, row_stride, columns, mask_address, mask_stride, idx
    )
