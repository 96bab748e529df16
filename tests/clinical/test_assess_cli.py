"""`dermatox assess` as a user runs it: a separate process, JSON in and out, exit 2 on bad input."""

import json
import subprocess
import sys

import pytest

CASE = {
    "as_of": "2026-11-21",
    "patient": {"sex": "male", "birth_date": "1986-05-01"},
    "hair": {"norwood": "IV", "daily_shedding": 60},
}


def run(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "dermatox", "assess", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_assess_a_file_prints_json(tmp_path):
    path = tmp_path / "case.json"
    path.write_text(json.dumps(CASE))
    result = run(str(path))
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert (
        next(r for r in output["recommendations"] if r["treatment"] == "finasteride")["status"]
        == "recommended"
    )


def test_assess_reads_standard_input_and_prints_text():
    result = run("-", "--format", "text", stdin=json.dumps(CASE))
    assert result.returncode == 0
    assert "Finasteride 1 mg (men): RECOMMENDED" in result.stdout  # names, never ids, for people


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (
            json.dumps({**CASE, "hair": {"daily_shedding": -5}}),
            "hair.daily_shedding: must be an integer >= 0",
        ),
        (json.dumps({**CASE, "hair": {"colour": "brown"}}), "hair.colour: unknown field"),
        ("{not json", "CASE: not valid JSON"),
    ],
)
def test_bad_input_exits_2_with_the_field_on_stderr(stdin, message):
    result = run("-", stdin=stdin)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_missing_file_exits_2():
    result = run("/nonexistent/case.json")
    assert result.returncode == 2 and "cannot read" in result.stderr


def test_schema_is_printed():
    result = run("--schema", "output")
    assert result.returncode == 0 and json.loads(result.stdout)["title"] == "Dermatox assessment result"
