"""Token-level matching: :class:`GrammarMatcher`, and filling bitmasks.

Bitmask layout (XGrammar's): int32 array of shape ``(batch, ceil(vocab_size / 32))``;
token ``i`` is allowed when bit ``i % 32`` of word ``i // 32`` is set. The
bitmask functions of the public API (shape, allocation, applying a mask to
logits) live in :mod:`xgram.kernels.cpu` and are re-exported here.
"""

from __future__ import annotations

import bisect
import math
import sys
import threading
import weakref
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple, Union

import numpy as np

from . import _core
from .compiler import CompiledGrammar
from .errors import (
    ArgumentTypeError,
    UsageError,
    XgramError,
    integer_argument,
    lone_surrogate_error,
    real_argument,
)
from .kernels.cpu import (
    _int_vector,
    _out_of_range,
    _torch_tensor_type,
    allocate_token_bitmask,
    apply_token_bitmask_inplace,
    get_bitmask_shape,
    reset_token_bitmask,
)
from .tokenizer_info import TokenizerInfo

__all__ = [
    "GrammarMatcher",
    "allocate_token_bitmask",
    "apply_token_bitmask_inplace",
    "get_bitmask_shape",
    "reset_token_bitmask",
]


def _bitmask_problem(bitmask: Any) -> UsageError:
    """Why ``bitmask`` cannot be filled: the error to raise, most basic fault first.

    Only called once the fast checks failed, so it may take its time.
    """
    tensor_type = _torch_tensor_type()
    if tensor_type is not None and isinstance(bitmask, tensor_type):
        if bitmask.layout is not sys.modules["torch"].strided:
            return UsageError(f"bitmask must be a dense (strided) tensor, got {bitmask.layout}")
        if str(bitmask.dtype) != "torch.int32":
            return UsageError(f"bitmask must be an int32 tensor, got {bitmask.dtype}")
        if bitmask.device.type != "cpu":
            return UsageError(
                f"bitmask is on {bitmask.device}: fill the bitmask on the CPU, "
                "then copy it to the device"
            )
        shape, strides = tuple(bitmask.shape), tuple(bitmask.stride())
        dims = bitmask.dim()
    elif isinstance(bitmask, np.ndarray):
        if bitmask.dtype != np.int32:
            return UsageError(f"bitmask must be an int32 array, got {bitmask.dtype}")
        if not bitmask.flags.writeable:
            return UsageError("bitmask is read-only")
        shape, strides = bitmask.shape, tuple(s // 4 for s in bitmask.strides)
        dims = bitmask.ndim
    else:
        return ArgumentTypeError(
            f"bitmask must be an int32 numpy array or torch tensor, got {type(bitmask).__name__}"
        )
    if dims not in (1, 2):
        return UsageError(f"bitmask must be 1-D or 2-D (rows, words), got shape {shape}")
    return UsageError(
        f"bitmask must be C-contiguous, got shape {shape} with strides {strides} "
        "(in elements); pass a contiguous copy"
    )


def _bitmask_view(bitmask: Any) -> np.ndarray:
    """A 2-D numpy int32 view (rows, words) sharing the memory of ``bitmask``.

    ``bitmask`` is a writable C-contiguous int32 numpy array or CPU torch tensor,
    1-D (one row) or 2-D; writes through the view change it in place.
    """
    tensor_type = _torch_tensor_type()
    if tensor_type is not None and isinstance(bitmask, tensor_type):
        if (
            str(bitmask.dtype) != "torch.int32"
            or bitmask.device.type != "cpu"
            or not bitmask.is_contiguous()  # False for sparse layouts too
        ):
            raise _bitmask_problem(bitmask)
        view = bitmask.numpy()
    else:
        view = bitmask
    if (
        not isinstance(view, np.ndarray)
        or view.dtype != np.int32
        or not (view.flags.c_contiguous and view.flags.writeable)
        or view.ndim not in (1, 2)
    ):
        raise _bitmask_problem(bitmask)
    return view if view.ndim == 2 else view.reshape(1, -1)


def _row_pointer(bitmask: Any, index: int) -> Tuple[int, int]:
    """(address of row ``index``, words in a row) of an int32 torch tensor.

    A usable numpy array never comes here: ``fill_next_token_bitmask_numpy``
    reads it in C++. One that does is unusable or its row out of range, and is
    explained. For tensors these are the cheapest accessors (``is_cpu``, not
    ``device.type``; one ``shape``; contiguous rows are ``shape[1]`` words apart):
    this runs once per mask. Anything unusual is sorted out by
    :func:`_bitmask_problem`, off this path.
    """
    if isinstance(bitmask, np.ndarray):
        flags = bitmask.flags
        usable = bitmask.dtype == np.int32 and flags.c_contiguous and flags.writeable
        if usable and bitmask.ndim in (1, 2):
            rows = bitmask.shape[0] if bitmask.ndim == 2 else 1
            raise UsageError(f"index {index} out of range for a bitmask of {rows} rows")
        raise _bitmask_problem(bitmask)
    try:  # a torch tensor, or the caller's mistake
        torch = sys.modules.get("torch")
        if (
            torch is None
            or bitmask.dtype is not torch.int32
            or not bitmask.is_cpu
            or not bitmask.is_contiguous()
        ):
            raise _bitmask_problem(bitmask)
        shape = bitmask.shape
        if len(shape) == 2:
            rows, words = shape
        elif len(shape) == 1:
            rows, words = 1, shape[0]
        else:
            raise _bitmask_problem(bitmask)
        if not 0 <= index < rows:
            raise UsageError(f"index {index} out of range for a bitmask of {rows} rows")
        return bitmask.data_ptr() + index * words * 4, words
    except (AttributeError, TypeError, RuntimeError) as exc:
        if isinstance(exc, XgramError):  # RuntimeError includes CompileBudgetError
            raise
        raise _bitmask_problem(bitmask) from None


class _BitmaskRows:
    """Fills rows of one bitmask, its checks and address lookup done once for all rows.

    Finding a row's address through numpy or torch costs more than filling a
    cached mask, so calls that fill many rows (draft trees, batches) use this.
    """

    __slots__ = ("view", "_base", "_stride", "_words")

    def __init__(self, bitmask: Any) -> None:
        self.view = _bitmask_view(bitmask)
        self._base = self.view.ctypes.data
        self._stride = self.view.strides[0]
        self._words = self.view.shape[1]

    @property
    def words(self) -> int:
        """Words per row."""
        return self._words

    def address(self, row: int) -> int:
        """The address of row ``row`` (in range: the caller checks)."""
        return self._base + row * self._stride

    def fill(self, matcher: GrammarMatcher, row: int) -> bool:
        """``matcher.fill_next_token_bitmask(bitmask, row)``."""
        if not 0 <= row < self.view.shape[0]:
            raise UsageError(f"index {row} out of range for a bitmask of {self.view.shape[0]} rows")
        address = self._base + row * self._stride
        return matcher._handle.fill_next_token_bitmask_ptr(address, self._words)


def _float32_vector(values: Any, name: str, length: int) -> np.ndarray:
    """A writable 1-D float32 numpy view of ``values`` (numpy array or CPU torch tensor)."""
    tensor_type = _torch_tensor_type()
    if tensor_type is not None and isinstance(values, tensor_type):
        if str(values.dtype) != "torch.float32" or values.device.type != "cpu":
            raise UsageError(f"{name} must be a float32 CPU tensor, got {values.dtype}")
        values = values.numpy()
    if not isinstance(values, np.ndarray):
        raise ArgumentTypeError(
            f"{name} must be a 1-D float32 array or tensor, got {type(values).__name__}"
        )
    if values.dtype != np.float32 or values.ndim != 1 or not values.flags.writeable:
        raise UsageError(
            f"{name} must be a writable 1-D float32 array or tensor, "
            f"got shape {values.shape} {values.dtype}"
        )
    if values.shape[0] < length:
        raise UsageError(f"{name} has {values.shape[0]} entries, {length} are needed")
    return values


class _ForcedTextTokenizer:
    """Greedy longest-match tokenization of forced text over a vocabulary's ordinary tokens.

    Ordinary tokens are those that spell some bytes and are neither special nor
    stop tokens; among tokens that spell the same bytes the lowest id is used.
    """

    def __init__(self, decoded_vocab: Sequence[bytes], excluded_ids: Set[int]) -> None:
        self._id_of: Dict[bytes, int] = {}
        for token_id, spelling in enumerate(decoded_vocab):
            if spelling and token_id not in excluded_ids and spelling not in self._id_of:
                self._id_of[spelling] = token_id
        self._lengths = sorted({len(spelling) for spelling in self._id_of}, reverse=True)
        self._sorted_spellings = sorted(self._id_of)

    def tokenize(self, forced: bytes) -> List[int]:
        """Token ids covering a prefix of ``forced`` (see ``find_jump_forward_tokens``)."""
        tokens: List[int] = []
        last_spelling = b""
        position = 0
        while position < len(forced):
            match = self._longest_token_at(forced, position)
            if match is None:  # no token spells the next byte: stop before it
                break
            token_id, last_spelling = match
            tokens.append(token_id)
            position += len(last_spelling)
        if tokens and self._is_strict_prefix_of_a_token(last_spelling):
            # A longer token might cover this one and the free text after it, so
            # committing the short token now could force an unnatural tokenization.
            tokens.pop()
        return tokens

    def _longest_token_at(self, text: bytes, position: int) -> Optional[Tuple[int, bytes]]:
        remaining = len(text) - position
        for length in self._lengths:
            if length <= remaining:
                spelling = text[position : position + length]
                token_id = self._id_of.get(spelling)
                if token_id is not None:
                    return token_id, spelling
        return None

    def _is_strict_prefix_of_a_token(self, spelling: bytes) -> bool:
        # The spellings that start with `spelling` follow it immediately in sorted order.
        after = bisect.bisect_right(self._sorted_spellings, spelling)
        return after < len(self._sorted_spellings) and self._sorted_spellings[after].startswith(
            spelling
        )


_FORCED_TEXT_TOKENIZERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_FORCED_TEXT_TOKENIZERS_LOCK = threading.Lock()


def _forced_text_tokenizer(
    tokenizer_info: TokenizerInfo, stop_token_ids: Sequence[int]
) -> _ForcedTextTokenizer:
    """The cached tokenizer of forced text for a vocabulary and a set of stop tokens."""
    key = tuple(sorted(stop_token_ids))
    with _FORCED_TEXT_TOKENIZERS_LOCK:
        per_stop_set = _FORCED_TEXT_TOKENIZERS.setdefault(tokenizer_info, {})
        if key not in per_stop_set:
            excluded = set(tokenizer_info.special_token_ids) | set(key)
            per_stop_set[key] = _ForcedTextTokenizer(tokenizer_info.decoded_vocab, excluded)
        return per_stop_set[key]


def _complete_utf8_prefix(data: bytes) -> str:
    """The longest prefix of ``data`` made of complete, valid UTF-8 characters."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return data[: exc.start].decode("utf-8")


_INT32_MAX = 2**31 - 1


def _stop_token_list(stop_tokens: Any, vocab_size: int) -> Optional[List[int]]:
    """``override_stop_tokens`` (None, one id or a sequence of ids) as a checked list."""
    if stop_tokens is None:
        return None
    if isinstance(stop_tokens, (int, np.integer)) and not isinstance(stop_tokens, bool):
        stop_tokens = [stop_tokens]
    ids = _int_vector(stop_tokens, "override_stop_tokens")
    problem = _out_of_range(ids, "override_stop_tokens", vocab_size)
    if problem:
        raise UsageError(problem)
    return ids


class GrammarMatcher:
    """Follows one generation: accepts tokens and computes next-token masks.

    Parameters
    ----------
    compiled_grammar : CompiledGrammar
    override_stop_tokens : int or list of int, optional
        Replaces the tokenizer's stop tokens.
    terminate_without_stop_token : bool, default False
        Report termination as soon as the grammar is complete.
    max_rollback_tokens : int, default -1
        How many tokens can be rolled back (-1: all); older history is released,
        so memory stays bounded over arbitrarily long outputs.
    default_temperature : float, optional
        Sampling temperature reported by :attr:`temperature` (xgram grammars have
        no rule-level temperatures). Finite and non-negative.

    """

    __slots__ = ("_handle", "_compiled", "_max_rollback_tokens", "_default_temperature")

    def __init__(
        self,
        compiled_grammar: CompiledGrammar,
        *,
        override_stop_tokens: Optional[Union[int, Sequence[int]]] = None,
        terminate_without_stop_token: bool = False,
        max_rollback_tokens: int = -1,
        default_temperature: Optional[float] = None,
    ) -> None:
        if not isinstance(compiled_grammar, CompiledGrammar):
            raise ArgumentTypeError(
                "compiled_grammar must be an xgram.CompiledGrammar, "
                f"got {type(compiled_grammar).__name__}"
            )
        vocab_size = compiled_grammar.tokenizer_info.vocab_size
        stops = _stop_token_list(override_stop_tokens, vocab_size)
        if default_temperature is not None:
            default_temperature = real_argument(default_temperature, "default_temperature")
            if not math.isfinite(default_temperature) or default_temperature < 0:
                raise UsageError(
                    f"default_temperature must be finite and >= 0, got {default_temperature}"
                )
        max_rollback_tokens = integer_argument(max_rollback_tokens, "max_rollback_tokens")
        if not -1 <= max_rollback_tokens <= _INT32_MAX:
            raise UsageError(
                "max_rollback_tokens must be -1 (unlimited) or in [0, 2**31 - 1], "
                f"got {max_rollback_tokens}"
            )
        self._compiled = compiled_grammar
        self._max_rollback_tokens = max_rollback_tokens
        self._default_temperature = default_temperature
        self._handle = _core.GrammarMatcher(
            compiled_grammar._handle,
            stops,
            bool(terminate_without_stop_token),
            self._max_rollback_tokens,
        )

    # Advancing --------------------------------------------------------------
    # The per-token calls check a plain int with one `type(...) is int` (cheaper
    # than the int() they replaced) and leave the range to the core, which
    # raises UsageError; ids beyond int32 fail pybind11's conversion with a bare
    # TypeError, turned into the same UsageError here, off the fast path.
    def accept_token(self, token_id: int, *, debug_print: bool = False) -> bool:
        """Advance by one token; False (and no change) if it is not allowed.

        ``debug_print`` is accepted for XGrammar compatibility and ignored.

        Raises
        ------
        ArgumentTypeError
            If ``token_id`` is not an integer (a float, a bool, a string).
        UsageError
            If ``token_id`` is out of range or the matcher has terminated
            (XGrammar returns False in both cases).

        """
        if type(token_id) is not int:
            token_id = integer_argument(token_id, "token_id")
        try:
            return self._handle.accept_token(token_id)
        except TypeError:
            vocab_size = self._compiled.tokenizer_info.vocab_size
            raise UsageError(f"token id {token_id} is out of range [0, {vocab_size})") from None

    def accept_string(self, text: Union[str, bytes], *, debug_print: bool = False) -> bool:
        """Advance by the bytes of ``text`` (one rollback unit); False if invalid.

        Raises
        ------
        ArgumentTypeError
            If ``text`` is not str or bytes-like.
        UsageError
            If ``text`` holds a lone surrogate, or the matcher has terminated.

        """
        try:
            return self._handle.accept_string(text)
        except TypeError:  # the core takes str, bytes and bytearray
            if isinstance(text, memoryview):
                return self._handle.accept_string(bytes(text))
            raise ArgumentTypeError(
                f"text must be str or bytes, got {type(text).__name__}"
            ) from None
        except RuntimeError as exc:  # pybind11 could not encode the str as UTF-8
            if isinstance(text, str) and not isinstance(exc, XgramError):
                raise lone_surrogate_error(text, "text") from None
            raise

    def rollback(self, num_tokens: int = 1) -> None:
        """Undo the last ``num_tokens`` accepted tokens.

        Raises
        ------
        ArgumentTypeError
            If ``num_tokens`` is not an integer.
        UsageError
            If fewer than ``num_tokens`` tokens can be rolled back, or it is negative.

        """
        if type(num_tokens) is not int:
            num_tokens = integer_argument(num_tokens, "num_tokens")
        try:
            self._handle.rollback(num_tokens)
        except TypeError:  # beyond int32
            raise UsageError(
                f"cannot roll back {num_tokens} tokens: "
                f"{self._handle.num_rollbackable_tokens} can be rolled back"
            ) from None

    def reset(self) -> None:
        """Back to the start of the grammar."""
        self._handle.reset()

    def fork(self) -> GrammarMatcher:
        """An independent copy in the same state."""
        clone = GrammarMatcher.__new__(GrammarMatcher)
        clone._compiled = self._compiled
        clone._max_rollback_tokens = self._max_rollback_tokens
        clone._default_temperature = self._default_temperature
        clone._handle = self._handle.fork()
        return clone

    # Masks and lookahead ----------------------------------------------------
    def fill_next_token_bitmask(
        self, bitmask: Any, index: int = 0, *, debug_print: bool = False
    ) -> bool:
        """Write the allowed next tokens into row ``index`` of ``bitmask``.

        Returns
        -------
        bool
            True when the mask must be applied (some token is disallowed).

        """
        if type(index) is not int:
            index = integer_argument(index, "index")
        try:  # a plain int32 numpy array is read in C++, where it costs least
            done = self._handle.fill_next_token_bitmask_numpy(bitmask, index)
        except TypeError:  # an index past int64: the general path says what is wrong
            done = None
        if done is not None:
            return done
        address, words = _row_pointer(bitmask, index)
        return self._handle.fill_next_token_bitmask_ptr(address, words)

    def find_jump_forward_string(self) -> str:
        """The text the grammar forces next (may be empty); the matcher is unchanged.

        Only complete UTF-8 characters are returned, as in XGrammar: forced bytes
        that stop inside a character (``"é" | "è"`` force only their shared first
        byte), or that start inside one (after a token that split a character),
        end the string before that character. :meth:`find_jump_forward_tokens`
        works on the raw bytes.
        """
        return _complete_utf8_prefix(bytes(self._handle.find_jump_forward_string()))

    def find_jump_forward_tokens(self) -> List[int]:
        """Token ids the grammar forces next, for jump-forward decoding.

        The forced bytes are split by greedy longest match over the ordinary
        tokens (not special, not stop; the lowest id among equal spellings); the
        split stops at a byte no token starts with, and a last token that is a
        strict prefix of a longer ordinary token is left out, because the model
        may want that longer token. This is XGrammar 0.2.9's rule; the split
        may differ from the model tokenizer's. The matcher is unchanged.

        Returns
        -------
        list of int
            Empty when nothing is forced, or the matcher is completed or terminated.

        """
        if self.is_terminated() or self.is_completed():
            return []
        forced = bytes(self._handle.find_jump_forward_string())
        if not forced:
            return []
        tokenizer = _forced_text_tokenizer(self._compiled.tokenizer_info, self.stop_token_ids)
        return tokenizer.tokenize(forced)

    def validate_tokens(self, token_ids: Any) -> int:
        """Length of the longest prefix of ``token_ids`` the matcher would accept.

        One C++ call: the tokens are accepted one by one and rolled back (on a copy
        when the rollback window is bounded), so the matcher is unchanged. A stop token
        ends the prefix: nothing after it is accepted.

        Parameters
        ----------
        token_ids : list, numpy array or torch tensor of int
            The candidate tokens, in order.

        Raises
        ------
        UsageError
            If an id is out of range or the matcher has terminated.

        """
        ids = _int_vector(token_ids, "token_ids")
        # One C++ call: accept along the ids, then roll back (or accept on a copy
        # when the rollback window is bounded). Accepting keeps the GIL, as
        # accept_token does.
        try:
            return int(self._handle.validate_tokens(ids))
        except TypeError:  # an id beyond int32; the core checks the others
            vocab_size = self._compiled.tokenizer_info.vocab_size
            raise UsageError(_out_of_range(ids, "token_ids", vocab_size) or "") from None

    def traverse_draft_tree(
        self,
        retrieve_next_token: Any,
        retrieve_next_sibling: Any,
        draft_tokens: Any,
        token_bitmask: Any,
        time_threshold: float = -1.0,
        temperatures: Any = None,
    ) -> bool:
        """Fill one bitmask row per node of a speculative-decoding draft tree.

        Depth-first from node 0, whose token the matcher has already accepted:
        a node whose token is allowed by its parent's row is accepted, its row
        filled, its children visited, and it is rolled back. The row of a node
        whose token is not allowed, or after which the matcher has terminated,
        is zeroed and its children are not visited (their rows are left as they
        were). The matcher is unchanged afterwards. XGrammar's conventions. One
        C++ call, the GIL released.

        Parameters
        ----------
        retrieve_next_token, retrieve_next_sibling : 1-D integer arrays
            First child and next sibling of each node, -1 for none (list, numpy
            array or torch tensor). The root has no sibling; no node is reached twice.
        draft_tokens : 1-D integer array
            The token of each node (node 0's is ignored).
        token_bitmask : int32 array or tensor, shape (num_nodes, words)
            Written in place, on the CPU.
        time_threshold : float, default -1.0
            Seconds after which no further node is accepted (<= 0: no limit).
        temperatures : 1-D float32 array or tensor, optional
            Set to the temperature at each filled node, -1 elsewhere (or when
            the matcher has no temperature).

        Returns
        -------
        bool
            True if the whole tree was traversed, False if the time ran out.

        Raises
        ------
        UsageError
            For arrays that do not form a tree rooted at node 0, a draft token
            outside ``[0, vocab_size)`` (XGrammar treats it as not allowed), or a
            bitmask that is not a writable C-contiguous int32 CPU array with one
            row per node.

        """
        return self._traverse_draft_tree(
            (retrieve_next_token, retrieve_next_sibling, draft_tokens),
            token_bitmask,
            time_threshold,
            temperatures,
            check_token_ids=True,
        )

    def traverse_draft_chain(self, draft_tokens: Any, token_bitmask: Any) -> int:
        """Fill the rows a linear draft needs: row ``i`` is the mask after ``draft_tokens[:i]``.

        The chain form of :meth:`traverse_draft_tree`, for speculative decoding
        with one draft sequence (n-gram, EAGLE or draft-model chains): the
        verifier samples position ``i`` under row ``i``, so ``k`` draft tokens
        need ``k + 1`` rows, the last being the mask after the whole draft. The
        draft is walked as far as the grammar allows it; the rows past that are
        zeroed. The matcher is unchanged afterwards. One C++ call
        (``GrammarMatcher::TraverseDraftChain``), the GIL released.

        Parameters
        ----------
        draft_tokens : 1-D integer array
            The drafted tokens, after the ones the matcher has accepted (list,
            numpy array or torch tensor).
        token_bitmask : int32 array or tensor, shape (len(draft_tokens) + 1, words)
            Written in place, on the CPU.

        Returns
        -------
        int
            How many draft tokens the grammar allows in a row: what
            :meth:`validate_tokens` answers. Rows ``0`` to that number are
            filled, except the row after a stop token (zero: nothing follows
            it).

        Raises
        ------
        UsageError
            For a draft token outside ``[0, vocab_size)``, or a bitmask that is not
            a writable C-contiguous int32 CPU array with one row per position.

        """
        if type(draft_tokens) is list:  # with a plain int32 numpy bitmask: straight to C++
            try:
                allowed = self._handle.traverse_draft_chain_numpy(draft_tokens, token_bitmask)
            except TypeError:  # not all ints, or past int32: the general path says which
                allowed = None
            if allowed is not None:
                return allowed
        draft = _int_vector(draft_tokens, "draft_tokens")
        rows = _BitmaskRows(token_bitmask)
        if rows.view.shape[0] != len(draft) + 1:
            raise UsageError(
                f"token_bitmask has {rows.view.shape[0]} rows for a draft of {len(draft)} "
                f"tokens; it needs {len(draft) + 1}"
            )
        view = rows.view  # C-contiguous (checked by _BitmaskRows)
        try:  # the core checks the ids' range
            return self._handle.traverse_draft_chain_ptr(
                draft, rows.address(0), view.strides[0] // view.itemsize, rows.words
            )
        except TypeError:  # an id beyond int32
            vocab_size = self._compiled.tokenizer_info.vocab_size
            raise UsageError(_out_of_range(draft, "draft_tokens", vocab_size) or "") from None

    def _traverse_draft_tree(
        self,
        arrays: Tuple[Any, Any, Any],
        token_bitmask: Any,
        time_threshold: Any,
        temperatures: Any,
        *,
        check_token_ids: bool,
    ) -> bool:
        """:meth:`traverse_draft_tree`; ``check_token_ids=False`` is XGrammar's reading.

        XGrammar (and so the drop-in) treats a draft token outside the vocabulary
        as a node that is not allowed; xgram's own API raises UsageError for it.
        """
        children, siblings, tokens = _draft_tree(*arrays)
        vocab_size = self._compiled.tokenizer_info.vocab_size
        problem = _out_of_range(tokens, "draft_tokens", vocab_size, start=1)
        if problem and check_token_ids:
            raise UsageError(problem + " (node 0's token is ignored)")
        if problem:  # -1 is never allowed: the node's row is zeroed
            tokens = [t if 0 <= t < vocab_size else -1 for t in tokens]
        deadline = real_argument(time_threshold, "time_threshold")
        rows = _BitmaskRows(token_bitmask)
        if rows.view.shape[0] != len(children):
            raise UsageError(
                f"token_bitmask has {rows.view.shape[0]} rows for a draft tree of "
                f"{len(children)} nodes"
            )
        temps = None
        if temperatures is not None:
            temps = _float32_vector(temperatures, "temperatures", len(children))
            if temps.shape[0] != len(children):
                raise UsageError(f"temperatures must have one entry per node ({len(children)})")
            temps.fill(-1.0)
        view = rows.view  # C-contiguous (checked by _BitmaskRows)
        complete, filled = self._handle.traverse_draft_tree_ptr(
            np.asarray(children, np.int32).tobytes(),
            np.asarray(siblings, np.int32).tobytes(),
            np.asarray(tokens, np.int32).tobytes(),
            rows.address(0),
            view.strides[0] // view.itemsize,
            rows.words,
            deadline,
        )
        if temps is not None and self._default_temperature is not None:
            for node, done in enumerate(filled):
                if done:
                    temps[node] = self._default_temperature
        return bool(complete)

    # State ------------------------------------------------------------------
    def is_terminated(self) -> bool:
        """True after a stop token (or completion, with terminate_without_stop_token)."""
        return self._handle.is_terminated()

    def is_completed(self) -> bool:
        """True when the output so far is a complete sentence of the grammar."""
        return self._handle.is_completed()

    def get_captures(self, *, deduplicate: bool = True) -> List[Tuple[str, bytes]]:
        """Capture groups recorded so far: always empty (xgram grammars have no captures)."""
        return []

    @property
    def stop_token_ids(self) -> List[int]:
        """Stop tokens in force."""
        return list(self._handle.stop_token_ids)

    @property
    def max_rollback_tokens(self) -> int:
        """The rollback window given to the constructor (-1: unlimited)."""
        return self._max_rollback_tokens

    @property
    def temperature(self) -> Optional[float]:
        """Sampling temperature for the next token: ``default_temperature`` (or None)."""
        return self._default_temperature

    @property
    def compiled_grammar(self) -> CompiledGrammar:
        """The compiled grammar being matched."""
        return self._compiled


_DraftTree = Tuple[List[int], List[int], List[int]]


def _draft_tree(next_token: Any, next_sibling: Any, draft_tokens: Any) -> _DraftTree:
    """(first child, next sibling, token) of each node, checked to form a tree rooted at 0."""
    children = _int_vector(next_token, "retrieve_next_token")
    siblings = _int_vector(next_sibling, "retrieve_next_sibling")
    tokens = _int_vector(draft_tokens, "draft_tokens")
    num_nodes = len(children)
    if num_nodes == 0:
        raise UsageError("the draft tree is empty")
    if len(siblings) != num_nodes or len(tokens) != num_nodes:
        raise UsageError(
            f"retrieve_next_token, retrieve_next_sibling and draft_tokens have lengths "
            f"{num_nodes}, {len(siblings)}, {len(tokens)}; they must be equal"
        )
    if siblings[0] != -1:
        raise UsageError(f"the root (node 0) must have no sibling, got {siblings[0]}")
    # Each node but the root is reached by at most one link, so the walk ends.
    links_into = [0] * num_nodes
    for name, links in (("retrieve_next_token", children), ("retrieve_next_sibling", siblings)):
        for node, target in enumerate(links):
            if not -1 <= target < num_nodes:
                raise UsageError(f"{name}[{node}] = {target} is outside [-1, {num_nodes})")
            if target >= 0:
                links_into[target] += 1
    if links_into[0]:
        raise UsageError("the root (node 0) must not be the child or sibling of a node")
    for node in range(1, num_nodes):
        if links_into[node] > 1:
            raise UsageError(
                f"node {node} is the target of {links_into[node]} links; "
                "the draft tree must not have cycles or shared nodes"
            )
    return children, siblings, tokens
