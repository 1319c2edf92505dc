"""Tokenizer vocabularies as bytes: :class:`TokenizerInfo` and :class:`VocabType`."""

from __future__ import annotations

import json
from enum import IntEnum
from typing import Any, Dict, List, Optional, Sequence, Union

from . import _core
from .errors import ArgumentTypeError, UsageError, integer_argument, lone_surrogate_error
from .kernels.cpu import _int_vector, _out_of_range

# Names of end-of-turn / end-of-text tokens across model families.
_STOP_TOKEN_NAMES = (
    "</s>",
    "<|endoftext|>",
    "<|end_of_text|>",
    "<|eot_id|>",
    "<|eom_id|>",
    "<|im_end|>",
    "<|end|>",
    "<end_of_turn>",
    "<|return|>",
    "<｜end▁of▁sentence｜>",
)


class VocabType(IntEnum):
    """How a tokenizer spells the bytes of its tokens.

    ``RAW``: the token text is its bytes (tiktoken-style). ``BYTE_FALLBACK``:
    SentencePiece, ``▁`` is a space and ``<0xNN>`` a raw byte. ``BYTE_LEVEL``:
    GPT-2 byte-level BPE, each byte mapped to a printable character.
    """

    RAW = 0
    BYTE_FALLBACK = 1
    BYTE_LEVEL = 2


class TokenizerInfo:
    """A tokenizer's vocabulary decoded to bytes, with its stop and special tokens.

    Parameters
    ----------
    encoded_vocab : sequence of str or bytes
        Token ``i`` as the tokenizer spells it.
    vocab_type : VocabType, default RAW
        How to decode the spelling into bytes.
    vocab_size : int, optional
        Size of the model's output layer; may exceed ``len(encoded_vocab)``
        (padded heads). Padding ids are always masked.
    stop_token_ids : sequence of int, optional
        Tokens that end generation; allowed exactly when the grammar can end.
    add_prefix_space : bool, default False
        Whether the tokenizer prepends a space to the text (metadata).
    special_token_ids : sequence of int, optional
        Tokens never produced by text (control and added tokens).

    """

    def __init__(
        self,
        encoded_vocab: Sequence[Union[str, bytes]],
        vocab_type: VocabType = VocabType.RAW,
        *,
        vocab_size: Optional[int] = None,
        stop_token_ids: Optional[Sequence[int]] = None,
        add_prefix_space: bool = False,
        special_token_ids: Optional[Sequence[int]] = None,
    ) -> None:
        if isinstance(encoded_vocab, (str, bytes)) or not hasattr(encoded_vocab, "__len__"):
            raise ArgumentTypeError(
                "encoded_vocab must be a sequence of str or bytes, "
                f"got {type(encoded_vocab).__name__}"
            )
        self._encoded_vocab = list(encoded_vocab)
        size = len(self._encoded_vocab)
        if vocab_size is not None:
            size = integer_argument(vocab_size, "vocab_size")
            if size < len(self._encoded_vocab):
                raise UsageError(
                    f"vocab_size {size} is smaller than the tokenizer's vocabulary "
                    f"({len(self._encoded_vocab)} tokens)"
                )
            if size > _INT32_MAX:
                raise UsageError(f"vocab_size {size} is larger than 2**31 - 1")
        try:
            self._handle = _core.TokenizerInfo(
                self._encoded_vocab,
                int(_vocab_type(vocab_type)),
                size,
                _token_ids(stop_token_ids, "stop_token_ids", size),
                _token_ids(special_token_ids, "special_token_ids", size),
                bool(add_prefix_space),
            )
        except (TypeError, RuntimeError) as exc:  # the core could not read a token
            if isinstance(exc, (ArgumentTypeError, UsageError)):
                raise
            raise _vocab_problem(self._encoded_vocab) or exc from None

    # Properties -------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        """Number of token ids, padding included."""
        return self._handle.vocab_size

    @property
    def vocab_type(self) -> VocabType:
        """The vocabulary encoding."""
        return VocabType(self._handle.vocab_type)

    @property
    def add_prefix_space(self) -> bool:
        """Whether the tokenizer prepends a space."""
        return self._handle.add_prefix_space

    @property
    def decoded_vocab(self) -> List[bytes]:
        """Bytes of every token id (special and padding ids decode to what they spell or b"")."""
        return self._handle.decoded_vocab()

    @property
    def stop_token_ids(self) -> List[int]:
        """Stop tokens, sorted."""
        return list(self._handle.stop_token_ids)

    @property
    def special_token_ids(self) -> List[int]:
        """Ids never produced by text: special, added, empty, stop and padding ids."""
        return list(self._handle.special_token_ids)

    # Serialisation ----------------------------------------------------------
    def dump_metadata(self) -> str:
        """Everything but the vocabulary, as JSON (see :meth:`from_vocab_and_metadata`)."""
        stop = set(self.stop_token_ids)
        return json.dumps(
            {
                "vocab_type": int(self.vocab_type),
                "vocab_size": self.vocab_size,
                "add_prefix_space": self.add_prefix_space,
                "stop_token_ids": sorted(stop),
                "special_token_ids": [
                    i
                    for i in self.special_token_ids
                    if i < len(self._encoded_vocab) and i not in stop
                ],
            }
        )

    @staticmethod
    def from_vocab_and_metadata(
        encoded_vocab: Sequence[Union[str, bytes]], metadata: str
    ) -> TokenizerInfo:
        """Rebuild from a vocabulary and the JSON of :meth:`dump_metadata`."""
        try:
            meta = json.loads(metadata)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"metadata is not JSON text: {exc}") from None
        if not isinstance(meta, dict):
            raise UsageError(f"metadata must be a JSON object, got {type(meta).__name__}")
        try:
            return TokenizerInfo(
                encoded_vocab,
                meta["vocab_type"],
                vocab_size=meta["vocab_size"],
                stop_token_ids=meta["stop_token_ids"],
                add_prefix_space=meta["add_prefix_space"],
                special_token_ids=meta.get("special_token_ids", []),
            )
        except KeyError as exc:
            raise UsageError(f"metadata lacks the field {exc}") from None

    # Construction from tokenizers -------------------------------------------
    @staticmethod
    def from_huggingface(
        tokenizer: Any,
        *,
        vocab_size: Optional[int] = None,
        stop_token_ids: Optional[Sequence[int]] = None,
        special_tokens_as_text: bool = False,
    ) -> TokenizerInfo:
        """Build from a ``transformers`` tokenizer or a ``tokenizers.Tokenizer``.

        Detects the vocabulary type from the tokenizer's decoder, the stop
        tokens from its end-of-sequence token and well-known end-of-turn names,
        and treats every added or special token as special.

        Parameters
        ----------
        tokenizer : PreTrainedTokenizerBase or tokenizers.Tokenizer
            The tokenizer whose vocabulary to decode.
        vocab_size : int, optional
            The model's output size, when larger than the tokenizer.
        stop_token_ids : sequence of int, optional
            Overrides the detected stop tokens.
        special_tokens_as_text : bool, default False
            By default added and special tokens are never produced by text, so
            ``<|im_start|>`` cannot appear inside a JSON string. With True, a special
            token that spells some text (``<tool_call>``, ``<|channel|>``) is an
            ordinary token of that text, as in XGrammar: a grammar that spells
            ``<tool_call>`` then accepts both the single token and its pieces. Stop
            tokens and tokens that spell nothing stay special.

        """
        backend = getattr(tokenizer, "backend_tokenizer", None) or tokenizer
        if not hasattr(backend, "get_vocab"):
            raise ArgumentTypeError(
                "from_huggingface needs a transformers tokenizer or a tokenizers.Tokenizer, got "
                f"{type(tokenizer).__name__}"
            )
        vocab: Dict[str, int] = backend.get_vocab(with_added_tokens=True)
        size = max(vocab.values()) + 1 if vocab else 0
        encoded: List[str] = [""] * size
        for text, idx in vocab.items():
            encoded[idx] = text
        config = _pipeline_config(backend)
        vocab_type, add_prefix_space = _detect_vocab_type(config)
        special = set()
        if hasattr(backend, "get_added_tokens_decoder"):
            special.update(int(i) for i in backend.get_added_tokens_decoder())
        for attr in ("all_special_ids",):
            special.update(int(i) for i in getattr(tokenizer, attr, []) or [])
        if stop_token_ids is None:
            stops = set()
            eos = getattr(tokenizer, "eos_token_id", None)
            if isinstance(eos, int):
                stops.add(eos)
            elif isinstance(eos, (list, tuple)):
                stops.update(int(i) for i in eos)
            for name in _STOP_TOKEN_NAMES:
                if name in vocab and vocab[name] in special | stops:
                    stops.add(vocab[name])
            stop_token_ids = sorted(stops)
        if special_tokens_as_text:
            special = {i for i in special if not encoded[i] or i in set(stop_token_ids)}
        return TokenizerInfo(
            encoded,
            vocab_type,
            vocab_size=max(vocab_size or 0, size),
            stop_token_ids=stop_token_ids,
            add_prefix_space=add_prefix_space,
            special_token_ids=sorted(special),
        )

    def __repr__(self) -> str:
        return (
            f"<xgram.TokenizerInfo vocab_size={self.vocab_size} type={self.vocab_type.name} "
            f"stop={self.stop_token_ids}>"
        )


_INT32_MAX = 2**31 - 1


def _vocab_type(value: Any) -> VocabType:
    """``value`` (a VocabType or its int) as a VocabType, or the error naming ``vocab_type``."""
    number = integer_argument(value, "vocab_type")
    try:
        return VocabType(number)
    except ValueError:
        names = ", ".join(f"{t.name} ({t.value})" for t in VocabType)
        raise UsageError(f"vocab_type must be one of {names}, got {number}") from None


def _token_ids(ids: Any, name: str, vocab_size: int) -> List[int]:
    """Token ids (None: none) as a list, each checked to be an integer in ``[0, vocab_size)``."""
    values = [] if ids is None else _int_vector(ids, name)
    problem = _out_of_range(values, name, vocab_size)
    if problem:
        raise UsageError(problem)
    return values


def _vocab_problem(vocab: List[Any]) -> Optional[Exception]:
    """The error naming the first token the core cannot read, if any."""
    for position, token in enumerate(vocab):
        if isinstance(token, str):
            try:
                token.encode("utf-8")
            except UnicodeEncodeError:
                return lone_surrogate_error(token, f"encoded_vocab[{position}]")
        elif not isinstance(token, (bytes, bytearray)):
            return ArgumentTypeError(
                f"encoded_vocab[{position}] must be str or bytes, got {type(token).__name__}"
            )
    return None


def _pipeline_config(backend: Any) -> Dict[str, Any]:
    """The decoder, pre-tokenizer and normaliser configs of a ``tokenizers`` object.

    Reads each component's own state instead of serialising the whole tokenizer
    (whose merges dominate: about 1 s for a 128k vocabulary).
    """
    config: Dict[str, Any] = {}
    for key in ("decoder", "pre_tokenizer", "normalizer"):
        component = getattr(backend, key, None)
        if component is None:
            continue
        try:
            config[key] = json.loads(component.__getstate__())
        except Exception:  # a component without JSON state: fall back to the full dump
            return json.loads(backend.to_str()) if hasattr(backend, "to_str") else {}
    model = getattr(backend, "model", None)
    config["model"] = {"byte_fallback": bool(getattr(model, "byte_fallback", False))}
    return config


def _detect_vocab_type(config: Dict[str, Any]) -> tuple[VocabType, bool]:
    """Vocabulary type and add_prefix_space from a tokenizer.json dict."""

    def types(node: Any) -> List[str]:
        if not isinstance(node, dict):
            return []
        found = [str(node.get("type", ""))]
        for key in ("decoders", "pretokenizers", "normalizers"):
            for child in node.get(key, []) or []:
                found.extend(types(child))
        return found

    decoder = types(config.get("decoder"))
    pre = types(config.get("pre_tokenizer"))
    model = config.get("model", {}) or {}
    normalizer = config.get("normalizer")
    add_prefix_space = False
    if isinstance(normalizer, dict):
        text = json.dumps(normalizer)
        add_prefix_space = '"Prepend"' in text and ("\\u2581" in text or "\u2581" in text)
    if "ByteLevel" in decoder or "ByteLevel" in pre:
        return VocabType.BYTE_LEVEL, False
    if "ByteFallback" in decoder or model.get("byte_fallback") or "Metaspace" in decoder:
        if "Metaspace" in pre:
            add_prefix_space = True
        return VocabType.BYTE_FALLBACK, add_prefix_space
    return VocabType.RAW, add_prefix_space
