"""The bounded JSON reader every JSON endpoint uses (common/json_body.py) and bounded whole numbers."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dermatox.common.errors import InvalidInput
from dermatox.common.json_body import MAX_DEPTH, MAX_INTEGER, JsonBodyError, parse_json
from dermatox.common.params import MAX_PARAM_INT, whole_number


def nested(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def test_depth_up_to_the_limit_is_read_and_one_more_is_refused():
    assert parse_json(nested(2)) == [[]]
    parse_json(nested(MAX_DEPTH))  # no error
    with pytest.raises(JsonBodyError, match=f"nested deeper than {MAX_DEPTH}"):
        parse_json(nested(MAX_DEPTH + 1))
    with pytest.raises(JsonBodyError, match=f"nested deeper than {MAX_DEPTH}"):
        parse_json(nested(20_000))  # was a RecursionError in the standard parser


@pytest.mark.parametrize(
    ("body", "path", "message"),
    [
        (b'{"name": [{"given": ["a\\u0000"]}]}', "body.name[0].given[0]", "NUL"),
        (b'{"a\\u0000": 1}', "body", "NUL"),
        (b'{"id": 99999999999999999999999999999999999999}', "body.id", "integers must be between"),
        (b'{"id": %d}' % (MAX_INTEGER + 1), "body.id", "integers must be between"),
        (b'{"x": 1e999}', "body.x", "finite"),
        (b'{"x": NaN}', "body", "not valid JSON"),
        (b'{"x": ["\\ud800"]}', "body.x[0]", "lone surrogate"),
        (b'{"x": "\xff"}', "body", "not valid JSON"),
        (b"{nope", "body", "not valid JSON"),
    ],
)
def test_each_problem_is_named_with_where_it_is(body, path, message):
    with pytest.raises(JsonBodyError) as caught:
        parse_json(body)
    assert caught.value.path == path and message in caught.value.message


def test_the_largest_exact_integer_and_ordinary_text_pass():
    assert parse_json(b'{"id": %d, "name": "\xc5\x9eahin"}' % MAX_INTEGER) == {
        "id": MAX_INTEGER,
        "name": "Şahin",
    }


def test_size_is_bounded_by_the_setting(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    with pytest.raises(JsonBodyError) as caught:
        parse_json(b'{"a": "0123456789"}')
    assert caught.value.too_large
    assert parse_json(b"[1, 2]") == [1, 2]


def test_rest_leaves_nul_and_integers_to_its_schemas():
    document = parse_json(b'{"a": "\\u0000", "b": 1180591620717411303424}', check_values=False)
    assert document == {"a": "\x00", "b": 2**70}  # exact: the schema names the field out of range
    with pytest.raises(JsonBodyError, match="lone surrogate"):
        parse_json(b'{"a": "\\udfff"}', check_values=False)


@given(st.text())
def test_any_text_is_a_document_or_a_named_refusal(text):
    try:
        parse_json(text.encode("utf-8", "surrogatepass"), max_bytes=10_000)
    except JsonBodyError as exc:
        assert exc.path.startswith("body") and exc.message


@pytest.mark.parametrize("raw", ["9" * 40, "-1", "1e3", "١٢", str(MAX_PARAM_INT + 1), "12345678901"])
def test_whole_numbers_out_of_bounds_name_the_parameter(raw):
    with pytest.raises(InvalidInput) as caught:
        whole_number(raw, "_offset", default=0)
    assert list(caught.value.fields) == ["_offset"]


def test_whole_numbers_in_bounds():
    assert whole_number(None, "_count", default=50) == 50
    assert whole_number(str(MAX_PARAM_INT), "_offset", default=0) == MAX_PARAM_INT
