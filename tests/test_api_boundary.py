"""The API boundary: every misuse is a typed exception naming what and where, and harms nothing.

This file: the matcher, bitmasks and logits. tests/test_api_boundary_inputs.py:
grammar text, tokenizer info, the compiler, JSON schemas and the XGrammar drop-in.

The rule (xgram/errors.py): the wrong kind of object is an ``ArgumentTypeError`` (a
``TypeError`` and a ``UsageError``); a value out of range, a bitmask that does not
fit, a lone surrogate in an argument, a call in the wrong state is a ``UsageError``;
grammar text is a ``GrammarError``; a schema a ``SchemaError`` with its keyword and
pointer. After each error the object still works: the matcher's mask is the same
and it still accepts a valid continuation; a bitmask or logits refused is unwritten.
"""

from __future__ import annotations

import gc
import weakref
from typing import Any, Callable, List

import numpy as np
import pytest

import xgram
from xgram.errors import ArgumentTypeError, UsageError

VOCAB = ["a", "b", "c", "{", "}", '"', ":", ",", " ", "1", "</s>", "ab", "é"]
STOP = 10
SIZE = len(VOCAB)


@pytest.fixture(scope="module")
def info() -> xgram.TokenizerInfo:
    return xgram.TokenizerInfo(VOCAB, stop_token_ids=[STOP])


@pytest.fixture(scope="module")
def compiled(info: xgram.TokenizerInfo) -> xgram.CompiledGrammar:
    return xgram.GrammarCompiler(info).compile_grammar('root ::= "a"+ "b"')


@pytest.fixture
def matcher(compiled: xgram.CompiledGrammar) -> xgram.GrammarMatcher:
    """A matcher that has accepted "a": it has a token to roll back and tokens to accept."""
    m = xgram.GrammarMatcher(compiled)
    assert m.accept_token(0)
    return m


def fill(m: xgram.GrammarMatcher) -> np.ndarray:
    bitmask = np.zeros((1, 1), np.int32)
    m.fill_next_token_bitmask(bitmask)
    return bitmask


def allowed(bitmask: np.ndarray) -> List[int]:
    return [t for t in range(SIZE) if bitmask[0, t // 32] >> (t % 32) & 1]


def assert_unharmed(m: xgram.GrammarMatcher, before: np.ndarray) -> None:
    """Same mask as before the error; a valid token is accepted, rolled back, same mask."""
    assert np.array_equal(fill(m), before)
    token = next(t for t in allowed(before) if t != STOP)
    assert m.accept_token(token)
    m.rollback(1)
    assert np.array_equal(fill(m), before)


def raises_unharmed(m: xgram.GrammarMatcher, call: Callable[[], Any], error: type, match: str):
    before = fill(m)
    with pytest.raises(error, match=match) as info:
        call()
    assert_unharmed(m, before)
    return info


def test_the_classes_follow_the_rule() -> None:
    assert issubclass(ArgumentTypeError, TypeError) and issubclass(ArgumentTypeError, UsageError)
    assert issubclass(UsageError, ValueError) and issubclass(ArgumentTypeError, xgram.XgramError)
    assert xgram.errors.__doc__ is not None and "ArgumentTypeError" in xgram.errors.__doc__


# ----------------------------------------------------------------------- token ids

TOKEN_ID_CASES = [
    (1.9, ArgumentTypeError, r"token_id is float 1\.9, not an integer"),
    (True, ArgumentTypeError, r"token_id is bool True, not an integer"),
    ("0", ArgumentTypeError, r"token_id is str '0', not an integer"),
    (None, ArgumentTypeError, r"token_id is NoneType None"),
    (np.float64(0.0), ArgumentTypeError, r"token_id is float64"),
    (np.float32(1.9), ArgumentTypeError, r"token_id is float32"),
    (-1, UsageError, r"token id -1 is out of range \[0, 13\)"),
    (SIZE, UsageError, r"token id 13 is out of range \[0, 13\)"),
    (2**31, UsageError, r"token id 2147483648 is out of range"),
    (2**63, UsageError, r"token id 9223372036854775808 is out of range"),
    (2**64, UsageError, r"token id 18446744073709551616 is out of range"),
    (-(2**63), UsageError, r"token id -9223372036854775808 is out of range"),
]


@pytest.mark.parametrize("token_id, error, match", TOKEN_ID_CASES)
def test_accept_token_refuses(matcher, token_id, error, match) -> None:
    raises_unharmed(matcher, lambda: matcher.accept_token(token_id), error, match)


@pytest.mark.parametrize("make", [int, np.int64, np.int32, np.uint8, np.intc])
def test_accept_token_takes_any_integer_type(matcher, make) -> None:
    assert matcher.accept_token(make(1)) and matcher.is_completed()


def test_accept_token_takes_a_torch_integer_scalar(matcher) -> None:
    torch = pytest.importorskip("torch")
    assert matcher.accept_token(torch.tensor(1)) and matcher.is_completed()
    matcher.rollback(1)
    raises_unharmed(matcher, lambda: matcher.accept_token(torch.tensor(1.0)), TypeError, "Tensor")


@pytest.mark.parametrize(
    "count, error, match",
    [
        (2**62, UsageError, r"cannot roll back 4611686018427387904 tokens: 1 can be rolled back"),
        (2**63, UsageError, r"cannot roll back 9223372036854775808 tokens"),
        (-1, UsageError, r"cannot roll back -1 tokens"),
        (2, UsageError, r"cannot roll back 2 tokens: 1 can"),
        (1.5, ArgumentTypeError, r"num_tokens is float 1\.5, not an integer"),
        ("1", ArgumentTypeError, r"num_tokens is str '1'"),
        (True, ArgumentTypeError, r"num_tokens is bool True"),
    ],
)
def test_rollback_refuses(matcher, count, error, match) -> None:
    raises_unharmed(matcher, lambda: matcher.rollback(count), error, match)


@pytest.mark.parametrize(
    "text, error, match",
    [
        ("\ud800", UsageError, r"text holds a lone surrogate '\\ud800' at index 0"),
        ("a\udfffb", UsageError, r"text holds a lone surrogate '\\udfff' at index 1"),
        (5, ArgumentTypeError, r"text must be str or bytes, got int"),
        (None, ArgumentTypeError, r"text must be str or bytes, got NoneType"),
        (["a"], ArgumentTypeError, r"text must be str or bytes, got list"),
    ],
)
def test_accept_string_refuses(matcher, text, error, match) -> None:
    raises_unharmed(matcher, lambda: matcher.accept_string(text), error, match)


@pytest.mark.parametrize("text", ["a", b"a", bytearray(b"a"), memoryview(b"a")])
def test_accept_string_takes_text_and_bytes(matcher, text) -> None:
    before = fill(matcher)
    assert matcher.accept_string(text) and np.array_equal(fill(matcher), before)
    matcher.rollback(1)
    assert_unharmed(matcher, before)


@pytest.mark.parametrize(
    "ids, error, match",
    [
        ([1.9], ArgumentTypeError, r"token_ids\[0\] is float 1\.9, not an integer"),
        ([0, True], ArgumentTypeError, r"token_ids\[1\] is bool True"),
        ([2**63], UsageError, r"token_ids\[0\] = 9223372036854775808 is out of range \[0, 13\)"),
        ([0, -1], UsageError, r"token_ids\[1\] = -1 is out of range"),
        (np.array([2**64 - 1], np.uint64), UsageError, r"token_ids\[0\] = 18446744073709551615"),
        (5, ArgumentTypeError, r"token_ids must be a sequence of integers, got int"),
        ("ab", ArgumentTypeError, r"token_ids must be a sequence of integers, got str"),
        (np.zeros((2, 2), np.int64), UsageError, r"token_ids must be a 1-D integer array"),
        (np.zeros(2), UsageError, r"token_ids must be a 1-D integer array, got shape \(2,\) float"),
    ],
)
def test_validate_tokens_refuses(matcher, ids, error, match) -> None:
    raises_unharmed(matcher, lambda: matcher.validate_tokens(ids), error, match)


# -------------------------------------------------------------------- draft trees

TREE = ([1, -1], [-1, -1])  # node 0 (accepted already) and its one child, node 1


@pytest.mark.parametrize(
    "token, error, match",
    [
        (-5, UsageError, r"draft_tokens\[1\] = -5 is out of range \[0, 13\)"),
        (SIZE, UsageError, r"draft_tokens\[1\] = 13 is out of range"),
        (2**63, UsageError, r"draft_tokens\[1\] = 9223372036854775808 is out of range"),
        (1.5, ArgumentTypeError, r"draft_tokens\[1\] is float 1\.5"),
    ],
)
def test_traverse_draft_tree_refuses_bad_draft_tokens(matcher, token, error, match) -> None:
    rows = np.full((2, 1), 7, np.int32)
    raises_unharmed(
        matcher, lambda: matcher.traverse_draft_tree(*TREE, [0, token], rows), error, match
    )
    assert (rows == 7).all()  # nothing written
    assert matcher.traverse_draft_tree(*TREE, [0, 1], rows) and allowed(rows[1:]) == [STOP]


def test_traverse_draft_tree_refuses_bad_arguments(matcher) -> None:
    tree = (*TREE, [0, 1])
    read_only = np.zeros((2, 1), np.int32)
    read_only.flags.writeable = False
    cases = [
        (
            lambda: matcher.traverse_draft_tree(*tree, np.zeros((2, 1), np.int32), "x"),
            ArgumentTypeError,
            r"time_threshold is str 'x', not a real number",
        ),
        (lambda: matcher.traverse_draft_tree(*tree, read_only), UsageError, "read-only"),
        (
            lambda: matcher.traverse_draft_tree(*tree, np.zeros((3, 1), np.int32)),
            UsageError,
            r"token_bitmask has 3 rows for a draft tree of 2 nodes",
        ),
        (
            lambda: matcher.traverse_draft_tree(*tree, [[0], [0]]),
            ArgumentTypeError,
            r"bitmask must be an int32 numpy array or torch tensor, got list",
        ),
        (
            lambda: matcher.traverse_draft_tree(
                *tree, np.zeros((2, 1), np.int32), temperatures=[1.0, 1.0]
            ),
            ArgumentTypeError,
            r"temperatures must be a 1-D float32 array or tensor, got list",
        ),
    ]
    for call, error, match in cases:
        raises_unharmed(matcher, call, error, match)


# --------------------------------------------------------------------- construction


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"override_stop_tokens": [-1]}, UsageError, r"override_stop_tokens\[0\] = -1 is out of"),
        ({"override_stop_tokens": [99]}, UsageError, r"override_stop_tokens\[0\] = 99"),
        ({"override_stop_tokens": [2**63]}, UsageError, r"override_stop_tokens\[0\] = 92233"),
        ({"override_stop_tokens": [1.9]}, ArgumentTypeError, r"override_stop_tokens\[0\] is float"),
        ({"override_stop_tokens": 1.9}, ArgumentTypeError, r"override_stop_tokens must be a seq"),
        ({"override_stop_tokens": "a"}, ArgumentTypeError, r"override_stop_tokens must be a seq"),
        ({"override_stop_tokens": True}, ArgumentTypeError, r"override_stop_tokens must be a seq"),
        ({"max_rollback_tokens": -5}, UsageError, r"max_rollback_tokens must be -1 .*got -5"),
        ({"max_rollback_tokens": 2**63}, UsageError, r"max_rollback_tokens must be -1"),
        ({"max_rollback_tokens": 1.5}, ArgumentTypeError, r"max_rollback_tokens is float 1\.5"),
        ({"default_temperature": "x"}, ArgumentTypeError, r"default_temperature is str 'x'"),
        ({"default_temperature": float("nan")}, UsageError, r"default_temperature must be finite"),
    ],
)
def test_matcher_constructor_refuses(compiled, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        xgram.GrammarMatcher(compiled, **kwargs)


def test_matcher_constructor_takes_integer_scalars_and_refuses_non_grammars(compiled) -> None:
    assert xgram.GrammarMatcher(compiled, override_stop_tokens=np.int64(9)).stop_token_ids == [9]
    assert xgram.GrammarMatcher(compiled, override_stop_tokens=np.array([9])).stop_token_ids == [9]
    for bad in (None, compiled.grammar, "root ::= 'a'"):
        with pytest.raises(ArgumentTypeError, match="compiled_grammar must be an xgram"):
            xgram.GrammarMatcher(bad)


def test_calls_on_a_terminated_matcher(matcher) -> None:
    assert matcher.accept_token(1) and matcher.accept_token(STOP) and matcher.is_terminated()
    bitmask = np.full((1, 1), 7, np.int32)
    for name, call in [
        ("accept_token", lambda: matcher.accept_token(0)),
        ("accept_string", lambda: matcher.accept_string("a")),
        ("fill_next_token_bitmask", lambda: matcher.fill_next_token_bitmask(bitmask)),
        ("find_jump_forward_string", matcher.find_jump_forward_string),
        ("validate_tokens", lambda: matcher.validate_tokens([0])),
    ]:
        with pytest.raises(UsageError, match=f"{name} called after the matcher terminated"):
            call()
    assert (bitmask == 7).all() and matcher.find_jump_forward_tokens() == []
    assert matcher.is_terminated() and matcher.is_completed()
    matcher.rollback(1)  # the way out, as the message says
    assert not matcher.is_terminated() and allowed(fill(matcher)) == [STOP]


def test_matcher_outlives_its_compiler_and_tokenizer_info() -> None:
    info = xgram.TokenizerInfo(VOCAB, stop_token_ids=[STOP])
    compiler = xgram.GrammarCompiler(info)
    compiled = compiler.compile_grammar('root ::= "a"+ "b"')
    gone = weakref.ref(compiler)
    del compiler, info
    gc.collect()
    assert gone() is None
    matcher = xgram.GrammarMatcher(compiled)
    twin = matcher.fork()
    del compiled
    gc.collect()
    assert allowed(fill(matcher)) == [0, 11]
    assert matcher.accept_token(0) and matcher.accept_string("b") and matcher.is_completed()
    assert matcher.find_jump_forward_tokens() == [] and twin.accept_token(11)
    again = xgram.CompiledGrammar.deserialize_json(
        twin.compiled_grammar.serialize_json(), twin.compiled_grammar.tokenizer_info
    )
    assert xgram.GrammarMatcher(again).accept_string("ab")


# ----------------------------------------------------------------------- bitmasks


def _read_only() -> np.ndarray:
    array = np.full((1, 1), 7, np.int32)
    array.flags.writeable = False
    return array


NUMPY_BITMASK_CASES = [
    (
        lambda: np.full((1, 1), 7, np.float32),
        0,
        UsageError,
        r"bitmask must be an int32 array, got float32",
    ),
    (lambda: np.full((1, 1), 7, np.int64), 0, UsageError, r"int32 array, got int64"),
    (lambda: np.full((1, 1), 7, np.uint32), 0, UsageError, r"int32 array, got uint32"),
    (lambda: np.full((1, 0), 7, np.int32), 0, UsageError, r"bitmask row has 0 words; 1 are needed"),
    (
        lambda: np.full((1, 1, 1), 7, np.int32),
        0,
        UsageError,
        r"1-D or 2-D \(rows, words\), got shape \(1, 1, 1\)",
    ),
    (lambda: np.full((), 7, np.int32), 0, UsageError, r"1-D or 2-D .*got shape \(\)"),
    (
        lambda: np.full((1, 1), 7, np.int32),
        1,
        UsageError,
        r"index 1 out of range for a bitmask of 1 rows",
    ),
    (lambda: np.full((2, 1), 7, np.int32), -1, UsageError, r"index -1 out of range"),
    (lambda: np.full((2, 1), 7, np.int32), 2**64, UsageError, r"index 18446744073709551616 out"),
    (
        lambda: np.full((2, 1), 7, np.int32),
        1.5,
        ArgumentTypeError,
        r"index is float 1\.5, not an integer",
    ),
    (lambda: np.full((2, 1), 7, np.int32), "0", ArgumentTypeError, r"index is str '0'"),
    (
        lambda: np.full((2, 4), 7, np.int32)[:, ::2],
        0,
        UsageError,
        r"C-contiguous, got shape \(2, 2\) with strides \(4, 2\)",
    ),
    (
        lambda: np.full((2, 1), 7, np.int32)[::-1],
        0,
        UsageError,
        r"C-contiguous, .*strides \(-1, 1\)",
    ),
    (lambda: np.full((2, 3), 7, np.int32).T, 0, UsageError, r"C-contiguous, got shape \(3, 2\)"),
    (_read_only, 0, UsageError, r"bitmask is read-only"),
    (
        lambda: [[7]],
        0,
        ArgumentTypeError,
        r"bitmask must be an int32 numpy array or torch tensor, got list",
    ),
    (lambda: None, 0, ArgumentTypeError, r"got NoneType"),
]


@pytest.mark.parametrize("make, index, error, match", NUMPY_BITMASK_CASES)
def test_fill_refuses_numpy_bitmasks(matcher, make, index, error, match) -> None:
    bitmask = make()
    raises_unharmed(matcher, lambda: matcher.fill_next_token_bitmask(bitmask, index), error, match)
    if isinstance(bitmask, np.ndarray):
        assert (bitmask == 7).all()  # not written


def test_fill_takes_one_row_and_numpy_integer_indices(matcher) -> None:
    row = np.zeros(1, np.int32)
    assert matcher.fill_next_token_bitmask(row) and allowed(row[None]) == [0, 1, 11]
    rows = np.zeros((3, 1), np.int32)
    assert matcher.fill_next_token_bitmask(rows, np.int64(2)) and rows[:2].sum() == 0


def test_fill_refuses_torch_bitmasks(matcher) -> None:
    torch = pytest.importorskip("torch")

    def full(shape, dtype=torch.int32, **kwargs):
        return torch.full(shape, 7, dtype=dtype, **kwargs)

    cases = [
        (full((1, 1), torch.float32), 0, r"bitmask must be an int32 tensor, got torch\.float32"),
        (full((1, 1), torch.int64), 0, r"int32 tensor, got torch\.int64"),
        (full((1, 0)), 0, r"bitmask row has 0 words; 1 are needed"),
        (full((1, 1, 1)), 0, r"1-D or 2-D \(rows, words\), got shape \(1, 1, 1\)"),
        (full(()), 0, r"1-D or 2-D .*got shape \(\)"),
        (full((2, 4))[:, ::2], 0, r"C-contiguous, got shape \(2, 2\) with strides \(4, 2\)"),
        (full((2, 3)).t(), 0, r"C-contiguous, got shape \(3, 2\)"),
        (full((1, 1), device="meta"), 0, r"bitmask is on meta: fill the bitmask on the CPU"),
        (full((1, 1)).to_sparse(), 0, r"dense \(strided\) tensor, got torch\.sparse_coo"),
        (full((2, 1)), 2, r"index 2 out of range for a bitmask of 2 rows"),
        (full((2, 1)), -1, r"index -1 out of range"),
    ]
    for bitmask, index, match in cases:
        call = lambda b=bitmask, i=index: matcher.fill_next_token_bitmask(b, i)  # noqa: E731
        raises_unharmed(matcher, call, UsageError, match)
        if bitmask.layout == torch.strided and bitmask.device.type == "cpu":
            assert (bitmask == 7).all()
    rows = torch.zeros((4, 1), dtype=torch.int32)
    assert matcher.fill_next_token_bitmask(rows[1:3], 1)  # a view with an offset
    assert rows[:, 0].tolist()[0:2] == [0, 0] and rows[3, 0] == 0 and rows[2, 0] != 0


@pytest.mark.parametrize(
    "call, error, match",
    [
        (
            lambda: xgram.get_bitmask_shape(-1, 10),
            UsageError,
            r"batch_size and vocab_size must be >= 0, got -1",
        ),
        (lambda: xgram.get_bitmask_shape(1, -32), UsageError, r"got 1 and -32"),
        (lambda: xgram.get_bitmask_shape("a", 10), ArgumentTypeError, r"batch_size is str 'a'"),
        (
            lambda: xgram.allocate_token_bitmask(1.5, 10),
            ArgumentTypeError,
            r"batch_size is float 1\.5",
        ),
        (
            lambda: xgram.allocate_token_bitmask(1, None),
            ArgumentTypeError,
            r"vocab_size is NoneType",
        ),
        (
            lambda: xgram.reset_token_bitmask([0]),
            ArgumentTypeError,
            r"bitmask must be a numpy array or a torch tensor, got list",
        ),
        (lambda: xgram.reset_token_bitmask(_read_only()), UsageError, r"bitmask is read-only"),
    ],
)
def test_bitmask_helpers_refuse(call, error, match) -> None:
    with pytest.raises(error, match=match):
        call()


def _logits(rows: int = 2) -> np.ndarray:
    return np.arange(rows * SIZE, dtype=np.float32).reshape(rows, SIZE)


def _masks(rows: int = 2) -> np.ndarray:
    return np.full((rows, 1), 0b101, np.int32)  # tokens 0 and 2


def _read_only_logits() -> np.ndarray:
    logits = _logits()
    logits.flags.writeable = False
    return logits


APPLY_CASES = [
    (
        lambda: [[0.0] * SIZE],
        _masks,
        {},
        ArgumentTypeError,
        r"logits must be a numpy array or a torch tensor, got list",
    ),
    (
        _logits,
        lambda: [[5]],
        {},
        ArgumentTypeError,
        r"bitmask must be a numpy array or a torch tensor, got list",
    ),
    (
        lambda: _logits().reshape(2, 1, SIZE),
        _masks,
        {},
        UsageError,
        r"1-D or 2-D, got shapes \(2, 1, 13\) and \(2, 1\)",
    ),
    (
        _logits,
        lambda: _masks().reshape(2, 1, 1),
        {},
        UsageError,
        r"got shapes \(2, 13\) and \(2, 1, 1\)",
    ),
    (
        lambda: _logits().astype(np.float64),
        _masks,
        {},
        UsageError,
        r"unsupported logits dtype float64",
    ),
    (
        _logits,
        lambda: _masks().astype(np.float32),
        {},
        UsageError,
        r"bitmask must be a C-contiguous int32",
    ),
    (_logits, _masks, {"vocab_size": -5}, UsageError, r"vocab_size must be >= 0, got -5"),
    (_logits, _masks, {"vocab_size": 1.5}, ArgumentTypeError, r"vocab_size is float 1\.5"),
    (_logits, _masks, {"indices": [-1]}, UsageError, r"indices\[0\] = -1 is out of range \[0, 2\)"),
    (
        _logits,
        lambda: _masks(3),
        {"indices": [0, 2]},
        UsageError,
        r"indices\[1\] = 2 is out of range \[0, 2\): 2 rows of logits, 3 of bitmask",
    ),
    (_logits, _masks, {"indices": [2**64]}, UsageError, r"indices\[0\] = 18446744073709551616"),
    (_logits, _masks, {"indices": [1.5]}, ArgumentTypeError, r"indices\[0\] is float 1\.5"),
    (_logits, lambda: _masks(1), {}, UsageError, r"bitmask has 1 rows for 2 rows of logits"),
    (_read_only_logits, _masks, {}, UsageError, r"logits is read-only"),
]


@pytest.mark.parametrize("make_logits, make_mask, kwargs, error, match", APPLY_CASES)
def test_apply_refuses(make_logits, make_mask, kwargs, error, match) -> None:
    logits, mask = make_logits(), make_mask()
    untouched = np.array(logits, copy=True)
    with pytest.raises(error, match=match):
        xgram.apply_token_bitmask_inplace(logits, mask, **kwargs)
    assert np.array_equal(np.array(logits), untouched)


def test_apply_takes_reversed_rows_and_integer_indices() -> None:
    logits = _logits(3)
    reversed_view = logits[::-1]  # a negative row stride: the rows are still contiguous
    mask = np.array([[0b1], [0b10], [0b100]], np.int32)
    xgram.apply_token_bitmask_inplace(reversed_view, mask, indices=np.array([0, 2]))
    assert [np.isfinite(reversed_view[r]).nonzero()[0].tolist() for r in range(3)] == [
        [0],
        list(range(SIZE)),
        [2],
    ]


def test_device_kernel_checks_every_row() -> None:
    torch = pytest.importorskip("torch")
    from xgram.kernels import apply_token_bitmask_inplace_gpu

    logits, mask = torch.zeros((3, SIZE)), torch.full((2, 1), 1, dtype=torch.int32)
    for kwargs, match in [
        ({}, r"logits row 2 is out of range: 3 rows of logits, 2 of bitmask"),
        ({"indices": [5]}, r"index 5 is out of range"),
        ({"indices": [-1]}, r"index -1 is out of range"),
        ({"vocab_size": -1}, r"vocab_size must be >= 0"),
    ]:
        with pytest.raises(UsageError, match=match):
            apply_token_bitmask_inplace_gpu(logits, mask, **kwargs)
    with pytest.raises(UsageError, match=r"bitmask must be int32, got torch\.float32"):
        apply_token_bitmask_inplace_gpu(logits, mask.float())
    assert (logits == 0).all()
    apply_token_bitmask_inplace_gpu(logits[:2], mask.numpy())  # numpy masks are taken
    assert torch.isinf(logits[:2, 1:]).all() and (logits[:, 0] == 0).all()
