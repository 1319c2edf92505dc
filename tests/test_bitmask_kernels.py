"""Bitmask layout and the apply kernels (C++ CPU kernel, torch fallback, Triton on CUDA)."""

from __future__ import annotations

import numpy as np
import pytest

import xgram


def reference_apply(logits: np.ndarray, bitmask: np.ndarray, columns: int, rows) -> np.ndarray:
    out = logits.copy()
    bits = np.unpackbits(bitmask.view(np.uint8), axis=-1, bitorder="little").astype(bool)
    for r in rows:
        blocked = ~bits[r, :columns]
        out[r, :columns][blocked] = -np.inf
    return out


@pytest.mark.parametrize("vocab", [1, 31, 32, 33, 1000, 128256])
def test_shape_and_allocation(vocab: int) -> None:
    assert xgram.get_bitmask_shape(4, vocab) == (4, (vocab + 31) // 32)
    bm = xgram.allocate_token_bitmask(2, vocab)
    assert tuple(bm.shape) == (2, (vocab + 31) // 32)
    assert (np.asarray(bm) == -1).all()


@pytest.mark.parametrize("vocab", [7, 32, 100, 4099])
@pytest.mark.parametrize("use_indices", [False, True])
def test_numpy_kernel_matches_reference(vocab: int, use_indices: bool) -> None:
    rng = np.random.default_rng(vocab)
    logits = rng.standard_normal((4, vocab)).astype(np.float32)
    bitmask = rng.integers(
        -(2**31), 2**31 - 1, size=xgram.get_bitmask_shape(4, vocab), dtype=np.int32
    )
    bitmask[1, :] = -1  # an all-allowed row stays untouched
    bitmask[2, :] = 0  # an all-blocked row becomes -inf
    indices = [0, 2] if use_indices else None
    got = logits.copy()
    xgram.apply_token_bitmask_inplace(got, bitmask, indices=indices)
    want = reference_apply(logits, bitmask, vocab, indices if use_indices else range(4))
    np.testing.assert_array_equal(got, want)


def test_vocab_size_limits_the_masked_columns() -> None:
    logits = np.zeros((1, 64), np.float32)
    bitmask = np.zeros((1, 2), np.int32)
    xgram.apply_token_bitmask_inplace(logits, bitmask, vocab_size=40)
    assert np.isneginf(logits[0, :40]).all() and (logits[0, 40:] == 0).all()


def test_bad_inputs_raise_clear_errors() -> None:
    with pytest.raises(xgram.UsageError, match="dtype"):
        xgram.apply_token_bitmask_inplace(np.zeros((1, 32), np.float64), np.zeros((1, 1), np.int32))
    with pytest.raises(xgram.UsageError, match="int32"):
        xgram.apply_token_bitmask_inplace(np.zeros((1, 32), np.float32), np.zeros((1, 1), np.int64))
    with pytest.raises(xgram.UsageError, match="range"):
        xgram.apply_token_bitmask_inplace(
            np.zeros((2, 32), np.float32), np.zeros((2, 1), np.int32), indices=[5]
        )


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_torch_cpu_kernel_all_dtypes(dtype: str) -> None:
    torch = pytest.importorskip("torch")
    tdtype = getattr(torch, dtype)
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 1000, generator=gen).to(tdtype)
    bitmask = torch.randint(-(2**31), 2**31 - 1, (3, 32), dtype=torch.int32, generator=gen)
    got = logits.clone()
    xgram.apply_token_bitmask_inplace(got, bitmask, indices=[0, 2])
    want = reference_apply(logits.float().numpy(), bitmask.numpy(), 1000, [0, 2])
    np.testing.assert_array_equal(got.float().numpy(), want)


def test_torch_fallback_matches_cpu_kernel() -> None:
    torch = pytest.importorskip("torch")
    from xgram.kernels import apply_token_bitmask_inplace_gpu

    gen = torch.Generator().manual_seed(1)
    logits = torch.randn(4, 777, generator=gen)
    bitmask = torch.randint(-(2**31), 2**31 - 1, (4, 25), dtype=torch.int32, generator=gen)
    a, b = logits.clone(), logits.clone()
    xgram.apply_token_bitmask_inplace(a, bitmask, indices=[1, 3], vocab_size=700)
    apply_token_bitmask_inplace_gpu(b, bitmask, indices=[1, 3], vocab_size=700)
    assert torch.equal(a, b)


def test_cuda_triton_kernel_matches_cpu() -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device here: the Triton kernel is checked on the device machine")
    for dtype in (torch.float32, torch.float16, torch.bfloat16):
        logits = torch.randn(16, 128256, dtype=dtype)
        bitmask = torch.randint(-(2**31), 2**31 - 1, (16, 4008), dtype=torch.int32)
        cpu = logits.clone()
        xgram.apply_token_bitmask_inplace(cpu, bitmask, indices=[0, 5, 15])
        gpu = logits.cuda()
        xgram.apply_token_bitmask_inplace(gpu, bitmask.cuda(), indices=[0, 5, 15])
        assert torch.equal(gpu.cpu(), cpu)
