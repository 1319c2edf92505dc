"""``not``, ``if``/``then``/``else`` and the dependency keywords, as unions.

``not S`` is rewritten by De Morgan: a schema is the conjunction of its keywords,
so its negation is the union of the negations of single keywords, and each single
keyword is negated exactly over *all* JSON values (``not {"minLength": 3}`` is
"not a string, or a string shorter than 3"). Keywords whose negation is not a
finite union of what the grammar can express (``pattern``, ``items``...) make
the negation fail with a SchemaError naming them.

``if I then T else E`` is ``(I and T) or (not I and E)``; ``dependentRequired``
``{a: [b]}`` is ``(a absent) or (b present)``; ``dependentSchemas {a: S}`` is
``(a absent) or S``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Tuple

from ..errors import SchemaError
from .formats import KNOWN_UNSUPPORTED, format_grammar, format_regex
from .keywords import (
    CONSTRAINT_KEYWORDS,
    DEPENDENCY_KEYWORDS,
    check_keywords,
    dependencies,
)
from .records import ANNOTATIONS, COMBINATOR_KEYWORDS, MAX_CASES, Conj, without_annotations
from .resolver import escape_pointer_token
from .values import canonical, is_number, to_decimal

if TYPE_CHECKING:  # the normaliser calls this module and passes itself in
    from .normalize import Normalizer

_ALL = ["null", "boolean", "number", "string", "array", "object"]
_OF_TYPE = {
    "minLength": "string",
    "maxLength": "string",
    "minimum": "number",
    "maximum": "number",
    "exclusiveMinimum": "number",
    "exclusiveMaximum": "number",
    "minItems": "array",
    "maxItems": "array",
    "minProperties": "object",
    "maxProperties": "object",
}
_OPPOSITE = {
    "minimum": "exclusiveMaximum",
    "maximum": "exclusiveMinimum",
    "exclusiveMinimum": "maximum",
    "exclusiveMaximum": "minimum",
}


# Every keyword the converter reads; any other asserts nothing.
_KNOWN_KEYWORDS = (
    CONSTRAINT_KEYWORDS
    | COMBINATOR_KEYWORDS
    | frozenset(
        (
            "then",
            "else",
            "additionalItems",
            "minContains",
            "maxContains",
            "unevaluatedProperties",
            "unevaluatedItems",
            "$recursiveRef",
            "$dynamicRef",
        )
    )
)


def _others(t: str) -> List[str]:
    return [x for x in _ALL if x != t]


class _Negator:
    def __init__(self, norm: Normalizer, base: str, pointer: str) -> None:
        self.norm = norm
        self.base = base
        self.pointer = pointer
        self.depth = 0

    def not_of(self, schema: Any) -> Dict[str, Any]:
        """``{"not": schema}``, one object per schema and conversion.

        Negations are rewritten again each time a recursive schema is reached;
        the same object each time gives the same rule, so recursion closes.
        """
        cache = self.norm.negations
        hit = cache.get(id(schema))
        if hit is None or hit["not"] is not schema:
            hit = {"not": schema}
            cache[id(schema)] = hit
            self.norm.synthetic(hit, self.base, self.pointer)  # keeps both alive
        return hit

    def fail(self, keyword: str, why: str) -> None:
        raise SchemaError(f"cannot negate this: {why}", "not", self.pointer + f" ({keyword})")

    def negate(self, schema: Any, base: str, at: str) -> List[Any]:
        """Schemas whose union is exactly the complement of ``schema`` (found at ``at``)."""
        self.depth += 1
        if self.depth > 50:
            self.fail("$ref", "negations nest too deeply")
        try:
            return self._negate(schema, base, at)
        finally:
            self.depth -= 1

    def _negate(self, schema: Any, base: str, at: str) -> List[Any]:
        if schema is True:
            return [False]
        if schema is False:
            return [True]
        if not isinstance(schema, dict):
            self.fail("", "not a schema")
        if self.norm.index.ref_overrides_siblings and isinstance(schema.get("$ref"), str):
            return self.negate_keyword(schema, "$ref", schema["$ref"], base, at)
        # The rewrite reads keyword values as the conversion does, so it needs the
        # same checks first: a malformed value is the same SchemaError as outside
        # a negation, never a TypeError here or a misread (a string as `required`).
        check_keywords(schema, base, at)
        out: List[Any] = []
        for keyword, value in schema.items():
            if keyword in ANNOTATIONS or keyword.startswith("x-") or keyword in ("then", "else"):
                continue
            out.extend(self.negate_keyword(schema, keyword, value, base, at))
        if not out and not any(k not in ANNOTATIONS for k in schema):
            return [False]
        return out

    def negate_keyword(
        self, schema: Dict[str, Any], keyword: str, value: Any, base: str, at: str
    ) -> List[Any]:
        """Schemas whose union is the values that break ``keyword`` of ``schema``."""
        if keyword == "type":
            names = [value] if isinstance(value, str) else list(value)
            if "integer" in names and "number" not in names:
                others = [t for t in _ALL if t not in names and t != "number"]
                return (
                    [{"type": others}, {"type": "number", "x-xgram-not-integer": True}]
                    if others
                    else [{"type": "number", "x-xgram-not-integer": True}]
                )
            rest = [t for t in _ALL if t not in names]
            return [{"type": rest}] if rest else [False]
        if keyword in ("const", "enum"):
            values = [value] if keyword == "const" else value
            return self._negate_values(values, base, at)
        if keyword in _OF_TYPE:
            t = _OF_TYPE[keyword]
            if isinstance(value, bool):
                return []  # draft-04 exclusivity flag: folded into minimum/maximum
            if keyword in _OPPOSITE:
                flipped = {"type": t, _OPPOSITE[keyword]: value}
            elif keyword.startswith("min"):
                if value <= 0:
                    return []  # no value violates it... within its type; others pass too
                flipped = {"type": t, "max" + keyword[3:]: int(value) - 1}
            else:
                flipped = {"type": t, "min" + keyword[3:]: int(value) + 1}
            return [flipped]  # values of other types satisfy the keyword vacuously
        if keyword == "required":
            return [{"type": "object", "properties": {name: False}} for name in value]
        if keyword == "properties":
            out: List[Any] = []
            for name, sub in value.items():
                if sub is True:
                    continue
                out.append(
                    {"type": "object", "required": [name], "properties": {name: self.not_of(sub)}}
                )
            return out
        if keyword == "$ref":
            if not isinstance(value, str):  # as the normaliser checks outside a negation
                raise SchemaError("must be a string", "$ref", self.pointer)
            target, target_base, target_at = self.norm.index.resolve(value, base, self.pointer)
            return self.negate(target, target_base, target_at)
        if keyword == "anyOf":
            split = self._negate_discriminated(value, base)
            if split is not None:
                return split
            result: List[Any] = [True]
            for i, branch in enumerate(value):
                result = self._intersect(result, self.negate(branch, base, f"{at}/anyOf/{i}"))
            return result
        if keyword == "allOf":
            return [
                s
                for i, branch in enumerate(value)
                for s in self.negate(branch, base, f"{at}/allOf/{i}")
            ]
        if keyword == "not":
            return [value]
        if keyword == "oneOf":
            return self._negate_one_of(value, base, at)
        negated = self._negate_scalar_keyword(schema, keyword, value)
        if negated is not None:
            return negated
        if keyword in ("items", "prefixItems"):
            return self._negate_items(schema, keyword, value)
        if keyword in ("additionalProperties", "patternProperties", "propertyNames"):
            return self._negate_member_keyword(schema, keyword, value)
        if keyword == "contains":
            return self._negate_contains(schema, value)
        if keyword in DEPENDENCY_KEYWORDS:
            return [] if value is None else self._negate_dependencies(keyword, value)
        if keyword not in _KNOWN_KEYWORDS:
            return []  # an unknown keyword asserts nothing, so nothing violates it
        self.fail(keyword, f"the negation of {keyword!r} is not expressible")
        return []

    def _negate_scalar_keyword(
        self, schema: Dict[str, Any], keyword: str, value: Any
    ) -> Optional[List[Any]]:
        # The string / number keywords whose complement is regular: the grammar
        # subtracts their language (see Emitter._string and number).
        if keyword == "pattern" and isinstance(value, str):
            return [{"type": "string", "x-xgram-not-pattern": value}]
        if keyword == "format" and isinstance(value, str):
            if format_regex(value) is not None:
                return [{"type": "string", "x-xgram-not-format": value}]
            if value in KNOWN_UNSUPPORTED or format_grammar(value) is not None:
                self.fail(keyword, f"the negation of format {value!r} is not expressible")
            return []  # an unknown format asserts nothing, so nothing violates it
        if keyword == "multipleOf" and is_number(value) and not isinstance(value, bool):
            if value <= 0:
                self.fail(keyword, "multipleOf must be greater than 0")
            return [{"type": "number", "x-xgram-not-multiple-of": to_decimal(value)}]
        if keyword in ("minContains", "maxContains"):
            return []  # negated together with contains (or nothing without it)
        return None

    def _negate_items(self, schema: Dict[str, Any], keyword: str, value: Any) -> List[Any]:
        # An array breaks `items` / `prefixItems` when some item breaks its schema.
        tuple_form = isinstance(value, list)
        if not tuple_form and keyword == "items" and "prefixItems" not in schema:
            if value is True or value == {}:
                return []
            return [{"type": "array", "contains": self.not_of(value)}]
        if tuple_form:
            out = []
            for i, sub in enumerate(value):
                if sub is True or sub == {}:
                    continue
                out.append(
                    {
                        "type": "array",
                        "minItems": i + 1,
                        "prefixItems": [True] * i + [self.not_of(sub)],
                    }
                )
            if keyword == "prefixItems" and "items" in schema:
                self.fail("items", "the negation of 'items' after 'prefixItems' is not expressible")
            return out
        self.fail(keyword, f"the negation of {keyword!r} after 'prefixItems' is not expressible")
        return []

    def _negate_values(self, values: List[Any], base: str, at: str) -> List[Any]:
        # Scalars are excluded by value; an object or array is excluded through
        # the negation of the shape that equals it alone (its keys, or its
        # length, each with its constant), so that every other value remains.
        scalars = [v for v in values if not isinstance(v, (dict, list))]
        result: List[Any] = [{"x-xgram-not-in": scalars}] if scalars else [True]
        for v in values:
            if isinstance(v, dict):
                shape: Dict[str, Any] = {
                    "type": "object",
                    "required": list(v),
                    "properties": {k: {"const": x} for k, x in v.items()},
                    "additionalProperties": False,
                }
            elif isinstance(v, list):
                shape = {
                    "type": "array",
                    "minItems": len(v),
                    "maxItems": len(v),
                    "prefixItems": [{"const": x} for x in v],
                }
            else:
                continue
            result = self._intersect(result, self.negate(shape, base, at))
        return result

    def _negate_member_keyword(self, schema: Dict[str, Any], keyword: str, value: Any) -> List[Any]:
        # An object breaks these when some member breaks them: a key of the set the
        # keyword governs whose value breaks its schema (or, for propertyNames, a
        # key that breaks it).
        if value is True or value == {}:
            return []
        if keyword == "propertyNames":
            return [{"type": "object", "x-xgram-some-member": [self.not_of(value), True]}]
        if keyword == "patternProperties":
            return [
                {
                    "type": "object",
                    "x-xgram-some-member": [{"type": "string", "pattern": p}, self.not_of(s)],
                }
                for p, s in value.items()
                if s is not True and s != {}
            ]
        declared = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        key = {"type": "string", "x-xgram-not-in": list(declared)}
        if patterns:
            key["x-xgram-not-pattern"] = list(patterns)
        return [{"type": "object", "x-xgram-some-member": [key, self.not_of(value)]}]

    def _negate_dependencies(self, keyword: str, value: Any) -> List[Any]:
        # Broken when a named property is present and a property it needs is
        # absent, or the schema it brings fails.
        out: List[Any] = []
        for name, dep in value.items():
            if isinstance(dep, list):
                out.extend(
                    {"type": "object", "required": [name], "properties": {needed: False}}
                    for needed in dep
                )
            elif dep is not True and dep != {}:
                out.append({"type": "object", "required": [name], "allOf": [self.not_of(dep)]})
        return out

    def _negate_contains(self, schema: Dict[str, Any], value: Any) -> List[Any]:
        # No item (or too few, or too many) matches: only the plain form is negated.
        low = schema.get("minContains", 1)
        if "maxContains" in schema or not isinstance(low, int) or isinstance(low, bool):
            self.fail("contains", "the negation of minContains/maxContains is not expressible")
        if low == 0:
            return []  # always satisfied
        if low != 1:
            self.fail("contains", "the negation of minContains is not expressible")
        return [{"type": "array", "items": self.not_of(value)}]

    def _negate_one_of(self, branches: List[Any], base: str, at: str) -> List[Any]:
        # Not exactly one: none of the branches, or two of them at once.
        split = self._negate_discriminated(branches, base)
        if split is not None:
            return split  # the branches exclude one another: "exactly one" is "any"
        none: List[Any] = [True]
        for i, branch in enumerate(branches):
            none = self._intersect(none, self.negate(branch, base, f"{at}/oneOf/{i}"))
        pairs = [
            {"allOf": [branches[i], branches[j]]}
            for i in range(len(branches))
            for j in range(i + 1, len(branches))
        ]
        return none + pairs

    def _resolved(self, schema: Any, base: str) -> Any:
        """``schema`` with its ``$ref`` chain followed (for a look at its keywords)."""
        for _ in range(16):
            if not (isinstance(schema, dict) and isinstance(schema.get("$ref"), str)):
                return schema
            if len([k for k in schema if k not in ANNOTATIONS]) > 1:
                return schema  # keywords beside the $ref: not a plain alias
            schema, base, _ = self.norm.index.resolve(schema["$ref"], base, self.pointer)
        return schema

    def _negate_discriminated(self, branches: Any, base: str) -> Optional[List[Any]]:
        """The negation of branches told apart by one required property's constants.

        When every branch requires property ``p`` with values from its own set
        (``const``/``enum``), sets disjoint from branch to branch, a value is in
        no branch exactly when it is not an object, has no ``p``, has a ``p`` in
        no branch's set, or has branch i's value and breaks branch i. That is a
        sum over the branches, where the plain rewrite (the intersection of the
        branches' negations) is a product of them.
        """
        if not isinstance(branches, list) or len(branches) < 3:
            return None  # two branches: the product of their negations stays small
        resolved = [self._resolved(b, base) for b in branches]
        if not all(isinstance(b, dict) for b in resolved):
            return None

        def values_of(branch: Dict[str, Any], name: str) -> Optional[List[Any]]:
            required = branch.get("required")
            sub = (
                branch.get("properties", {}).get(name)
                if isinstance(branch.get("properties"), dict)
                else None
            )
            if not isinstance(required, list) or name not in required or not isinstance(sub, dict):
                return None
            if "const" in sub:
                return [sub["const"]]
            enum = sub.get("enum")
            return list(enum) if isinstance(enum, list) and enum else None

        first = resolved[0].get("required")
        for name in first if isinstance(first, list) else []:
            if not isinstance(name, str):
                continue
            sets = [values_of(b, name) for b in resolved]
            if any(s is None for s in sets):
                continue
            keys = [{canonical(v) for v in s} for s in sets]
            if sum(len(k) for k in keys) != len(set().union(*keys)):
                continue  # two branches share a value
            every = [v for s in sets for v in s]
            out: List[Any] = [
                {"type": [t for t in _ALL if t != "object"]},
                {"type": "object", "properties": {name: False}},
                {
                    "type": "object",
                    "required": [name],
                    "properties": {name: {"not": {"enum": every}}},
                },
            ]
            for branch, values in zip(branches, sets):
                selected = {
                    "type": "object",
                    "required": [name],
                    "properties": {name: {"enum": values}},
                }
                out.append({"allOf": [selected, self.not_of(branch)]})
            return out
        return None

    def _intersect(self, left: List[Any], right: List[Any]) -> List[Any]:
        out = []
        for a in left:
            for b in right:
                if a is False or b is False:
                    continue
                out.append(b if a is True else (a if b is True else {"allOf": [a, b]}))
        if len(out) > MAX_CASES:
            self.fail("anyOf", "too many cases")
        return out


def _union(norm: Normalizer, schemas: List[Any], base: str, pointer: str) -> List[Conj]:
    cases: List[Conj] = []
    for i, s in enumerate(schemas):
        cases.extend(norm.normalize(norm.synthetic(s, base, f"{pointer}~{i}")))
    return cases


def negation_cases(norm: Normalizer, schema: Any, base: str, pointer: str) -> List[Conj]:
    """The records of ``not schema`` (a SchemaError when it is not expressible)."""
    negator = _Negator(norm, base, pointer)
    return without_annotations(_union(norm, negator.negate(schema, base, pointer), base, pointer))


def conditional_cases(
    norm: Normalizer, schema: Dict[str, Any], base: str, pointer: str
) -> Iterator[Tuple[str, List[Conj]]]:
    """The unions that ``not``, ``if`` and the dependency keywords contribute."""

    def at(*tokens: str) -> str:
        return pointer + "".join("/" + escape_pointer_token(t) for t in tokens)

    if "not" in schema:
        negator = _Negator(norm, base, at("not"))
        yield (
            "not",
            without_annotations(
                _union(norm, negator.negate(schema["not"], base, at("not")), base, at("not"))
            ),
        )
    if "if" in schema and ("then" in schema or "else" in schema):
        negator = _Negator(norm, base, at("if"))
        cond = schema["if"]
        then = schema.get("then", True)
        other = schema.get("else", True)
        cases = norm.normalize(norm.synthetic({"allOf": [cond, then]}, base, at("then")))
        failed_if = without_annotations(
            _union(norm, negator.negate(cond, base, at("if")), base, at("if"))
        )
        else_cases = norm.normalize(norm.synthetic(other, base, at("else")))
        cases = cases + norm.product(failed_if, else_cases, "else", at("else"))
        yield "if", cases
    for keyword in DEPENDENCY_KEYWORDS:
        if schema.get(keyword) is None:
            continue
        for name, dep in dependencies(schema, keyword, pointer).items():
            if isinstance(dep, list):
                dep_schema: Any = {"required": dep}
            else:
                dep_schema = dep
            absent = {"properties": {name: False}}
            present = {"required": [name], "allOf": [dep_schema]}
            yield keyword, _union(norm, [absent, present], base, at(keyword, name))
