"""Batched matcher calls for serving engines: :class:`BatchGrammarMatcher`.

The methods mirror XGrammar 0.2.9's ``BatchGrammarMatcher``. A batch fill runs
its rows on a persistent pool of C++ threads with the GIL released
(``cpp/runtime/batch_fill.h``), and so do the accepts and rollbacks. A row
that fails does not stop the others, and the failures are reported together by
:class:`BatchRowError`.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from . import _core
from .errors import UsageError
from .matcher import GrammarMatcher, _BitmaskRows, _float32_vector, _int_vector

# One background thread for asynchronous batch fills (per process: a forked
# child starts its own). The fill itself runs on the C++ worker pool with the
# GIL released, so this thread only hands the batch over and waits.
_async_filler: Optional[Tuple[int, ThreadPoolExecutor]] = None


def _filler() -> ThreadPoolExecutor:
    global _async_filler
    if _async_filler is None or _async_filler[0] != os.getpid():
        _async_filler = (os.getpid(), ThreadPoolExecutor(1, thread_name_prefix="xgram-fill"))
    return _async_filler[1]


class BatchRowError(UsageError):
    """Some rows of a batch call failed; every other row was carried out.

    Attributes
    ----------
    failures : dict of int to Exception
        The error of each failed row, by row number.
    results : list
        Each row's result (None for failed rows, and for methods without results).

    """

    def __init__(self, method: str, failures: Dict[int, Exception], results: List[Any]) -> None:
        first_row = min(failures)
        others = sorted(failures)[1:]
        also = f"; rows {others} failed too" if others else ""
        super().__init__(
            f"{method}: row {first_row} failed: {failures[first_row]}{also} "
            f"(the other {len(results) - len(failures)} rows were carried out)"
        )
        self.failures = failures
        self.results = results


def _matcher_list(matchers: Sequence[GrammarMatcher]) -> List[GrammarMatcher]:
    """``matchers`` as a list, each checked to be a GrammarMatcher."""
    result = list(matchers)
    for row, matcher in enumerate(result):
        if not isinstance(matcher, GrammarMatcher):
            raise TypeError(f"matchers[{row}] is a {type(matcher).__name__}, not a GrammarMatcher")
    return result


def _check_same_length(what: str, values: Sequence[Any], matchers: Sequence[Any]) -> None:
    if len(values) != len(matchers):
        raise UsageError(
            f"{len(matchers)} matchers but {len(values)} {what}; they must be the same length"
        )


_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


def _as_int32(value: int) -> int:
    """A token id or count as the core takes it (32 bits)."""
    if not _INT32_MIN <= value <= _INT32_MAX:
        raise UsageError(f"{value} is out of range")
    return value


def _as_bytes(value: Any) -> bytes:
    """A string to accept, as UTF-8 bytes."""
    if isinstance(value, str):
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise UsageError(f"the string is not valid Unicode: {exc}") from None
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    raise TypeError(f"expected str or bytes, got {type(value).__name__}")


def _run_rows(
    method: str,
    matchers: List[GrammarMatcher],
    values: List[Any],
    convert: Callable[[Any], Any],
    core_call: Callable[..., Any],
) -> List[bool]:
    """Run one of the core's batch calls (``core_call(handles, values, threads)``).

    Rows whose value ``convert`` refuses fail here, the others run in the core;
    every failure is reported by :class:`BatchRowError`.
    """
    failures: Dict[int, Exception] = {}
    batch: List[int] = []
    converted: List[Any] = []
    for row, value in enumerate(values):
        try:
            converted.append(convert(value))
            batch.append(row)
        except (UsageError, TypeError) as exc:
            failures[row] = exc
    outcome = core_call(
        [matchers[row]._handle for row in batch],
        [values[row] for row in batch],
        max(1, (os.cpu_count() or 2) // 2),
    )
    answers, errors = outcome if isinstance(outcome, tuple) else ([1] * len(batch), outcome)
    results: List[Any] = [None] * len(matchers)
    for row, answer, error in zip(batch, answers, errors):
        if error:
            failures[row] = UsageError(error)
        else:
            results[row] = bool(answer)
    if failures:
        raise BatchRowError(method, failures, results) from failures[min(failures)]
    return results


class BatchGrammarMatcher:
    """Runs matcher calls over a batch of requests.

    Parameters
    ----------
    max_threads : int or "auto", default "auto"
        Threads for :meth:`batch_fill_next_token_bitmask` ("auto": half the CPUs):
        the rows are filled on a persistent pool of C++ threads, the GIL released,
        the calling thread working too.

    """

    __slots__ = ("_max_threads",)

    def __init__(self, max_threads: Union[int, str] = "auto") -> None:
        if max_threads == "auto":
            self._max_threads = max(1, (os.cpu_count() or 2) // 2)
        elif isinstance(max_threads, int) and not isinstance(max_threads, bool):
            if max_threads < 1:
                raise UsageError(f"max_threads must be at least 1, got {max_threads}")
            self._max_threads = min(max_threads, os.cpu_count() or max_threads)
        else:
            raise UsageError(f"max_threads must be a positive int or 'auto', got {max_threads!r}")

    @property
    def max_threads(self) -> int:
        """Threads the batch fill may use."""
        return self._max_threads

    def batch_fill_next_token_bitmask(
        self,
        matchers: Sequence[GrammarMatcher],
        bitmask: Any,
        indices: Optional[Sequence[int]] = None,
        debug_print: bool = False,
    ) -> None:
        """Fill row ``indices[i]`` (default ``i``) of ``bitmask`` for ``matchers[i]``.

        Parameters
        ----------
        matchers : sequence of GrammarMatcher
            One per request.
        bitmask : int32 array or tensor, shape (rows, words)
            May have more rows than matchers (padding); on the CPU.
        indices : sequence of int, optional
            The bitmask row of each matcher.
        debug_print : bool, default False
            Accepted for XGrammar compatibility; ignored.

        Raises
        ------
        BatchRowError
            If some rows failed (a terminated matcher, an index out of range).

        """
        matcher_list = _matcher_list(matchers)
        rows = _BitmaskRows(bitmask)  # a bad bitmask is one error, not one per row
        targets = (
            list(range(len(matcher_list))) if indices is None else _int_vector(indices, "indices")
        )
        _check_same_length("indices", targets, matcher_list)
        failures: Dict[int, Exception] = {}
        batch: List[int] = []  # the rows handed to the worker pool
        first_with_matcher: Dict[int, int] = {}
        first_with_target: Dict[int, int] = {}
        for row, (matcher, target) in enumerate(zip(matcher_list, targets)):
            earlier = first_with_matcher.setdefault(id(matcher), row)
            earlier_target = first_with_target.setdefault(target, row)
            if not 0 <= target < rows.view.shape[0]:
                failures[row] = UsageError(
                    f"index {target} out of range for a bitmask of {rows.view.shape[0]} rows"
                )
            elif earlier != row or earlier_target != row:
                what = "matcher" if earlier != row else "bitmask row"
                failures[row] = UsageError(
                    f"it uses the same {what} as row {min(earlier, earlier_target)} "
                    "(a batch fills its rows at the same time)"
                )
            else:
                batch.append(row)
        needs_apply, errors = _core.batch_fill_next_token_bitmask_ptr(
            [matcher_list[row]._handle for row in batch],
            [rows.address(targets[row]) for row in batch],
            rows.words,
            self._max_threads,
        )
        for row, error in zip(batch, errors):
            if error:
                failures[row] = UsageError(error)
        if failures:
            results: List[Any] = [None] * len(matcher_list)
            for row, needed, error in zip(batch, needs_apply, errors):
                if not error:
                    results[row] = bool(needed)
            raise BatchRowError("batch_fill_next_token_bitmask", failures, results)

    def batch_fill_next_token_bitmask_async(
        self,
        matchers: Sequence[GrammarMatcher],
        bitmask: Any,
        indices: Optional[Sequence[int]] = None,
    ) -> Future[None]:
        """Start :meth:`batch_fill_next_token_bitmask` and return at once.

        For overlapping the masks of step t + 1 with the model's forward pass:
        start the fill as soon as the tokens of step t are accepted, run the
        forward pass, then call ``result()`` on the returned future (it waits, and
        raises :class:`BatchRowError` as the synchronous call would). The matchers
        and the bitmask must not be touched until then.

        Returns
        -------
        concurrent.futures.Future
            Done when every row is filled.

        """
        matcher_list = _matcher_list(matchers)  # checked now, in the caller's thread
        index_list = None if indices is None else _int_vector(indices, "indices")
        return _filler().submit(
            self.batch_fill_next_token_bitmask, matcher_list, bitmask, index_list
        )

    @staticmethod
    def batch_accept_token(
        matchers: Sequence[GrammarMatcher], tokens: Any, debug_print: bool = False
    ) -> List[bool]:
        """Accept ``tokens[i]`` in ``matchers[i]``; whether each was accepted.

        The rows run on the C++ worker pool with the GIL released (in order, on
        the calling thread, when a matcher appears in several rows).

        Raises
        ------
        BatchRowError
            If some rows raised (a terminated matcher, a token out of range); its
            ``results`` hold the other rows' answers.

        """
        matcher_list = _matcher_list(matchers)
        token_ids = _int_vector(tokens, "tokens")
        _check_same_length("tokens", token_ids, matcher_list)
        return _run_rows(
            "batch_accept_token", matcher_list, token_ids, _as_int32, _core.batch_accept_token
        )

    @staticmethod
    def batch_accept_string(
        matchers: Sequence[GrammarMatcher],
        strings: Sequence[Union[str, bytes]],
        debug_print: bool = False,
    ) -> List[bool]:
        """Accept ``strings[i]`` in ``matchers[i]``; whether each was accepted.

        Each string is one rollback unit, as :meth:`GrammarMatcher.accept_string`.

        Raises
        ------
        BatchRowError
            If some rows raised; its ``results`` hold the other rows' answers.

        """
        matcher_list = _matcher_list(matchers)
        if isinstance(strings, (str, bytes)):
            raise UsageError("strings must be a sequence of str or bytes, one per matcher")
        string_list = list(strings)
        _check_same_length("strings", string_list, matcher_list)
        return _run_rows(
            "batch_accept_string", matcher_list, string_list, _as_bytes, _core.batch_accept_string
        )

    @staticmethod
    def batch_rollback(
        matchers: Sequence[GrammarMatcher], num_tokens: Union[int, Sequence[int]] = 1
    ) -> None:
        """Roll ``matchers[i]`` back by ``num_tokens`` (an int for all, or one per matcher).

        Raises
        ------
        BatchRowError
            If some rows cannot roll back that far; the other rows were rolled back.

        """
        matcher_list = _matcher_list(matchers)
        if isinstance(num_tokens, int):
            counts = [num_tokens] * len(matcher_list)
        else:
            counts = _int_vector(num_tokens, "num_tokens")
        _check_same_length("num_tokens", counts, matcher_list)
        _run_rows("batch_rollback", matcher_list, counts, _as_int32, _core.batch_rollback)

    @staticmethod
    def batch_fill_temperature(
        matchers: Sequence[GrammarMatcher],
        temperatures: Any,
        indices: Optional[Sequence[int]] = None,
    ) -> None:
        """Write each matcher's temperature (-1 for none) to ``temperatures[indices[i]]``.

        Parameters
        ----------
        matchers : sequence of GrammarMatcher
            One per request.
        temperatures : 1-D float32 array or CPU tensor
            Written in place; long enough for every index.
        indices : sequence of int, optional
            Where each matcher writes (default: position ``i``).

        """
        matcher_list = _matcher_list(matchers)
        slots = (
            list(range(len(matcher_list))) if indices is None else _int_vector(indices, "indices")
        )
        _check_same_length("indices", slots, matcher_list)
        needed = max(slots, default=-1) + 1
        values = _float32_vector(temperatures, "temperatures", needed)
        for row, slot in enumerate(slots):
            if slot < 0:
                raise UsageError(f"indices[{row}] = {slot} is negative")
        for matcher, slot in zip(matcher_list, slots):
            temperature = matcher.temperature
            values[slot] = -1.0 if temperature is None else temperature
