"""What every fuzz target shares: budgets, a small tokenizer, the rejection policy, the runner.

Each ``fuzz_*.py`` imports this module and ``xgram`` inside
``atheris.instrument_imports`` (see :func:`instrumented_imports`), so the fuzzer sees
the coverage of xgram's Python layer and of the input generators here. The C++ core
is not instrumented for coverage (GCC cannot produce libFuzzer's edge counters; see
fuzz/README.md): its bugs show up as AddressSanitizer/UBSan reports, crashes, hangs
or exceptions of an unexpected type, found by inputs the Python-level feedback and
the structure-aware generators steer towards.
"""

from __future__ import annotations

import contextlib
import re
import sys
import zlib
from typing import Any, Callable, Iterator, Optional, Sequence, Tuple, Type

import atheris

# Automaton budgets for every target: an input whose grammar would take longer or
# grow larger is rejected with CompileBudgetError (a clean rejection) rather than
# stalling the fuzzer, so libFuzzer's -timeout only fires on real hangs.
MAX_STATES = 20_000
MAX_SECONDS = 2.0

# The stop, special and padding ids of the small tokenizer (see small_tokenizer).
STOP_TOKEN = b"<eos>"
SPECIAL_TOKEN = b"<tool>"
PADDING_IDS = 5

ExceptionTypes = Tuple[Type[BaseException], ...]


@contextlib.contextmanager
def instrumented_imports() -> Iterator[None]:
    """Instrument the Python bytecode of xgram and of the fuzz helpers imported inside.

    Modules imported before this block (numpy, atheris itself) stay uninstrumented:
    their coverage would only add noise to the corpus.
    """
    helpers = [
        "grammar_checks",
        "text_generators",
        "schema_mutations",
        "matcher_programs",
    ]
    with atheris.instrument_imports(include=["xgram", *helpers]):
        yield


class OutcomeFeedback:
    """Turns what the C++ core did with an input into coverage libFuzzer can see.

    The core reports no coverage, so two inputs that take the same Python path
    look identical to libFuzzer, however differently the core treated them: it
    would keep one and drop the other from the corpus. Each observation (an
    error's kind, a size bucket, a tuple of verdicts) is hashed to one of
    ``bins`` tiny instrumented functions and that function is called: an
    observation never seen before covers a new function, and the input that
    caused it is kept.

    Parameters
    ----------
    bins : int
        Distinct observations told apart (more collide).

    """

    def __init__(self, bins: int = 2048) -> None:
        self._bins = []
        for index in range(bins):
            namespace: dict[str, Any] = {}
            exec(f"def observed_{index}():\n    return {index}\n", namespace)
            self._bins.append(atheris.instrument_func(namespace[f"observed_{index}"]))

    def observe(self, *parts: Any) -> None:
        """Record one observation (its parts are joined by their ``str``)."""
        key = "|".join(str(part) for part in parts).encode("utf-8", "replace")
        self._bins[zlib.crc32(key) % len(self._bins)]()

    def observe_error(self, where: str, error: BaseException, *extra: Any) -> None:
        """Record an exception by its type and its message with names and numbers removed."""
        message = re.sub(r"'[^']*'|\"[^\"]*\"|\d+", "", str(error))[:80]
        self.observe(where, type(error).__name__, message, *extra)


def size_bucket(count: int) -> int:
    """The bit length of ``count``: sizes grouped by powers of two."""
    return int(count).bit_length()


def set_budgets() -> None:
    """Apply the small compile budgets (process-wide) before the first input runs."""
    import xgram

    xgram.set_compile_limits(max_states=MAX_STATES, max_seconds=MAX_SECONDS)


def small_vocabulary() -> list[bytes]:
    r"""A synthetic RAW vocabulary: every single byte, some multi-byte tokens, a stop and a special.

    Every byte string can be tokenized (single bytes), multi-byte tokens cross
    grammar boundaries (``{"``, ``":``, ``null``), and UTF-8 is split across tokens
    (``\xc3`` then ``\xa9``) as real tokenizers do.
    """
    singles = [bytes([b]) for b in range(256)]
    pieces = [
        b"ab", b"abc", b"ba", b"aa", b"12", b"-1", b"0.", b"e+", b"\\u",
        b'{"', b'":', b'",', b'"}', b"{}", b"[]", b"[1", b", ", b": ",
        b"null", b"true", b"false", b"nu", b"ll", b"tr", b"ue",
        b"  ", b"\n ", b"\xc3\xa9", b"\xe2\x82\xac", b"\xe2\x82", b"\xf0\x9f\x98\x80",
        STOP_TOKEN, SPECIAL_TOKEN,
    ]  # fmt: skip
    return singles + pieces


def small_tokenizer() -> Any:
    """An ``xgram.TokenizerInfo`` over :func:`small_vocabulary`, with padding ids past the end."""
    import xgram

    vocab = small_vocabulary()
    return xgram.TokenizerInfo(
        vocab,
        vocab_size=len(vocab) + PADDING_IDS,
        stop_token_ids=[vocab.index(STOP_TOKEN)],
        special_token_ids=[vocab.index(SPECIAL_TOKEN)],
    )


def guarded(expected: ExceptionTypes, action: Callable[[], Any]) -> Tuple[bool, Any]:
    """Run ``action``; (True, result), or (False, None) when it raised one of ``expected``.

    Any other exception propagates, and atheris reports it as a finding.
    """
    try:
        return True, action()
    except expected:
        return False, None


def run(
    test_one_input: Callable[[bytes], None],
    *,
    custom_mutator: Optional[Callable[[bytes, int, int], bytes]] = None,
    argv: Optional[Sequence[str]] = None,
) -> None:
    """Hand ``test_one_input`` to atheris/libFuzzer with the command line's flags."""
    set_budgets()
    args = list(sys.argv if argv is None else argv)
    # Always atheris' own libFuzzer: fuzz/run.sh preloads that very library ahead of
    # the sanitizer runtime (whose coverage stubs would otherwise swallow atheris'
    # counters), and atheris would take a preloaded libFuzzer for an external one.
    options: dict[str, Any] = {"internal_libfuzzer": True}
    if custom_mutator is not None:
        options["custom_mutator"] = custom_mutator
    atheris.Setup(args, test_one_input, **options)
    atheris.Fuzz()
