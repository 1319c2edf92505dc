"""Random programs of GrammarMatcher calls, with the invariants each call must keep.

A program is read from a ``FuzzedDataProvider``: a compiled grammar, matcher
options, then a sequence of operations on one of up to four matchers (forks of
each other). Each operation checks what the public API promises: a mask bit
says exactly whether ``accept_token`` takes the token, a refused token or
string changes nothing, ``rollback(n)`` restores the mask of ``n`` tokens ago,
a fork starts in its parent's state, forced text is accepted, ``validate_tokens``
counts what accepting would, a draft-tree traversal leaves the matcher as it
was and fills row 0 with the current mask, a mask write stays inside its row.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

import numpy as np
from fuzz_support import PADDING_IDS, OutcomeFeedback
from grammar_checks import expect

import xgram

# Calls that may refuse their arguments cleanly; anything else escaping is a finding.
CLEAN = (xgram.UsageError, TypeError)
MAX_MATCHERS = 4


def mask_of(matcher: Any, vocab_size: int) -> np.ndarray:
    """The matcher's next-token mask as a bool array of ``vocab_size`` entries."""
    bitmask = np.zeros(xgram.get_bitmask_shape(1, vocab_size), np.int32)
    matcher.fill_next_token_bitmask(bitmask)
    return np.unpackbits(bitmask.view(np.uint8), bitorder="little")[:vocab_size].astype(bool)


class Tracked:
    """A matcher and the masks before each rollback unit it accepted (newest last)."""

    def __init__(self, matcher: Any, history: Optional[List[np.ndarray]] = None) -> None:
        self.matcher = matcher
        self.history: List[np.ndarray] = list(history or [])


class MatcherProgram:
    """Runs one fuzzer-chosen program of matcher calls (see the module docstring).

    Parameters
    ----------
    fdp : atheris.FuzzedDataProvider
    compiled : list of CompiledGrammar
        The grammars a program may pick.
    feedback : OutcomeFeedback
        Observes each operation's outcome.

    """

    def __init__(self, fdp: Any, compiled: List[Any], feedback: OutcomeFeedback) -> None:
        self.fdp = fdp
        self.compiled = compiled[self.pick(len(compiled))]
        self.vocab_size = self.compiled.tokenizer_info.vocab_size
        self.vocab = self.compiled.tokenizer_info.decoded_vocab
        self.feedback = feedback
        self.matchers: List[Tracked] = []
        self.operations: Dict[str, Callable[[Tracked], Any]] = {
            "accept_token": self.accept_token,
            "accept_string": self.accept_string,
            "fill": self.fill_odd_bitmask,
            "rollback": self.rollback,
            "fork": self.fork,
            "reset": self.reset,
            "jump_forward": self.jump_forward,
            "validate": self.validate_tokens,
            "draft_tree": self.draft_tree,
            "state": self.state,
            "apply_mask": self.apply_mask,
        }

    def pick(self, count: int) -> int:
        """A choice in ``range(count)``."""
        return self.fdp.ConsumeIntInRange(0, count - 1)

    def token_id(self, allowed: Optional[np.ndarray] = None) -> int:
        """A token id: usually one the mask allows, sometimes any id, out-of-range ones included."""
        roll = self.pick(8)
        if allowed is not None and allowed.any() and roll < 5:
            ids = np.flatnonzero(allowed)
            return int(ids[self.pick(len(ids))])
        if roll == 7:
            return [-1, -(2**31), 2**31 - 1, 2**40, self.vocab_size, self.vocab_size + 7][
                self.pick(6)
            ]
        return self.fdp.ConsumeIntInRange(0, self.vocab_size - 1)

    def run(self) -> None:
        """Build the first matcher, then run up to 40 operations."""
        stops = [None, [], [self.pick(self.vocab_size)], [-1], [self.vocab_size]][self.pick(5)]
        try:
            matcher = xgram.GrammarMatcher(
                self.compiled,
                override_stop_tokens=stops,
                terminate_without_stop_token=bool(self.pick(2)),
                max_rollback_tokens=[-1, 0, 1, 2, 5][self.pick(5)],
            )
        except CLEAN as exc:
            self.feedback.observe_error("matcher", exc)
            return
        self.matchers.append(Tracked(matcher))
        names = list(self.operations)
        for _ in range(self.pick(41)):
            name = names[self.pick(len(names))]
            target = self.matchers[self.pick(len(self.matchers))]
            try:
                outcome = self.operations[name](target)
            except CLEAN as exc:
                self.feedback.observe_error(name, exc)
                continue
            self.feedback.observe(name, outcome)

    # Advancing -----------------------------------------------------------------
    def accept_token(self, tracked: Tracked) -> Any:
        """The mask bit must say whether the token is taken; a refusal changes nothing."""
        # With terminate_without_stop_token a "terminated" matcher still accepts what
        # the grammar allows; after a stop token every accept is a UsageError.
        matcher = tracked.matcher
        before = mask_of(matcher, self.vocab_size)
        token = self.token_id(before)
        took = matcher.accept_token(token)
        if 0 <= token < self.vocab_size:
            bit = bool(before[token])
            expect(took == bit, f"mask bit {bit} for token {token}, accept_token says {took}")
        if took:
            tracked.history.append(before)
        else:
            same = np.array_equal(mask_of(matcher, self.vocab_size), before)
            expect(same, f"refusing token {token} changed the mask")
        return took

    def accept_string(self, tracked: Tracked) -> Any:
        """A refused string changes nothing; an accepted one is one rollback unit."""
        matcher = tracked.matcher
        samples = [b"", b"a", b'{"a": 1}', b"null", b"\xc3", b"\xa9", b"ab-12", b"\xff", b"x"]
        text = samples[self.pick(len(samples))] if self.pick(2) else self.fdp.ConsumeBytes(6)
        before = mask_of(matcher, self.vocab_size)
        took = matcher.accept_string(text)
        if took:
            tracked.history.append(before)
        else:
            same = np.array_equal(mask_of(matcher, self.vocab_size), before)
            expect(same, f"refusing {text!r} changed the mask")
        return took

    def rollback(self, tracked: Tracked) -> Any:
        """``rollback(n)`` restores the mask from before the n-th newest unit."""
        count = [0, 1, 2, len(tracked.history), len(tracked.history) + 1, -1][self.pick(6)]
        tracked.matcher.rollback(count)  # UsageError beyond the history or the window
        expect(0 <= count <= len(tracked.history), f"rollback({count}) of {len(tracked.history)}")
        if count:
            restored = tracked.history[-count]
            del tracked.history[-count:]
            now = mask_of(tracked.matcher, self.vocab_size)
            expect(np.array_equal(now, restored), f"rollback({count}) did not restore the mask")
        return count

    def fork(self, tracked: Tracked) -> Any:
        """A fork has its parent's mask (and is tracked from then on)."""
        if len(self.matchers) >= MAX_MATCHERS:
            return None
        child = tracked.matcher.fork()
        if not tracked.matcher.is_terminated():
            same = np.array_equal(
                mask_of(child, self.vocab_size), mask_of(tracked.matcher, self.vocab_size)
            )
            expect(same, "a fork's mask differs from its parent's")
        self.matchers.append(Tracked(child, tracked.history))
        return len(self.matchers)

    def reset(self, tracked: Tracked) -> Any:
        """Back to the start: the mask of a fresh matcher."""
        tracked.matcher.reset()
        tracked.history.clear()
        return tracked.matcher.is_terminated()

    def state(self, tracked: Tracked) -> Any:
        """The state queries, which must not fail."""
        matcher = tracked.matcher
        return (matcher.is_terminated(), matcher.is_completed(), len(matcher.stop_token_ids))

    # Lookahead -----------------------------------------------------------------
    def jump_forward(self, tracked: Tracked) -> Any:
        """Forced text and forced tokens must be accepted by a copy of the matcher."""
        matcher = tracked.matcher
        forced = matcher.find_jump_forward_string()
        tokens = matcher.find_jump_forward_tokens()
        if matcher.is_terminated():
            return "terminated"
        expect(matcher.fork().accept_string(forced), f"forced text {forced!r} is refused")
        copy = matcher.fork()
        for token in tokens:
            expect(copy.accept_token(token), f"forced token {token} of {tokens} is refused")
        return (len(forced) > 0, len(tokens) > 0)

    def validate_tokens(self, tracked: Tracked) -> Any:
        """``validate_tokens`` equals the count a copy accepts one by one."""
        matcher = tracked.matcher
        ids = [self.token_id(mask_of(matcher, self.vocab_size)) for _ in range(self.pick(6))]
        kind = self.pick(4)
        argument: Any = ids
        if kind == 1:
            argument = np.array(ids, dtype=np.int64)
        elif kind == 2:
            argument = np.array([i % 2**31 for i in ids], dtype=np.int32)
            ids = [int(i) for i in argument]
        elif kind == 3:
            argument = tuple(ids)
        count = matcher.validate_tokens(argument)
        copy = matcher.fork()
        expected = 0
        for token in ids:
            try:
                if not copy.accept_token(token):
                    break
            except xgram.UsageError:  # after a stop token
                break
            expected += 1
        expect(count == expected, f"validate_tokens({ids}) = {count}, accepting took {expected}")
        return count

    # Bitmasks ------------------------------------------------------------------
    def odd_bitmask(self, rows: int) -> np.ndarray:
        """A bitmask of a fuzzer-chosen kind: right, too narrow, wide, wrong dtype, strided..."""
        words = (self.vocab_size + 31) // 32
        kind = self.pick(9)
        if kind == 1:
            return np.full((rows, max(words - 1, 0)), -1, np.int32)  # one word short
        if kind == 2:
            return np.full((rows, words + 3), 7, np.int32)  # wider than needed
        if kind == 3:
            return np.zeros(
                (rows, words), [np.int64, np.uint32, np.float32, np.int16][self.pick(4)]
            )
        if kind == 4:
            return np.zeros((rows, 2 * words), np.int32)[:, ::2]  # not contiguous
        if kind == 5:
            return np.zeros(rows * words, np.int32)  # flat
        if kind == 6:
            return np.zeros((rows, 1, words), np.int32)  # three dimensions
        if kind == 7:
            return np.zeros((0, words), np.int32)
        return np.full((rows, words), 0x5A5A5A5A, np.int32)

    def fill_odd_bitmask(self, tracked: Tracked) -> Any:
        """A fill writes one whole row and nothing else; padding and special ids stay off."""
        rows = 1 + self.pick(3)
        bitmask = self.odd_bitmask(rows)
        index = [0, rows - 1, rows, -1, self.pick(rows)][self.pick(5)]
        if self.pick(8) == 0:  # read-only memory: an immutable bytes object's buffer
            frozen = bytes(bitmask.nbytes)
            bitmask = np.frombuffer(frozen, bitmask.dtype).reshape(bitmask.shape)
            tracked.matcher.fill_next_token_bitmask(bitmask, index)
            # Known finding (tests/test_fuzz_regressions.py): the fill does not check
            # that the array is writable and writes into the immutable bytes object.
            # Set aside here so that the campaign goes on.
            return ("read-only", frozen == bytes(len(frozen)))
        before = bitmask.copy()
        tracked.matcher.fill_next_token_bitmask(bitmask, index)
        # The API reads anything but a 2-D array as one row (see xgram.matcher).
        as_rows = (lambda a: a) if bitmask.ndim == 2 else (lambda a: a.reshape(1, -1))
        now, then = as_rows(bitmask), as_rows(before)
        for row in range(now.shape[0]):
            if row != index:
                same = np.array_equal(now[row], then[row])
                expect(same, f"a fill of row {index} wrote row {row}")
        bits = np.unpackbits(np.ascontiguousarray(now[index]).view(np.uint8), bitorder="little")
        # A stop token may be overridden to a padding id, which is then allowed.
        stops = set(tracked.matcher.stop_token_ids)
        real_tokens = self.vocab_size - PADDING_IDS
        padding = bits[real_tokens : 32 * ((self.vocab_size + 31) // 32)]
        extra = [i for i in (np.flatnonzero(padding) + real_tokens).tolist() if i not in stops]
        expect(not extra, f"ids {extra} past the vocabulary's tokens are allowed in row {index}")
        for token in self.compiled.tokenizer_info.special_token_ids:
            if token not in stops and token < real_tokens:
                expect(not bits[token], f"special token {token} allowed")
        return (bitmask.dtype.str, bitmask.ndim, index)

    def apply_mask(self, tracked: Tracked) -> Any:
        """``apply_token_bitmask_inplace`` sets exactly the disallowed logits to -inf."""
        rows = 1 + self.pick(3)
        width = self.vocab_size + [0, -5, 9, -self.vocab_size + 1][self.pick(4)]
        logits = np.zeros((rows, width), [np.float32, np.float16, np.float64][self.pick(3)])
        if self.pick(8) == 0:  # read-only logits (known finding, as for the bitmask fill)
            frozen = bytes(logits.nbytes)
            logits = np.frombuffer(frozen, logits.dtype).reshape(logits.shape)
        bitmask = self.odd_bitmask(1 + self.pick(3))
        indices = [None, [0], [-1], [rows - 1, 0], [rows], [2**40]][self.pick(6)]
        vocab_size = [None, self.vocab_size, 0, -3, 10**9][self.pick(5)]
        xgram.apply_token_bitmask_inplace(logits, bitmask, vocab_size=vocab_size, indices=indices)
        masked = np.isneginf(logits)
        expect(bool(np.isfinite(logits[~masked]).all()), "apply_token_bitmask_inplace wrote NaN")
        if indices is None and vocab_size is None and bitmask.ndim == 2:
            columns = min(width, bitmask.shape[1] * 32)
            words = np.ascontiguousarray(bitmask[:rows]).view(np.uint8)
            allowed = np.unpackbits(words, axis=1, bitorder="little")[:, :columns].astype(bool)
            expect(np.array_equal(masked[:, :columns], ~allowed), "masked logits differ from bits")
        return (str(logits.dtype), indices is None, vocab_size is None)

    # Speculative decoding --------------------------------------------------------
    def draft_tree(self, tracked: Tracked) -> Any:
        """A traversal leaves the matcher unchanged and fills row 0 with its current mask."""
        matcher = tracked.matcher
        nodes = 1 + self.pick(6)
        children, siblings = [-1] * nodes, [-1] * nodes
        for node in range(1, nodes):  # attach each node under an earlier one
            parent = self.pick(node)
            if children[parent] == -1:
                children[parent] = node
            else:
                last = children[parent]
                while siblings[last] != -1:
                    last = siblings[last]
                siblings[last] = node
        if self.pick(6) == 0:  # a broken tree: a cycle, a shared node or an id out of range
            links = children if self.pick(2) else siblings
            links[self.pick(nodes)] = [0, nodes, -2, self.pick(nodes)][self.pick(4)]
        before = None if matcher.is_terminated() else mask_of(matcher, self.vocab_size)
        tokens = [self.token_id(before) for _ in range(nodes)]
        bitmask = np.zeros((nodes, (self.vocab_size + 31) // 32), np.int32)
        try:
            matcher.traverse_draft_tree(children, siblings, tokens, bitmask)
        except OverflowError:
            # Known finding, fixed since the instrumented snapshot was built: numpy's
            # OverflowError for a token id past int32 instead of a UsageError.
            expect(any(abs(t) >= 2**31 for t in tokens), "OverflowError for int32 ids")
            return "known-overflow"
        if before is not None:
            after = mask_of(matcher, self.vocab_size)
            expect(np.array_equal(after, before), "traverse_draft_tree changed the matcher")
            row0 = np.unpackbits(bitmask[0].view(np.uint8), bitorder="little")[: self.vocab_size]
            expect(np.array_equal(row0.astype(bool), before), "row 0 is not the current mask")
        return nodes
