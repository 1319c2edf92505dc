"""What xgram does with each keyword of a JSON schema, and why.

:func:`explain_json_schema` answers, for every keyword location of a schema
(each keyword of each sub-schema reachable through ``properties``, ``items``,
``allOf``, ``$defs`` and the other applicators), one of:

``exact``
    enforced exactly by the grammar;
``relaxed``
    not expressible by any exact grammar here: ``lenient=True`` drops it, which
    is why the default (strict) conversion refuses the schema;
``refused``
    the schema cannot be converted at all, even leniently (malformed, or no
    value satisfies it); the reason is the conversion's error;
``annotation``
    has no effect on which values are valid (``title``, ``description``, a
    ``then`` without ``if``, an unknown ``format``, an unused definition...);
``unknown``
    a keyword xgram does not know, ignored as every validator ignores one.

The statuses come from the real conversion, not from a second reading of the
schema: it runs with ``lenient=True`` and every constraint it drops is recorded
by :meth:`Normalizer.relax <xgram.json_schema.normalize.Normalizer.relax>` as
``(keyword, pointer, message)``; its error, if any, is the refusal. The walk
over the schema only lists the keyword locations and says which keywords are
annotations or unknown.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Set, Tuple

from ..errors import CompileBudgetError, GrammarError, SchemaError
from ..grammar_text import parse_ebnf
from ..schema_options import JsonSchemaOptions
from .convert import convert_json_schema
from .document import SCHEMA_LIST_KEYWORDS, SCHEMA_MAP_KEYWORDS, SCHEMA_VALUE_KEYWORDS
from .formats import KNOWN_UNSUPPORTED, format_regex
from .keywords import CONSTRAINT_KEYWORDS
from .records import ANNOTATIONS, COMBINATOR_KEYWORDS, UNEVALUATED_KEYWORDS
from .resolver import (
    SchemaIndex,
    escape_pointer_token,
    join_defrag,
    keywords_of_later_drafts,
    load_schema,
)

STATUSES = ("exact", "relaxed", "refused", "annotation", "unknown")
"""The statuses of a keyword location, from most to least enforced."""

# Keywords read only next to another one (checked in _static_status), and
# $recursiveAnchor, which only matters to $recursiveRef.
_KNOWN_KEYWORDS = frozenset(
    CONSTRAINT_KEYWORDS.union(
        COMBINATOR_KEYWORDS,
        UNEVALUATED_KEYWORDS,
        ("then", "else", "additionalItems", "minContains", "maxContains", "$dynamicRef"),
    )
)
_ANNOTATION_KEYWORDS = frozenset(ANNOTATIONS.union(("$recursiveAnchor",)))
_DEFINITION_KEYWORDS = frozenset(("$defs", "definitions"))

# The applicators, by the shape of their value: a map of schemas, a list of
# schemas, or one schema ("items" may also be a list, draft-07's tuple form).
# The converter's lists, and draft-07's "dependencies" (whose values may also
# be lists of names, which the walk passes over).
_SCHEMA_MAPS = frozenset(SCHEMA_MAP_KEYWORDS + ("dependencies",))
_SCHEMA_LISTS = frozenset(SCHEMA_LIST_KEYWORDS)
_SCHEMA_VALUES = frozenset(SCHEMA_VALUE_KEYWORDS)

_ANNOTATION_REASON = "annotation: no effect on which values are valid"
_UNKNOWN_REASON = "not a keyword xgram knows: ignored, as validators ignore unknown keywords"
_LATER_REASON = (
    "a keyword of a later draft than the one $schema declares: ignored, as validators "
    "ignore unknown keywords"
)
_UNUSED_REASON = "in a definition no $ref reaches: not part of the grammar"


class KeywordExplanation(NamedTuple):
    """What xgram does with one keyword of one schema object.

    Attributes
    ----------
    pointer : str
        JSON pointer (RFC 6901) to the schema object, ``""`` for the root.
    keyword : str
        The keyword, or ``""`` when a refusal concerns the schema object itself.
    status : str
        One of :data:`STATUSES`.
    reason : str
        Why, in words (empty for most exact keywords).

    """

    pointer: str
    keyword: str
    status: str
    reason: str

    @property
    def location(self) -> str:
        """The keyword location as a URI fragment, e.g. ``#/properties/a/uniqueItems``."""
        suffix = "/" + escape_pointer_token(self.keyword) if self.keyword else ""
        return "#" + self.pointer + suffix


class SchemaExplanation:
    """The status of every keyword location of a schema (see :func:`explain_json_schema`).

    Iterating yields the :class:`KeywordExplanation` records in document order;
    ``str()`` is a readable table, :meth:`to_json` the same for tools.

    Parameters
    ----------
    keywords : list of KeywordExplanation
        The records, in document order.
    error : str, optional
        Why the schema cannot be converted even leniently; None when it can.
    lenient : bool
        Whether the caller converts with ``lenient=True`` (it only changes the wording).
    notes : list of str
        The conversion's notes (things the specification itself ignores).

    """

    def __init__(
        self,
        keywords: List[KeywordExplanation],
        error: Optional[str],
        lenient: bool,
        notes: List[str],
    ) -> None:
        self.keywords = keywords
        self.error = error
        self.lenient = lenient
        self.notes = notes

    def __iter__(self) -> Iterator[KeywordExplanation]:
        return iter(self.keywords)

    def __len__(self) -> int:
        return len(self.keywords)

    def __repr__(self) -> str:
        return f"<SchemaExplanation {self.verdict}: {self._count_phrase()}>"

    @property
    def verdict(self) -> str:
        """``"refused"``, ``"relaxed"`` (some constraint is dropped leniently) or ``"exact"``."""
        if self.error is not None:
            return "refused"
        return "relaxed" if self.relaxed else "exact"

    @property
    def is_exact(self) -> bool:
        """True when every keyword is exact, an annotation or unknown (ignored)."""
        return self.verdict == "exact"

    @property
    def relaxed(self) -> List[KeywordExplanation]:
        """The records of the constraints ``lenient=True`` drops."""
        return [k for k in self.keywords if k.status == "relaxed"]

    def counts(self) -> Dict[str, int]:
        """How many keyword locations have each status (every status listed)."""
        counts = dict.fromkeys(STATUSES, 0)
        for k in self.keywords:
            counts[k.status] += 1
        return counts

    def summary(self) -> str:
        """One line: whether the schema converts, exactly or not."""
        n = len(self.relaxed)
        constraints = f"{n} constraint{'s' if n != 1 else ''}"
        if self.error is not None:
            return f"refused, even with lenient=True: {self.error}"
        if n and self.lenient:
            return f"converts with lenient=True, which drops {constraints} (marked relaxed)"
        if n:
            return (
                f"refused: {constraints} cannot be enforced exactly (marked relaxed); "
                f"lenient=True would drop {'them' if n != 1 else 'it'}"
            )
        return "exact: every constraint is enforced"

    def to_json(self) -> Dict[str, Any]:
        """The explanation as JSON values (``json.dumps`` writes it as it is)."""
        return {
            "verdict": self.verdict,
            "summary": self.summary(),
            "error": self.error,
            "lenient": self.lenient,
            "counts": self.counts(),
            "keywords": [
                {
                    "pointer": k.pointer,
                    "keyword": k.keyword,
                    "location": k.location,
                    "status": k.status,
                    "reason": k.reason,
                }
                for k in self.keywords
            ],
            "notes": list(self.notes),
        }

    def _count_phrase(self) -> str:
        counts = self.counts()
        parts = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
        total = len(self.keywords)
        return f"{total} keyword location{'s' if total != 1 else ''}" + (
            f": {parts}" if parts else ""
        )

    def __str__(self) -> str:
        lines = [self.summary(), self._count_phrase()]
        if self.keywords:
            header = "keyword location"
            width = min(max(len(header), *(len(k.location) for k in self.keywords)), 48)
            lines.append("")
            lines.append(f"{'status':<10}  {header:<{width}}  reason")
            for k in self.keywords:
                row = f"{k.status:<10}  {k.location:<{width}}  {k.reason}"
                lines.append(row.rstrip())
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)


# A keyword read only next to another keyword: alone, it changes nothing.
_NEEDS = {"then": "if", "else": "if", "minContains": "contains", "maxContains": "contains"}


def _static_status(schema: Dict[str, Any], keyword: str) -> Tuple[str, str]:
    """What a keyword is before the conversion says more: its status and reason."""
    if keyword in _DEFINITION_KEYWORDS:
        return "annotation", "holds definitions; each is checked where a $ref uses it"
    if keyword in _ANNOTATION_KEYWORDS:
        return "annotation", _ANNOTATION_REASON
    if keyword not in _KNOWN_KEYWORDS:
        return "unknown", _UNKNOWN_REASON
    value = schema[keyword]
    if (
        keyword == "format"
        and isinstance(value, str)
        and format_regex(value) is None
        and value not in KNOWN_UNSUPPORTED
    ):
        return "annotation", f"unknown format {value!r}: ignored, as the specification says"
    needed = _NEEDS.get(keyword)
    if needed is not None and needed not in schema:
        return "annotation", f"no effect without {needed!r}"
    if keyword == "if" and "then" not in schema and "else" not in schema:
        return "annotation", "no effect without 'then' or 'else'"
    if keyword == "additionalItems" and not isinstance(schema.get("items"), list):
        return "annotation", "no effect unless 'items' is an array of schemas (draft-07)"
    return "exact", ""


def _sub_schemas(keyword: str, value: Any, at: str) -> Iterator[Tuple[Any, str]]:
    """The sub-schemas in the value of ``keyword`` found at pointer ``at``, in order."""
    if keyword in _SCHEMA_MAPS:
        if isinstance(value, dict):
            for name, sub in value.items():
                yield sub, at + "/" + escape_pointer_token(str(name))
    elif keyword in _SCHEMA_LISTS or (keyword == "items" and isinstance(value, list)):
        if isinstance(value, list):
            for i, sub in enumerate(value):
                yield sub, f"{at}/{i}"
    elif keyword in _SCHEMA_VALUES:
        yield value, at


def _keyword_records(root: Any) -> List[KeywordExplanation]:
    """Every keyword of every schema object in the document, statically classified."""
    records: List[KeywordExplanation] = []
    # Keywords a later draft added are unknown in a document that declares an older one.
    later = keywords_of_later_drafts(root)

    def visit(node: Any, pointer: str, depth: int) -> None:
        # Deeper documents are refused by the conversion (SchemaIndex's limit).
        if not isinstance(node, dict) or depth > 200:
            return
        for keyword, value in node.items():
            if keyword in later:
                records.append(KeywordExplanation(pointer, keyword, "unknown", _LATER_REASON))
                continue
            records.append(KeywordExplanation(pointer, keyword, *_static_status(node, keyword)))
            at = pointer + "/" + escape_pointer_token(keyword)
            for sub, sub_pointer in _sub_schemas(keyword, value, at):
                visit(sub, sub_pointer, depth + 1)

    visit(root, "", 0)
    return records


def _reachable(root: Any) -> Optional[Set[str]]:
    """The pointers of the schema objects the root uses (through applicators and $ref).

    None when the document cannot be indexed (the conversion then refuses it).
    """
    try:
        index = SchemaIndex(root)
    except SchemaError:
        return None
    seen: Set[str] = set()
    stack = [(root, index.root_base, "")]
    while stack:
        node, base, pointer = stack.pop()
        if not isinstance(node, dict) or pointer in seen:
            continue
        seen.add(pointer)
        if isinstance(node.get("$id"), str) and pointer:
            base = join_defrag(base, node["$id"])[0]
        if isinstance(node.get("$ref"), str):
            try:
                stack.append(index.resolve(node["$ref"], base, pointer))
            except SchemaError:  # the conversion refuses the reference
                pass
        for keyword, value in node.items():
            if keyword not in _DEFINITION_KEYWORDS:  # definitions count where they are used
                at = pointer + "/" + escape_pointer_token(keyword)
                stack.extend((sub, base, p) for sub, p in _sub_schemas(keyword, value, at))
    return seen


def _bare_message(error: SchemaError) -> str:
    """The message of ``error`` without the ``'keyword' at pointer:`` it starts with."""
    text = str(error)
    if error.keyword:
        prefix = f"{error.keyword!r} at {error.pointer or '#'}: "
    else:
        prefix = f"at {error.pointer}: " if error.pointer else ""
    return text[len(prefix) :] if text.startswith(prefix) else text


Finding = Tuple[str, str, str, str]  # (keyword, pointer, status, reason) from the conversion


def _convert(
    root: Any, options: JsonSchemaOptions
) -> Tuple[List[Finding], List[str], Optional[str]]:
    """Run the real conversion leniently: its relaxations, its notes, and its error if any.

    The steps are those of :meth:`Grammar.from_json_schema`: the schema to EBNF,
    then the EBNF parsed (which is where a schema no value satisfies shows).
    """
    try:
        conversion = convert_json_schema(root, replace(options, lenient=True))
    except SchemaError as e:
        # What the conversion relaxed before it stopped is not known.
        return [(e.keyword, e.pointer, "refused", _bare_message(e))], [], str(e)
    findings = [(k, p, "relaxed", m) for k, p, m in conversion.relaxations]
    try:
        parse_ebnf(conversion.ebnf)
    except (GrammarError, CompileBudgetError) as e:
        if isinstance(e, GrammarError) and "no string" in str(e):
            message = f"no JSON value satisfies this schema ({e})"
        else:  # a budget, or a converter bug: still the reason the schema is refused
            message = f"the schema's grammar does not compile: {e}"
        findings.append(("", "", "refused", message))
        return findings, conversion.notes, message
    return findings, conversion.notes, None


# Decorations of the pointers of schemas the conversion makes up: " (anyOf)" after
# a negation's pointer, "~2" after the branch a split oneOf came from.
_SYNTHETIC_SUFFIX = re.compile(r" \(.*\)$")
_SYNTHETIC_TOKEN_SUFFIX = re.compile(r"~\d+$")


def _locate(records: List[KeywordExplanation], keyword: str, pointer: str, status: str) -> int:
    """The index of the walked record a finding is about, or -1.

    Most findings name the schema object holding the keyword; some name the
    keyword's value (``/oneOf``), a schema the conversion made up (a negation, a
    branch of a split ``oneOf``, the ``allOf`` of ``if`` and ``then``), or lost
    their pointer (``""``). For those, the record meant is the only use of the
    keyword below the deepest real schema object on the pointer's path.
    """
    walked = {(r.pointer, r.keyword): i for i, r in enumerate(records)}
    i = walked.get((pointer, keyword), -1)
    if i >= 0 or not keyword:
        return i
    if pointer.endswith("/" + escape_pointer_token(keyword)):
        i = walked.get((pointer[: -len(keyword) - 1], keyword), -1)
        if i >= 0:
            return i
    tokens = _SYNTHETIC_SUFFIX.sub("", pointer).split("/")
    tokens = [tokens[0]] + [_SYNTHETIC_TOKEN_SUFFIX.sub("", t) for t in tokens[1:]]
    objects = {r.pointer for r in records}
    while True:  # from the deepest real object on the path up, until the keyword is used
        while "/".join(tokens) not in objects and len(tokens) > 1:
            tokens.pop()
        prefix = "/".join(tokens)
        uses = [
            j
            for j, r in enumerate(records)
            if r.keyword == keyword
            and r.status in ("exact", status)
            and (r.pointer == prefix or r.pointer.startswith(prefix + "/"))
        ]
        if uses or len(tokens) == 1:
            return uses[0] if len(uses) == 1 else -1
        tokens.pop()


def _apply(records: List[KeywordExplanation], findings: List[Finding]) -> List[KeywordExplanation]:
    """The records with the conversion's findings applied, in document order."""
    records = list(records)
    walked = len(records)
    for keyword, pointer, status, reason in findings:
        i = _locate(records, keyword, pointer, status)
        if i < 0:
            records.append(KeywordExplanation(pointer, keyword, status, reason))
            continue
        old = records[i]
        if old.status == status and reason not in old.reason.split("; "):
            records[i] = old._replace(reason=f"{old.reason}; {reason}" if old.reason else reason)
        elif old.status != status and old.status != "refused":
            records[i] = old._replace(status=status, reason=reason)
    # A finding at a location the walk did not list goes just before its schema
    # object's first keyword (it is about the object itself), or last.
    first: Dict[str, int] = {}
    for i, r in enumerate(records[:walked]):
        first.setdefault(r.pointer, i)

    def place(i: int) -> Tuple[int, int, int]:
        return (i, 0, 0) if i < walked else (first.get(records[i].pointer, walked), -1, i)

    return [records[i] for i in sorted(range(len(records)), key=place)]


def explain_json_schema(
    schema: Any,
    *,
    any_whitespace: bool = True,
    indent: Optional[int] = None,
    separators: Optional[Tuple[str, str]] = None,
    strict_mode: bool = True,
    max_whitespace_cnt: Optional[int] = None,
    lenient: bool = False,
    general_unicode_escapes: bool = False,
    any_order: bool = False,
) -> SchemaExplanation:
    """Say, per keyword location of ``schema``, whether xgram enforces it exactly.

    Takes the options of :meth:`xgram.Grammar.from_json_schema` (some
    relaxations depend on them, e.g. property counts with ``any_order``). The
    conversion itself always runs with ``lenient=True`` to find every constraint
    it would drop; ``lenient`` only words the summary for a caller who converts
    leniently. Never warns and never raises for the schema itself.

    Parameters
    ----------
    schema : str, dict, bool or pydantic model class
        The schema, as :meth:`xgram.Grammar.from_json_schema` takes it.
    any_whitespace, indent, separators, strict_mode, max_whitespace_cnt, lenient, \
general_unicode_escapes, any_order
        As in :meth:`xgram.Grammar.from_json_schema`.

    Returns
    -------
    SchemaExplanation
        One :class:`KeywordExplanation` per keyword location, in document order,
        with the status ``exact``, ``relaxed``, ``refused``, ``annotation`` or
        ``unknown`` (see :mod:`xgram.json_schema.explain`). After a refusal, the
        constraints the conversion had not reached yet are listed as ``exact``.

    Raises
    ------
    SchemaError
        For an invalid option (e.g. a negative ``indent``), not for the schema.

    Examples
    --------
    >>> explanation = explain_json_schema(
    ...     {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
    ... )
    >>> explanation.verdict
    'relaxed'
    >>> [(k.location, k.status) for k in explanation.relaxed]
    [('#/uniqueItems', 'relaxed')]

    """
    # Bad options raise here, as they would from Grammar.from_json_schema: they
    # are the caller's mistake, not a property of the schema. The conversion runs
    # leniently whatever ``lenient`` says (see above).
    options = JsonSchemaOptions(
        any_whitespace=any_whitespace,
        indent=indent,
        separators=separators,
        strict_mode=strict_mode,
        max_whitespace_cnt=max_whitespace_cnt,
        general_unicode_escapes=general_unicode_escapes,
        any_order=any_order,
    )
    try:
        root = load_schema(schema)
    except SchemaError as e:
        refusal = KeywordExplanation("", "", "refused", _bare_message(e))
        return SchemaExplanation([refusal], str(e), lenient, [])
    records = _keyword_records(root)
    reachable = _reachable(root)
    if reachable is not None:
        records = [
            r._replace(status="annotation", reason=_UNUSED_REASON)
            if r.status == "exact" and r.pointer not in reachable
            else r
            for r in records
        ]
    findings, notes, error = _convert(root, options)
    return SchemaExplanation(_apply(records, findings), error, lenient, list(notes))


__all__ = ["STATUSES", "KeywordExplanation", "SchemaExplanation", "explain_json_schema"]
