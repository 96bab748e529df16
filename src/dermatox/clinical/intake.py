"""The patient intake questionnaire: its health questions (data) and the parsing of one set of answers.

Pure: the date is an argument. Every question must be answered, so a "no" in the record is something the
patient said, never a default. Errors are (field, rule) pairs; the web layer words them in the patient's
language. Demographics are validated by the patient record's own rules, not here.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache

from dermatox.clinical.reference import ReferenceDataError, by_id, load

YES_NO = ("yes", "no")
YES_NO_UNKNOWN = ("yes", "no", "unknown")
CONSENT_KINDS = ("treatment", "photography", "photo_teaching_marketing")
CONSENT_DECISIONS = ("granted", "refused")
TOXIN_AREAS = ("scalp", "face", "axilla", "other")
COURSE_OUTCOMES = ("inadequate", "partial", "good", "not_tolerated")
MAX_COURSES = 3
MAX_SHEDDING = 5000
MAX_LINES, MAX_LINE, MAX_TEXT = 20, 200, 2000
MAX_SIGNATURE = 20000
# The signature pad sends strokes as an SVG path on a 600 x 200 box: "M x y L x y ... M x y ...".
_SIGNATURE = re.compile(r"(M \d{1,3} \d{1,3}( L \d{1,3} \d{1,3})*\s*)+")
_ITEM_FILES = {"condition": "conditions.toml", "medication": "medications.toml", "allergy": "allergens.toml"}


@dataclass(frozen=True)
class Question:
    id: str
    section: str
    text: str
    text_tr: str
    adds: tuple[str, ...] = ()
    which: tuple[str, ...] = ()
    why: str = ""
    sex: str | None = None

    def label(self, language: str) -> str:
        return self.text_tr if language == "tr" else self.text


@cache
def questions() -> tuple[Question, ...]:
    out = []
    for row in load("intake_questions.toml"):
        q = Question(**{**row, "adds": tuple(row.get("adds", ())), "which": tuple(row.get("which", ()))})
        if bool(q.adds) == bool(q.which):
            raise ReferenceDataError(f"intake question {q.id}: give exactly one of 'adds' or 'which'")
        for item in (*q.adds, *q.which):
            kind, _, code = item.partition(":")
            if kind not in _ITEM_FILES or code not in by_id(_ITEM_FILES[kind]):
                raise ReferenceDataError(f"intake question {q.id}: unknown record item {item!r}")
        out.append(q)
    return tuple(out)


def questions_for(sex: str | None) -> list[Question]:
    return [q for q in questions() if q.sex is None or q.sex == sex]


def acne_treatments() -> list[dict]:
    return [row for row in load("treatments.toml") if row["area"] == "acne"]


@dataclass(frozen=True)
class ToxinDose:
    given_on: dt.date
    area: str
    product: str  # a product id, or "unknown"
    units: Decimal | None


@dataclass(frozen=True)
class Course:
    treatment: str
    weeks: int
    outcome: str


@dataclass
class IntakeAnswers:
    """What the patient answered, ready to become record entries."""

    answers: dict[str, str]  # question id -> yes/no (for the review page)
    conditions: list[str] = field(default_factory=list)
    medications: list[str] = field(default_factory=list)
    allergies: list[str] = field(default_factory=list)
    other_conditions: list[str] = field(default_factory=list)
    other_medications: list[str] = field(default_factory=list)
    other_allergies: list[str] = field(default_factory=list)
    pregnant: str | None = None
    breastfeeding: str | None = None
    toxin_dose: ToxinDose | None = None
    observations: dict[str, object] = field(default_factory=dict)  # observation code -> value
    courses: list[Course] = field(default_factory=list)
    consents: dict[str, str] = field(default_factory=dict)
    concerns: list[str] = field(default_factory=list)
    signer_name: str = ""
    signature: str = ""


class IntakeErrors(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors  # field -> rule code


class _Reader:
    def __init__(self, data: dict):
        self.data = data
        self.errors: dict[str, str] = {}

    def text(self, name: str) -> str:
        value = self.data.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    def choice(self, name: str, options: tuple[str, ...], *, required: bool = True) -> str | None:
        value = self.text(name)
        if not value:
            if required:
                self.errors[name] = "required"
            return None
        if value not in options:
            self.errors[name] = "choice"
            return None
        return value

    def number(self, name: str, low, high, *, integer: bool, required: bool = False):
        raw = self.text(name).replace(",", ".")
        if not raw:
            if required:
                self.errors[name] = "required"
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            self.errors[name] = "number"
            return None
        if (
            not value.is_finite()
            or (integer and value != value.to_integral_value())
            or not low <= value <= high
        ):
            self.errors[name] = "range"
            return None
        return int(value) if integer else value

    def date(self, name: str, today: dt.date) -> dt.date | None:
        raw = self.text(name)
        if not raw:
            self.errors[name] = "required"
            return None
        try:
            value = dt.date.fromisoformat(raw)
        except ValueError:
            self.errors[name] = "date"
            return None
        if value > today:
            self.errors[name] = "future"
            return None
        if value.year < 1990:
            self.errors[name] = "date"
            return None
        return value

    def lines(self, name: str) -> list[str]:
        raw = self.text(name)
        if len(raw) > MAX_TEXT:
            self.errors[name] = "too_long"
            return []
        out = [line.strip() for line in raw.splitlines() if line.strip()]
        if len(out) > MAX_LINES or any(len(line) > MAX_LINE for line in out):
            self.errors[name] = "too_long"
            return []
        return out


def parse_answers(data: dict, *, sex: str | None, today: dt.date) -> IntakeAnswers:
    """Check one submitted questionnaire; raise IntakeErrors naming every bad field at once."""
    r = _Reader(data)
    result = IntakeAnswers(answers={})
    for q in questions_for(sex):
        answer = r.choice(f"q_{q.id}", YES_NO)
        if answer is None:
            continue
        result.answers[q.id] = answer
        if answer == "no":
            continue
        picked = q.adds or (r.choice(f"q_{q.id}_which", q.which),)
        for item in picked:
            if item is None:
                continue
            kind, _, code = item.partition(":")
            {"condition": result.conditions, "medication": result.medications, "allergy": result.allergies}[
                kind
            ].append(code)
    result.other_conditions = r.lines("other_conditions")
    result.other_medications = r.lines("other_medications")
    result.other_allergies = r.lines("other_allergies")

    if sex == "female":
        result.pregnant = r.choice("pregnant", YES_NO_UNKNOWN)
        result.breastfeeding = r.choice("breastfeeding", YES_NO_UNKNOWN)

    if r.choice("toxin_before", YES_NO) == "yes":
        given_on = r.date("toxin_last_date", today)
        area = r.choice("toxin_last_area", TOXIN_AREAS)
        product = r.choice("toxin_last_product", (*by_id("toxin_products.toml"), "unknown"))
        units = r.number("toxin_last_units", Decimal("0.1"), 1000, integer=False)
        if given_on and area and product:
            result.toxin_dose = ToxinDose(given_on, area, product, units)

    if r.choice("hair_concern", YES_NO) == "yes":
        result.concerns.append("hair")
        shedding = r.number("daily_shedding", 0, MAX_SHEDDING, integer=True)
        if shedding is not None:
            result.observations["daily_shedding"] = shedding
        for name, code in (("hair_thinning", "hair_thinning"), ("hair_trigger", "hair_loss_trigger_3m")):
            answer = r.choice(name, YES_NO)
            if answer:
                result.observations[code] = answer

    if r.choice("skin_concern", YES_NO) == "yes":
        result.concerns.append("skin")
        oily = r.choice("oily_skin", YES_NO)
        if oily:
            result.observations["oily_skin_reported"] = oily
        treatments = tuple(t["id"] for t in acne_treatments())
        for n in range(1, MAX_COURSES + 1):
            treatment = r.choice(f"course_{n}_treatment", treatments, required=False)
            if treatment is None:
                continue
            weeks = r.number(f"course_{n}_weeks", 1, 520, integer=True, required=True)
            outcome = r.choice(f"course_{n}_outcome", COURSE_OUTCOMES)
            if weeks is not None and outcome:
                result.courses.append(Course(treatment, weeks, outcome))

    for kind in CONSENT_KINDS:
        decision = r.choice(f"consent_{kind}", CONSENT_DECISIONS)
        if decision:
            result.consents[kind] = decision
    result.signer_name = r.text("signer_name")
    if not result.signer_name:
        r.errors["signer_name"] = "required"
    elif len(result.signer_name) > 150 or not any(ch.isalpha() for ch in result.signer_name):
        r.errors["signer_name"] = "name"
    signature = r.text("signature")
    if not signature:
        r.errors["signature"] = "required"
    elif len(signature) > MAX_SIGNATURE or not _SIGNATURE.fullmatch(signature) or signature.count(" L ") < 3:
        r.errors["signature"] = "signature"
    else:
        result.signature = signature

    if r.errors:
        raise IntakeErrors(r.errors)
    return result
