"""Bitmask application on a CUDA device: xgram's Triton kernel vs its torch fallback.

Needs a CUDA build of torch (and Triton for the kernel); prints why and exits 0
otherwise, so it can sit in any checkout.  For each batch size, dtype and
"indices" mode it checks the result against the CPU kernel
(``apply_token_bitmask_inplace`` on a numpy copy), then times each path with
CUDA events (median of ``--reps`` launches after warm-ups) and prints the
bandwidth the launch reached: bytes of logits read and written plus the
bitmask read, over the median time.  A plain ``masked_fill_`` with a
precomputed boolean mask is timed as the floor a fused kernel can be held to
(it does not unpack bits).

Run from the repository root::

    python benchmarks/bench_apply_gpu.py
    python benchmarks/bench_apply_gpu.py --vocab 128256 --batches 1,16,128 --reps 200
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


Row = Tuple[int, str, bool, str, float, float, bool]


def timed(fn: Callable[[], Any], reps: int) -> float:
    """Median time of one launch in µs (CUDA events, after warm-ups)."""
    import torch

    for _ in range(5):
        fn()
    torch.cuda.synchronize()
    times: List[float] = []
    for _ in range(reps):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) * 1e3)
    return statistics.median(times)


def run_case(
    batch: int, vocab: int, dtype: Any, use_indices: bool, reps: int, triton: bool
) -> List[Row]:
    """Check and time every path on one (batch, dtype, indices) case."""
    import torch

    import xgram
    from xgram import kernels

    rng = np.random.default_rng(batch)
    logits_cpu = rng.standard_normal((batch, vocab)).astype(np.float32)
    mask_np = rng.integers(
        -(2**31), 2**31 - 1, size=xgram.get_bitmask_shape(batch, vocab), dtype=np.int32
    )
    indices = list(range(0, batch, 2)) if use_indices else None
    want = logits_cpu.copy()
    xgram.apply_token_bitmask_inplace(want, mask_np, indices=indices)
    blocked = np.isneginf(want)
    base = torch.from_numpy(logits_cpu).to("cuda", dtype)
    mask = torch.from_numpy(mask_np).cuda()

    def with_triton(t: torch.Tensor) -> None:
        kernels.apply_token_bitmask_inplace_gpu(t, mask, indices=indices)

    def torch_fallback(t: torch.Tensor) -> None:
        original = kernels._get_triton_kernel
        kernels._get_triton_kernel = _no_kernel  # type: ignore[assignment]
        try:
            kernels.apply_token_bitmask_inplace_gpu(t, mask, indices=indices)
        finally:
            kernels._get_triton_kernel = original  # type: ignore[assignment]

    paths: Dict[str, Callable[[torch.Tensor], None]] = {"torch fallback": torch_fallback}
    if triton:
        paths = {"triton": with_triton, **paths}
    dtype_name = str(dtype).split(".")[-1]
    rows: List[Row] = []
    touched = len(indices) if indices is not None else batch
    for name, fn in paths.items():
        got = base.clone()
        fn(got)
        got_np = got.float().cpu().numpy()
        kept = np.where(blocked, 0, got_np) == np.where(blocked, 0, base.float().cpu().numpy())
        ok = bool(np.array_equal(np.isneginf(got_np), blocked) and kept.all())
        work = base.clone()
        us = timed(functools.partial(fn, work), reps)
        nbytes = touched * vocab * 2 * work.element_size() + mask.numel() * 4
        rows.append((batch, dtype_name, use_indices, name, us, nbytes / us / 1e3, ok))
    allowed = torch.from_numpy(~blocked).cuda()
    work = base.clone()
    us = timed(lambda: work.masked_fill_(~allowed, float("-inf")), reps)
    nbytes = batch * vocab * (2 * work.element_size() + 1)
    rows.append((batch, dtype_name, use_indices, "masked_fill_ floor", us, nbytes / us / 1e3, True))
    return rows


def _no_kernel() -> None:
    return None


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--vocab", type=int, default=128256)
    ap.add_argument("--batches", default="1,16,128")
    ap.add_argument("--reps", type=int, default=100)
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        print("torch is not installed: nothing to measure")
        return 0
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to measure")
        return 0
    from xgram import kernels

    try:
        kernels._get_triton_kernel()
        triton = True
    except ImportError:
        triton = False
    print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, triton: {triton}")
    print(f"vocab {args.vocab}; median of {args.reps} launches")
    print("GB/s: (logits read and written + bitmask read) / time")
    rows: List[Row] = []
    for batch in [int(b) for b in args.batches.split(",")]:
        for dtype in (torch.float32, torch.bfloat16):
            for use_indices in (False, True):
                rows += run_case(batch, args.vocab, dtype, use_indices, args.reps, triton)
    print("| batch | dtype | rows | path | µs | GB/s | matches CPU |")
    print("|--:|---|---|---|--:|--:|---|")
    for b, d, i, name, us, gbs, ok in rows:
        which = "every other" if i else "all"
        print(f"| {b} | {d} | {which} | {name} | {us:.1f} | {gbs:.0f} | {ok} |")
    failures = sum(not r[-1] for r in rows)
    print(f"{failures} mismatch(es)")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
