"""The two sides of the XGrammar differential: one grammar engine behind one small interface.

Each side compiles a grammar (a JSON schema, a regex, EBNF or a structural tag), answers
full-string acceptance for a list of strings, walks a token sequence filling a bitmask before
every token, and samples strings by walking masks over a one-character-per-token vocabulary.

* :class:`XGrammarApiEngine` speaks XGrammar 0.2.9's Python API. It drives the real
  ``xgrammar``, and also xgram's drop-in once ``xgram/compat`` exists (``import xgrammar``
  then gives the drop-in when its directory is first on ``sys.path``), so both sides run
  the very same driver code.
* :class:`XgramEngine` calls xgram's own API with the options the drop-in uses: serving
  defaults, and ``lenient=True`` when a JSON schema raises ``SchemaError``.

A side runs in this process (:class:`LocalSide`, for the fast test) or in a worker process
(:class:`WorkerSide`, for the full run): a worker can be killed when a grammar overruns its
time budget, and a worker is the only way to import the drop-in's ``xgrammar`` next to the
real one. This module imports no engine at module level, so spawned workers load only their
own.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import json
import multiprocessing as mp
import os
import random
import signal
import sys
import tempfile
import time
import warnings
from multiprocessing.connection import Connection
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

# The sampling vocabulary: one token per character. Printable ASCII, the JSON whitespace
# characters, a control character (raw controls are invalid inside JSON strings), and
# non-ASCII characters of 2, 3 and 4 UTF-8 bytes plus the line terminator U+2028 (which
# ECMA-262's "." does not match). Then the 64 UTF-8 continuation bytes, as tokens of their
# own: they finish a character that a model token split (a witness of a mask disagreement
# can start that way), and are never chosen anywhere else.
CHARS: List[str] = [chr(c) for c in range(0x20, 0x7F)] + [
    "\n",
    "\t",
    "\r",
    "\x01",
    "\u00e9",
    "\u65e5",
    "\U0001f600",
    "\u2028",
]
CONTINUATION_BYTES: List[bytes] = [bytes([b]) for b in range(0x80, 0xC0)]
CHAR_VOCAB: List[bytes] = [c.encode() for c in CHARS] + CONTINUATION_BYTES
FIRST_CONTINUATION = len(CHARS)
CHAR_STOP = len(CHAR_VOCAB)  # the stop token's id in the sampling vocabulary
_CLOSERS = {c.encode() for c in '"]})>'}
_OPENERS = {c.encode() for c in "[{(<"}
_WHITESPACE = {c.encode() for c in " \n\t\r"}

GRAMMAR_KINDS = ("json_schema", "regex", "ebnf", "structural_tag")


class EngineError(Exception):
    """A request to a side failed (the message names the side and the exception)."""


def mask_digest(row: np.ndarray) -> bytes:
    """A short fingerprint of one bitmask row: equal masks, equal digests."""
    return hashlib.blake2b(row.tobytes(), digest_size=12).digest()


def short_error(exc: BaseException, limit: int = 300) -> str:
    """``Type: first line`` of an exception, cut to ``limit`` characters."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first[:limit]}"


@contextlib.contextmanager
def captured_stderr(sink: List[str]) -> Iterator[None]:
    """Collect what native code writes to file descriptor 2 (XGrammar logs its warnings there)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("utf-8", "replace")
            sink.extend(line.strip() for line in text.splitlines() if line.strip())


def load_hf_tokenizer(tokenizer_dir: str) -> Any:
    """The ``transformers`` tokenizer in ``tokenizer_dir`` (offline)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import transformers

    return transformers.AutoTokenizer.from_pretrained(tokenizer_dir)


# ----------------------------------------------------------------------------
# engines


class EngineBase:
    """What both sides share: the request methods, written against a few primitives.

    A subclass builds the grammar object, compiles it for a vocabulary, makes matchers and
    fills a bitmask row; everything else (walks, sampling, acceptance loops) is here.
    """

    name = ""

    def __init__(self, hf_tokenizer: Any, stop_token_ids: Optional[List[int]]) -> None:
        self.hf_tokenizer = hf_tokenizer
        self.vocab_size = len(hf_tokenizer)
        self.stop_token_ids = stop_token_ids
        self.grammar: Any = None
        self.token_compiled: Any = None
        self.char_compiled: Any = None

    # primitives -------------------------------------------------------------
    def detected_stop_token_ids(self) -> List[int]:
        raise NotImplementedError

    def build(self, kind: str, source: Any) -> Tuple[Any, bool, List[str]]:
        """(grammar object, built leniently, warnings) for ``source`` of ``kind``."""
        raise NotImplementedError

    def compile_for_tokens(self, grammar: Any) -> Any:
        raise NotImplementedError

    def compile_for_chars(self, grammar: Any) -> Any:
        raise NotImplementedError

    def accepts_one(self, text: str) -> bool:
        raise NotImplementedError

    def new_matcher(self, compiled: Any) -> Any:
        raise NotImplementedError

    def fill(self, matcher: Any, chars: bool = False) -> np.ndarray:
        """Fill and return the bitmask row (int32 words) for ``matcher``'s next token."""
        raise NotImplementedError

    def decoded_vocab(self) -> List[bytes]:
        """The bytes each token of the model vocabulary spells."""
        raise NotImplementedError

    # requests -----------------------------------------------------------------
    def info(self) -> Dict[str, Any]:
        return {
            "engine": self.name,
            "stop_token_ids": self.detected_stop_token_ids(),
            "own_stop_token_ids": getattr(self, "own_stop_token_ids", None),
        }

    def compile(self, kind: str, source: Any) -> Dict[str, Any]:
        """Build and compile a grammar; the result says whether and how."""
        if kind not in GRAMMAR_KINDS:
            raise ValueError(f"unknown grammar kind {kind!r}")
        self.grammar = self.token_compiled = self.char_compiled = None
        native_log: List[str] = []
        started = time.perf_counter()
        try:
            with captured_stderr(native_log):
                grammar, lenient, notes = self.build(kind, source)
                token_compiled = self.compile_for_tokens(grammar)
                char_compiled = self.compile_for_chars(grammar)
        except Exception as exc:  # a refusal, reported, not raised
            return {"ok": False, "error": short_error(exc), "log": native_log[:20]}
        self.grammar, self.token_compiled, self.char_compiled = (
            grammar,
            token_compiled,
            char_compiled,
        )
        return {
            "ok": True,
            "lenient": lenient,
            "warnings": notes[:20],
            "log": native_log[:20],
            "seconds": time.perf_counter() - started,
        }

    def accepts(self, texts: Sequence[str]) -> List[bool]:
        return [self.accepts_one(t) for t in texts]

    def walk(self, tokens: Sequence[int]) -> Dict[str, Any]:
        """Fill a mask before each token and accept it; one more fill after the last."""
        matcher = self.new_matcher(self.token_compiled)
        digests: List[bytes] = []
        inconsistent: List[int] = []
        refused_at: Optional[int] = None
        for step, token in enumerate(tokens):
            row = self.fill(matcher)
            digests.append(mask_digest(row))
            in_mask = bool((int(row[token >> 5]) >> (token & 31)) & 1)
            accepted = bool(matcher.accept_token(token))
            if accepted != in_mask:
                inconsistent.append(step)
            if not accepted:
                refused_at = step
                break
        completed = None
        if refused_at is None:
            digests.append(mask_digest(self.fill(matcher)))
            completed = bool(matcher.is_completed())
        return {
            "digests": digests,
            "refused_at": refused_at,
            "completed": completed,
            "inconsistent": inconsistent,
        }

    def mask_at(self, tokens: Sequence[int]) -> bytes:
        """The bitmask row after accepting ``tokens`` (which the side accepted in a walk)."""
        matcher = self.new_matcher(self.token_compiled)
        for token in tokens:
            if not matcher.accept_token(token):
                raise EngineError(f"{self.name}: token {token} refused while replaying a walk")
        return self.fill(matcher).tobytes()

    def witness(
        self,
        tokens: Sequence[int],
        token: int,
        rest: Sequence[int],
        seeds: Sequence[int],
        hints: Sequence[str],
    ) -> Dict[str, Any]:
        """A text of the grammar spelled by ``tokens + [token]`` and then some more.

        The more is the walk's own rest (``rest``, the tokens after the one replaced) when
        that makes a text of the grammar, else characters sampled from the masks.
        ``{"text": str | None, "utf8": "valid" | "incomplete" | "invalid"}``, the second for
        the bytes of ``tokens + [token]``: an invalid one has no witness, and says that the
        side allowing ``token`` admits text that is not UTF-8. For a stop token the text is
        the prefix itself.
        """
        vocab = self.decoded_vocab()
        prefix = b"".join(vocab[t] for t in tokens)
        if token in self.tokenizer_stop_ids():
            verdict = utf8_verdict(prefix)
            return {"text": prefix.decode() if verdict == "valid" else None, "utf8": verdict}
        head = prefix + vocab[token]
        verdict = utf8_verdict(head)
        if verdict == "invalid":
            return {"text": None, "utf8": verdict}
        tail_bytes = b"".join(vocab[t] for t in rest)
        tail = tail_bytes.decode("utf-8", errors="ignore")
        # Where the token spells the start of the walk's rest ('":"+' before '":"/api'), the
        # rest from where they part.
        shared = 0
        while shared < min(len(vocab[token]), len(tail_bytes)):
            if vocab[token][shared] != tail_bytes[shared]:
                break
            shared += 1
        parted = tail_bytes[shared:].decode("utf-8", errors="ignore")
        # Inside a string whose pattern searches, the string so far spelled again after the
        # token keeps the pattern's match ('"/' + '!' + '/' + 'api/v1/...').
        again = prefix.rsplit(b'"', 1)[-1].decode("utf-8", errors="ignore") + tail
        # The walk's rest as it is, or after one digit (a token like "." or "e" inside a
        # number needs one before the walk's "," or "}" can follow).
        for more in (tail, "0" + tail, "1" + tail, parted, again) if verdict == "valid" else ():
            spliced = (head + more.encode()).decode()
            if self.accepts_one(spliced):
                return {"text": spliced, "utf8": verdict}
        for guide in (tail, ""):
            # A guided walk may have to spell out every required property: give it room.
            steps = 4000 if guide else 600
            for text in self.sample(head, seeds, hints, max_steps=steps, guide=guide):
                if text is not None:
                    return {"text": text, "utf8": verdict}
        return {"text": None, "utf8": verdict}

    def viable_length(self, text: str) -> int:
        """Characters of ``text`` that still lead to some text of the grammar."""
        low, high = 0, len(text)  # text[:low] is viable; find the longest viable prefix
        while low < high:
            mid = (low + high + 1) // 2
            matcher = self.new_matcher(self.char_compiled)
            if matcher.accept_string(text[:mid]):
                low = mid
            else:
                high = mid - 1
        return low

    def tokenizer_stop_ids(self) -> List[int]:
        return self.detected_stop_token_ids()

    def sample(
        self,
        prefix: bytes,
        seeds: Sequence[int],
        hints: Sequence[str],
        max_steps: int = 300,
        guide: str = "",
    ) -> List[Optional[str]]:
        """One random text of the grammar starting with ``prefix`` per seed (None: no end).

        With a ``guide`` (the rest of a text the walk came from) the sampler mostly copies
        it, skipping what the grammar refuses, so it finds its way back into a valid text.
        """
        return [self._sample_one(prefix, random.Random(s), hints, max_steps, guide) for s in seeds]

    def _sample_one(
        self,
        prefix: bytes,
        rng: random.Random,
        hints: Sequence[str],
        max_steps: int,
        guide: str = "",
    ) -> Optional[str]:
        matcher = self.new_matcher(self.char_compiled)
        if prefix and not matcher.accept_string(prefix):
            return None
        out = bytearray(prefix)
        at = 0  # position in the guide
        for step in range(max_steps):
            pending = _incomplete_utf8(bytes(out))
            if at < len(guide) and not pending and rng.random() < 0.9:
                if matcher.accept_string(guide[at]):
                    out += guide[at].encode()
                    at += 1
                    continue
                at += rng.random() < 0.5  # skip what the grammar refuses, now or later
            allowed = _allowed_ids(self.fill(matcher, chars=True), CHAR_STOP + 1)
            ids = [
                int(i) for i in allowed if i != CHAR_STOP and (i >= FIRST_CONTINUATION) == pending
            ]
            can_stop = CHAR_STOP in allowed and not pending
            stop_now = at >= len(guide) and rng.random() < 0.15 + step / 80
            if can_stop and (not ids or stop_now):
                return out.decode("utf-8", errors="strict") if _valid_utf8(out) else None
            if not ids:
                return None
            if hints and len(ids) > 20 and rng.random() < 0.2:
                # Free text: spell a trigger or tag string as far as the grammar lets it,
                # since random characters would almost never hit one.
                for ch in rng.choice(hints):
                    if not matcher.accept_string(ch):
                        break
                    out += ch.encode()
                continue
            weights = [_char_weight(CHAR_VOCAB[i], step) for i in ids]
            choice = rng.choices(ids, weights)[0]
            matcher.accept_token(choice)
            out += CHAR_VOCAB[choice]
        return None


def _incomplete_utf8(data: bytes) -> bool:
    """True when ``data`` ends inside a UTF-8 character (a lead byte still awaiting bytes)."""
    tail = data[-3:]
    for back in range(1, len(tail) + 1):
        byte = tail[-back]
        if byte < 0x80:
            return False
        if byte >= 0xC0:  # a lead byte: how many bytes its character needs
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return back < need
    return False


def _valid_utf8(data: bytes) -> bool:
    try:
        bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def utf8_verdict(data: bytes) -> str:
    """``valid``, ``incomplete`` (a valid start of UTF-8) or ``invalid``."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
    except UnicodeDecodeError:
        return "invalid"
    return "incomplete" if _incomplete_utf8(data) else "valid"


def _char_weight(ch: bytes, step: int) -> float:
    """Sampling weight: rare whitespace, closers more likely as the text grows."""
    if ch in _WHITESPACE:
        return 0.05
    if ch in _CLOSERS:
        return 0.5 + step / 8
    if ch in _OPENERS:
        return 0.3
    return 1.0


def _allowed_ids(row: np.ndarray, n: int) -> np.ndarray:
    bits = np.unpackbits(row.view(np.uint8), bitorder="little")[:n]
    return np.flatnonzero(bits)


def _allowed_one(row: np.ndarray, token: int) -> bool:
    return bool((int(row[token >> 5]) >> (token & 31)) & 1)


class XGrammarApiEngine(EngineBase):
    """XGrammar 0.2.9's API: the real ``xgrammar``, or the drop-in put first on the path."""

    def __init__(
        self,
        hf_tokenizer: Any,
        stop_token_ids: Optional[List[int]],
        name: str = "xgrammar",
        path_first: Optional[str] = None,
    ) -> None:
        super().__init__(hf_tokenizer, stop_token_ids)
        if path_first:
            sys.path.insert(0, path_first)
        import xgrammar

        self.name = name
        self.xgr = xgrammar
        self.module_file = getattr(xgrammar, "__file__", "?")
        info = xgrammar.TokenizerInfo.from_huggingface(hf_tokenizer, vocab_size=self.vocab_size)
        self.own_stop_token_ids = sorted(info.stop_token_ids)
        if stop_token_ids is not None and sorted(stop_token_ids) != self.own_stop_token_ids:
            info = xgrammar.TokenizerInfo.from_huggingface(
                hf_tokenizer, vocab_size=self.vocab_size, stop_token_ids=stop_token_ids
            )
        self.tokenizer_info = info
        self.token_compiler = xgrammar.GrammarCompiler(
            self.tokenizer_info, max_threads=1, cache_enabled=False
        )
        char_info = xgrammar.TokenizerInfo(CHAR_VOCAB + [b"<stop>"], stop_token_ids=[CHAR_STOP])
        self.char_compiler = xgrammar.GrammarCompiler(char_info, max_threads=1, cache_enabled=False)
        # xgrammar.testing._is_grammar_accept_string compiles against an empty vocabulary
        # and runs a matcher that may end without a stop token; same here, compiled once.
        self.empty_compiler = xgrammar.GrammarCompiler(
            xgrammar.TokenizerInfo([]), cache_enabled=False
        )
        self.accept_compiled: Any = None
        self._decoded: Optional[List[bytes]] = None
        self.token_bitmask = xgrammar.allocate_token_bitmask(1, self.tokenizer_info.vocab_size)
        self.char_bitmask = xgrammar.allocate_token_bitmask(1, CHAR_STOP + 1)

    def info(self) -> Dict[str, Any]:
        return {**super().info(), "module": self.module_file}

    def decoded_vocab(self) -> List[bytes]:
        if self._decoded is None:
            self._decoded = list(self.tokenizer_info.decoded_vocab)
        return self._decoded

    def detected_stop_token_ids(self) -> List[int]:
        return list(self.tokenizer_info.stop_token_ids)

    def build(self, kind: str, source: Any) -> Tuple[Any, bool, List[str]]:
        g = self.xgr.Grammar
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if kind == "json_schema":
                grammar = g.from_json_schema(json.dumps(source))  # serving defaults
            elif kind == "regex":
                grammar = g.from_regex(source)
            elif kind == "ebnf":
                grammar = g.from_ebnf(source)
            else:
                grammar = g.from_structural_tag(json.dumps(source))
        notes = [f"{w.category.__name__}: {w.message}" for w in caught]
        lenient = any("Relaxed" in w.category.__name__ for w in caught)  # the drop-in's retry
        self.accept_compiled = None
        return grammar, lenient, notes

    def compile_for_tokens(self, grammar: Any) -> Any:
        return self.token_compiler.compile_grammar(grammar)

    def compile_for_chars(self, grammar: Any) -> Any:
        self.accept_compiled = self.empty_compiler.compile_grammar(grammar)
        return self.char_compiler.compile_grammar(grammar)

    def accepts_one(self, text: str) -> bool:
        matcher = self.xgr.GrammarMatcher(self.accept_compiled, terminate_without_stop_token=True)
        return bool(matcher.accept_string(text)) and bool(matcher.is_terminated())

    def new_matcher(self, compiled: Any) -> Any:
        return self.xgr.GrammarMatcher(compiled)

    def fill(self, matcher: Any, chars: bool = False) -> np.ndarray:
        bitmask = self.char_bitmask if chars else self.token_bitmask
        matcher.fill_next_token_bitmask(bitmask)
        return bitmask.numpy()[0].copy()


class XgramEngine(EngineBase):
    """xgram's own API, with the options the drop-in passes (until ``xgram/compat`` lands)."""

    name = "xgram"

    def __init__(self, hf_tokenizer: Any, stop_token_ids: Optional[List[int]]) -> None:
        super().__init__(hf_tokenizer, stop_token_ids)
        import xgram

        self.xg = xgram
        options = {"vocab_size": self.vocab_size, "special_tokens_as_text": True}
        info = xgram.TokenizerInfo.from_huggingface(hf_tokenizer, **options)  # XGrammar's specials
        self.own_stop_token_ids = sorted(info.stop_token_ids)
        if stop_token_ids is not None and sorted(stop_token_ids) != self.own_stop_token_ids:
            info = xgram.TokenizerInfo.from_huggingface(
                hf_tokenizer, stop_token_ids=stop_token_ids, **options
            )
        self.tokenizer_info = info
        self._decoded: Optional[List[bytes]] = None
        self.token_compiler = xgram.GrammarCompiler(
            self.tokenizer_info, max_threads=1, cache_enabled=False
        )
        char_info = xgram.TokenizerInfo(
            CHAR_VOCAB + [b"<stop>"],
            xgram.VocabType.RAW,
            stop_token_ids=[CHAR_STOP],
        )
        self.char_compiler = xgram.GrammarCompiler(char_info, max_threads=1, cache_enabled=False)
        self.token_row = np.zeros(
            xgram.get_bitmask_shape(1, self.tokenizer_info.vocab_size), np.int32
        )
        self.char_row = np.zeros(xgram.get_bitmask_shape(1, CHAR_STOP + 1), np.int32)

    def info(self) -> Dict[str, Any]:
        return {**super().info(), "module": getattr(self.xg, "__file__", "?")}

    def decoded_vocab(self) -> List[bytes]:
        if self._decoded is None:
            self._decoded = list(self.tokenizer_info.decoded_vocab)
        return self._decoded

    def detected_stop_token_ids(self) -> List[int]:
        return list(self.tokenizer_info.stop_token_ids)

    def build(self, kind: str, source: Any) -> Tuple[Any, bool, List[str]]:
        g = self.xg.Grammar
        if kind == "regex":
            return g.from_regex(source), False, []
        if kind == "ebnf":
            return g.from_ebnf(source), False, []
        make = g.from_json_schema if kind == "json_schema" else g.from_structural_tag
        try:
            return make(source), False, []
        except (self.xg.SchemaError, self.xg.StructuralTagError):
            # The drop-in's fallback: drop what cannot be enforced exactly, with warnings.
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                grammar = make(source, lenient=True)
            return grammar, True, [f"{w.category.__name__}: {w.message}" for w in caught]

    def compile_for_tokens(self, grammar: Any) -> Any:
        return self.token_compiler.compile_grammar(grammar)

    def compile_for_chars(self, grammar: Any) -> Any:
        return self.char_compiler.compile_grammar(grammar)

    def accepts_one(self, text: str) -> bool:
        return bool(self.grammar.accepts(text))

    def new_matcher(self, compiled: Any) -> Any:
        return self.xg.GrammarMatcher(compiled)

    def fill(self, matcher: Any, chars: bool = False) -> np.ndarray:
        row = self.char_row if chars else self.token_row
        matcher.fill_next_token_bitmask(row)
        return row[0].copy()


def make_engine(
    spec: Dict[str, Any], hf_tokenizer: Any, stop_token_ids: Optional[List[int]]
) -> EngineBase:
    """An engine from its description: ``{"api": "xgrammar" | "xgram", "name", "path_first"}``."""
    if spec["api"] == "xgram":
        return XgramEngine(hf_tokenizer, stop_token_ids)
    return XGrammarApiEngine(
        hf_tokenizer, stop_token_ids, name=spec["name"], path_first=spec.get("path_first")
    )


# ----------------------------------------------------------------------------
# sides: in this process, or in a worker process


class GrammarTimeout(Exception):
    """A side overran the grammar's time budget (its worker was killed)."""


class LocalSide:
    """An engine called directly (no isolation, no timeouts): the fast test's mode."""

    def __init__(self, spec: Dict[str, Any], hf_tokenizer: Any, stop_ids: Optional[List[int]]):
        self.engine = make_engine(spec, hf_tokenizer, stop_ids)
        self.name = spec["name"]
        self.info = self.engine.info()
        self.restarts = 0
        self._pending: Tuple[bool, Any] = (True, None)

    def send(self, method: str, *args: Any) -> None:
        try:
            self._pending = (True, getattr(self.engine, method)(*args))
        except Exception as exc:
            self._pending = (False, EngineError(f"{self.name}.{method}: {short_error(exc)}"))

    def receive(self, timeout: Optional[float] = None) -> Any:
        ok, payload = self._pending
        if not ok:
            raise payload
        return payload

    def ensure_started(self) -> None:
        """Always running."""

    def kill(self) -> None:
        """Nothing to kill in this process."""

    def close(self) -> None:
        self.engine = None  # type: ignore[assignment]


def _worker_main(
    spec: Dict[str, Any], tokenizer_dir: str, stop_ids: Optional[List[int]], conn: Connection
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    try:
        engine = make_engine(spec, load_hf_tokenizer(tokenizer_dir), stop_ids)
        conn.send((0, "ok", engine.info()))
    except BaseException as exc:
        conn.send((0, "error", short_error(exc)))
        return
    while True:
        try:
            number, method, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            conn.send((number, "ok", getattr(engine, method)(*args)))
        except Exception as exc:
            conn.send((number, "error", short_error(exc)))


class WorkerSide:
    """An engine in its own process; a call past its timeout kills the worker."""

    START_TIMEOUT_S = 600.0

    def __init__(self, spec: Dict[str, Any], tokenizer_dir: str, stop_ids: Optional[List[int]]):
        self.spec, self.tokenizer_dir, self.stop_ids = spec, tokenizer_dir, stop_ids
        self.name = spec["name"]
        self.process: Optional[Any] = None
        self.conn: Optional[Connection] = None
        self.info: Dict[str, Any] = {}
        self.restarts = 0
        self.number = 0  # of the last request; the worker's first message is number 0

    def start(self) -> Dict[str, Any]:
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        self.process = ctx.Process(
            target=_worker_main,
            args=(self.spec, self.tokenizer_dir, self.stop_ids, child),
            daemon=True,
        )
        self.process.start()
        child.close()
        self.conn = parent
        self.number = 0
        status, payload = self._receive(self.START_TIMEOUT_S)
        if status != "ok":
            self.kill()
            raise EngineError(f"{self.name} worker failed to start: {payload}")
        self.info = payload
        return payload

    def _receive(self, timeout: float) -> Tuple[str, Any]:
        """The reply to request ``self.number``; replies to abandoned requests are dropped."""
        assert self.conn is not None
        deadline = time.perf_counter() + timeout
        while True:
            if not self.conn.poll(max(deadline - time.perf_counter(), 0.0)):
                raise GrammarTimeout(f"{self.name}: no answer in {timeout:.1f} s")
            try:
                number, status, payload = self.conn.recv()
            except (EOFError, OSError):
                code = self.process.exitcode if self.process is not None else None
                raise EngineError(f"{self.name} worker died (exit code {code})") from None
            if number == self.number:
                return status, payload

    def ensure_started(self) -> None:
        """Start the worker, or restart it after a kill or a crash."""
        if self.process is None or not self.process.is_alive() or self.conn is None:
            if self.process is not None:
                self.restarts += 1
            self.start()

    def send(self, method: str, *args: Any) -> None:
        self.ensure_started()
        assert self.conn is not None
        self.number += 1
        self.conn.send((self.number, method, args))

    def receive(self, timeout: Optional[float] = None) -> Any:
        """The answer to the last request; past ``timeout`` the worker is killed."""
        try:
            status, payload = self._receive(timeout if timeout is not None else 1e9)
        except (GrammarTimeout, EngineError):
            self.kill()
            raise
        if status != "ok":
            raise EngineError(f"{self.name}: {payload}")
        return payload

    def kill(self) -> None:
        if self.process is not None and self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    def close(self) -> None:
        self.kill()
        self.process = None
