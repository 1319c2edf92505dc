"""Who is right when xgram and XGrammar disagree on a string: oracles and reasons.

A disagreement is a string one side accepts and the other rejects (for a mask disagreement,
a *witness*: a text that starts with the disputed token and that the allowing side
completes). Each gets one of four verdicts:

* ``xgram_wrong``: the oracle sides with XGrammar. A bug in xgram (target: none).
* ``unresolved``: no oracle could decide (EBNF, structural tags, schemas jsonschema cannot
  load, formats it cannot check). Looked at by hand; target: none.
* ``xgrammar_inexact``: the oracle sides with xgram, and the reason is named: a keyword
  XGrammar ignores (``format``, ``minLength`` next to ``pattern``, ``uniqueItems``,
  ``allOf``...), or a valid spelling it refuses (``-0``, ``1.0`` for an integer, ...).
* ``by_design``: xgram's own documented limits, right or wrong by the letter of the input:
  whitespace runs capped at ``max_whitespace_cnt`` (64), constraints dropped by
  ``lenient=True``.

Oracles: ``jsonschema`` with format checking for JSON (numbers parsed exactly, XGrammar's
``strict_mode`` applied to the schema first, see ``differential_xgrammar_readings.py``),
Python ``re`` with ECMA-262 meanings for regexes, and for XML-styled tool arguments
(``qwen_xml``, ``minimax_xml``, ``glm_xml``) a parser back to JSON
(``differential_xgrammar_xml.py``) followed by the JSON oracle. Where the strict reading
and the schema as written disagree, XGrammar's own reading of the schema
(:func:`xgrammar_reading`: keywords beside a combinator ignored) names its reason.
"""

from __future__ import annotations

import decimal
import functools
import json
import re
import sys
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from differential_xgrammar_inputs import ecma_to_python  # noqa: E402
from differential_xgrammar_readings import (  # noqa: E402
    _deref,
    _required_without_properties,
    _without_dialects,
    _without_empty_properties,
    strict_schema,
    with_anchored_patterns,
    xgrammar_reading,
)
from differential_xgrammar_xml import STYLES as XML_STYLES  # noqa: E402
from differential_xgrammar_xml import arguments_parse, arguments_verdict  # noqa: E402
from schema_oracle import exact_validator  # noqa: E402

MAX_WHITESPACE = 64  # xgram's default max_whitespace_cnt

XGRAM_WRONG = "xgram_wrong"
UNRESOLVED = "unresolved"
XGRAMMAR_INEXACT = "xgrammar_inexact"
BY_DESIGN = "by_design"
VERDICTS = (XGRAM_WRONG, UNRESOLVED, XGRAMMAR_INEXACT, BY_DESIGN)

Verdict = Tuple[str, str]  # (verdict, reason)


# ----------------------------------------------------------------------------
# JSON


class _DuplicateKeys(ValueError):
    pass


def _pairs(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _DuplicateKeys("duplicate object keys")
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _exact_number(text: str) -> Decimal:
    mantissa, _, exponent = text.lower().partition("e")
    if exponent and abs(int(exponent)) > 10_000:  # keep Decimal arithmetic finite
        exponent = str(max(-10_000, min(10_000, int(exponent))))
        return Decimal(f"{mantissa}e{exponent}")
    return Decimal(text)


def parse_json(text: str) -> Any:
    """Strict JSON with exact numbers; ValueError when it is not JSON."""
    return json.loads(
        text, parse_float=_exact_number, parse_constant=_reject_constant, object_pairs_hook=_pairs
    )


def _leaf_keywords(error: Any) -> List[str]:
    if error.context:
        found: List[str] = []
        for sub in error.context:
            found.extend(_leaf_keywords(sub))
        return found or [str(error.validator)]
    return [str(error.validator)]


_UNCHECKED_FORMATS = ("iri", "iri-reference", "duration", "uri-template")

# jsonschema checks ``email`` by looking for an ``@``, ``hostname`` only with the fqdn
# package and ``uri`` only with rfc3987: the oracle brings its own, from the RFCs.
# RFC 1123 host names (labels of 1-63
# letters, digits and hyphens, no hyphen at either end, at most 253 characters); RFC 5321
# ``Mailbox`` (dot-string or quoted-string local part; a domain of such labels, or an
# address literal).
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = rf"{_LABEL}(?:\.{_LABEL})*"
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_QUOTED = r'"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"'
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_LITERAL = rf"\[(?:{_OCTET}(?:\.{_OCTET}){{3}}|IPv6:[0-9A-Fa-f:.]+)\]"
_HOSTNAME_RE = re.compile(_DOMAIN)

# RFC 3986 section 3 and 4.1, ABNF transcribed (``uri``, ``uri-reference``); an IP literal
# is taken as any bracketed run of hex digits, colons and dots (IPv6) or ``v``-IPvFuture.
_PCT = r"%[0-9A-Fa-f]{2}"
_UNRESERVED_SUB = r"[A-Za-z0-9\-._~!$&'()*+,;=]"
_PCHAR = rf"(?:{_UNRESERVED_SUB}|{_PCT}|[:@])"
_SEGMENT_NZ_NC = rf"(?:{_UNRESERVED_SUB}|{_PCT}|@)+"
_AUTHORITY = (
    rf"(?:(?:{_UNRESERVED_SUB}|{_PCT}|:)*@)?"
    rf"(?:\[(?:[0-9A-Fa-f:.]+|v[0-9A-Fa-f]+\.(?:{_UNRESERVED_SUB}|:)+)\]"
    rf"|(?:{_UNRESERVED_SUB}|{_PCT})*)(?::[0-9]*)?"
)
_ABEMPTY = rf"(?:/{_PCHAR}*)*"
_ABSOLUTE = rf"/(?:{_PCHAR}+{_ABEMPTY})?"
_TAIL = rf"(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?"
_HIER = rf"(?://{_AUTHORITY}{_ABEMPTY}|{_ABSOLUTE}|{_PCHAR}+{_ABEMPTY}|)"
_RELATIVE = rf"(?://{_AUTHORITY}{_ABEMPTY}|{_ABSOLUTE}|{_SEGMENT_NZ_NC}{_ABEMPTY}|)"
_URI_RE = re.compile(rf"[A-Za-z][A-Za-z0-9+.\-]*:{_HIER}{_TAIL}")
_URI_REFERENCE_RE = re.compile(rf"(?:[A-Za-z][A-Za-z0-9+.\-]*:{_HIER}|{_RELATIVE}){_TAIL}")
_EMAIL_RE = re.compile(rf"(?:{_ATOM}(?:\.{_ATOM})*|{_QUOTED})@(?:{_DOMAIN}|{_LITERAL})")


def _is_hostname(value: Any) -> bool:
    return not isinstance(value, str) or (
        len(value) <= 253 and _HOSTNAME_RE.fullmatch(value) is not None
    )


def _is_email(value: Any) -> bool:
    return not isinstance(value, str) or _EMAIL_RE.fullmatch(value) is not None


def _is_uri(value: Any) -> bool:
    return not isinstance(value, str) or _URI_RE.fullmatch(value) is not None


def _is_uri_reference(value: Any) -> bool:
    return not isinstance(value, str) or _URI_REFERENCE_RE.fullmatch(value) is not None


def _format_checker(cls: Any) -> Any:
    """The draft's format checker with the oracle's own ``email`` and ``hostname``."""
    import jsonschema

    checker = jsonschema.FormatChecker(formats=())
    checker.checkers = dict(cls.FORMAT_CHECKER.checkers)
    checker.checks("email")(_is_email)
    checker.checks("hostname")(_is_hostname)
    checker.checks("uri")(_is_uri)
    checker.checks("uri-reference")(_is_uri_reference)
    return checker


@functools.cache
def _undeclared_draft_validator() -> Any:
    """For schemas without ``$schema``: draft 2020-12 that also reads draft-07's spellings.

    MaskBench schemas are mostly written for drafts 4-7 without saying so; xgram reads both
    (``dependencies``, tuple ``items`` and ``additionalItems`` next to ``prefixItems``).
    """
    import jsonschema

    modern, legacy = jsonschema.Draft202012Validator, jsonschema.Draft7Validator.VALIDATORS

    def items(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
        impl = legacy["items"] if isinstance(value, list) else modern.VALIDATORS["items"]
        yield from impl(validator, value, instance, schema)

    extra = {"items": items, "additionalItems": legacy["additionalItems"]}
    extra["dependencies"] = legacy["dependencies"]
    return jsonschema.validators.extend(modern, extra)


def _validator_class(schema: Any) -> Any:
    import jsonschema

    if isinstance(schema, dict) and "$schema" in schema:
        return jsonschema.validators.validator_for(schema, default=_undeclared_draft_validator())
    return _undeclared_draft_validator()


@functools.cache
def _with_unevaluated(cls: Any) -> Any:
    """``cls`` that also reads ``unevaluatedProperties`` (drafts before 2019-09 lack it)."""
    import jsonschema

    if "unevaluatedProperties" in cls.VALIDATORS:
        return cls
    keyword = jsonschema.Draft202012Validator.VALIDATORS["unevaluatedProperties"]
    return jsonschema.validators.extend(cls, {"unevaluatedProperties": keyword})


_KEEP_BESIDE_REF = ("$id", "id", "$schema", "definitions", "$defs", "$ref")


def with_ref_siblings(node: Any) -> Any:
    """The schema with keywords beside ``$ref`` applied (2019-09+) even under drafts 4-7.

    ``{"$ref": R, k: v}`` becomes ``{"allOf": [{"$ref": R}, {k: v}]}``.
    """
    if isinstance(node, list):
        return [with_ref_siblings(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: with_ref_siblings(v) for k, v in node.items()}
    siblings = {k: v for k, v in out.items() if k not in _KEEP_BESIDE_REF}
    if "$ref" in out and isinstance(out["$ref"], str) and siblings:
        kept = {k: v for k, v in out.items() if k in _KEEP_BESIDE_REF and k != "$ref"}
        return {**kept, "allOf": [{"$ref": out["$ref"]}, siblings]}
    return out


def _validate(schema: Any, instance: Any, closed: bool, modern: bool = False) -> List[Any]:
    """jsonschema's errors for ``instance`` (exact numbers, formats checked).

    ``modern``: read the schema as draft 2020-12 whatever its ``$schema`` says (as xgram does).
    """
    cls = _undeclared_draft_validator() if modern else _validator_class(schema)
    if closed:
        # strict_mode is "unevaluatedProperties: false" (XGrammar's definition) whatever the
        # draft: an object's closing sees the properties its allOf branches declare.
        cls = _with_unevaluated(cls)
        schema = strict_schema(schema, "unevaluatedProperties")
    exact = json.loads(json.dumps(schema), parse_float=Decimal)
    validator = exact_validator(cls)(exact, format_checker=_format_checker(cls))
    with decimal.localcontext() as ctx, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Python's re on ECMA-262 patterns (FutureWarning)
        ctx.prec = 30_000
        return list(validator.iter_errors(instance))


def _valid_as_2020_12(schema: Any, text: str) -> bool:
    """Valid when every ``$schema`` (root or nested) is read as draft 2020-12, as xgram does."""
    try:
        return not _validate(_without_dialects(schema), parse_json(text), closed=True, modern=True)
    except Exception:  # a draft-4 spelling 2020-12 cannot read, unresolvable $ref...
        return False


def _legacy_draft(schema: Any) -> bool:
    """Declared draft 3-7, where keywords beside ``$ref`` are ignored."""
    declared = schema.get("$schema", "") if isinstance(schema, dict) else ""
    return isinstance(declared, str) and bool(re.search(r"draft-0[3-7]", declared))


def _each_duplicate_valid(schema: Any, text: str) -> Optional[bool]:
    """With duplicate keys: is the object valid whichever occurrence of each key is kept?

    Tries the first and the last occurrence (nested objects alike); None when it cannot tell.
    """
    try:
        readings = [
            json.loads(text, parse_float=_exact_number, object_pairs_hook=hook)
            for hook in (dict, lambda pairs: dict(reversed(pairs)))
        ]
        return all(not _validate(schema, value, closed=True) for value in readings)
    except Exception:
        return None


def json_oracle(schema: Any, text: str) -> Dict[str, Any]:
    """What jsonschema says of ``text`` under ``schema``, as it is and with objects closed.

    ``{"valid": bool | None, "valid_open": bool | None, "keywords": [...], "note": str}``:
    ``valid`` with every object closed (strict mode), ``valid_open`` as written.
    """
    try:
        instance = parse_json(text)
    except _DuplicateKeys:
        note = "duplicate keys (JSON Schema leaves them undefined)"
        each = _each_duplicate_valid(schema, text)
        return {"valid": None, "valid_open": None, "keywords": [], "note": note, "each": each}
    except (ValueError, RecursionError):
        return {"valid": False, "valid_open": False, "keywords": ["json-syntax"], "note": ""}
    try:
        errors = _validate(schema, instance, closed=True)
        open_errors = _validate(schema, instance, closed=False)
        sibling_errors = errors
        if _legacy_draft(schema) and '"$ref"' in json.dumps(schema):
            sibling_errors = _validate(with_ref_siblings(schema), instance, closed=True)
    except Exception as exc:  # unresolvable $ref, bad regex, recursion...
        note = f"jsonschema failed: {type(exc).__name__}"
        return {"valid": None, "valid_open": None, "keywords": [], "note": note}
    keywords = sorted({k for e in errors for k in _leaf_keywords(e)})
    used = set(re.findall(r'"format":\s*"([^"]+)"', json.dumps(schema)))
    unchecked = sorted(used & set(_UNCHECKED_FORMATS))
    note = f"formats jsonschema cannot check here: {unchecked}" if unchecked else ""
    return {
        "valid": not errors,
        "valid_open": not open_errors,
        "valid_with_ref_siblings": not sibling_errors,
        "keywords": keywords,
        "note": note,
    }


def longest_whitespace_run(text: str) -> int:
    """Longest run of JSON whitespace outside string literals."""
    longest = run = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch in " \t\n\r":
            run += 1
            longest = max(longest, run)
        else:
            run = 0
            in_string = ch == '"'
    return longest


_INTEGRAL_SPELLING = re.compile(r"(?<![\w.\"])-?\d+(?:\.0+(?:[eE][+-]?\d+)?|[eE]\+?\d+)(?![\w.])")
_MINUS_ZERO = re.compile(r"(?<![\w.\"])-0(?:\.0*)?(?:[eE][+-]?\d+)?(?![\d.])")


def _outside_strings(text: str) -> str:
    """``text`` with every string literal emptied (numbers and whitespace stay)."""
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)


_IMPLIED_TYPE = {
    "object": ("properties", "required", "additionalProperties", "patternProperties"),
    "array": ("items", "prefixItems", "minItems", "maxItems"),
    "string": ("pattern", "minLength", "maxLength", "format"),
}


def _implied_type_mismatch(schema: Any, text: str) -> bool:
    """The root schema has no ``type`` but keywords of one, and the instance is another type."""
    if not isinstance(schema, dict) or "type" in schema:
        return False
    try:
        value = parse_json(text)
    except ValueError:
        return False
    actual = {dict: "object", list: "array", str: "string"}.get(type(value), "scalar")
    return any(
        actual != implied and any(k in schema for k in keys)
        for implied, keys in _IMPLIED_TYPE.items()
    )


def _why_xgrammar_refuses(schema: Any, text: str, log: List[str]) -> str:
    """A name for why XGrammar refuses a text the oracle finds valid."""
    dumped = json.dumps(schema)
    bare = _outside_strings(text)
    if "\r" in bare:
        return "'\\r' as JSON whitespace"
    if _MINUS_ZERO.search(bare):
        return "minus zero (-0, -0.0) (XGrammar refuses it)"
    if '"integer"' in dumped and _INTEGRAL_SPELLING.search(bare):
        return "integer spelled with a fraction or exponent (1.0, 1e2)"
    if re.search(r"\d\.\d{7,}|\d[eE]", bare) and re.search(r'"(minimum|maximum|exclusive)', dumped):
        return "bounded number with > 6 fraction digits or an exponent"
    if re.search(r'"(const|enum)"', dumped) and re.search(r"[{\[]\s|\s[}\]]|[:,]\s", bare):
        return "const/enum object or array matched only in compact spelling"
    if re.search(r'"(minLength|maxLength)"', dumped) and "\\" in text:
        return "escape sequence in a length-bounded string (XGrammar allows none there)"
    if re.search(r'"format":\s*"', dumped):
        return "format: XGrammar's regex refuses a valid string (case, shapes)"
    if _implied_type_mismatch(schema, text):
        return "no 'type': XGrammar implies one from the keywords present"
    if '"pattern"' in dumped and not _valid_when(with_anchored_patterns(schema), text):
        return "pattern: JSON Schema's searches, XGrammar matches it whole"
    if _required_without_properties(schema):
        return "strict_mode: XGrammar closes an object to {} despite required"
    if re.search(r'"(\$ref|anyOf|oneOf|allOf)"', dumped) and not _valid_when(
        xgrammar_reading(schema), text
    ):
        return (
            "XGrammar ignores the keywords beside oneOf/anyOf/allOf/$ref (its reading refuses it)"
        )
    hint = next((line for line in log if "arning" in line), "")
    return "XGrammar refuses a valid instance" + (f" (its log: {hint[-120:]})" if hint else "")


def _why_xgrammar_accepts(text: str, oracle: Dict[str, Any]) -> str:
    """A name for why XGrammar accepts a text the oracle finds invalid."""
    if oracle["keywords"] == ["json-syntax"]:
        try:
            json.loads(text, strict=False)
        except ValueError:
            return "XGrammar accepts text that is not JSON"
        return "XGrammar accepts raw control characters inside a JSON string"
    return "XGrammar admits what this forbids: " + (", ".join(oracle["keywords"]) or "?")


def _xgrammar_ignores_properties(schema: Any, text: str) -> bool:
    """``text`` is valid once XGrammar's reading drops the keywords beside combinators."""
    if not re.search(r'"(\$ref|anyOf|oneOf|allOf)"', json.dumps(schema)):
        return False
    return _valid_when(xgrammar_reading(schema), text)


def _valid_when(schema: Any, text: str) -> bool:
    """jsonschema's strict reading of ``schema`` accepts ``text`` (False when it cannot tell)."""
    try:
        return not _validate(schema, parse_json(text), closed=True)
    except Exception:  # unresolvable $ref once keywords are gone, recursion...
        return False


def _strict_mode_verdict(schema: Any, xgram_ok: bool) -> Verdict:
    """A disagreement that only closing objects decides: the sides read strict_mode apart.

    XGrammar defines ``strict_mode``, and leaves ``{"type": "object"}`` (and objects in
    ``{}``, "any JSON") open; xgram closing them is a drop-in difference. XGrammar closing
    an object whose ``required`` keys it does not declare leaves only ``{}``, which no
    instance with those keys matches (its issue #104): XGrammar's fault.
    """
    if not xgram_ok:
        return XGRAM_WRONG, "strict_mode: xgram closes an object XGrammar leaves open"
    if '"required"' in json.dumps(schema):
        return XGRAMMAR_INEXACT, "strict_mode: XGrammar closes an object to {} despite required"
    return UNRESOLVED, "strict_mode: XGrammar closes an object xgram leaves open"


def _declared_properties(schema: Any, root: Any, depth: int = 0) -> Dict[str, Any]:
    """``properties`` of a schema and of its ``allOf``/``anyOf``/``oneOf`` branches, in order."""
    schema = _deref(schema, root)
    if not isinstance(schema, dict) or depth > 6:
        return {}
    found = (
        dict(schema.get("properties") or {}) if isinstance(schema.get("properties"), dict) else {}
    )
    for key in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(key) or []:
            for name, sub in _declared_properties(branch, root, depth + 1).items():
                found.setdefault(name, sub)
    return found


def out_of_schema_order(schema: Any, value: Any, root: Any = None, depth: int = 0) -> bool:
    """True when some object of ``value`` has declared properties out of declared order."""
    root = schema if root is None else root
    schema = _deref(schema, root)
    if depth > 30 or not isinstance(schema, dict):
        return False
    if isinstance(value, dict):
        declared = _declared_properties(schema, root)
        order = list(declared)
        positions = [order.index(k) for k in value if k in declared]
        if positions != sorted(positions):
            return True
        extra = schema.get("additionalProperties")
        return any(
            out_of_schema_order(declared.get(k, extra), v, root, depth + 1)
            for k, v in value.items()
        )
    if isinstance(value, list):
        prefix = schema.get("prefixItems") or []
        items = schema.get("items")
        subs = [prefix[i] if i < len(prefix) else items for i in range(len(value))]
        if isinstance(items, list):
            subs = [items[i] if i < len(items) else None for i in range(len(value))]
        return any(out_of_schema_order(sub, v, root, depth + 1) for sub, v in zip(subs, value))
    return False


def classify_json(
    schema: Any, text: str, xgram_ok: bool, xgrammar_ok: bool, lenient: bool, log: List[str]
) -> Tuple[Verdict, Dict[str, Any]]:
    """The verdict on a JSON string the two sides disagree on, and the oracle's answer.

    Before the oracle's plain answer, the questions that only a reading of the input
    decides: whitespace runs, strict mode (objects closed or not), keywords beside ``$ref``
    under drafts 4-7, and property order.
    """
    oracle = json_oracle(schema, text)
    if not xgram_ok and longest_whitespace_run(text) > MAX_WHITESPACE:
        return (BY_DESIGN, "whitespace run > 64 (xgram's max_whitespace_cnt default)"), oracle
    valid = oracle["valid"]
    if valid is None and xgram_ok and oracle.get("each"):
        why = (
            "duplicate keys: outside JSON Schema's data model; xgram checks each member "
            "against its schema (README), XGrammar refuses them"
        )
        return (BY_DESIGN, why), oracle
    if valid is None:
        return (UNRESOLVED, oracle["note"]), oracle
    if valid != oracle["valid_open"]:
        if not xgram_ok and _xgrammar_ignores_properties(schema, text):
            why = (
                "strict_mode: XGrammar ignores the keywords beside oneOf/anyOf/allOf/$ref "
                "(and an allOf of several branches), so never sees the object it would close"
            )
            return (XGRAMMAR_INEXACT, why), oracle
        if xgram_ok and '"properties": {}' in json.dumps(schema):
            if _valid_when(_without_empty_properties(schema), text):
                why = (
                    'strict_mode: "properties": {} declares no member, so xgram leaves the '
                    'object open (as {"type": "object"}); XGrammar closes it to {}'
                )
                return (BY_DESIGN, why), oracle
        return _strict_mode_verdict(schema, xgram_ok), oracle
    with_siblings = oracle.get("valid_with_ref_siblings", valid)
    if valid != with_siblings and xgram_ok == with_siblings:
        # xgram reads every schema as draft 2020-12, where keywords beside $ref apply too:
        # narrower than drafts 4-7 (by design) when it rejects, looser (wrong) when it accepts.
        why = "keywords beside $ref: the declared draft (4-7) ignores them, xgram applies them"
        return (XGRAM_WRONG if xgram_ok else BY_DESIGN, why), oracle
    legacy = re.search(r'"\$schema":\s*"[^"]*draft-0[3-7]', json.dumps(schema))
    if xgram_ok and not valid and legacy and _valid_as_2020_12(schema, text):
        why = "xgram reads draft 2020-12 semantics (4.0E5 is an integer) under a declared draft 3-7"
        return (BY_DESIGN, why), oracle
    if valid and not xgram_ok and out_of_schema_order(schema, parse_json(text)):
        why = "property order: xgram keeps the schema's order; XGrammar let this one through"
        return (BY_DESIGN, why), oracle
    if valid == xgram_ok:
        if xgrammar_ok:
            return (XGRAMMAR_INEXACT, _why_xgrammar_accepts(text, oracle)), oracle
        return (XGRAMMAR_INEXACT, _why_xgrammar_refuses(schema, text, log)), oracle
    if valid and not xgram_ok and re.search(r"\d[eE]", _outside_strings(text)):
        why = "exponent-form number: xgram takes exponents only where bounds are at 0 (README)"
        return (BY_DESIGN, why), oracle
    if lenient and xgram_ok:
        keys = ", ".join(oracle["keywords"]) or "?"
        return (BY_DESIGN, f"xgram lenient=True dropped {keys}"), oracle
    if valid and '"hostname"' in json.dumps(schema):
        why = "hostname: xgram takes only the label shapes formats.py lists (deliberately stricter)"
        return (BY_DESIGN, why), oracle
    if oracle["note"] and "format" in " ".join(oracle["keywords"] + [oracle["note"]]):
        return (UNRESOLVED, oracle["note"]), oracle
    side = "accepts" if xgram_ok else "rejects"
    keys = ", ".join(oracle["keywords"])
    return (XGRAM_WRONG, f"xgram {side} it, jsonschema says {valid} {keys}".strip()), oracle


# ----------------------------------------------------------------------------
# regexes and the rest

_LINE_TERMINATORS = "\n\r\u2028\u2029"


def classify_regex(pattern: str, text: str, xgram_ok: bool, xgrammar_ok: bool) -> Verdict:
    python = ecma_to_python(pattern)
    if python is None:
        return UNRESOLVED, "pattern not translatable to an oracle"
    try:
        valid = re.fullmatch(python, text) is not None
    except re.error as exc:
        return UNRESOLVED, f"oracle regex error: {exc}"
    if valid != xgram_ok:
        return XGRAM_WRONG, f"re.fullmatch (ECMA-262 meanings) says {valid}"
    if xgrammar_ok and "." in pattern and any(c in text for c in _LINE_TERMINATORS):
        return XGRAMMAR_INEXACT, "XGrammar's '.' matches line terminators (ECMA-262's does not)"
    if "\\s" in pattern or "\\S" in pattern:
        return XGRAMMAR_INEXACT, "XGrammar's \\s is [\\f\\n\\r\\t\\v \\u00a0] (ECMA-262's is wider)"
    return XGRAMMAR_INEXACT, "XGrammar deviates from ECMA-262 (see the string)"


def json_slots(fmt: Any, begin: Optional[str] = None) -> List[Tuple[Optional[str], Any]]:
    """(begin string or None, schema) for every JSON-styled ``json_schema`` in a structural tag.

    The begin string is the tag's ``begin`` or the dispatch pattern right before the JSON.
    """
    found: List[Tuple[Optional[str], Any]] = []
    if isinstance(fmt, dict):
        kind = fmt.get("type")
        if kind == "json_schema":
            return [(begin, fmt.get("json_schema"))] if fmt.get("style", "json") == "json" else []
        if kind == "tag" and isinstance(fmt.get("begin"), str):
            return json_slots(fmt.get("content"), fmt["begin"])
        if kind == "dispatch":
            for rule in fmt.get("rules", []):
                if isinstance(rule, (list, tuple)) and len(rule) == 2:
                    found += json_slots(rule[1], rule[0] if isinstance(rule[0], str) else None)
            return found
        for value in fmt.values():
            found += json_slots(value)
    elif isinstance(fmt, list):
        for value in fmt:
            found += json_slots(value)
    return found


def _json_extent(text: str, start: int) -> int:
    """End of the JSON value (raw control characters allowed) at ``start``; -1 if none."""
    while start < len(text) and text[start] in " \t\n\r":
        start += 1
    try:
        return json.JSONDecoder(strict=False).raw_decode(text, start)[1]
    except ValueError:
        return -1


def json_segment(source: Any, text: str, at: int) -> Optional[Tuple[Any, str]]:
    """(schema, JSON text) of the JSON value in ``text`` that character ``at`` falls in.

    A value starts after its tag's ``begin`` or its dispatch pattern (for a bare
    json_schema: at the start or at a ``{``/``[``). The value that parses and covers ``at``
    wins; failing that (the disputed text is not JSON), the nearest start before ``at``
    with a known begin string, its segment running to just past ``at``.
    """
    starts: List[Tuple[int, Any, bool]] = []  # (start, schema, after a begin string)
    for begin, schema in json_slots(source):
        if begin:
            starts += [(m.end(), schema, True) for m in re.finditer(re.escape(begin), text)]
        else:
            starts += [(0, schema, False)]
            starts += [(k, schema, False) for k, ch in enumerate(text) if ch in "{["][:30]
    nearest: Optional[Tuple[int, Any]] = None
    # The nearest begin string wins; a bare value is tried from the outermost start inward.
    order = sorted(starts, key=lambda s: (not s[2], -s[0] if s[2] else s[0]))
    for start, schema, after_begin in order:
        if start > at:
            continue
        end = _json_extent(text, start)
        if end >= at:
            return schema, text[start:end]
        if end < 0 and after_begin and nearest is None:
            nearest = (start, schema)
    if nearest is not None and at - nearest[0] < 4000:
        return nearest[1], text[nearest[0] : at + 1]
    return None


XmlTag = Tuple[str, List[str], str, Any]  # (begin, ends, style, argument schema)


def _xml_tags(fmt: Any) -> List[XmlTag]:
    """Every tag whose content is a json_schema with an XML style."""
    found: List[XmlTag] = []
    if isinstance(fmt, dict):
        content = fmt.get("content")
        if fmt.get("type") == "tag" and isinstance(content, dict):
            style = content.get("style", "json")
            if content.get("type") == "json_schema" and style != "json":
                ends = fmt.get("end")
                ends = (
                    [ends]
                    if isinstance(ends, str)
                    else [e for e in ends or [] if isinstance(e, str)]
                )
                found.append((str(fmt.get("begin")), ends, style, content.get("json_schema")))
        for value in fmt.values():
            found += _xml_tags(value)
    elif isinstance(fmt, list):
        for value in fmt:
            found += _xml_tags(value)
    return found


def xml_segments(fmt: Any, text: str, at: int) -> List[Tuple[XmlTag, str]]:
    """(tag, argument text) candidates for the XML-styled arguments character ``at`` is in.

    The arguments run from a ``begin`` ending at or before ``at`` to an ``end`` that closes
    past ``at`` (or to the end of the text when none does). Nearest ``begin`` and earliest
    ``end`` first; farther ones come next, since a raw string value may itself spell a
    ``begin`` or an ``end``.
    """
    starts: List[Tuple[int, XmlTag]] = []
    for tag in _xml_tags(fmt):
        starts += [(m.end(), tag) for m in re.finditer(re.escape(tag[0]), text) if m.end() <= at]
    found: List[Tuple[XmlTag, str]] = []
    for start, tag in sorted(starts, key=lambda s: -s[0])[:4]:
        closes = sorted(
            k
            for end in tag[1]
            for k in [m.start() for m in re.finditer(re.escape(end), text)]
            if k >= start and k + len(end) > at
        )
        found += [(tag, text[start:close]) for close in (closes[:3] or [len(text)])]
    return found


def xml_style_at(fmt: Any, text: str, at: int) -> Optional[str]:
    """The style of the XML-styled arguments character ``at`` falls in, if any."""
    found = xml_segments(fmt, text, at)
    return found[0][0][2] if found else None


def _classify_xml(tag: XmlTag, args: str, xgram_ok: bool) -> Tuple[Verdict, Dict[str, Any]]:
    """XML-styled arguments: the structure here, the values through the JSON oracle."""
    _, _, style, schema = tag
    where = f"in {style}-styled tool arguments"
    if style not in XML_STYLES:
        return (UNRESOLVED, f"{where}: no oracle"), {}
    decided, spelled, info = arguments_verdict(style, schema, args, xgram_ok, MAX_WHITESPACE)
    if decided is not None:
        return (decided[0], f"{where}: {decided[1]}"), info
    (verdict, reason), oracle = classify_json(
        schema, spelled or "", xgram_ok, not xgram_ok, False, []
    )
    return (verdict, f"{where}: {reason}"), {**oracle, **info}


def classify_other(
    kind: str, text: str, xgram_ok: bool, source: Any, divergence: Optional[int]
) -> Tuple[Verdict, Optional[Dict[str, Any]]]:
    """EBNF and structural tags: JSON parts of a structural tag go to the JSON oracle."""
    if kind != "structural_tag" or divergence is None:
        return (UNRESOLVED, f"no oracle for {kind}"), None
    fmt = source.get("format", source)
    found = json_segment(fmt, text, divergence)
    if found is None:
        candidates = xml_segments(fmt, text, divergence)
        if candidates:  # the nearest whose arguments parse back, else the nearest
            parsed = [c for c in candidates if arguments_parse(c[0][2], c[0][3], c[1])]
            tag, args = (parsed or candidates)[0]
            return _classify_xml(tag, args, xgram_ok)
        return (UNRESOLVED, "structural part (outside JSON): no oracle"), None
    schema, segment = found
    (verdict, reason), oracle = classify_json(schema, segment, xgram_ok, not xgram_ok, False, [])
    return (verdict, f"in JSON: {reason}"), {**oracle, "segment": segment}


def classify(
    case: Dict[str, Any],
    text: str,
    xgram_ok: bool,
    xgrammar_ok: bool,
    compiled: Dict[str, Any],
    divergence: Optional[int] = None,
) -> Tuple[Verdict, Optional[Dict[str, Any]]]:
    """Dispatch on the case's kind; the second item is the JSON oracle's answer, if any.

    ``divergence`` is where the rejecting side stops (characters of ``text`` it can extend);
    it locates the JSON value in dispute inside a structural tag.
    """
    kind = case["kind"]
    if kind == "json_schema":
        lenient = bool(compiled.get("xgram_lenient"))
        log = compiled.get("xgrammar_log", [])
        return classify_json(case["source"], text, xgram_ok, xgrammar_ok, lenient, log)
    if kind == "regex":
        return classify_regex(case["source"], text, xgram_ok, xgrammar_ok), None
    return classify_other(kind, text, xgram_ok, case["source"], divergence)
