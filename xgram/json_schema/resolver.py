"""Schema loading and reference resolution.

A schema document is indexed once, together with the documents of the caller's
``refs`` registry: every sub-schema that declares ``$id`` opens a new base URI,
``$anchor`` and ``$dynamicAnchor`` name locations, and JSON pointers address the
rest. References are resolved against the base URI in force where they appear
(RFC 3986, URNs included), as draft 2020-12 and draft-07 specify. Nothing is ever
fetched: a reference to a document that is neither the schema nor in ``refs`` is a
:class:`~xgram.errors.SchemaError` that names it.

Dynamic references (``$dynamicRef``, and 2019-09's ``$recursiveRef``) depend on
the *dynamic scope*: the schema resources that evaluation went through on its way
from the root to the reference. The converter walks from the root, so the scope of
every location it reaches is known; it travels inside the location's base URI, a
:class:`ScopedBase`, which compares equal only to a base with the same scope. The
converter's memos are keyed by ``(schema, base)``, so a location reached under two
scopes that resolve differently is converted once per scope, never with the wrong
target.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Dict, List, Mapping, Optional, Set, Tuple
from urllib.parse import unquote, urldefrag, urljoin, urlsplit, urlunsplit, uses_relative

from ..errors import SchemaError
from .document import (
    MAX_SCHEMA_DEPTH,
    SCHEMA_LIST_KEYWORDS,
    SCHEMA_MAP_KEYWORDS,
    SCHEMA_VALUE_KEYWORDS,
    check_document,
    schema_text_error,
)

Location = Tuple[Any, str, str]  # (schema, base URI, JSON pointer)

# The dynamic scope as dynamic references see it: for each dynamic anchor name (""
# for 2019-09's `$recursiveAnchor: true`), the outermost resource in scope that
# declares it, sorted by name.
Scope = Tuple[Tuple[str, str], ...]

# The scope's names for 2019-09's `$recursiveAnchor: true` (no $dynamicAnchor name is
# empty), and for a resource without it entered while one is in scope (sorted second).
_RECURSIVE = ""
_RECURSIVE_GAP = "\x00gap"

_DEFAULT_BASE = "https://xgram.invalid/root.json"  # a scheme urljoin resolves against
_METASCHEMA_HOSTS = ("http://json-schema.org/", "https://json-schema.org/")

# The keywords the index looks at besides sub-schemas: those that name a location,
# and the dynamic references (most schema objects have none of them).
_INDEXED_KEYWORDS = frozenset(("$id", "$anchor", "$dynamicAnchor", "$dynamicRef", "$recursiveRef"))
# How _index walks a keyword's value: a map, a list, or one schema (a list for "items").
_CHILD_KIND: Dict[str, int] = {
    **{k: 0 for k in SCHEMA_MAP_KEYWORDS},
    **{k: 1 for k in SCHEMA_LIST_KEYWORDS},
    **{k: 2 for k in SCHEMA_VALUE_KEYWORDS},
}


def load_schema(schema: Any) -> Any:
    """Turn a JSON string, a dict, a bool or a pydantic model class into a schema value.

    Parameters
    ----------
    schema : str, dict, bool or type
        The schema. A ``str`` is parsed as JSON; a class with
        ``model_json_schema`` (pydantic v2) or ``schema`` (v1) is asked for its schema.

    Returns
    -------
    dict or bool
        The schema as plain JSON values.

    """
    if isinstance(schema, (bytes, bytearray)):
        try:
            schema = schema.decode("utf-8")
        except UnicodeDecodeError as e:
            raise SchemaError(f"the schema bytes are not UTF-8 text: {e}") from None
    if isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except json.JSONDecodeError as e:
            raise SchemaError(f"the schema is not valid JSON: {e}") from None
        except (RecursionError, ValueError) as e:  # too deep; an integer too long
            raise schema_text_error(schema, e) from None
    elif isinstance(schema, type):
        if hasattr(schema, "model_json_schema"):
            schema = schema.model_json_schema()
        elif hasattr(schema, "schema"):
            schema = schema.schema()
        else:
            raise SchemaError(f"cannot take a JSON schema from class {schema.__name__}")
    if not isinstance(schema, (dict, bool)):
        raise SchemaError(f"a schema must be an object or a boolean, got {type(schema).__name__}")
    check_document(schema)
    return schema


def escape_pointer_token(token: str) -> str:
    """Escape one reference token of a JSON pointer (RFC 6901)."""
    if "~" not in token and "/" not in token:  # the common case: nothing to escape
        return token
    return token.replace("~", "~0").replace("/", "~1")


# --- URIs --------------------------------------------------------------------------------


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4: drop ``.`` and ``..`` segments of a path."""
    if "." not in path:
        return path
    out: List[str] = []
    segments = path.split("/")
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == ".":
            if last:
                out.append("")
        elif segment == "..":
            if len(out) > 1 or (out and out[0] != ""):
                out.pop()
            if last:
                out.append("")
        else:
            out.append(segment)
    return "/".join(out)


def resolve_uri(base: str, ref: str) -> str:
    """``ref`` resolved against ``base`` (RFC 3986 section 5.2), for any scheme.

    :func:`urllib.parse.urljoin` only resolves schemes it knows to be hierarchical
    and returns ``ref`` unchanged against e.g. a URN, where a schema's
    ``"$ref": "#/$defs/a"`` still means "in this document". A reference urllib
    cannot parse (a bracketed host that is no IP address) is a SchemaError.
    """
    try:
        return _resolve_uri(base, ref)
    except ValueError as exc:  # from urllib's parser
        raise SchemaError(f"{ref!r} is not a valid URI reference ({exc})") from None


def _resolve_uri(base: str, ref: str) -> str:
    scheme = urlsplit(base).scheme
    if scheme in uses_relative:
        return urljoin(base, ref)
    r = urlsplit(ref)
    if r.scheme:
        return ref
    b = urlsplit(base)
    has_query = "?" in ref.split("#", 1)[0]
    if r.netloc:
        netloc, path, query = r.netloc, _remove_dot_segments(r.path), r.query
    elif not r.path:
        netloc, path, query = b.netloc, b.path, (r.query if has_query else b.query)
    else:
        netloc, query = b.netloc, r.query
        if r.path.startswith("/"):
            path = _remove_dot_segments(r.path)
        elif b.netloc and not b.path:
            path = _remove_dot_segments("/" + r.path)
        else:
            path = _remove_dot_segments(b.path[: b.path.rfind("/") + 1] + r.path)
    resolved = urlunsplit((b.scheme, netloc, path, query, ""))
    if has_query and not query:
        resolved += "?"
    return resolved + ("#" + r.fragment if "#" in ref else "")


@lru_cache(maxsize=4096)
def _join_defrag(base: str, ref: str) -> Tuple[str, str]:
    """``resolve_uri(base, ref)`` split as ``(document, fragment)``.

    Cached: URL parsing is the costliest step of following a reference, and a
    schema repeats the same few references and bases.
    """
    doc, fragment = urldefrag(resolve_uri(base, ref))
    return doc, fragment


def join_defrag(base: str, ref: str) -> Tuple[str, str]:
    """``base`` joined with ``ref`` (an ``$id``), as ``(document, fragment)``.

    For a :class:`ScopedBase` the document comes back as one too, the resource it
    names entered into the dynamic scope (an ``$id`` opens a schema resource).
    """
    if type(base) is str:  # the common case: no dynamic scope to carry
        return _join_defrag(base, ref)
    return base.join_id(ref)  # type: ignore[attr-defined]


# --- Dynamic scope -----------------------------------------------------------------------


def _enter(scope: Scope, resource: str, declared: Dict[str, Tuple[str, ...]]) -> Scope:
    """``scope`` after entering ``resource``: its dynamic anchors not yet in scope join.

    Entering a resource without ``$recursiveAnchor: true`` while one is in scope is
    remembered too (as :data:`_RECURSIVE_GAP`): it is where the specification's
    reading of ``$recursiveRef`` and the common implementations' part ways.
    """
    names = declared.get(resource, ())
    if scope and scope[0][0] == _RECURSIVE and _RECURSIVE not in names:
        if len(scope) == 1 or scope[1][0] != _RECURSIVE_GAP:
            scope = tuple(sorted(scope + ((_RECURSIVE_GAP, resource),)))
    if not names:
        return scope
    outermost = dict(scope)
    if all(name in outermost for name in names):  # an outer resource already declares them
        return scope
    for name in names:
        outermost.setdefault(name, resource)
    return tuple(sorted(outermost.items()))


def _make_base(
    uri: str, scope: Scope, applied_id: Optional[str], declared: Dict[str, Tuple[str, ...]]
) -> str:
    """The base of a location in resource ``uri``, reached under ``scope``.

    A plain ``str`` when there is nothing to carry (no dynamic reference names an
    anchor any document declares, and no ``$id`` is already applied), so ordinary
    schemas pay nothing.
    """
    scope = _enter(scope, uri, declared)
    if not declared and applied_id is None:
        return uri
    return ScopedBase(uri, scope, applied_id, declared)


class ScopedBase(str):
    """A base URI that also carries the dynamic scope of the path that reached it.

    It is the URI as a ``str`` wherever a URI is expected; equality and hashing
    also take the scope into account, so memo keys holding a base are keyed by
    the scope as well. Only what dynamic references can observe is kept (the
    outermost declaring resource per anchor name): the scope only grows along a
    path and is bounded by the anchors the documents declare, so recursion through
    changing scopes still closes.

    Parameters
    ----------
    uri : str
        The base URI.
    scope : tuple of (str, str)
        ``(anchor name, outermost resource in scope declaring it)``, sorted.
    applied_id : str or None
        When this is the base of a reference's target that declares ``$id``, that
        ``$id``: it is already applied, so applying it again keeps the base as is.
    declared : dict
        The index's dynamic anchor names per resource, to extend the scope.

    """

    scope: Scope
    applied_id: Optional[str]

    def __new__(
        cls, uri: str, scope: Scope, applied_id: Optional[str], declared: Dict[str, Any]
    ) -> ScopedBase:
        """Make the base (see the class docstring)."""
        self = str.__new__(cls, uri)
        self.scope = scope
        self.applied_id = applied_id
        self._declared = declared
        plain = not scope and applied_id is None  # equal to the plain string: same hash
        self._hash = str.__hash__(self) if plain else hash((str(self), scope, applied_id))
        return self

    def __eq__(self, other: object) -> bool:
        """Equal URIs, scopes and applied ``$id`` (a ``str`` has none)."""
        if not isinstance(other, str) or not str.__eq__(self, other):
            return False
        return self.scope == getattr(other, "scope", ()) and self.applied_id == getattr(
            other, "applied_id", None
        )

    def __ne__(self, other: object) -> bool:
        """The negation of :meth:`__eq__`."""
        return not self.__eq__(other)

    def __hash__(self) -> int:
        """The plain string's hash when nothing is carried, else one over the scope too."""
        return self._hash

    def __reduce__(self) -> Tuple[Any, ...]:
        """Copy and pickle with the scope (``str`` would drop it)."""
        return (ScopedBase, (str(self), self.scope, self.applied_id, self._declared))

    def join_id(self, ref: str) -> Tuple[str, str]:
        """Apply an ``$id``: ``(base of the resource it opens, fragment)``."""
        plain = str(self)
        doc, fragment = _join_defrag(plain, ref)
        if ref == self.applied_id:
            doc = plain
        return _make_base(doc, self.scope, None, self._declared), fragment


# --- The index ---------------------------------------------------------------------------


def _registry_documents(refs: Optional[Mapping[str, Any]]) -> List[Tuple[str, Any]]:
    """The ``refs`` registry as ``(absolute URI, schema)`` pairs, checked."""
    if refs is None:
        return []
    if not isinstance(refs, Mapping):
        raise SchemaError(f"refs must map URIs to schemas, got {type(refs).__name__}")
    out = []
    for uri, document in refs.items():
        if not isinstance(uri, str):
            raise SchemaError(f"refs keys must be URI strings, got {uri!r}")
        try:
            doc_uri, fragment = urldefrag(uri)
            absolute = bool(urlsplit(doc_uri).scheme)
        except ValueError as exc:  # from urllib's parser
            raise SchemaError(f"refs key {uri!r} is not a valid URI ({exc})") from None
        if fragment or not absolute:
            raise SchemaError(f"refs key {uri!r} must be an absolute URI without a fragment")
        try:
            schema = load_schema(document)
        except SchemaError as e:
            raise SchemaError(f"refs[{uri!r}]: {e}") from None
        out.append((doc_uri, schema))
    return out


class SchemaIndex:
    """All addressable locations of a schema document and of its ``refs`` registry.

    Parameters
    ----------
    root : dict or bool
        The root schema.
    refs : mapping of str to schema, optional
        Other documents by absolute URI (what a validator would retrieve): remote
        ``$ref`` targets. Each is read as if retrieved from its URI: its own
        ``$id`` resolves against that URI. Its locations are named
        ``URI#/json/pointer`` in errors.

    """

    def __init__(self, root: Any, refs: Optional[Mapping[str, Any]] = None) -> None:
        self.root = root
        declared = root.get("$schema", "") if isinstance(root, dict) else ""
        # Whether `$schema` names draft 2019-09 or later (else the draft is unknown or older).
        self.modern = isinstance(declared, str) and ("2019-09" in declared or "2020-12" in declared)
        # Draft 4 (and 3) define an integer as a number written without a fraction
        # or an exponent: there 1.0 is not an integer (draft 6 made it one).
        self.plain_integers = isinstance(declared, str) and (
            "draft-04" in declared or "draft-03" in declared
        )
        # Drafts 3 to 7 read a schema object holding "$ref" as the reference
        # alone: every keyword beside it is ignored (2019-09 made "$ref" one
        # keyword among others). Only when the document says which draft it is.
        self.ref_overrides_siblings = isinstance(declared, str) and any(
            f"draft-0{n}" in declared for n in (3, 4, 6, 7)
        )
        self._resources: Dict[str, Location] = {}
        self._anchors: Dict[str, Location] = {}
        # "resource#name" -> location of each $dynamicAnchor ("resource#" for a
        # `$recursiveAnchor: true`), and the names each resource declares.
        self._dynamic_anchors: Dict[str, Location] = {}
        self._declared_names: Dict[str, Tuple[str, ...]] = {}
        self._referenced_names: Set[str] = set()  # the anchor names dynamic references use
        # (ref, base) -> target: resolution does not depend on where the $ref is
        # written, except for the pointer in an error (failures are not cached).
        self._resolved: Dict[Tuple[str, str], Location] = {}
        # id(schema) -> the base around it, for each schema with both `$id` and `$ref`.
        self._outer_bases: Dict[int, str] = {}
        base = _DEFAULT_BASE
        if isinstance(root, dict) and isinstance(root.get("$id"), str):
            base = resolve_uri(_DEFAULT_BASE, root["$id"])
        root_uri = urldefrag(base)[0]
        self._add_document(root, root_uri, "")
        for uri, document in _registry_documents(refs):
            self._add_document(document, uri, uri + "#")
        # The scope tracks only the names some dynamic reference looks up: a schema
        # without dynamic references keeps plain string bases, and memo keys as before.
        self._dynamic_names: Dict[str, Tuple[str, ...]] = {}
        for resource, names in self._declared_names.items():
            used = tuple(name for name in names if name in self._referenced_names)
            if used:
                self._dynamic_names[resource] = used
        # The base of the root location: a ScopedBase (holding the root resource's
        # dynamic anchors) as soon as the scope is tracked.
        self.root_base = _make_base(root_uri, (), None, self._dynamic_names)

    def _add_document(self, document: Any, uri: str, pointer: str) -> None:
        """Index one document as retrieved from ``uri``.

        ``pointer`` starts its locations' pointers: "" for the root schema (whose
        ``$id`` is already in ``uri``), ``URI#`` for a registry document.
        """
        own = uri
        if pointer and isinstance(document, dict) and isinstance(document.get("$id"), str):
            own = _join_defrag(uri, document["$id"])[0]
            if isinstance(document.get("$ref"), str):
                self._outer_bases[id(document)] = uri  # draft-07 ignores this $id
        # The first document to claim a URI keeps it: the root schema first.
        self._resources.setdefault(uri, (document, own, pointer))
        if isinstance(document, dict) and document.get("$recursiveAnchor") is True:
            self._declare_dynamic(own, "", (document, own, pointer))
        self._index(document, uri, pointer, 0)

    def _declare_dynamic(self, resource: str, name: str, location: Location) -> None:
        self._dynamic_anchors.setdefault(f"{resource}#{name}", location)
        names = self._declared_names.get(resource, ())
        if name not in names:
            self._declared_names[resource] = names + (name,)

    def _index(self, node: Any, base: str, pointer: str, depth: int) -> None:
        if depth > MAX_SCHEMA_DEPTH:
            raise SchemaError(
                f"the schema is nested too deeply (more than {MAX_SCHEMA_DEPTH} levels)",
                "",
                pointer,
            )
        if not isinstance(node, dict):
            return
        if not _INDEXED_KEYWORDS.isdisjoint(node):
            if isinstance(node.get("$id"), str) and pointer:
                new_base, fragment = _join_defrag(base, node["$id"])
                if isinstance(node.get("$ref"), str):
                    self._outer_bases[id(node)] = base  # draft-07 ignores this $id
                base = new_base
                self._resources.setdefault(base, (node, base, pointer))
                if fragment and not fragment.startswith("/"):  # draft-07 "$id": "#name"
                    self._anchors.setdefault(f"{base}#{fragment}", (node, base, pointer))
                if node.get("$recursiveAnchor") is True:
                    self._declare_dynamic(base, "", (node, base, pointer))
            for key in ("$anchor", "$dynamicAnchor"):
                if isinstance(node.get(key), str):
                    self._anchors.setdefault(f"{base}#{node[key]}", (node, base, pointer))
            if isinstance(node.get("$dynamicAnchor"), str):
                self._declare_dynamic(base, node["$dynamicAnchor"], (node, base, pointer))
            if isinstance(node.get("$dynamicRef"), str):
                self._referenced_names.add(urldefrag(node["$dynamicRef"])[1])
            if "$recursiveRef" in node:
                self._referenced_names.add(_RECURSIVE)
        depth += 1
        for key, value in node.items():
            kind = _CHILD_KIND.get(key)
            if kind is None:  # not a sub-schema keyword: no pointer to build
                continue
            child_pointer = f"{pointer}/{key}"  # no keyword holds "~" or "/"
            if kind == 0:
                if isinstance(value, dict):
                    for name, sub in value.items():
                        self._index(
                            sub, base, f"{child_pointer}/{escape_pointer_token(name)}", depth
                        )
            elif isinstance(value, list):  # a list keyword, or draft-07 tuple "items"
                for i, sub in enumerate(value):
                    self._index(sub, base, f"{child_pointer}/{i}", depth)
            elif kind == 2:
                self._index(value, base, child_pointer, depth)

    def resolve(self, ref: str, base: str, pointer: str, keyword: str = "$ref") -> Location:
        """Resolve ``ref`` written at ``pointer`` (with base URI ``base``).

        Parameters
        ----------
        ref : str
            The reference.
        base : str
            The base URI in force where it is written (a :class:`ScopedBase`
            carries the dynamic scope there: the target's base carries it on,
            with the target's resource entered).
        pointer : str
            Where it is written, for errors.
        keyword : str, default "$ref"
            The keyword that holds it, for errors.

        Returns
        -------
        tuple
            ``(schema, base URI, JSON pointer)`` of the target.

        """
        key = (ref, str(base))
        found = self._resolved.get(key)
        if found is None:
            found = self._resolve(ref, key[1], pointer, keyword)
            if not self.modern and id(found[0]) in self._outer_bases:
                self._check_sibling_id(found)
            self._resolved[key] = found
        return self._reach(found, base)

    def _check_sibling_id(self, target: Location) -> None:
        """Refuse a target whose own ``$ref`` depends on the draft, as the normalizer does.

        The target's base already includes its ``$id``, the 2019-09+ reading;
        draft-07 ignores an ``$id`` next to ``$ref``. Where the two readings lead
        to different schemas, the document must say which draft it is.
        """
        node, own, pointer = target
        try:
            modern = self._resolve(node["$ref"], own, pointer, "$ref")
            legacy = self._resolve(node["$ref"], self._outer_bases[id(node)], pointer, "$ref")
        except SchemaError:  # the conversion reports a $ref that does not resolve
            return
        if legacy[0] is not modern[0]:
            raise SchemaError(
                "this $ref resolves differently under draft-07 (which ignores the sibling "
                "$id) and draft 2019-09+; say which with $schema",
                "$ref",
                pointer,
            )

    def _reach(self, target: Location, base: str) -> Location:
        """``target`` as reached from ``base``: its resource entered in the dynamic scope."""
        node, uri, pointer = target
        applied_id = None
        if pointer and isinstance(node, dict) and isinstance(node.get("$id"), str):
            applied_id = node["$id"]  # the target's base already includes its own $id
        if not self._dynamic_names and applied_id is None:
            return target
        scope = getattr(base, "scope", ())
        return (node, _make_base(uri, scope, applied_id, self._dynamic_names), pointer)

    def resolve_dynamic(self, keyword: str, ref: str, base: str, pointer: str) -> Location:
        """Resolve a ``$dynamicRef`` or ``$recursiveRef`` under the dynamic scope of ``base``.

        The reference first resolves like ``$ref``. When that target is a dynamic
        anchor of the same name (``$dynamicAnchor``; for ``$recursiveRef``, a schema
        with ``$recursiveAnchor: true``), the outermost resource in the dynamic
        scope that declares that anchor wins; otherwise the static target stands.
        """
        if not isinstance(ref, str):
            raise SchemaError("must be a string", keyword, pointer)
        target = self.resolve(ref, base, pointer, keyword)
        name = self._dynamic_name(keyword, ref, str(base), target[0])
        scope = dict(getattr(base, "scope", ()))
        resource = scope.get(name) if name is not None else None
        if resource is None:
            return target
        if name == _RECURSIVE and _RECURSIVE_GAP in scope and resource != str(target[1]):
            # The specification takes the outermost resource with $recursiveAnchor;
            # implementations commonly stop at the first one without it, going
            # outwards. A resource without it was entered in between: never guess.
            raise SchemaError(
                "this $recursiveRef resolves differently under the specification's reading "
                "(the outermost $recursiveAnchor) and the usual one (the nearest unbroken run "
                "of them): a resource without $recursiveAnchor lies between",
                keyword,
                pointer,
            )
        return self._reach(self._dynamic_anchors[f"{resource}#{name}"], base)

    def _dynamic_name(self, keyword: str, ref: str, base: str, target: Any) -> Optional[str]:
        """The dynamic anchor a reference's static ``target`` stands for, if any."""
        if keyword == "$recursiveRef":
            recursive = isinstance(target, dict) and target.get("$recursiveAnchor") is True
            return _RECURSIVE if recursive else None
        doc, fragment = _join_defrag(base, ref)
        if not fragment or fragment.startswith("/"):  # a pointer, not an anchor name
            return None
        resource = self._resources.get(doc)
        if resource is None or f"{resource[1]}#{fragment}" not in self._dynamic_anchors:
            return None  # a plain $anchor: the reference behaves like $ref
        return fragment

    def _resolve(self, ref: str, base: str, pointer: str, keyword: str) -> Location:
        doc, fragment = _join_defrag(base, ref)
        resource = self._resources.get(doc)
        if resource is None:
            raise SchemaError(self._outside(ref, doc), keyword, pointer)
        if fragment and not fragment.startswith("/"):
            # Anchors belong to the resource's own URI (a document's `$id`, which
            # may differ from the URI it was retrieved from).
            found = self._anchors.get(f"{resource[1]}#{fragment}")
            if found is None:
                raise SchemaError(f"unknown anchor in reference {ref!r}", keyword, pointer)
            return found
        node, node_base, node_pointer = resource
        if not fragment:
            return resource
        for raw in fragment.split("/")[1:]:
            token = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                raise SchemaError(f"reference {ref!r} does not resolve", keyword, pointer)
            node_pointer = f"{node_pointer}/{escape_pointer_token(token)}"
            if isinstance(node, dict) and isinstance(node.get("$id"), str):
                node_base = _join_defrag(node_base, node["$id"])[0]
        return node, node_base, node_pointer

    def _outside(self, ref: str, doc: str) -> str:
        """The error for a reference to a document the index does not hold."""
        message = (
            f"reference {ref!r} points outside this schema, to {doc!r}: remote references "
            f"are not fetched; pass that document as refs={{{doc!r}: schema}}"
        )
        if doc.startswith(_METASCHEMA_HOSTS):
            message += " (a JSON Schema metaschema: xgram does not ship them)"
        return message


_SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "$defs", "dependencies")
_SCHEMA_LISTS_OR_ONE = ("items", "allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONE = (
    "not",
    "additionalProperties",
    "additionalItems",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
)


# The keywords xgram reads that a later draft added, by the declared draft that
# lacks them: draft 6 added const, contains and propertyNames, draft 7 added
# if/then/else. In a document that declares an older draft they are unknown
# keywords, which validators ignore (so does the data labelled by them).
_LATER_KEYWORDS = {
    "draft-03": ("const", "contains", "propertyNames", "if", "then", "else"),
    "draft-04": ("const", "contains", "propertyNames", "if", "then", "else"),
    "draft-06": ("if", "then", "else"),
}


def keywords_of_later_drafts(root: Any) -> Tuple[str, ...]:
    """The keywords the root's declared draft (``$schema``) does not define, of those xgram reads.

    Empty when the document declares draft 7 or later, or no draft.
    """
    declared = root.get("$schema", "") if isinstance(root, dict) else ""
    if isinstance(declared, str):
        for draft, keywords in _LATER_KEYWORDS.items():
            if draft in declared:
                return keywords
    return ()


def without_keywords_of_later_drafts(root: Any) -> Any:
    """The document as its declared draft reads it: the keywords later drafts added, dropped.

    A draft-04 document's ``if``/``then``/``else``, ``const``, ``contains`` and
    ``propertyNames`` (a draft-06 document's ``if``/``then``/``else``) constrain
    nothing there. Only schema objects are visited, so a property named ``if``
    stays. The schema is copied where needed (the caller's object is never modified).
    """
    dropped = keywords_of_later_drafts(root)
    if not dropped:
        return root

    def strip(node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if key in dropped:
                continue
            if key in _SCHEMA_MAPS and isinstance(value, dict):
                value = {name: strip(sub) for name, sub in value.items()}
            elif key in _SCHEMA_LISTS_OR_ONE and isinstance(value, list):
                value = [strip(sub) for sub in value]
            elif key in _SCHEMA_LISTS_OR_ONE or key in _SCHEMA_ONE:
                value = strip(value)
            out[key] = value
        return out

    return strip(root)


_PLAIN_NAME = re.compile(r"[A-Za-z_][-A-Za-z0-9._]*")


def _draft4_anchor(node: Dict[str, Any]) -> Optional[str]:
    """The plain name of a draft-4 ``"id": "#name"`` (its location-independent id)."""
    value = node.get("id")
    if isinstance(value, str) and value.startswith("#") and _PLAIN_NAME.fullmatch(value[1:]):
        return value[1:]
    return None


def without_draft4_dollar_ids(root: Any) -> Any:
    """A draft-04 (or 03) schema as its draft reads it: ``$id`` below the root ignored.

    ``$id`` is a keyword from draft 6 on; in a document that declares draft 4 it
    is an unknown keyword, so ``#/definitions/x`` must not resolve against it.
    Draft 4 names a subschema with ``"id": "#name"`` instead, which is read here as
    ``"$anchor": "name"``. The schema is copied where needed (the caller's object
    is never modified).
    """
    declared = root.get("$schema", "") if isinstance(root, dict) else ""
    if not (isinstance(declared, str) and ("draft-04" in declared or "draft-03" in declared)):
        return root

    found = []

    def visit(node: Any, top: bool) -> None:
        if found or not isinstance(node, dict):
            return
        if (not top and isinstance(node.get("$id"), str)) or _draft4_anchor(node):
            found.append(node)
            return
        for key in _SCHEMA_MAPS:
            if isinstance(node.get(key), dict):
                for s in node[key].values():
                    visit(s, False)
        for key in _SCHEMA_LISTS_OR_ONE + _SCHEMA_ONE:
            value = node.get(key)
            for s in value if isinstance(value, list) else [value]:
                visit(s, False)

    visit(root, True)
    if not found:
        return root

    def strip(node: Any, top: bool) -> Any:
        if not isinstance(node, dict):
            return node
        out = {k: v for k, v in node.items() if top or k != "$id"}
        anchor = _draft4_anchor(node)
        if anchor is not None and "$anchor" not in out:
            out["$anchor"] = anchor
        for key in _SCHEMA_MAPS:
            if isinstance(out.get(key), dict):
                out[key] = {name: strip(s, False) for name, s in out[key].items()}
        for key in _SCHEMA_LISTS_OR_ONE:
            value = out.get(key)
            if isinstance(value, list):
                out[key] = [strip(s, False) for s in value]
            elif isinstance(value, dict):
                out[key] = strip(value, False)
        for key in _SCHEMA_ONE:
            if isinstance(out.get(key), dict):
                out[key] = strip(out[key], False)
        return out

    return strip(root, True)
