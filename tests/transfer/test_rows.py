"""The pure part: reading the file and checking each row, with the exact row numbers in the report."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from dermatox.transfer.rows import MAX_ROWS, FileProblem, parse_rows, read_table
from tests.dates import NEXT_YEAR

TZ = ZoneInfo("Europe/Istanbul")
NOW = dt.datetime(2026, 3, 9, 12, 0, tzinfo=TZ)
P_HEAD = "identifier_system,identifier,given_name,family_name,sex_at_birth,birth_date,phone,email,address,preferred_language"
T_HEAD = "identifier_system,identifier,given_on,product,units,area,source"
O_HEAD = "identifier_system,identifier,code,value,unit,effective_at"
GOOD_P = "national_id,111,Ayşe,Yılmaz,female,1990-04-02,+90 532 000 00 00,a@example.org,İstanbul,tr"


def report(text: str, kind=None, encoding="utf-8"):
    found, table = read_table(text.encode(encoding), kind)
    rows, lines = parse_rows(found, table, now=NOW, tz=TZ)
    return found, rows, lines


def test_a_good_patients_file_parses_with_typed_values():
    kind, rows, lines = report(f"{P_HEAD}\n{GOOD_P}\nnational_id,222,Can,Demir,male,1985-01-31,,,,\n")
    assert (kind, lines) == ("patients", [])
    assert rows[0].key == ("national_id", "111") and rows[0].values["birth_date"] == dt.date(1990, 4, 2)
    assert rows[1].number == 3 and rows[1].values["preferred_language"] == "tr"  # empty: the default


@pytest.mark.parametrize(
    "row, expected",
    [
        ("national_id,1,A,B,female,02/04/1990,,,,", "row 3: birth_date: not a date (YYYY-MM-DD)"),
        (
            f"national_id,1,A,B,female,{NEXT_YEAR.isoformat()},,,,",
            "row 3: birth_date: must not be in the future",
        ),
        (
            "national_id,1,A,B,woman,1990-01-01,,,,",
            "row 3: sex_at_birth: must be one of female, male, intersex, unknown",
        ),
        ("passport,,A,B,female,1990-01-01,,,,", "row 3: identifier: required"),
        (
            "ssn,1,A,B,female,1990-01-01,,,,",
            "row 3: identifier_system: must be one of national_id, passport, insurance, other",
        ),
        ("national_id,1,A,B,female,1990-01-01,,,,de", "row 3: preferred_language: must be one of en, tr"),
        (
            "national_id,111,A,B,female,1990-01-01,,,,",
            "row 3: identifier: the same as row 2 (listed twice in this file)",
        ),
        ("national_id,1,A,B,female", "row 3: has 5 cells, the header has 10"),
    ],
)
def test_each_bad_patient_row_is_reported_by_row_and_field(row, expected):
    _, rows, lines = report(f"{P_HEAD}\n{GOOD_P}\n{row}\n")
    assert lines == [expected]
    assert [r.number for r in rows] == [2]


def test_every_bad_row_is_reported_not_only_the_first_and_blank_lines_keep_numbering():
    text = (
        f"{P_HEAD}\n{GOOD_P}\n\nnational_id,2,A,B,x,1990-13-01,,,,\nnational_id,3,A,B,male,1990-01-01,,,,\n"
    )
    _, rows, lines = report(text)
    assert lines == [
        "row 4: sex_at_birth: must be one of female, male, intersex, unknown",
        "row 4: birth_date: not a date (YYYY-MM-DD)",
    ]
    assert [r.number for r in rows] == [2, 5]


@pytest.mark.parametrize(
    "row, expected",
    [
        ("national_id,1,2025-01-10,botox,20,face,", "row 2: product: must be one of"),
        (
            "national_id,1,2025-01-10,onabotulinumtoxinA,0,face,",
            "row 2: units: must be above 0 and at most 1000",
        ),
        (
            "national_id,1,2025-01-10,onabotulinumtoxinA,-5,face,",
            "row 2: units: must be above 0 and at most 1000",
        ),
        ("national_id,1,2025-01-10,onabotulinumtoxinA,many,face,", "row 2: units: must be a number"),
        (
            f"national_id,1,{NEXT_YEAR.isoformat()},onabotulinumtoxinA,20,face,",
            "row 2: given_on: must not be in the future",
        ),
        (
            "national_id,1,2025-01-10,onabotulinumtoxinA,20,neck,",
            "row 2: area: must be one of scalp, face, axilla, other",
        ),
    ],
)
def test_each_bad_toxin_row(row, expected):
    _, rows, lines = report(f"{T_HEAD}\n{row}\n")
    assert len(lines) == 1 and lines[0].startswith(expected), lines
    assert rows == []


def test_toxin_defaults_and_duplicates():
    _, rows, lines = report(
        f"{T_HEAD}\nnational_id,1,2025-01-10,unknown,,scalp,\nnational_id,1,2025-01-10,unknown,,scalp,clinic X\n"
    )
    assert rows[0].values["units"] is None and rows[0].values["source"] == "import"
    assert lines == ["row 3: row: the same as row 2 (listed twice in this file)"]


@pytest.mark.parametrize(
    "row, expected",
    [
        ("national_id,1,no_such_test,5,,2025-01-10", "row 2: code: unknown measurement"),
        ("national_id,1,ferritin,-3,ng/mL,2025-01-10", "row 2: value: must be >= 0"),
        ("national_id,1,pull_test_hairs,61,,2025-01-10", "row 2: value: must be <= 60"),
        (
            "national_id,1,ferritin,12,mg/dL,2025-01-10",
            "row 2: unit: must be 'ng/mL' or 'ug/L' or 'pmol/L' for ferritin",
        ),
        ("national_id,1,ferritin,12,ng/mL,2026-03-10", "row 2: effective_at: must not be in the future"),
        ("national_id,1,ferritin,12,ng/mL,yesterday", "row 2: effective_at: not a date and time"),
        ("national_id,1,ferritin,,ng/mL,2025-01-10", "row 2: value: required"),
    ],
)
def test_each_bad_observation_row(row, expected):
    _, _rows, lines = report(f"{O_HEAD}\n{row}\n")
    assert len(lines) == 1 and lines[0].startswith(expected), lines


def test_a_loinc_code_names_the_lab_test_and_naive_times_are_clinic_time():
    _, rows, lines = report(f"{O_HEAD}\nnational_id,1,2276-4,12.5,ug/L,2025-01-10T09:30\n")
    assert lines == []
    assert rows[0].values["code"] == "ferritin" and rows[0].values["unit"] == "ug/L"
    assert rows[0].values["effective_at"] == dt.datetime(2025, 1, 10, 9, 30, tzinfo=TZ)


@pytest.mark.parametrize(
    "data, kind, message",
    [
        (b"", None, "file: empty (no header row)"),
        (b"\n  \n", None, "file: empty (no header row)"),
        (f"{P_HEAD}\n".encode(), None, "file: no data rows after the header"),
        (P_HEAD.replace(",email", "").encode() + b"\n", None, "columns: missing email"),
        (f"{P_HEAD},nickname\n".encode(), None, "columns: unknown 'nickname'"),
        (b"name,age\nx,1\n", None, "columns: cannot tell the kind of file from the header"),
        (f"{T_HEAD}\n".encode(), "patients", "columns: missing given_name"),
        (f"{P_HEAD}\n{GOOD_P}\n".encode("cp1254"), None, "file: not UTF-8 (bad byte at offset"),
    ],
)
def test_file_level_problems_name_the_column_or_the_file(data, kind, message):
    with pytest.raises(FileProblem) as caught:
        read_table(data, kind)
    assert str(caught.value).startswith(message), str(caught.value)


def test_a_byte_order_mark_is_handled():
    kind, rows, lines = report(f"\ufeff{P_HEAD}\n{GOOD_P}\n")
    assert (kind, lines, len(rows)) == ("patients", [], 1)


def test_more_than_the_row_limit_is_refused():
    body = "\n".join(f"national_id,1,ferritin,{i % 100},,2025-01-10" for i in range(MAX_ROWS + 1))
    with pytest.raises(FileProblem, match="more than 100000 rows"):
        read_table(f"{O_HEAD}\n{body}\n".encode())


def test_vocabularies_match_the_record():
    from dermatox.patients.models import IdentifierSystem, Language, Sex
    from dermatox.transfer import rows
    from dermatox.treatments.services import EXTERNAL_DOSE_AREAS, EXTERNAL_DOSE_FIELDS

    assert tuple(IdentifierSystem.values) == rows.IDENTIFIER_SYSTEMS
    assert tuple(Sex.values) == rows.SEXES
    assert set(rows.LANGUAGES) == set(Language.values)
    assert rows.AREAS == EXTERNAL_DOSE_AREAS
    assert "source" in EXTERNAL_DOSE_FIELDS


@pytest.mark.parametrize(
    "text, quoted",
    [
        ("=1+2", "'=1+2"),
        ("+90 532 000 00 00", "'+90 532 000 00 00"),
        ("-x", "'-x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ayşe", "Ayşe"),
        ("'quoted", "''quoted"),  # a leading quote of its own is kept through the round trip
        ("'=x", "''=x"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_formula_cells_are_quoted_and_unquoted_back(text, quoted):
    from dermatox.transfer.rows import quote_formula, unquote_formula

    assert quote_formula(text) == quoted
    assert unquote_formula(quoted) == text


def test_the_import_takes_off_exactly_one_quote_and_only_in_text_columns():
    _, rows, lines = report(
        f"{P_HEAD}\nnational_id,'-7,'=Ayşe,''=Yılmaz,female,1990-04-02,'+90 532 000 00 00,,'@home,tr\n"
        f"national_id,8,'Can,Demir,male,1985-01-31,,,'-,\n"
    )
    assert lines == []
    assert rows[0].key == ("national_id", "-7")
    values = rows[0].values
    assert (values["given_name"], values["family_name"]) == ("=Ayşe", "'=Yılmaz")  # one quote, not two
    assert (values["phone"], values["address"]) == ("+90 532 000 00 00", "@home")
    assert rows[1].values["given_name"] == "'Can" and rows[1].values["address"] == "-"
    # a number or a date keeps its quote, and is then not a number or a date
    _, _, lines = report(f"{T_HEAD}\nnational_id,1,'2025-01-10,unknown,'-5,face,'=x\n")
    assert lines == ["row 2: given_on: not a date (YYYY-MM-DD)", "row 2: units: must be a number"]


def test_only_free_text_columns_are_quoted():
    from dermatox.transfer.rows import COLUMNS, TEXT_COLUMNS

    for kind, columns in TEXT_COLUMNS.items():
        assert set(columns) <= set(COLUMNS[kind])
        assert not set(columns) & {"birth_date", "given_on", "units", "value", "unit", "effective_at", "code"}
