"""JSON Schema references: remote documents through ``refs=``, and dynamic references.

``refs`` is the registry of documents a validator would retrieve; nothing is
fetched. ``$dynamicRef`` (2020-12) and ``$recursiveRef`` (2019-09) resolve under
the dynamic scope the converter knows while it walks from the root.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

import xgram
from xgram.json_schema import keywords
from xgram.json_schema.resolver import SchemaIndex, ScopedBase, resolve_uri

SUITE = Path(__file__).resolve().parents[2] / "shared" / "json-schema-test-suite"
DRAFT2020 = "https://json-schema.org/draft/2020-12/schema"
EX = "https://example.com/schemas/"


def grammar(schema: Any, refs: Optional[Dict[str, Any]] = None, **options: Any) -> xgram.Grammar:
    options.setdefault("strict_mode", False)
    return xgram.Grammar.from_json_schema(schema, refs=refs, **options)


def accepts(g: xgram.Grammar, value: Any) -> bool:
    return g.accepts(json.dumps(value))


def check(g: xgram.Grammar, valid: List[Any], invalid: List[Any]) -> None:
    for value in valid:
        assert accepts(g, value), value
    for value in invalid:
        assert not accepts(g, value), value


# --- refs= ------------------------------------------------------------------------------


def test_remote_ref_resolves_from_the_registry():
    g = grammar({"$ref": EX + "int.json"}, {EX + "int.json": {"type": "integer"}})
    check(g, [1, -7], ["a", 1.5, None])


def test_fragment_and_anchor_within_a_remote_document():
    doc = {"$defs": {"s": {"type": "string"}, "n": {"$anchor": "num", "type": "number"}}}
    schema = {
        "type": "object",
        "properties": {"s": {"$ref": EX + "d.json#/$defs/s"}, "n": {"$ref": EX + "d.json#num"}},
    }
    check(grammar(schema, {EX + "d.json": doc}), [{"s": "x", "n": 2.5}], [{"s": 1}, {"n": "x"}])


def test_registry_documents_refer_to_each_other_relative_to_their_uri():
    refs = {
        EX + "a.json": {"type": "array", "items": {"$ref": "b.json"}},
        EX + "b.json": {"$ref": "sub/c.json#/$defs/c"},
        EX + "sub/c.json": {"$defs": {"c": {"type": "integer", "minimum": 0}}},
    }
    check(grammar({"$ref": EX + "a.json"}, refs), [[], [0, 5]], [[-1], ["x"], {}])


def test_a_documents_own_id_resolves_against_its_retrieval_uri():
    # Read as if retrieved from .../old.json: its `$id` makes the base .../new/real.json,
    # and the document answers to both URIs.
    refs = {
        EX + "old.json": {"$id": "new/real.json", "$ref": "c.json"},
        EX + "new/c.json": {"type": "string"},
    }
    for uri in ("old.json", "new/real.json"):
        check(grammar({"$ref": EX + uri}, refs), ["x"], [1])


def test_registry_values_may_be_json_text():
    g = grammar({"$ref": EX + "s.json"}, {EX + "s.json": '{"type": "string", "maxLength": 2}'})
    check(g, ["ab"], ["abc", 1])


def test_cycle_through_the_registry_and_back_is_a_recursive_grammar():
    root = {
        "$id": EX + "root.json",
        "type": "object",
        "properties": {"v": {"type": "integer"}, "child": {"$ref": "node.json"}},
    }
    refs = {EX + "node.json": {"type": "object", "properties": {"next": {"$ref": "root.json"}}}}
    deep: Dict[str, Any] = {"v": 1}
    for _ in range(6):
        deep = {"v": 2, "child": {"next": deep}}
    bad = {"v": 1, "child": {"next": {"child": {"next": {"v": "x"}}}}}
    check(grammar(root, refs), [{}, deep], [bad, {"child": {"next": 3}}])


def test_cycle_without_progress_is_refused():
    refs = {EX + "a.json": {"$ref": "b.json"}, EX + "b.json": {"$ref": "a.json"}}
    with pytest.raises(xgram.SchemaError, match="refers to itself"):
        grammar({"$ref": EX + "a.json"}, refs)


def test_missing_remote_document_names_its_uri_and_refs():
    schema = {"type": "object", "properties": {"a": {"$ref": "other.json#/x"}}, "$id": EX + "r"}
    with pytest.raises(xgram.SchemaError) as info:
        grammar(schema, {EX + "unrelated.json": True})
    assert info.value.keyword == "$ref"
    assert info.value.pointer == "/properties/a"
    assert EX + "other.json" in str(info.value) and "refs=" in str(info.value)


def test_error_inside_a_remote_document_names_the_document():
    refs = {EX + "bad.json": {"properties": {"a": {"type": "nope"}}}}
    with pytest.raises(xgram.SchemaError) as info:
        grammar({"$ref": EX + "bad.json"}, refs)
    assert info.value.pointer == EX + "bad.json#/properties/a"


def test_metaschema_reference_is_refused_with_a_hint():
    with pytest.raises(xgram.SchemaError, match="metaschema") as info:
        grammar({"$ref": DRAFT2020})
    assert DRAFT2020 in str(info.value)


@pytest.mark.parametrize(
    "refs",
    [
        ["not", "a", "mapping"],
        {"relative.json": {}},
        {EX + "a.json#frag": {}},
        {EX + "a.json": "{not json"},
        {EX + "a.json": 3},
        {1: {}},
    ],
)
def test_malformed_registry_is_a_schema_error(refs):
    with pytest.raises(xgram.SchemaError):
        grammar({"type": "string"}, refs)


def test_compiler_cache_is_keyed_by_refs():
    compiler = xgram.GrammarCompiler(xgram.TokenizerInfo(["a", "b", "1", '"', "</s>"]))
    schema = {"$ref": EX + "t.json"}
    as_int = compiler.compile_json_schema(schema, refs={EX + "t.json": {"type": "integer"}})
    as_str = compiler.compile_json_schema(schema, refs={EX + "t.json": {"type": "string"}})
    assert as_int.grammar.accepts("1") and not as_int.grammar.accepts('"a"')
    assert as_str.grammar.accepts('"a"') and not as_str.grammar.accepts("1")
    again = compiler.compile_json_schema(schema, refs={EX + "t.json": {"type": "integer"}})
    assert again is as_int
    with pytest.raises(xgram.SchemaError, match="refs="):
        compiler.compile_json_schema(schema)


# --- URIs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "base, ref, resolved",
    [
        ("urn:uuid:deadbeef", "#/$defs/a", "urn:uuid:deadbeef#/$defs/a"),
        ("urn:example:weather?=op=map", "#x", "urn:example:weather?=op=map#x"),
        ("tag:example.com,2024:a/b", "c", "tag:example.com,2024:a/c"),
        ("tag:example.com,2024:a/b/c", "../d", "tag:example.com,2024:a/d"),
        ("https://a.org/b/c.json", "../d.json", "https://a.org/d.json"),
        ("https://a.org/b/", "urn:x:y", "urn:x:y"),
    ],
)
def test_resolve_uri(base, ref, resolved):
    assert resolve_uri(base, ref) == resolved


def test_urn_base_with_local_pointer():
    schema = {
        "$id": "urn:example:foo-bar-baz-qux?+CCResolve:cc=uk",
        "properties": {"foo": {"$ref": "#/$defs/bar"}},
        "$defs": {"bar": {"type": "string"}},
    }
    check(grammar(schema), [{"foo": "x"}], [{"foo": 1}])


def test_relative_folder_id_of_a_ref_target_is_applied_once():
    # The target's `$id` is already in the base its reference resolves to.
    schema = {
        "$schema": DRAFT2020,
        "$id": "https://example.com/r/base.json",
        "$ref": "nested/foo.json",
        "$defs": {
            "foo": {"$id": "nested/foo.json", "$ref": "./bar.json"},
            "bar": {"$id": "nested/bar.json", "type": "number"},
        },
    }
    check(grammar(schema), [1.5], ["x"])


def test_draft_dependent_ref_of_a_ref_target_is_refused():
    # Draft-07 ignores an `$id` next to `$ref`; 2019-09+ resolves the `$ref` against it.
    schema: Dict[str, Any] = {
        "$id": "https://e/r/root.json",
        "$ref": "#/definitions/t",
        "definitions": {
            "t": {"$id": "sub/t.json", "$ref": "v.json"},
            "string": {"$id": "https://e/r/sub/v.json", "type": "string"},
            "integer": {"$id": "https://e/r/v.json", "type": "integer"},
        },
    }
    with pytest.raises(xgram.SchemaError, match="draft-07") as info:
        grammar(schema)
    assert (info.value.keyword, info.value.pointer) == ("$ref", "/definitions/t")
    check(grammar({**schema, "$schema": DRAFT2020}), ["x"], [1])


# --- $dynamicRef ------------------------------------------------------------------------


def test_scoped_base_equality_includes_the_scope():
    plain = ScopedBase("https://e/a", (), None, {})
    assert plain == "https://e/a" and hash(plain) == hash("https://e/a")
    scoped = ScopedBase("https://e/a", (("meta", "https://e/r"),), None, {})
    assert scoped != "https://e/a" and scoped != plain
    assert scoped == ScopedBase("https://e/a", (("meta", "https://e/r"),), None, {"x": ()})
    assert ScopedBase("https://e/a", (), "a", {}) != plain
    assert {scoped: 1}.get("https://e/a") is None


def _generic_list(kind_of_list: str) -> Dict[str, Any]:
    return {
        "$id": kind_of_list,
        "$defs": {"itemType": {"$dynamicAnchor": "itemType", "type": kind_of_list[:-4]}},
        "$ref": "genericList",
    }


GENERIC_DEFS = {
    "genericList": {
        "$id": "genericList",
        "type": "array",
        "items": {"$dynamicRef": "#itemType"},
        "$defs": {"default": {"$dynamicAnchor": "itemType"}},
    },
    "numberList": _generic_list("numberList"),
    "stringList": _generic_list("stringList"),
}


def test_dynamic_ref_resolves_to_the_outermost_dynamic_anchor():
    schema = {"$schema": DRAFT2020, "$id": "https://e/root", "$ref": "numberList"}
    schema["$defs"] = GENERIC_DEFS
    check(grammar(schema), [[], [1, 2.5]], [["a"], [1, None]])


def test_the_same_location_under_two_scopes_gets_two_rules():
    schema = {
        "$schema": DRAFT2020,
        "$id": "https://e/root",
        "type": "object",
        "properties": {"nums": {"$ref": "numberList"}, "strs": {"$ref": "stringList"}},
        "$defs": GENERIC_DEFS,
    }
    g = grammar(schema)
    check(g, [{"nums": [1], "strs": ["a"]}], [{"nums": ["a"]}, {"strs": [1]}])


def test_dynamic_ref_without_bookend_behaves_like_ref():
    schema = {
        "$schema": DRAFT2020,
        "$id": "https://e/root",
        "$ref": "list",
        "$defs": {
            "outer": {"$dynamicAnchor": "items", "type": "string"},
            "list": {
                "$id": "list",
                "type": "array",
                "items": {"$dynamicRef": "#items"},
                "$defs": {"items": {"$anchor": "items", "type": "integer"}},
            },
        },
    }
    check(grammar(schema), [[1, 2]], [["a"]])


TREE = {
    "$schema": DRAFT2020,
    "$id": "http://localhost:1234/tree.json",
    "$dynamicAnchor": "node",
    "type": "object",
    "properties": {"data": True, "children": {"type": "array", "items": {"$dynamicRef": "#node"}}},
}


def test_extending_a_recursive_registry_schema():
    strict = {
        "$schema": DRAFT2020,
        "$id": "http://localhost:1234/strict-tree.json",
        "$dynamicAnchor": "node",
        "$ref": "tree.json",
        "unevaluatedProperties": False,
    }
    refs = {"http://localhost:1234/tree.json": TREE}
    deep: Dict[str, Any] = {"data": 1}
    for _ in range(20):  # recursion through the dynamic reference closes
        deep = {"children": [deep, {"data": None}]}
    misspelled = {"children": [{"children": [{"daat": 1}]}]}
    check(grammar(strict, refs), [deep, {}], [misspelled])
    check(grammar(TREE), [deep, misspelled], [{"children": [1]}])  # the open original


def test_dynamic_ref_errors_are_located():
    with pytest.raises(xgram.SchemaError) as info:
        grammar({"properties": {"a": {"$dynamicRef": "#nowhere"}}})
    assert (info.value.keyword, info.value.pointer) == ("$dynamicRef", "/properties/a")
    with pytest.raises(xgram.SchemaError) as info:
        grammar({"not": {"$dynamicRef": "#a"}, "$defs": {"a": {"$dynamicAnchor": "a"}}})
    assert info.value.keyword == "not"


# --- $recursiveRef (2019-09) ------------------------------------------------------------

DRAFT2019 = "https://json-schema.org/draft/2019-09/schema"


def _recursive_root(root_anchor: bool, middle: bool = False) -> Dict[str, Any]:
    """A 2019-09 extensible tree: "tree" recurses with ``$recursiveRef: "#"``."""
    tree = {
        "$id": "tree",
        "$recursiveAnchor": True,
        "type": "object",
        "properties": {"kids": {"type": "array", "items": {"$recursiveRef": "#"}}},
    }
    root: Dict[str, Any] = {
        "$schema": DRAFT2019,
        "$id": "https://e/root",
        "$ref": "middle" if middle else "tree",
        "properties": {"name": {"type": "string"}},
        "$defs": {"tree": tree, "middle": {"$id": "middle", "$ref": "tree"}},
    }
    if root_anchor:
        root["$recursiveAnchor"] = True
    return root


@pytest.mark.parametrize("root_anchor, expected", [(True, "root"), (False, "tree")])
def test_recursive_ref_resolution(root_anchor, expected):
    root = _recursive_root(root_anchor)
    index = SchemaIndex(root)
    tree = index.resolve("tree", index.root_base, "")
    target = index.resolve_dynamic("$recursiveRef", "#", tree[1], "/x")
    assert target[0] is (root if expected == "root" else root["$defs"]["tree"])


def test_recursive_ref_across_a_resource_without_anchor_is_refused():
    # The specification takes the outermost $recursiveAnchor (root); implementations
    # that stop at the first resource without one (middle) take tree: never guess.
    root = _recursive_root(True, middle=True)
    index = SchemaIndex(root)
    middle = index.resolve("middle", index.root_base, "")
    tree = index.resolve("tree", middle[1], "")
    with pytest.raises(xgram.SchemaError, match="recursiveRef"):
        index.resolve_dynamic("$recursiveRef", "#", tree[1], "/x")


def test_recursive_ref_grammar(monkeypatch):
    # keywords.UNSUPPORTED still lists $recursiveRef; without it the grammar follows
    # the dynamic scope.
    monkeypatch.setattr(keywords, "UNSUPPORTED", set())
    g = grammar(_recursive_root(True))
    check(g, [{"kids": [{"name": "a", "kids": []}]}], [{"kids": [{"name": 1}]}])
    g = grammar(_recursive_root(False))
    check(g, [{"kids": [{"name": 1}]}, {"name": "a"}], [{"name": 1}, {"kids": [3]}])


# --- the 2020-12 metaschema (dynamic references throughout) -----------------------------


def test_metaschema_through_refs_matches_jsonschema():
    specifications = pytest.importorskip("jsonschema_specifications")
    jsonschema = pytest.importorskip("jsonschema")
    folder = Path(specifications.__file__).parent / "schemas" / "draft202012"
    documents = [json.loads(p.read_text()) for p in folder.rglob("*") if p.is_file()]
    refs = {d["$id"]: d for d in documents}
    with pytest.warns(xgram.SchemaRelaxedWarning) as relaxed:  # uniqueItems of strings
        g = grammar({"$ref": DRAFT2020}, refs, lenient=True)
    assert any("uniqueItems" in str(w.message) for w in relaxed)
    validator = jsonschema.Draft202012Validator(refs[DRAFT2020])
    instances = [
        True,
        3,
        {"type": "string"},
        {"type": 1},
        {"type": ["string", "null"], "minLength": 2},
        {"$defs": {"a": {"type": "nope"}}},
        {"properties": {"a": {"minLength": -1}}},
        {"properties": {"a": {"items": {"maxItems": 2}}}},
        {"items": [{"type": "string"}]},
        {"allOf": [{"not": {"enum": []}}]},
        {"allOf": [{"not": {"enum": [1]}}]},
        {"$dynamicRef": "#meta", "unevaluatedProperties": {"const": 1}},
    ]
    for instance in instances:
        assert accepts(g, instance) == validator.is_valid(instance), instance


# --- the JSON-Schema-Test-Suite's reference files ---------------------------------------


def _suite_cases() -> List[Any]:
    folder = SUITE / "tests" / "draft2020-12"
    cases = []
    for name in ("refRemote.json", "dynamicRef.json", "anchor.json"):
        path = folder / name
        if path.is_file():
            for i, case in enumerate(json.loads(path.read_text())):
                cases.append(pytest.param(case, id=f"{name}/{i}"))
    return cases


@pytest.fixture(scope="module")
def remotes() -> Dict[str, Any]:
    root = SUITE / "remotes"
    return {
        "http://localhost:1234/" + p.relative_to(root).as_posix(): json.loads(p.read_text())
        for p in sorted(root.rglob("*.json"))
    }


@pytest.mark.skipif(not SUITE.is_dir(), reason="../shared/json-schema-test-suite is absent")
@pytest.mark.parametrize("case", _suite_cases())
def test_suite_reference_cases_are_exact(case, remotes):
    g = grammar(case["schema"], remotes)
    for test in case["tests"]:
        for text in (json.dumps(test["data"]), json.dumps(test["data"], indent=2)):
            assert g.accepts(text) == test["valid"], (test["description"], text)


def test_draft4_id_fragment_names_a_subschema():
    # Draft 4 spells a location-independent identifier "id": "#name" ($anchor later).
    schema = {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "definitions": {"a": {"id": "#pos", "minimum": 0}},
        "items": {"$ref": "#pos"},
    }
    g = xgram.Grammar.from_json_schema(schema)
    assert g.accepts("[1, 2]") and not g.accepts("[-1]")
