"""Reading a legacy CSV file and parsing its rows: pure Python, no Django, no database, no clock.

`read_table` turns the bytes of a file into a header and records (or file-level problems naming the column);
`parse_rows` checks every row of one kind and returns the typed values or "row N: field: rule" lines.
Row numbers are those a spreadsheet shows: the header is row 1, the first data row is row 2.
`quote_formula` / `unquote_formula` keep free-text cells from being read as spreadsheet formulas (export) and
take that protection off again (import).
The column formats are documented in docs/import.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from dermatox.clinical.demographics import birth_date_problem
from dermatox.clinical.observations import ObservationValueError, check_observation_value, observation_types
from dermatox.clinical.reference import by_id

MAX_ROWS = 100_000
EARLIEST_YEAR = 1900

KEY_COLUMNS = ("identifier_system", "identifier")
COLUMNS: dict[str, tuple[str, ...]] = {
    "patients": (
        *KEY_COLUMNS,
        "given_name",
        "family_name",
        "sex_at_birth",
        "birth_date",
        "phone",
        "email",
        "address",
        "preferred_language",
    ),
    "toxin": (*KEY_COLUMNS, "given_on", "product", "units", "area", "source"),
    "observations": (*KEY_COLUMNS, "code", "value", "unit", "effective_at"),
}
REQUIRED: dict[str, tuple[str, ...]] = {  # columns whose cells may not be empty
    "patients": (*KEY_COLUMNS, "given_name", "family_name", "sex_at_birth", "birth_date"),
    "toxin": (*KEY_COLUMNS, "given_on", "product", "area"),
    "observations": (*KEY_COLUMNS, "code", "value", "effective_at"),
}
# A column only one kind has: how the kind is told from the header when it is not given.
SIGNATURE = {"patients": "birth_date", "toxin": "product", "observations": "code"}

# The record's vocabularies (tests check they equal the models' choices and the services' lists).
IDENTIFIER_SYSTEMS = ("national_id", "passport", "insurance", "other")
SEXES = ("female", "male", "intersex", "unknown")
LANGUAGES = ("en", "tr")
DEFAULT_LANGUAGE = "tr"
AREAS = ("scalp", "face", "axilla", "other")
DEFAULT_SOURCE = "import"
MAX_LENGTH = {"identifier": 64, "given_name": 100, "family_name": 100, "phone": 32, "email": 254,
              "address": 300, "source": 40}  # fmt: skip

# Spreadsheet formula injection (OWASP "CSV injection"): Excel and LibreOffice read a cell that starts with
# one of these as a formula. Only the free-text columns are protected (the others are vocabularies, numbers
# and dates, and a negative number must stay a number): the export writes such a cell (or one starting with
# a quote) after a single quote, and the import takes exactly one quote off before one of these or a quote.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    "patients": ("identifier", "given_name", "family_name", "phone", "email", "address"),
    "toxin": ("identifier", "source"),
    "observations": ("identifier",),
}


class FileProblem(Exception):
    """The file as a whole cannot be read: the message names the column or says what is wrong."""


@dataclass
class Table:
    header: tuple[str, ...]
    records: list[tuple[int, dict[str, str]]]  # (row number, cells by column)
    problems: list[str] = field(default_factory=list)  # rows with the wrong number of cells


@dataclass
class ParsedRow:
    number: int
    key: tuple[str, str]  # (identifier_system, identifier)
    values: dict


def quote_formula(text: str) -> str:
    """A text cell as the export writes it: after a single quote if a spreadsheet would read a formula, or
    if it starts with a quote itself (so that the import, which removes one, gives it back unchanged)."""
    return f"'{text}" if text.startswith((*FORMULA_START, "'")) else text


def unquote_formula(text: str) -> str:
    """A text cell as the import reads it: the export's quote (one, before FORMULA_START or a quote) removed."""
    return text[1:] if text.startswith("'") and text[1:].startswith((*FORMULA_START, "'")) else text


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")  # a byte-order mark (Excel's "CSV UTF-8") is dropped
    except UnicodeDecodeError as exc:
        raise FileProblem(f"file: not UTF-8 (bad byte at offset {exc.start}); save it as CSV UTF-8") from None


def detect_kind(header: tuple[str, ...]) -> str:
    kinds = [kind for kind, column in SIGNATURE.items() if column in header]
    if len(kinds) != 1:
        raise FileProblem(
            "columns: cannot tell the kind of file from the header; give --kind patients, toxin or observations"
        )
    return kinds[0]


def read_table(data: bytes, kind: str | None = None) -> tuple[str, Table]:
    """The kind and the rows of a file; raises FileProblem for problems of the whole file."""
    text = decode(data)
    if not text.strip():
        raise FileProblem("file: empty (no header row)")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = tuple(cell.strip() for cell in next(reader))
        if kind is None:
            kind = detect_kind(header)
        if kind not in COLUMNS:
            raise FileProblem(f"kind: must be one of {', '.join(COLUMNS)}")
        expected = COLUMNS[kind]
        missing = [c for c in expected if c not in header]
        unknown = [c for c in header if c not in expected]
        repeated = sorted({c for c in header if header.count(c) > 1})
        messages = []
        if missing:
            messages.append(f"columns: missing {', '.join(missing)}")
        if unknown:
            messages.append(
                f"columns: unknown {', '.join(repr(c) for c in unknown)} (a {kind} file has {', '.join(expected)})"
            )
        if repeated:
            messages.append(f"columns: repeated {', '.join(repeated)}")
        if messages:
            raise FileProblem("; ".join(messages))
        table = Table(header=header, records=[])
        text_columns = set(TEXT_COLUMNS[kind])
        number = 1
        for cells in reader:
            number += 1
            if not cells or all(not c.strip() for c in cells):
                continue  # a blank line: it still counts as a row, as in a spreadsheet
            if len(table.records) >= MAX_ROWS:
                raise FileProblem(f"file: more than {MAX_ROWS} rows; split it into several files")
            if len(cells) != len(header):
                table.problems.append(f"row {number}: has {len(cells)} cells, the header has {len(header)}")
                continue
            record = {h: c.strip() for h, c in zip(header, cells, strict=True)}
            for name in text_columns:
                record[name] = unquote_formula(record[name])
            table.records.append((number, record))
    except csv.Error as exc:
        raise FileProblem(f"file: not a valid CSV file near row {reader.line_num}: {exc}") from None
    if not table.records and not table.problems:
        raise FileProblem("file: no data rows after the header")
    return kind, table


def _date(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError("not a date (YYYY-MM-DD)") from None
    if len(text) != 10:
        raise ValueError("not a date (YYYY-MM-DD)")
    if day.year < EARLIEST_YEAR:
        raise ValueError(f"must not be before {EARLIEST_YEAR}")
    return day


def _past_date(text: str, today: dt.date) -> dt.date:
    day = _date(text)
    if day > today:
        raise ValueError("must not be in the future")
    return day


def _moment(text: str, now: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """A date (midnight, clinic time) or an ISO 8601 date and time; without an offset it is clinic time."""
    try:
        if len(text) == 10:
            moment = dt.datetime.combine(_date(text), dt.time())
        else:
            moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("not a date and time (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM])") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    if moment.year < EARLIEST_YEAR:
        raise ValueError(f"must not be before {EARLIEST_YEAR}")
    if moment > now:
        raise ValueError("must not be in the future")
    return moment


def _choice(text: str, allowed: tuple[str, ...]) -> str:
    if text not in allowed:
        raise ValueError(f"must be one of {', '.join(allowed)}")
    return text


def _units(text: str) -> Decimal | None:
    if not text:
        return None  # units not known (the rules then cannot count the dose)
    try:
        units = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise ValueError("must be a number") from None
    if not units.is_finite():
        raise ValueError("must be a number")
    if not 0 < units <= 1000:
        raise ValueError("must be above 0 and at most 1000")
    if units.normalize().as_tuple().exponent < -2:
        raise ValueError("must have at most 2 decimal places")
    return units


def observation_code(text: str) -> str:
    """Our observation id, or the LOINC code of one of our types (lab tests)."""
    types = observation_types()
    if text in types:
        return text
    for kind in types.values():
        if kind.loinc and kind.loinc == text:
            return kind.id
    raise ValueError("unknown measurement: not an observation id or a known LOINC code")


def check(cells: dict, values: dict, errors: list, name: str, parse, *args) -> None:
    """Parse one cell into `values`, or note why it cannot be parsed in `errors`."""
    try:
        values[name] = parse(cells[name], *args)
    except ValueError as exc:
        errors.append(f"{name}: {exc}")


def parse_rows(
    kind: str, table: Table, *, now: dt.datetime, tz: ZoneInfo
) -> tuple[list[ParsedRow], list[str]]:
    """Every row checked on its own and against the rows above it; returns the good rows and the report."""
    today = now.astimezone(tz).date()
    products = (*by_id("toxin_products.toml"), "unknown")
    rows, report = [], list(table.problems)
    seen: dict[tuple, int] = {}
    for number, cells in table.records:
        errors: list[str] = []
        values: dict = {}

        for name in REQUIRED[kind]:
            if not cells[name]:
                errors.append(f"{name}: required")
        for name, limit in MAX_LENGTH.items():
            if name in cells and len(cells[name]) > limit:
                errors.append(f"{name}: at most {limit} characters")
        if cells["identifier_system"]:
            check(cells, values, errors, "identifier_system", _choice, IDENTIFIER_SYSTEMS)
        if kind == "patients":
            values.update({n: cells[n] for n in ("given_name", "family_name", "phone", "email", "address")})
            if cells["sex_at_birth"]:
                check(cells, values, errors, "sex_at_birth", _choice, SEXES)
            values["preferred_language"] = DEFAULT_LANGUAGE
            if cells["preferred_language"]:
                check(cells, values, errors, "preferred_language", _choice, LANGUAGES)
            if cells["birth_date"]:
                check(cells, values, errors, "birth_date", _date)
                if "birth_date" in values:
                    problem = birth_date_problem(values["birth_date"], today)
                    if problem:
                        errors.append(f"birth_date: {problem}")
            identity: tuple = (cells["identifier_system"], cells["identifier"])
        elif kind == "toxin":
            if cells["given_on"]:
                check(cells, values, errors, "given_on", _past_date, today)
            if cells["product"]:
                check(cells, values, errors, "product", _choice, products)
            if cells["area"]:
                check(cells, values, errors, "area", _choice, AREAS)
            check(cells, values, errors, "units", _units)
            values["source"] = cells["source"] or DEFAULT_SOURCE
            identity = (cells["identifier_system"], cells["identifier"], cells["given_on"],
                        cells["product"], cells["area"])  # fmt: skip
        else:
            if cells["code"]:
                check(cells, values, errors, "code", observation_code)
            if cells["effective_at"]:
                check(cells, values, errors, "effective_at", _moment, now, tz)
            if "code" in values and cells["value"]:
                try:
                    checked = check_observation_value(values["code"], cells["value"], cells["unit"] or None)
                    values["value"], values["unit"] = (
                        checked.number if checked.code == "" else checked.code,
                        checked.unit,
                    )
                except ObservationValueError as exc:
                    errors.append(f"{exc.field}: {exc.rule}")
            identity = (cells["identifier_system"], cells["identifier"], values.get("code"),
                        values.get("effective_at"), values.get("value"))  # fmt: skip
        if not errors and identity in seen:
            what = "identifier" if kind == "patients" else "row"
            errors.append(f"{what}: the same as row {seen[identity]} (listed twice in this file)")
        if errors:
            report.extend(f"row {number}: {error}" for error in errors)
            continue
        seen[identity] = number
        rows.append(ParsedRow(number, (cells["identifier_system"], cells["identifier"]), values))
    report.sort(key=lambda line: int(line.split(":", 1)[0].removeprefix("row ")))
    return rows, report
