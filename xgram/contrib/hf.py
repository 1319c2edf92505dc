"""Hugging Face ``transformers`` integration: a logits processor for ``generate``.

Examples
--------
>>> import xgram
>>> from xgram.contrib.hf import LogitsProcessor
>>> info = xgram.TokenizerInfo.from_huggingface(tokenizer, vocab_size=model.config.vocab_size)
>>> compiled = xgram.GrammarCompiler(info).compile_builtin_json_grammar()
>>> proc = LogitsProcessor(compiled)
>>> out = model.generate(**inputs, logits_processor=[proc], max_new_tokens=64)

``torch`` and ``transformers`` are imported when this module is imported, not
by ``import xgram``.

"""

from __future__ import annotations

import inspect
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, List, Optional, Sequence, Tuple, Union

from ..batch import BatchGrammarMatcher
from ..compiler import CompiledGrammar
from ..matcher import GrammarMatcher, allocate_token_bitmask, apply_token_bitmask_inplace

try:
    import torch
    import transformers
except ImportError as _exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "xgram.contrib.hf needs torch and transformers: "
        "pip install torch transformers (or pip install 'xgram[demo]')"
    ) from _exc

__all__ = ["JumpForwardResult", "LogitsProcessor", "generate_with_jump_forward"]


class LogitsProcessor(transformers.LogitsProcessor):
    """Constrain ``model.generate`` to a grammar, one matcher per batch row.

    On the first call the processor remembers the prompt length and creates a
    :class:`~xgram.GrammarMatcher` for each row; on each later call it feeds
    every row's last generated token to that row's matcher, then masks the
    scores so only tokens the grammar allows next keep a finite score.  A row
    whose matcher has terminated (it produced a stop token) is restricted to
    the stop tokens; ``generate`` pads finished rows anyway.

    The processor follows one ``generate`` call at a time.  It resets itself
    when it sees a batch that does not continue the one it is following (a
    new prompt), or call :meth:`reset` explicitly.  Greedy search and
    sampling are supported; beam search is not (beams reorder rows).

    Parameters
    ----------
    compiled_grammars : CompiledGrammar or sequence of CompiledGrammar
        One grammar for every row, or one per row of the batch.

    Attributes
    ----------
    matchers : list of GrammarMatcher
        The matchers of the current generation, one per row (empty before the
        first call).
    prompt_length : int or None
        Length of the prompt (``input_ids.shape[1]`` at the first call).
    mask_seconds : list of float
        Per step, the time spent accepting tokens, filling the bitmask and
        applying it, in seconds (with overlap, the fill ran during the forward pass).
    wait_seconds : list of float
        Per step, the time the processor waited for its masks before applying
        them: the whole fill without overlap, usually nothing with it.
    overlapped_steps : int
        Steps whose masks the overlap hook had started during the forward pass.

    Notes
    -----
    Overlap: pass ``stopping_criteria=[processor.overlap_hook()]`` to ``generate``
    as well. ``generate`` calls stopping criteria with the tokens just sampled,
    before the next forward pass; the hook accepts them and starts the next masks
    on xgram's C++ threads (:meth:`xgram.BatchGrammarMatcher.batch_fill_next_token_bitmask_async`),
    so the forward pass and the fill run at the same time and the processor only
    waits for masks that are usually ready.

    """

    def __init__(
        self, compiled_grammars: Union[CompiledGrammar, Sequence[CompiledGrammar]]
    ) -> None:
        if isinstance(compiled_grammars, CompiledGrammar):
            grammars: List[CompiledGrammar] = [compiled_grammars]
            self._broadcast = True
        else:
            grammars = list(compiled_grammars)
            self._broadcast = False
            if not grammars:
                raise ValueError("compiled_grammars is empty")
        for g in grammars:
            if not isinstance(g, CompiledGrammar):
                raise TypeError(
                    f"compiled_grammars must hold xgram.CompiledGrammar, got {type(g).__name__}"
                )
        self.compiled_grammars: List[CompiledGrammar] = grammars
        self.matchers: List[GrammarMatcher] = []
        self.prompt_length: Optional[int] = None
        self.mask_seconds: List[float] = []
        self.wait_seconds: List[float] = []
        self.overlapped_steps = 0
        self._bitmask: Optional[torch.Tensor] = None
        self._batch = BatchGrammarMatcher()
        # A fill started by the overlap hook: (future, sequence length it is for,
        # seconds spent before the fill started, the fill's own [start, end]).
        self._pending: Optional[Tuple[Future, int, float, List[float]]] = None
        self._vocab_size = 0
        self._generated = 0

    # ------------------------------------------------------------------
    def reset(self) -> None:
        """Forget the current generation; the next call starts a new one."""
        self.matchers = []
        self.prompt_length = None
        self._bitmask = None
        self._generated = 0
        self._pending = None

    def _start(self, input_ids: torch.Tensor, width: int) -> None:
        batch = int(input_ids.shape[0])
        if self._broadcast:
            grammars = self.compiled_grammars * batch
        elif len(self.compiled_grammars) != batch:
            raise ValueError(
                f"{len(self.compiled_grammars)} compiled grammars for a batch of {batch} rows"
            )
        else:
            grammars = self.compiled_grammars
        self.matchers = [GrammarMatcher(g) for g in grammars]
        self.prompt_length = int(input_ids.shape[1])
        self._generated = 0
        # The tokenizer info's vocab_size is the width the matcher fills; the
        # scores may be wider (a padded head) or, exceptionally, narrower.
        self._vocab_size = max(g.tokenizer_info.vocab_size for g in grammars)
        self._bitmask = allocate_token_bitmask(batch, max(self._vocab_size, width))

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        """Mask ``scores`` in place to the tokens each row's grammar allows.

        Parameters
        ----------
        input_ids : torch.LongTensor, shape (batch, sequence length)
            The prompt followed by the tokens generated so far.
        scores : torch.FloatTensor, shape (batch, vocab)
            Next-token scores of the model.

        Returns
        -------
        torch.FloatTensor
            ``scores``, with disallowed tokens set to ``-inf``.

        Raises
        ------
        RuntimeError
            If a generated token is rejected by its row's grammar (the scores
            were not masked by this processor, e.g. another processor ran
            after it and changed them).

        """
        start = time.perf_counter()
        batch, width = int(scores.shape[0]), int(scores.shape[-1])
        pending, self._pending = self._pending, None
        if pending is not None and (len(self.matchers), int(input_ids.shape[1])) == (
            batch,
            pending[1],
        ):
            future, _, before_fill, span = pending
            future.result()  # raises what the fill raised
            waited = time.perf_counter() - start
            self._apply(scores, width)
            self.wait_seconds.append(waited)
            self.overlapped_steps += 1
            applying = time.perf_counter() - start - waited
            # (the done-callback that stamps the end may run just after result() returns)
            fill_end = span[1] if span[1] >= span[0] else start + waited
            self.mask_seconds.append(before_fill + (fill_end - span[0]) + applying)
            return scores
        expected = None if self.prompt_length is None else self.prompt_length + self._generated + 1
        if (
            self.prompt_length is None
            or len(self.matchers) != batch
            or int(input_ids.shape[1]) != expected
        ):
            self._start(input_ids, width)
        else:
            self._accept_last(input_ids)
        self._fill_rows(asynchronous=False)
        self.wait_seconds.append(time.perf_counter() - start)
        self._apply(scores, width)
        self.mask_seconds.append(time.perf_counter() - start)
        return scores

    def overlap_hook(self) -> transformers.StoppingCriteria:
        """A stopping criterion (it never stops) that starts the next masks early.

        Pass it to ``generate`` as ``stopping_criteria=[processor.overlap_hook()]``
        beside ``logits_processor=[processor]``; see the class notes.
        """
        processor = self

        class _Overlap(transformers.StoppingCriteria):
            def __call__(
                self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any
            ) -> torch.BoolTensor:
                processor._prefetch(input_ids)
                return torch.zeros(
                    int(input_ids.shape[0]), dtype=torch.bool, device=input_ids.device
                )

        return _Overlap()

    # ------------------------------------------------------------------
    def _prefetch(self, input_ids: torch.Tensor) -> None:
        """The overlap hook: accept the tokens just sampled and start the next fill."""
        self._pending = None
        batch = int(input_ids.shape[0])
        if self.prompt_length is None or len(self.matchers) != batch:
            return
        if int(input_ids.shape[1]) != self.prompt_length + self._generated + 1:
            return  # not the generation being followed: the processor starts afresh
        start = time.perf_counter()
        self._accept_last(input_ids)
        span: List[float] = [0.0, 0.0]
        future = self._fill_rows(asynchronous=True, span=span)
        # generate's next call of the processor sees these same input_ids
        self._pending = (future, int(input_ids.shape[1]), time.perf_counter() - start, span)

    def _accept_last(self, input_ids: torch.Tensor) -> None:
        """Feed every live row's last token to its matcher (one batch call)."""
        last = input_ids[:, -1].tolist()
        # finished rows receive padding or stop tokens
        live = [i for i, matcher in enumerate(self.matchers) if not matcher.is_terminated()]
        accepted = self._batch.batch_accept_token(
            [self.matchers[i] for i in live], [int(last[i]) for i in live]
        )
        for i, ok in zip(live, accepted):
            if not ok:
                raise RuntimeError(
                    f"row {i}: generated token {int(last[i])} is not allowed by the grammar; "
                    "was the xgram LogitsProcessor the last processor to touch the scores?"
                )
        self._generated += 1

    def _fill_rows(
        self, asynchronous: bool, span: Optional[List[float]] = None
    ) -> Optional[Future]:
        """Fill every row's mask: live rows on xgram's threads, finished rows by hand."""
        bitmask = self._bitmask
        assert bitmask is not None
        live, rows = [], []
        for i, matcher in enumerate(self.matchers):
            if matcher.is_terminated():
                self._allow_only(bitmask, i, matcher.stop_token_ids)
            else:
                live.append(matcher)
                rows.append(i)
        if not asynchronous:
            self._batch.batch_fill_next_token_bitmask(live, bitmask, rows)
            return None

        # The span of the fill: from its hand-over to the pool to its end.
        assert span is not None
        span[0] = time.perf_counter()
        future = self._batch.batch_fill_next_token_bitmask_async(live, bitmask, rows)
        future.add_done_callback(lambda _: span.__setitem__(1, time.perf_counter()))
        return future

    def _apply(self, scores: torch.Tensor, width: int) -> None:
        """Apply the bitmask to `scores` (and rule out columns past the vocabulary)."""
        bitmask = self._bitmask
        assert bitmask is not None
        columns = min(width, self._vocab_size)
        on_cpu = scores.device.type == "cpu"
        target = bitmask if on_cpu else bitmask.to(scores.device, non_blocking=True)
        apply_token_bitmask_inplace(scores, target, vocab_size=columns)
        if width > self._vocab_size:
            # Columns the tokenizer info does not know: never allowed.
            scores[:, self._vocab_size :] = float("-inf")

    @staticmethod
    def _allow_only(bitmask: torch.Tensor, row: int, token_ids: Sequence[int]) -> None:
        """Set row ``row`` of ``bitmask`` to allow exactly ``token_ids``."""
        bitmask[row].zero_()
        words = bitmask.shape[1]
        for t in token_ids:
            if 0 <= t < words * 32:
                word, bit = divmod(int(t), 32)
                value = int(bitmask[row, word]) | (1 << bit)
                if value >= 1 << 31:
                    value -= 1 << 32  # as a signed int32
                bitmask[row, word] = value


@dataclass
class JumpForwardResult:
    """What :func:`generate_with_jump_forward` produced.

    Attributes
    ----------
    token_ids : list of int
        The generated tokens (a stop token last when one was generated).
    forward_passes : int
        Forward passes run after the prompt's.
    forced_tokens : int
        Tokens the grammar forced and that were appended without a forward
        pass of their own (each forced run rides on the next forward pass).
    mask_seconds : list of float
        Per sampled token, the time to fill and apply its mask.

    """

    token_ids: List[int] = field(default_factory=list)
    forward_passes: int = 0
    forced_tokens: int = 0
    mask_seconds: List[float] = field(default_factory=list)


def generate_with_jump_forward(
    model: Any,
    input_ids: torch.Tensor,
    compiled_grammar: CompiledGrammar,
    max_new_tokens: int,
    *,
    do_sample: bool = False,
    temperature: float = 1.0,
) -> JumpForwardResult:
    """Constrained decoding of one sequence that skips the tokens the grammar forces.

    After each sampled token, the text the grammar forces next
    (:meth:`xgram.GrammarMatcher.find_jump_forward_tokens`) is appended at once and
    fed to the model with that token in a single forward pass (the KV cache
    takes several tokens at a time), instead of one forward pass per token:
    ``"name": "`` after ``{`` in a schema with fixed keys costs no sampling steps.

    Parameters
    ----------
    model : transformers causal LM
        Called with ``past_key_values`` and ``use_cache=True``.
    input_ids : torch.Tensor, shape (1, prompt length)
        The prompt.
    compiled_grammar : CompiledGrammar
        The grammar for the generated text.
    max_new_tokens : int
        Most tokens to generate, forced ones included.
    do_sample : bool, default False
        Sample instead of taking the best token.
    temperature : float, default 1.0
        Sampling temperature (with ``do_sample``).

    Returns
    -------
    JumpForwardResult

    """
    if int(input_ids.shape[0]) != 1:
        raise ValueError("generate_with_jump_forward decodes one sequence (batch of 1)")
    matcher = GrammarMatcher(compiled_grammar)
    stops = set(matcher.stop_token_ids)
    vocab_size = compiled_grammar.tokenizer_info.vocab_size
    bitmask = allocate_token_bitmask(1, vocab_size)
    result = JumpForwardResult()
    step_input = input_ids
    past = None
    # transformers 5 names the KV cache `cache` (`past_key_values` before).
    cache_name = (
        "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
    )
    while len(result.token_ids) < max_new_tokens:
        with torch.inference_mode():
            out = model(input_ids=step_input, use_cache=True, **{cache_name: past})
        past = out[cache_name]
        if step_input is not input_ids:
            result.forward_passes += 1
        logits = out.logits[:, -1, :].float()
        start = time.perf_counter()
        matcher.fill_next_token_bitmask(bitmask)
        apply_token_bitmask_inplace(logits, bitmask, vocab_size=min(vocab_size, logits.shape[-1]))
        if logits.shape[-1] > vocab_size:
            logits[:, vocab_size:] = float("-inf")
        result.mask_seconds.append(time.perf_counter() - start)
        if do_sample:
            probs = torch.softmax(logits / max(temperature, 1e-5), dim=-1)
            token = int(torch.multinomial(probs, 1)[0, 0])
        else:
            token = int(torch.argmax(logits, dim=-1)[0])
        if not matcher.accept_token(token):
            raise RuntimeError(f"token {token} was allowed by the mask but refused by the matcher")
        result.token_ids.append(token)
        if token in stops or matcher.is_terminated():
            break
        forced = matcher.find_jump_forward_tokens()[: max_new_tokens - len(result.token_ids)]
        for forced_token in forced:
            if not matcher.accept_token(forced_token):
                raise RuntimeError(f"forced token {forced_token} refused by the matcher")
        result.token_ids.extend(forced)
        result.forced_tokens += len(forced)
        step_input = torch.tensor(
            [[token, *forced]], dtype=input_ids.dtype, device=input_ids.device
        )
    return result
