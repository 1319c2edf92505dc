"""xgram.explain_json_schema and 'xgram schema --explain': per keyword location, exact or not."""

import json
import warnings

import pytest

import xgram
from xgram.cli import main
from xgram.json_schema.explain import KeywordExplanation, _apply

UNIQUE_STRINGS = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
EXACT = {
    "type": "object",
    "properties": {"n": {"type": "integer", "minimum": 0}},
    "required": ["n"],
}


def statuses(explanation):
    return {k.location: k.status for k in explanation}


def test_exact_schema():
    e = xgram.explain_json_schema(EXACT)
    assert e.verdict == "exact" and e.is_exact and e.error is None
    assert statuses(e) == {
        "#/type": "exact",
        "#/properties": "exact",
        "#/properties/n/type": "exact",
        "#/properties/n/minimum": "exact",
        "#/required": "exact",
    }
    assert str(e).splitlines()[0] == "exact: every constraint is enforced"
    assert e.counts() == {"exact": 5, "relaxed": 0, "refused": 0, "annotation": 0, "unknown": 0}


def test_relaxed_keyword_is_why_strict_mode_refuses():
    e = xgram.explain_json_schema(UNIQUE_STRINGS)
    assert e.verdict == "relaxed" and not e.is_exact
    (relaxed,) = e.relaxed
    assert (relaxed.pointer, relaxed.keyword, relaxed.status) == ("", "uniqueItems", "relaxed")
    assert "small finite set" in relaxed.reason
    assert statuses(e)["#/items/type"] == "exact"
    assert "lenient=True would drop it" in e.summary()
    # The conversion agrees: refused by default, a warning with lenient=True.
    with pytest.raises(xgram.SchemaError, match="uniqueItems"):
        xgram.Grammar.from_json_schema(UNIQUE_STRINGS)
    with pytest.warns(xgram.SchemaRelaxedWarning, match="uniqueItems"):
        xgram.Grammar.from_json_schema(UNIQUE_STRINGS, lenient=True)


def test_relaxed_keyword_deep_in_the_schema_and_lenient_wording():
    schema = {
        "$defs": {"tags": UNIQUE_STRINGS},
        "type": "object",
        "properties": {"tags": {"$ref": "#/$defs/tags"}, "name": {"type": "string"}},
    }
    e = xgram.explain_json_schema(schema, lenient=True)
    assert [k.location for k in e.relaxed] == ["#/$defs/tags/uniqueItems"]
    assert e.summary().startswith("converts with lenient=True, which drops 1 constraint")
    assert statuses(e)["#/$defs"] == "annotation"  # the definitions count where used


def test_explaining_never_warns():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert xgram.explain_json_schema(UNIQUE_STRINGS, lenient=True).verdict == "relaxed"


@pytest.mark.parametrize(
    "schema, location, reason",
    [
        ({"type": "object", "properties": {"a": 5}}, "#/properties", "must be a schema"),
        ({"type": "integer", "minimum": 5, "maximum": 2}, "#", "no JSON value satisfies"),
        (False, "#", "no JSON value satisfies"),
        ("{not json", "#", "not valid JSON"),
        ({"type": "strin"}, "#/type", "must be a type name"),
        ({"$ref": "#/$defs/missing"}, "#/$ref", "does not resolve"),
    ],
)
def test_refused_schemas(schema, location, reason):
    e = xgram.explain_json_schema(schema)
    assert e.verdict == "refused" and not e.is_exact
    refused = [k for k in e if k.status == "refused"]
    assert [k.location for k in refused] == [location]
    assert reason in refused[0].reason and reason in e.error
    assert e.summary().startswith("refused, even with lenient=True: ")
    with pytest.raises(xgram.SchemaError):
        xgram.Grammar.from_json_schema(schema, lenient=True)


def test_annotations_and_unknown_keywords():
    schema = {
        "title": "T",
        "description": "d",
        "type": "object",
        "properties": {
            "s": {"type": "string", "format": "no-such-format", "x-widget": "text"},
            "l": {"type": "array", "minContains": 2},
        },
        "then": {"required": ["s"]},
        "definitions": {"unused": UNIQUE_STRINGS},
        "examples": [{}],
        "propertyOrdering": ["s"],
    }
    e = xgram.explain_json_schema(schema)
    got = {k.location: (k.status, k.reason) for k in e}
    assert got["#/title"][0] == got["#/description"][0] == got["#/examples"][0] == "annotation"
    assert got["#/properties/s/format"] == (
        "annotation",
        "unknown format 'no-such-format': ignored, as the specification says",
    )
    assert got["#/properties/s/x-widget"][0] == got["#/propertyOrdering"][0] == "unknown"
    assert got["#/properties/l/minContains"] == ("annotation", "no effect without 'contains'")
    assert got["#/then"] == ("annotation", "no effect without 'if'")
    # A definition no $ref reaches is not converted, so its uniqueItems relaxes nothing.
    assert got["#/definitions/unused/uniqueItems"][0] == "annotation"
    assert "no $ref reaches" in got["#/definitions/unused/uniqueItems"][1]
    assert e.verdict == "exact"
    xgram.Grammar.from_json_schema(schema)  # the conversion agrees


def test_every_applicator_is_walked():
    schema = {
        "allOf": [{"minProperties": 1}],
        "anyOf": [{"type": "object"}, {"type": "array"}],
        "if": {"required": ["a"]},
        "then": {"properties": {"a": {"type": "string"}}},
        "else": {"maxProperties": 3},
        "not": {"type": "null"},
        "patternProperties": {"^x": {"type": "integer"}},
        "additionalProperties": {"type": "boolean"},
        "prefixItems": [{"const": 1}],
        "items": {"type": "number"},
        "dependentSchemas": {"a": {"required": ["b"]}},
        "propertyNames": {"maxLength": 9},
    }
    locations = {k.location for k in xgram.explain_json_schema(schema, strict_mode=False)}
    for location in (
        "#/allOf/0/minProperties",
        "#/anyOf/1/type",
        "#/if/required",
        "#/then/properties/a/type",
        "#/else/maxProperties",
        "#/not/type",
        "#/patternProperties/^x/type",
        "#/additionalProperties/type",
        "#/prefixItems/0/const",
        "#/items/type",
        "#/dependentSchemas/a/required",
        "#/propertyNames/maxLength",
    ):
        assert location in locations


def test_findings_at_made_up_locations_find_their_keyword():
    walked = [
        KeywordExplanation("", "oneOf", "exact", ""),
        KeywordExplanation("/oneOf/1", "type", "exact", ""),
        KeywordExplanation("/oneOf/1", "contains", "exact", ""),
        KeywordExplanation("/items", "uniqueItems", "exact", ""),
    ]
    findings = [
        ("oneOf", "/oneOf", "relaxed", "overlap"),  # the keyword's value, not its object
        ("contains", "/oneOf/1~2/not (anyOf)", "relaxed", "negated"),  # a made-up schema
        ("uniqueItems", "", "relaxed", "lost"),  # a lost pointer: the keyword's only use
        ("multipleOf", "/nowhere", "relaxed", "kept"),  # no such keyword: listed as found
    ]
    got = {(k.pointer, k.keyword): (k.status, k.reason) for k in _apply(walked, findings)}
    assert got == {
        ("", "oneOf"): ("relaxed", "overlap"),
        ("/oneOf/1", "type"): ("exact", ""),
        ("/oneOf/1", "contains"): ("relaxed", "negated"),
        ("/items", "uniqueItems"): ("relaxed", "lost"),
        ("/nowhere", "multipleOf"): ("relaxed", "kept"),
    }


def test_to_json_and_table():
    e = xgram.explain_json_schema({"title": "t", **UNIQUE_STRINGS})
    data = json.loads(json.dumps(e.to_json()))
    assert data["verdict"] == "relaxed" and data["error"] is None
    assert data["counts"]["relaxed"] == 1 and data["counts"]["annotation"] == 1
    row = next(k for k in data["keywords"] if k["status"] == "relaxed")
    assert row == {
        "pointer": "",
        "keyword": "uniqueItems",
        "location": "#/uniqueItems",
        "status": "relaxed",
        "reason": row["reason"],
    }
    lines = str(e).splitlines()
    assert lines[1] == "5 keyword locations: 3 exact, 1 relaxed, 1 annotation"
    assert lines[3].split() == ["status", "keyword", "location", "reason"]
    assert any(line.startswith("relaxed     #/uniqueItems") for line in lines)
    assert len(e) == 5 and repr(e).startswith("<SchemaExplanation relaxed")


def test_options_reach_the_conversion_and_bad_ones_raise():
    counted = {"type": "object", "properties": {"a": {}, "b": {}}, "minProperties": 1}
    assert xgram.explain_json_schema(counted).verdict == "exact"
    relaxed = xgram.explain_json_schema(counted, any_order=True).relaxed
    assert [k.location for k in relaxed] == ["#/minProperties"]
    with pytest.raises(xgram.SchemaError, match="indent"):
        xgram.explain_json_schema(EXACT, any_whitespace=False, indent=-1)


def test_pydantic_model():
    pydantic = pytest.importorskip("pydantic")

    class Person(pydantic.BaseModel):
        name: str
        tags: set[str]

    e = xgram.explain_json_schema(Person)
    assert [k.location for k in e.relaxed] == ["#/properties/tags/uniqueItems"]


# ---------------------------------------------------------------------------
# xgram schema --explain
# ---------------------------------------------------------------------------


def schema_file(tmp_path, schema, name="s.json"):
    path = tmp_path / name
    path.write_text(schema if isinstance(schema, str) else json.dumps(schema))
    return str(path)


def test_cli_explain_exact(tmp_path, capsys):
    path = schema_file(tmp_path, EXACT)
    assert main(["schema", path, "--explain"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{path}: exact: every constraint is enforced\n")
    assert "exact       #/properties/n/minimum" in out


def test_cli_explain_relaxed_and_refused_exit_1(tmp_path, capsys):
    path = schema_file(tmp_path, UNIQUE_STRINGS)
    assert main(["schema", path, "--explain"]) == 1
    out = capsys.readouterr().out
    assert "--lenient would drop it" in out  # the option as the command line spells it
    assert "relaxed     #/uniqueItems" in out
    assert main(["schema", path, "--explain", "--lenient"]) == 1
    assert "converts with --lenient" in capsys.readouterr().out
    bad = schema_file(tmp_path, {"properties": {"a": 5}}, "bad.json")
    assert main(["schema", bad, "--explain"]) == 1
    assert "refused     #/properties" in capsys.readouterr().out


def test_cli_explain_json(tmp_path, capsys):
    path = schema_file(tmp_path, UNIQUE_STRINGS)
    assert main(["schema", path, "--explain", "--json", "--strict"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["schema"] == path and report["options"]["strict_mode"] is True
    assert report["verdict"] == "relaxed"
    assert [k["location"] for k in report["keywords"] if k["status"] == "relaxed"] == [
        "#/uniqueItems"
    ]


def test_cli_explain_usage_errors(tmp_path, capsys):
    path = schema_file(tmp_path, EXACT)
    assert main(["schema", path, "--json"]) == 2
    assert "--json applies only with --explain" in capsys.readouterr().err
    assert main(["schema", path, "--explain", "--normalized"]) == 2
    assert "--normalized applies only without --explain" in capsys.readouterr().err
    not_json = schema_file(tmp_path, "{oops", "not.json")
    assert main(["schema", not_json, "--explain"]) == 2
    assert "not valid JSON" in capsys.readouterr().err
