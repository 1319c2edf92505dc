"""Structural tags lowered to EBNF: the rules behind :mod:`xgram.structural_tag` (see there)."""

from __future__ import annotations

import json
import re
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from . import _core
from .errors import GrammarError, SchemaError
from .grammar_text import parse_ebnf, parse_regex
from .schema_options import JsonSchemaOptions

ANY_CHAR = "[^]"

# An element of an enclosing tag's end: a string, or a token id.
End = Union[str, int]


class StructuralTagError(GrammarError):
    """A structural tag that is malformed or asks for something xgram cannot enforce exactly.

    Attributes
    ----------
    pointer : str
        JSON pointer to the offending format inside the structural tag (``""``: the root).

    """

    def __init__(self, message: str, pointer: str = "") -> None:
        super().__init__(f"structural tag at {pointer or '#'}: {message}")
        self.pointer = pointer


def ebnf_literal(text: str) -> str:
    """``text`` as an EBNF string literal (UTF-8 kept raw, quotes and controls escaped)."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02X}")
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            raise StructuralTagError(f"lone surrogate U+{ord(ch):04X} in {text!r}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _choice(alternatives: Iterable[str]) -> str:
    items = list(alternatives)
    return items[0] if len(items) == 1 else "(" + " | ".join(items) + ")"


_PRINTED_TOKEN = re.compile(
    r'"(?:\\.|[^"\\])*"|\[(?:\\.|[^\]\\])*\]|[A-Za-z_][A-Za-z0-9_\-]*|.', re.S
)


class _Lowering:
    """Writes the rules of one structural tag as EBNF text."""

    def __init__(self, json_options: Dict[str, Any], tokenizer_info: Any) -> None:
        self.rules: List[str] = []
        self.used: set[str] = {"root"}
        self.json_options = json_options
        self.tokenizer_info = tokenizer_info
        self.named_tokens: set[int] = set()
        self.text_to_token: Optional[Dict[bytes, int]] = None
        # Free-token rules, written at the end, once every named token is known:
        # (rule name, excluded token ids, excluded strings).
        self.free_tokens: List[Tuple[str, set[int], List[str]]] = []

    # Rules -------------------------------------------------------------------
    def fresh(self, stem: str) -> str:
        name, n = stem, 0
        while name in self.used:
            n += 1
            name = f"{stem}_{n}"
        self.used.add(name)
        return name

    def rule(self, stem: str, body: str) -> str:
        name = self.fresh(stem)
        self.rules.append(f"{name} ::= {body}")
        return name

    def embed(self, grammar: _core.Grammar, stem: str) -> str:
        """Copies ``grammar``'s rules in under fresh names; returns its root's new name."""
        rename = {name: self.fresh(f"{stem}_{name}") for name in grammar.rule_names()}
        printed = "".join(
            rename.get(tok, tok) if tok[0].isalpha() or tok[0] == "_" else tok
            for tok in _PRINTED_TOKEN.findall(grammar.to_string())
        )
        self.rules.extend(line for line in printed.splitlines() if line.strip())
        return rename[grammar.root_rule_name()]

    # Formats -----------------------------------------------------------------
    def lower(self, fmt: Any, at: str, ends: Sequence[End] = ()) -> str:
        """An EBNF expression for ``fmt``; ``ends`` are the enclosing tag's ends."""
        if not isinstance(fmt, dict):
            raise StructuralTagError(f"a format must be an object, got {type(fmt).__name__}", at)
        kind = fmt.get("type")
        if kind == "exclude_token":
            raise StructuralTagError(
                "exclude_token matches exactly one token of any text, which a byte-level "
                "grammar cannot express; use any_tokens or token formats",
                at,
            )
        method = getattr(self, f"_lower_{kind}", None) if isinstance(kind, str) else None
        if method is None:
            raise StructuralTagError(f"unknown format type {kind!r}", at)
        return method(fmt, at, list(ends))

    def _lower_const_string(self, fmt: Dict[str, Any], at: str, ends: List[str]) -> str:
        return ebnf_literal(_field(fmt, "value", str, at))

    def _lower_json_schema(self, fmt: Dict[str, Any], at: str, ends: List[str]) -> str:
        schema = _field(fmt, "json_schema", (dict, bool, str), at)
        style = fmt.get("style", "json")
        any_order = bool(fmt.get("any_order", False))
        ws = fmt.get("max_whitespace_cnt")
        excludes = fmt.get("excludes") or []
        # The JSON Schema converter is loaded on first use ('import xgram' stays light).
        from .json_schema.convert import json_schema_grammar_handle  # noqa: PLC0415
        from .json_schema.xml_style_rules import xml_style_grammar_handle  # noqa: PLC0415

        try:
            if style == "json" and not excludes:
                options = JsonSchemaOptions(
                    any_order=any_order, max_whitespace_cnt=ws, **self.json_options
                )
                # stacklevel 2: a relaxation warning names this call, as it always has.
                grammar = json_schema_grammar_handle(schema, options, stacklevel=2)
            else:
                grammar = xml_style_grammar_handle(
                    schema, style, any_order=any_order, max_whitespace_cnt=ws, excludes=excludes
                )
        except SchemaError as exc:
            raise StructuralTagError(f"json_schema: {exc}", at) from exc
        return self.embed(grammar, "json")

    def _lower_qwen_xml_parameter(self, fmt: Dict[str, Any], at: str, ends: List[str]) -> str:
        converted = {"type": "json_schema", "json_schema": fmt.get("json_schema")}
        return self._lower_json_schema({**converted, "style": "qwen_xml"}, at, ends)

    def _lower_grammar(self, fmt: Dict[str, Any], at: str, ends: List[str]) -> str:
        text = _field(fmt, "grammar", str, at)
        syntax = fmt.get("syntax", "ebnf")
        try:
            if syntax == "ebnf":
                grammar = parse_ebnf(text)
            elif syntax == "lark":
                from ._lark_lowering import lark_grammar_handle  # noqa: PLC0415

                grammar = lark_grammar_handle(text)
            else:
                raise StructuralTagError(f"unknown grammar syntax {syntax!r}", at)
        except StructuralTagError:
            raise
        except GrammarError as exc:
            raise StructuralTagError(f"grammar: {exc}", at) from exc
        return self.embed(grammar, "grammar")

    def _lower_regex(self, fmt: Dict[str, Any], at: str, ends: List[str]) -> str:
        try:
            grammar = parse_regex(_field(fmt, "pattern", str, at))
        except GrammarError as exc:
            raise StructuralTagError(f"regex: {exc}", at) from exc
        return self.embed(grammar, "regex")

    def _lower_any_text(self, fmt: Dict[str, Any], at: str, ends: List[str]) -> str:
        if fmt.get("max_tokens") is not None:
            raise StructuralTagError(
                "max_tokens counts tokens, which a byte-level grammar cannot; use max_chars", at
            )
        excludes = _strings(fmt.get("excludes") or [], at + "/excludes")
        max_chars = fmt.get("max_chars")
        text = ANY_CHAR + ("*" if max_chars is None else f"{{0,{_count(max_chars, at)}}}")
        forbidden = [s for s in excludes + ends if isinstance(s, str) and s]
        if not forbidden:
            return self.rule("any_text", text)
        return self.rule("any_text", f"{text} - {_containing(forbidden)}")

    def _lower_sequence(self, fmt: Dict[str, Any], at: str, ends: List[str]) -> str:
        elements = _field(fmt, "elements", list, at)
        if not elements:
            return '""'
        last = len(elements) - 1
        parts = [
            self.lower(e, f"{at}/elements/{i}", ends if i == last else ())
            for i, e in enumerate(elements)
        ]
        return self.rule("sequence", " ".join(parts))

    def _lower_or(self, fmt: Dict[str, Any], at: str, ends: List[str]) -> str:
        elements = _field(fmt, "elements", list, at)
        if not elements:
            raise StructuralTagError("'or' needs at least one element", at)
        parts = [self.lower(e, f"{at}/elements/{i}", ends) for i, e in enumerate(elements)]
        return self.rule("or", " | ".join(parts))

    def _lower_optional(self, fmt: Dict[str, Any], at: str, ends: List[str]) -> str:
        return self.rule("optional", f"({self._content(fmt, at, ends)})?")

    def _lower_plus(self, fmt: Dict[str, Any], at: str, ends: List[str]) -> str:
        return self.rule("plus", f"({self._content(fmt, at, ends)})+")

    def _lower_star(self, fmt: Dict[str, Any], at: str, ends: List[str]) -> str:
        return self.rule("star", f"({self._content(fmt, at, ends)})*")

    def _lower_repeat(self, fmt: Dict[str, Any], at: str, ends: List[str]) -> str:
        low = _count(fmt.get("min"), at + "/min")
        high = fmt.get("max")
        if high == -1:
            bounds = f"{{{low},}}"
        else:
            high = _count(high, at + "/max")
            if high < low:
                raise StructuralTagError(f"repeat max {high} is below min {low}", at)
            bounds = f"{{{low},{high}}}"
        return self.rule("repeat", f"({self._content(fmt, at, ends)}){bounds}")

    def _content(self, fmt: Dict[str, Any], at: str, ends: List[str]) -> str:
        return self.lower(_field(fmt, "content", dict, at), at + "/content", ends)

    def _lower_tag(self, fmt: Dict[str, Any], at: str, ends: List[End]) -> str:
        begin, content, tag_ends = self._tag_parts(fmt, at)
        return self.rule("tag", f"{self._element(begin, at)} {content} {_choice(tag_ends)}")

    def _tag_parts(self, fmt: Dict[str, Any], at: str) -> Tuple[End, str, List[str]]:
        """(begin: text or token id, content expression, end alternatives) of a tag."""
        if not isinstance(fmt, dict) or fmt.get("type", "tag") != "tag":
            raise StructuralTagError("expected a format of type 'tag'", at)
        if "begin" not in fmt or "end" not in fmt:
            raise StructuralTagError("a tag needs 'begin' and 'end'", at)
        begin = self._begin_or_end(fmt["begin"], at + "/begin")
        end = fmt["end"]
        if isinstance(end, list):
            end_list: List[End] = _strings(end, at + "/end")
        else:
            end_list = [self._begin_or_end(end, at + "/end")]
        if not end_list:
            raise StructuralTagError("a tag needs at least one end", at)
        content = self._content(fmt, at, [e for e in end_list if e != ""])
        return begin, content, [self._element(e, at) for e in end_list]

    def _begin_or_end(self, value: Any, at: str) -> End:
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and value.get("type", "token") == "token" and "token" in value:
            return self.token_id(value["token"], at)
        raise StructuralTagError("expected a string or a token format", at)

    def _element(self, part: End, at: str) -> str:
        return f"Token({part})" if isinstance(part, int) else ebnf_literal(part)

    # Token-level formats ---------------------------------------------------
    def token_id(self, token: Any, at: str) -> int:
        """The id of a token given by id or by its text; it becomes a named token."""
        info = self.tokenizer_info
        if isinstance(token, bool) or not isinstance(token, (int, str)):
            raise StructuralTagError(f"a token is an id or a string, got {token!r}", at)
        if isinstance(token, str):
            if info is None:
                raise StructuralTagError(
                    f"the token {token!r} is given by text: compile with a tokenizer "
                    "(GrammarCompiler.compile_structural_tag) to resolve it",
                    at,
                )
            token = self._token_of_text(token, at)
        if token < 0 or (info is not None and token >= info.vocab_size):
            raise StructuralTagError(f"token id {token} is out of range", at)
        self.named_tokens.add(token)
        return token

    def _token_of_text(self, text: str, at: str) -> int:
        """The id of the token that spells ``text``: a special token first, then the lowest id."""
        if self.text_to_token is None:
            info = self.tokenizer_info
            special = set(info.special_token_ids)
            table: Dict[bytes, int] = {}
            for i, spelled in enumerate(info.decoded_vocab):
                best = table.get(spelled)
                if best is None or (i in special and best not in special):
                    table[spelled] = i
            self.text_to_token = table
        token = self.text_to_token.get(text.encode("utf-8"))
        if token is None:
            raise StructuralTagError(f"no token of the tokenizer spells {text!r}", at)
        return token

    def _token_ids(self, values: Any, at: str) -> List[int]:
        if not isinstance(values, list):
            raise StructuralTagError("expected a list of tokens", at)
        return [self.token_id(v, f"{at}/{i}") for i, v in enumerate(values)]

    def _lower_token(self, fmt: Dict[str, Any], at: str, ends: List[End]) -> str:
        if "token" not in fmt:
            raise StructuralTagError("missing field 'token'", at)
        return f"Token({self.token_id(fmt['token'], at)})"

    def _free_tokens(self, excluded: Sequence[int], ends: Sequence[End]) -> str:
        """Any text and named tokens, but not ``excluded`` tokens nor text ends."""
        name = self.fresh("free_tokens")
        excluded_set = {e for e in excluded} | {e for e in ends if isinstance(e, int)}
        self.free_tokens.append((name, excluded_set, [e for e in ends if isinstance(e, str)]))
        return name

    def _lower_any_tokens(self, fmt: Dict[str, Any], at: str, ends: List[End]) -> str:
        if fmt.get("max_tokens") is not None:
            raise StructuralTagError(
                "max_tokens budgets count tokens; xgram cannot enforce them", at
            )
        excluded = self._token_ids(fmt.get("exclude_tokens") or [], at + "/exclude_tokens")
        return self._free_tokens(excluded, ends)

    def _lower_token_triggered_tags(self, fmt: Dict[str, Any], at: str, ends: List[End]) -> str:
        triggers = self._token_ids(_field(fmt, "trigger_tokens", list, at), at + "/trigger_tokens")
        tags = _field(fmt, "tags", list, at)
        if not triggers or not tags:
            raise StructuralTagError("token_triggered_tags needs trigger tokens and tags", at)
        groups: Dict[int, List[str]] = {t: [] for t in triggers}
        whole = []
        for i, tag in enumerate(tags):
            begin, content, tag_ends = self._tag_parts(tag, f"{at}/tags/{i}")
            if begin not in groups:
                raise StructuralTagError(
                    "a tag's begin must be one of the trigger tokens", f"{at}/tags/{i}"
                )
            groups[begin].append(f"{content} {_choice(tag_ends)}")
            whole.append(f"Token({begin}) {content} {_choice(tag_ends)}")
        excluded = triggers + self._token_ids(
            fmt.get("exclude_tokens") or [], at + "/exclude_tokens"
        )
        rules = [(t, self.rule("token_group", " | ".join(g))) for t, g in groups.items() if g]
        loop = not fmt.get("stop_after_first", False)
        if fmt.get("at_least_one", False):
            first = self.rule("token_first", " | ".join(whole))
            if not loop:
                return first
            return self.rule(
                "token_tags", f"{first} {self._token_dispatch(rules, excluded, ends, True)}"
            )
        return self._token_dispatch(rules, excluded, ends, loop)

    def _lower_token_dispatch(self, fmt: Dict[str, Any], at: str, ends: List[End]) -> str:
        rules: List[Tuple[int, str]] = []
        for i, pair in enumerate(_field(fmt, "rules", list, at)):
            if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
                raise StructuralTagError(
                    "a dispatch rule is a [token, format] pair", f"{at}/rules/{i}"
                )
            token = self.token_id(pair[0], f"{at}/rules/{i}/0")
            rules.append((token, self.lower(pair[1], f"{at}/rules/{i}/1")))
        excluded = [t for t, _ in rules]
        excluded += self._token_ids(fmt.get("exclude_tokens") or [], at + "/exclude_tokens")
        return self._token_dispatch(rules, excluded, ends, bool(fmt.get("loop", True)))

    def _token_dispatch(
        self, rules: List[Tuple[int, str]], excluded: List[int], ends: Sequence[End], loop: bool
    ) -> str:
        """Free tokens; after a trigger token, its continuation (once, or in a loop)."""
        free = self._free_tokens(excluded, ends)
        dispatched = self.rule(
            "token_dispatched", " | ".join(f"{free} Token({t}) {body}" for t, body in rules)
        )
        return self.rule(
            "token_dispatch", f"{dispatched}* {free}" if loop else f"{free} | {dispatched}"
        )

    def finish_free_tokens(self) -> None:
        """Writes the free-token rules, now that every named token is known.

        Free tokens are text and named tokens, minus any sequence holding an excluded
        token or a text end. The excluded tokens are written in the subtracted part, so
        the grammar names them too and its matchers match them by id only: a token
        that spells ``<think>`` is excluded even where the tokenizer treats it as text.
        """
        unit = _choice([ANY_CHAR] + [f"Token({t})" for t in sorted(self.named_tokens)])
        for name, excluded, text_ends in self.free_tokens:
            forbidden = [f"Token({t})" for t in sorted(excluded)]
            forbidden += [ebnf_literal(e) for e in text_ends]
            body = f"{unit}*"
            if forbidden:
                body += f" - ({unit}* {_choice(forbidden)} {unit}*)"
            self.rules.append(f"{name} ::= {body}")

    def _lower_triggered_tags(self, fmt: Dict[str, Any], at: str, ends: List[str]) -> str:
        triggers = _strings(_field(fmt, "triggers", list, at), at + "/triggers")
        tags = _field(fmt, "tags", list, at)
        if not triggers or "" in triggers:
            raise StructuralTagError("triggered_tags needs non-empty triggers", at)
        if not tags:
            raise StructuralTagError("triggered_tags needs at least one tag", at)
        groups: Dict[str, List[str]] = {t: [] for t in triggers}
        whole: List[str] = []
        for i, tag in enumerate(tags):
            tag_at = f"{at}/tags/{i}"
            begin, content, tag_ends = self._tag_parts(tag, tag_at)
            if not isinstance(begin, str):
                raise StructuralTagError(
                    "triggered_tags needs text begins; use token_triggered_tags for tokens", tag_at
                )
            owners = [t for t in triggers if begin.startswith(t)]
            if len(owners) != 1:
                raise StructuralTagError(
                    f"the begin {begin!r} must start with exactly one trigger, "
                    f"but {len(owners)} of {triggers} match",
                    tag_at,
                )
            rest = begin[len(owners[0]) :]
            groups[owners[0]].append(
                f"{ebnf_literal(rest) if rest else ''} {content} {_choice(tag_ends)}".strip()
            )
            whole.append(f"{ebnf_literal(begin)} {content} {_choice(tag_ends)}")
        excludes = _strings(fmt.get("excludes") or [], at + "/excludes") + _text_ends(ends)
        rules = [(t, self.rule("triggered_group", " | ".join(g))) for t, g in groups.items() if g]
        loop = not fmt.get("stop_after_first", False)
        if fmt.get("at_least_one", False):
            first = self.rule("triggered_first", " | ".join(whole))
            if not loop:
                return first
            return self.rule("triggered_tags", f"{first} {self._dispatch(rules, excludes, True)}")
        return self._dispatch(rules, excludes, loop)

    def _lower_tags_with_separator(self, fmt: Dict[str, Any], at: str, ends: List[str]) -> str:
        tags = _field(fmt, "tags", list, at)
        if not tags:
            raise StructuralTagError("tags_with_separator needs at least one tag", at)
        separator = ebnf_literal(_field(fmt, "separator", str, at))
        one = self.rule(
            "tags", " | ".join(self._lower_tag(t, f"{at}/tags/{i}", []) for i, t in enumerate(tags))
        )
        body = one if fmt.get("stop_after_first", False) else f"{one} ({separator} {one})*"
        if not fmt.get("at_least_one", False):
            body = f"({body})?"
        return self.rule("tags_with_separator", body)

    def _lower_dispatch(self, fmt: Dict[str, Any], at: str, ends: List[str]) -> str:
        pairs = _field(fmt, "rules", list, at)
        rules: List[Tuple[str, str]] = []
        for i, pair in enumerate(pairs):
            if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
                raise StructuralTagError(
                    "a dispatch rule is a [pattern, format] pair", f"{at}/rules/{i}"
                )
            pattern = pair[0]
            if not isinstance(pattern, str) or not pattern:
                raise StructuralTagError(
                    "a dispatch pattern is a non-empty string", f"{at}/rules/{i}"
                )
            rules.append((pattern, self.lower(pair[1], f"{at}/rules/{i}/1")))
        excludes = _strings(fmt.get("excludes") or [], at + "/excludes") + _text_ends(ends)
        return self._dispatch(rules, excludes, bool(fmt.get("loop", True)))

    def _dispatch(self, rules: List[Tuple[str, str]], excludes: List[str], loop: bool) -> str:
        """Free text; at the first trigger that completes, that trigger's continuation.

        With ``loop`` free text resumes after each continuation; without it the text ends
        after the first one. The output may end anywhere in free text.
        """
        triggers = [t for t, _ in rules]
        excludes = [e for e in excludes if e]
        free = self.rule("free_text", f"{ANY_CHAR}* - {_containing(triggers + excludes)}")
        leads = []
        for trigger, continuation in rules:
            lead_body = f"({ANY_CHAR}* {ebnf_literal(trigger)}) - {_ending_early(triggers)}"
            if excludes:
                lead_body = f"({lead_body}) - {_containing(excludes)}"
            leads.append(f"{self.rule('lead', lead_body)} {continuation}")
        if not leads:
            return free
        dispatched = self.rule("dispatched", " | ".join(leads))
        body = f"{dispatched}* {free}" if loop else f"{free} | {dispatched}"
        return self.rule("dispatch", body)


def _text_ends(ends: Sequence[End]) -> List[str]:
    return [e for e in ends if isinstance(e, str)]


def _containing(strings: Sequence[str]) -> str:
    """Text containing one of ``strings`` somewhere."""
    return f"({ANY_CHAR}* {_choice(ebnf_literal(s) for s in strings)} {ANY_CHAR}*)"


def _ending_early(strings: Sequence[str]) -> str:
    """Text in which one of ``strings`` ends before the last character."""
    return f"({ANY_CHAR}* {_choice(ebnf_literal(s) for s in strings)} {ANY_CHAR}+)"


def _field(fmt: Dict[str, Any], name: str, kind: Any, at: str) -> Any:
    if name not in fmt:
        raise StructuralTagError(f"missing field {name!r}", at)
    value = fmt[name]
    if not isinstance(value, kind) or isinstance(value, bool) and kind in (int, str, list, dict):
        raise StructuralTagError(f"field {name!r} has the wrong type {type(value).__name__}", at)
    return value


def _strings(values: Any, at: str) -> List[str]:
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
        raise StructuralTagError("expected a list of strings", at)
    return list(values)


def _count(value: Any, at: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise StructuralTagError(f"expected a non-negative integer, got {value!r}", at)
    return value


def _legacy_to_spec(tags: Sequence[Any], triggers: Sequence[str]) -> Dict[str, Any]:
    """The legacy ``(tags, triggers)`` form: tags ``{"begin", "schema", "end"}``."""
    converted = []
    for i, tag in enumerate(tags):
        if not isinstance(tag, dict) or not {"begin", "schema", "end"} <= set(tag):
            raise StructuralTagError("a legacy tag is {'begin', 'schema', 'end'}", f"/tags/{i}")
        schema = tag["schema"]
        if isinstance(schema, str):
            try:
                schema = json.loads(schema)
            except ValueError as exc:
                raise StructuralTagError(f"schema is not JSON: {exc}", f"/tags/{i}") from None
        converted.append(
            {
                "type": "tag",
                "begin": tag["begin"],
                "content": {"type": "json_schema", "json_schema": schema},
                "end": tag["end"],
            }
        )
    return {"type": "triggered_tags", "triggers": list(triggers), "tags": converted}


def structural_tag_to_ebnf(
    structural_tag: Union[str, Dict[str, Any], Sequence[Any]],
    triggers: Optional[Sequence[str]] = None,
    *,
    lenient: bool = False,
    tokenizer_info: Any = None,
) -> str:
    """The EBNF text of a structural tag (see :mod:`xgram.structural_tag`)."""
    if triggers is not None:
        spec: Any = _legacy_to_spec(structural_tag, triggers)  # type: ignore[arg-type]
    elif isinstance(structural_tag, str):
        try:
            spec = json.loads(structural_tag)
        except ValueError as exc:
            raise StructuralTagError(f"not valid JSON: {exc}") from None
    else:
        spec = structural_tag
    pointer = ""
    if isinstance(spec, dict) and spec.get("type") == "structural_tag":
        if "format" not in spec:
            raise StructuralTagError("missing field 'format'")
        spec, pointer = spec["format"], "/format"
    lowering = _Lowering({"lenient": lenient}, tokenizer_info)
    root = lowering.lower(spec, pointer)
    lowering.finish_free_tokens()
    return "\n".join([f"root ::= {root}", *lowering.rules]) + "\n"


def structural_tag_grammar_handle(
    structural_tag: Union[str, Dict[str, Any], Sequence[Any]],
    triggers: Optional[Sequence[str]] = None,
    *,
    lenient: bool = False,
    tokenizer_info: Any = None,
) -> _core.Grammar:
    """The core grammar of :func:`xgram.structural_tag.grammar_from_structural_tag`.

    Parameters and errors as there.
    """
    text = structural_tag_to_ebnf(
        structural_tag, triggers, lenient=lenient, tokenizer_info=tokenizer_info
    )
    try:
        return parse_ebnf(text)
    except GrammarError as exc:
        raise StructuralTagError(f"lowered grammar failed to build: {exc}") from exc
