"""XGrammar's :class:`TokenizerInfo`, backed by :class:`xgram.TokenizerInfo`.

Where XGrammar's defaults differ from xgram's, the drop-in passes XGrammar's
explicitly, so the decoded vocabulary, stop tokens and special tokens are the
ones XGrammar would use:

* Special tokens are the ids whose decoded text is empty, and padding ids: a
  chat marker such as ``<tool_call>`` is ordinary text (xgram's
  ``special_tokens_as_text=True``).
* Stop tokens default to the tokenizer's ``eos_token_id`` (``from_huggingface``)
  or to the tokens whose decoded text is one of XGrammar's end-of-text names
  (the constructor).
* ``vocab_size`` smaller than the tokenizer drops the ids past it.
"""

from __future__ import annotations

import base64
import json
import warnings
from typing import Any, Dict, List, Optional, Sequence, Union

import xgram
from xgram import VocabType

from ._shim import load_versioned_json
from .config import SERIALIZATION_VERSION
from .exception import DeserializeFormatError, InvalidJSONError

__all__ = ["TokenizerInfo", "VocabType"]

# Decoded texts XGrammar takes for stop tokens when none are given.
_STOP_TOKEN_TEXTS = frozenset(
    text.encode("utf-8")
    for text in (
        "</s>",
        "<|end_of_text|>",
        "<|eot_id|>",
        "<|endoftext|>",
        "<eos>",
        "<|eos|>",
        "<end_of_turn>",
        "<｜end▁of▁sentence｜>",
    )
)


class TokenizerInfo:
    """A tokenizer's vocabulary, decoded to bytes, with its stop and special tokens.

    Parameters
    ----------
    encoded_vocab : list of str or bytes
        Token ``i`` as the tokenizer spells it.
    vocab_type : VocabType, default VocabType.RAW
        How the spelling encodes bytes (RAW, BYTE_FALLBACK ``<0xNN>``/``▁``, BYTE_LEVEL).
    vocab_size : int, optional
        The model's vocabulary (logits) size; default ``len(encoded_vocab)``.
    stop_token_ids : int or list of int, optional
        Default: the tokens whose decoded text is an end-of-text name.
    add_prefix_space : bool, default False
        Whether the tokenizer prepends a space (metadata).

    """

    _xgram: xgram.TokenizerInfo
    _decoded_size: int

    def __init__(
        self,
        encoded_vocab: Union[List[bytes], List[str]],
        vocab_type: VocabType = VocabType.RAW,
        *,
        vocab_size: Optional[int] = None,
        stop_token_ids: Optional[Union[List[int], int]] = None,
        add_prefix_space: bool = False,
    ) -> None:
        if isinstance(stop_token_ids, int):
            stop_token_ids = [stop_token_ids]
        vocab_type = VocabType(getattr(vocab_type, "value", vocab_type))
        inner = xgram.TokenizerInfo(
            encoded_vocab,
            vocab_type,
            vocab_size=vocab_size,
            stop_token_ids=stop_token_ids,
            add_prefix_space=add_prefix_space,
        )
        if stop_token_ids is None:
            detected = _named_stop_tokens(inner.decoded_vocab[: len(encoded_vocab)])
            if detected:
                inner = _rebuilt(inner, stop_token_ids=detected)
        self._xgram = inner
        self._decoded_size = len(encoded_vocab)

    @classmethod
    def _wrap(cls, inner: xgram.TokenizerInfo, decoded_size: int) -> TokenizerInfo:
        info = cls.__new__(cls)
        info._xgram = inner
        info._decoded_size = decoded_size
        return info

    @staticmethod
    def from_huggingface(
        tokenizer: Any,
        *,
        vocab_size: Optional[int] = None,
        stop_token_ids: Optional[Union[List[int], int]] = None,
    ) -> TokenizerInfo:
        """From a ``transformers`` tokenizer (or a ``tokenizers.Tokenizer``).

        Parameters
        ----------
        tokenizer : PreTrainedTokenizerBase
            The tokenizer; its vocabulary type and prefix space are detected.
        vocab_size : int, optional
            The model's vocabulary size, when it differs from the tokenizer's.
        stop_token_ids : int or list of int, optional
            Default: the tokenizer's ``eos_token_id``.

        Raises
        ------
        ValueError
            When ``stop_token_ids`` is an empty list.

        """
        if isinstance(stop_token_ids, int):
            stop_token_ids = [stop_token_ids]
        if isinstance(stop_token_ids, list) and not stop_token_ids:
            raise ValueError("stop_token_ids cannot be empty")
        if stop_token_ids is None:
            eos = getattr(tokenizer, "eos_token_id", None)
            if isinstance(eos, int):
                stop_token_ids = [eos]
            else:
                warnings.warn(
                    "When constructing TokenizerInfo from a huggingface tokenizer, "
                    "stop_token_ids is neither provided by user nor found from the tokenizer. "
                    "It will be automatically detected.",
                    stacklevel=2,
                )
        inner = xgram.TokenizerInfo.from_huggingface(
            tokenizer,
            vocab_size=vocab_size,
            stop_token_ids=stop_token_ids,
            special_tokens_as_text=True,
        )
        if stop_token_ids is None:
            inner = _rebuilt(inner, stop_token_ids=_named_stop_tokens(inner.decoded_vocab))
        if vocab_size is not None and vocab_size < inner.vocab_size:
            inner = _truncated(inner, vocab_size)
        return TokenizerInfo._wrap(inner, inner.vocab_size)

    # Properties -------------------------------------------------------------
    @property
    def vocab_type(self) -> VocabType:
        """The type of the vocabulary."""
        return self._xgram.vocab_type

    @property
    def vocab_size(self) -> int:
        """The model's vocabulary size (the width of the token bitmask in bits)."""
        return self._xgram.vocab_size

    @property
    def add_prefix_space(self) -> bool:
        """Whether the tokenizer prepends a space to the text."""
        return self._xgram.add_prefix_space

    @property
    def prepend_space_in_tokenization(self) -> bool:
        """Deprecated alias of :attr:`add_prefix_space`."""
        warnings.warn(
            "prepend_space_in_tokenization is deprecated. Use add_prefix_space instead.",
            stacklevel=2,
        )
        return self.add_prefix_space

    @property
    def decoded_vocab(self) -> List[bytes]:
        """The bytes of each token of the vocabulary given (padding ids excluded)."""
        return self._xgram.decoded_vocab[: self._decoded_size]

    @property
    def stop_token_ids(self) -> List[int]:
        """The stop token ids."""
        return self._xgram.stop_token_ids

    @property
    def special_token_ids(self) -> List[int]:
        """Ids that no text produces: empty tokens and padding ids (stop tokens excluded)."""
        stops = set(self._xgram.stop_token_ids)
        return [i for i in self._xgram.special_token_ids if i not in stops]

    # Serialization ------------------------------------------------------------
    def dump_metadata(self) -> str:
        """Everything but the vocabulary, as XGrammar's metadata JSON."""
        return json.dumps(
            {
                "vocab_type": int(self.vocab_type),
                "vocab_size": self.vocab_size,
                "add_prefix_space": self.add_prefix_space,
                "stop_token_ids": self.stop_token_ids,
            },
            separators=(",", ":"),
        )

    @staticmethod
    def from_vocab_and_metadata(
        encoded_vocab: List[Union[bytes, str]], metadata: str
    ) -> TokenizerInfo:
        """Rebuild from the vocabulary and the JSON of :meth:`dump_metadata`.

        Raises
        ------
        InvalidJSONError
            When ``metadata`` is not JSON.
        DeserializeFormatError
            When a metadata field is missing.

        """
        try:
            meta = json.loads(metadata)
        except (TypeError, ValueError) as exc:
            raise InvalidJSONError(f"Invalid JSON error: {exc}") from None
        try:
            return TokenizerInfo(
                encoded_vocab,
                VocabType(meta["vocab_type"]),
                vocab_size=meta["vocab_size"],
                stop_token_ids=meta["stop_token_ids"],
                add_prefix_space=meta["add_prefix_space"],
            )
        except (KeyError, TypeError) as exc:
            raise DeserializeFormatError(
                f"Deserialize format error: tokenizer metadata lacks {exc}"
            ) from None

    def serialize_json(self) -> str:
        """The tokenizer info as versioned JSON, for :meth:`deserialize_json`."""
        inner = self._xgram
        return json.dumps(
            {
                "encoded_vocab": [_token_to_json(token) for token in inner._encoded_vocab],
                "vocab_type": int(inner.vocab_type),
                "vocab_size": inner.vocab_size,
                "add_prefix_space": inner.add_prefix_space,
                "stop_token_ids": inner.stop_token_ids,
                "special_token_ids": inner.special_token_ids,
                "decoded_size": self._decoded_size,
                "__VERSION__": SERIALIZATION_VERSION,
            }
        )

    @staticmethod
    def deserialize_json(json_string: str) -> TokenizerInfo:
        """The tokenizer info serialized by :meth:`serialize_json`.

        Raises
        ------
        InvalidJSONError
            When ``json_string`` is not JSON.
        DeserializeVersionError
            When it was written with another serialization version (e.g. by XGrammar).
        DeserializeFormatError
            When it is not a serialized tokenizer info.

        """
        data = load_versioned_json(json_string, "TokenizerInfo")
        try:
            inner = xgram.TokenizerInfo(
                [_token_from_json(token) for token in data["encoded_vocab"]],
                VocabType(data["vocab_type"]),
                vocab_size=data["vocab_size"],
                stop_token_ids=data["stop_token_ids"],
                add_prefix_space=data["add_prefix_space"],
                special_token_ids=data["special_token_ids"],
            )
            return TokenizerInfo._wrap(inner, int(data["decoded_size"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise DeserializeFormatError(
                f"Deserialize format error: not a serialized TokenizerInfo ({exc!r})"
            ) from None

    def __repr__(self) -> str:
        return f"<xgrammar.TokenizerInfo (xgram) {self._xgram!r}>"


def _token_to_json(token: Union[str, bytes]) -> Union[str, Dict[str, str]]:
    if isinstance(token, str):
        return token
    return {"bytes": base64.b64encode(bytes(token)).decode("ascii")}


def _token_from_json(token: Any) -> Union[str, bytes]:
    if isinstance(token, str):
        return token
    return base64.b64decode(token["bytes"])


def _named_stop_tokens(decoded_vocab: Sequence[bytes]) -> List[int]:
    """Ids whose decoded text is one of XGrammar's end-of-text names."""
    return [i for i, text in enumerate(decoded_vocab) if text in _STOP_TOKEN_TEXTS]


def _rebuilt(
    inner: xgram.TokenizerInfo,
    *,
    stop_token_ids: Sequence[int],
    vocab_size: Optional[int] = None,
) -> xgram.TokenizerInfo:
    """``inner`` with other stop tokens (and optionally a smaller vocabulary)."""
    size = inner.vocab_size if vocab_size is None else vocab_size
    old_stops = set(inner.stop_token_ids)
    return xgram.TokenizerInfo(
        inner._encoded_vocab[:size],
        inner.vocab_type,
        vocab_size=size,
        stop_token_ids=[i for i in stop_token_ids if i < size],
        add_prefix_space=inner.add_prefix_space,
        special_token_ids=[i for i in inner.special_token_ids if i < size and i not in old_stops],
    )


def _truncated(inner: xgram.TokenizerInfo, vocab_size: int) -> xgram.TokenizerInfo:
    """``inner`` without the ids from ``vocab_size`` on, as XGrammar drops them."""
    return _rebuilt(inner, stop_token_ids=inner.stop_token_ids, vocab_size=vocab_size)
