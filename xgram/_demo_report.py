"""What ``xgram demo`` shares between its modes: targets, the output check, the timing report.

:mod:`xgram.demo` decodes one request; :mod:`xgram._demo_batch` decodes a batch
of requests under a mix of grammars. Both generate with ``model.generate``
through :func:`_generate`, check every reply with :func:`check_output` and print
the per-token times with :func:`_report_per_token`. torch is imported lazily.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, TextIO, Tuple

EXIT_OK = 0
"""The reply was accepted by the grammar (and is valid JSON, valid under the schema)."""
EXIT_INVALID = 1
"""The reply was not accepted (or, for JSON, did not parse, or broke the schema)."""
EXIT_MISSING = 2
"""A requirement is not installed, or the grammar or schema does not load."""

DEFAULT_PROMPT = (
    "Describe a fictional person as a JSON object with the keys "
    '"name" (a string), "age" (an integer) and "city" (a string). Reply with the JSON only.'
)
"""The user message sent under a grammar when ``--prompt`` is not given."""


@dataclass
class Target:
    """What the demo generates under.

    Attributes
    ----------
    grammar : Grammar
        The grammar the generation is constrained to.
    name : str
        How the grammar is named in the output.
    prompt : str
        The default user message for this target.
    schema : dict or bool, optional
        The JSON schema the grammar comes from, if any.
    is_json : bool
        True when every accepted reply is a JSON text (schema or builtin JSON).

    """

    grammar: Any
    name: str
    prompt: str
    schema: Any = None
    is_json: bool = False


def _validate_with_jsonschema(schema: Any, instance: Any) -> Tuple[Optional[bool], str]:
    """(valid, message) from the ``jsonschema`` package; valid is None without it."""
    try:
        import jsonschema  # noqa: PLC0415
    except ImportError:
        return None, "jsonschema: not installed, skipped (pip install jsonschema)"
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    try:
        from importlib.metadata import version as _version  # noqa: PLC0415

        version = _version("jsonschema")
    except Exception:  # noqa: BLE001 - only for the message
        version = "?"
    where = f"jsonschema {version}, {cls.__name__}, formats checked"
    if error is None:
        return True, f"jsonschema: valid under the schema ({where})"
    at = "/" + "/".join(str(p) for p in error.absolute_path)
    return False, f"jsonschema: INVALID at {at}: {error.message} ({where})"


def check_output(text: str, target: Target) -> Tuple[List[str], bool]:
    """Check a generated reply against the target, as the demo reports it.

    Parameters
    ----------
    text : str
        The reply.
    target : Target
        What it was generated under.

    Returns
    -------
    tuple of (list of str, bool)
        The report lines, and whether every check passed: accepted by the
        grammar; for JSON, parsed by ``json.loads``; under a schema, valid
        according to ``jsonschema`` (skipped when it is not installed).

    """
    accepted = bool(target.grammar.accepts(text))
    how = " (Grammar.from_json_schema(schema).accepts)" if target.schema is not None else ""
    lines = [f"accepted by the grammar: {'yes' if accepted else 'NO'}{how}"]
    ok = accepted
    if not target.is_json:
        return lines, ok
    try:
        value = json.loads(text)
    except ValueError as e:
        return lines + [f"json.loads: FAILED ({e})"], False
    lines.append("json.loads: ok")
    if target.schema is not None:
        valid, message = _validate_with_jsonschema(target.schema, value)
        lines.append(message)
        if valid is False:
            ok = False
            if accepted:
                lines.append("  (xgram accepted it: the grammar and jsonschema disagree)")
    return lines, ok


def _say(out: TextIO, text: str = "") -> None:
    out.write(text + "\n")
    out.flush()


def _stats_us(seconds: Sequence[float]) -> Tuple[float, float, float]:
    """(mean, median, max) of ``seconds``, in microseconds."""
    if not seconds:
        return (0.0, 0.0, 0.0)
    us = [s * 1e6 for s in seconds]
    return (statistics.fmean(us), statistics.median(us), max(us))


class _ForwardTimer:
    """Times every forward pass of a torch module with hooks."""

    def __init__(self, module: Any) -> None:
        self.seconds: List[float] = []
        self._start = 0.0
        self._handles = [
            module.register_forward_pre_hook(self._pre),
            module.register_forward_hook(self._post),
        ]

    def _pre(self, *_: Any) -> None:
        self._start = time.perf_counter()

    def _post(self, *_: Any) -> None:
        self.seconds.append(time.perf_counter() - self._start)

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()


def _generate(
    model: Any,
    inputs: Any,
    args: argparse.Namespace,
    processors: List[Any],
    pad_token_id: int,
) -> Tuple[Any, float, List[float]]:
    """Run ``model.generate``; returns (new token ids, seconds, forward seconds)."""
    import torch

    torch.manual_seed(args.seed)
    options: dict = {"do_sample": False}
    if args.sample:
        options = {"do_sample": True, "temperature": 0.7, "top_p": 1.0, "top_k": 0}
    timer = _ForwardTimer(model)
    start = time.perf_counter()
    try:
        with torch.inference_mode():
            # With overlap, the xgram processor's hook starts each next mask as soon
            # as the token is sampled, while the model runs its next forward pass.
            hooks = [p.overlap_hook() for p in processors if getattr(args, "overlap", False)]
            output = model.generate(
                **inputs,
                max_new_tokens=args.max_new_tokens,
                logits_processor=processors,
                stopping_criteria=hooks or None,
                pad_token_id=pad_token_id,
                **options,
            )
    finally:
        timer.remove()
    elapsed = time.perf_counter() - start
    return output[:, inputs["input_ids"].shape[1] :], elapsed, timer.seconds


def _report_per_token(
    out: TextIO,
    mask_seconds: Sequence[float],
    forward: Sequence[float],
    wait_seconds: Sequence[float],
    overlap: bool,
    batch: int = 1,
) -> None:
    """Print the mask, wait and forward times per token (per step of a batch), and ratios."""
    mask_mean, mask_p50, mask_max = _stats_us(mask_seconds)
    wait_mean, wait_p50, wait_max = _stats_us(wait_seconds)
    fwd_mean, fwd_p50, fwd_max = _stats_us(forward)
    _say(out)
    how = "overlapped with the forward pass" if overlap else "after the forward pass"
    rows = f", a batch of {batch} rows: the times are the whole batch's" if batch > 1 else ""
    _say(out, f"per token ({len(mask_seconds)} steps, masks {how}{rows}):")
    _say(
        out,
        f"  xgram mask (accept + fill + apply): mean {mask_mean:8.1f} us  p50 {mask_p50:8.1f} us  "
        f"max {mask_max:8.1f} us",
    )
    _say(
        out,
        f"  sampler waited for the mask:        mean {wait_mean:8.1f} us  p50 {wait_p50:8.1f} us  "
        f"max {wait_max:8.1f} us",
    )
    _say(
        out,
        f"  model forward:                      mean {fwd_mean:8.1f} us  p50 {fwd_p50:8.1f} us  "
        f"max {fwd_max:8.1f} us",
    )
    if fwd_mean > 0 and mask_mean > 0:
        _say(
            out,
            f"  mask / forward: {mask_mean / fwd_mean:.2%} of the mean forward time "
            f"({fwd_mean / mask_mean:.0f}x faster)",
        )
    if overlap and mask_mean > 0:
        _say(
            out,
            f"  exposed mask time (waited / computed): {wait_mean / mask_mean:.1%}",
        )
