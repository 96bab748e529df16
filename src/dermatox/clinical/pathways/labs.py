"""Laboratory results: each converted to its test's canonical unit and read against the limits for this
patient (lab_limits.py, clinical.md §12.6): a flag low | normal | high | null, what it means (an id and
parameters in data/messages/lab.toml, rendered in the reader's language), what it asks for (action,
referral, urgency), and which results hold combined oral contraceptives back until endocrinology."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dermatox.clinical.demographics import age_on
from dermatox.clinical.messages import DEFAULT_LANG, Msg, render
from dermatox.clinical.pathways import lab_limits
from dermatox.clinical.pathways.lab_limits import Limit, Patient
from dermatox.clinical.pathways.lab_units import UnknownUnit, lab_tests, resolve_test, to_canonical, units_of

__all__ = [
    "RESULT_MAX_AGE_DAYS",
    "Patient",
    "Reading",
    "UnknownUnit",
    "blocks_coc",
    "flag_one",
    "interpret",
    "lab_tests",
    "read",
    "referrals",
    "resolve_test",
    "to_canonical",
    "units_of",
]

RESULT_MAX_AGE_DAYS = 180


@dataclass(frozen=True)
class Reading:
    """One result read against its limits (values in the test's canonical unit)."""

    test: str
    value: float
    flag: str | None
    low: float | None
    high: float | None
    source: str  # the test's evidence id, or "laboratory"
    confidence: str
    population: str | None  # the limit row's population id, "laboratory", or None without an interval
    limit: Limit | None  # the row whose meaning and action apply (None: the test's own wording, no action)
    meaning_id: str
    params: dict

    @property
    def action(self) -> str | None:
        return None if self.limit is None or self.limit.action == "none" else self.limit.action

    @property
    def refer(self) -> str | None:
        return self.limit.refer if self.limit and self.flag in ("low", "high") else None

    @property
    def urgent(self) -> bool:
        return bool(self.limit and self.limit.urgent and self.flag == "high")

    def meaning(self, lang: str = DEFAULT_LANG) -> str:
        return render(f"lab.{self.meaning_id}", self.params, lang)


def read(
    test_id: str,
    value: float,
    patient: Patient,
    *,
    ref_low: float | None = None,
    ref_high: float | None = None,
) -> Reading:
    """Read a canonical value. A laboratory interval (ref_low / ref_high, canonical) replaces the default
    lower and upper limits; the flag then keeps the meaning and action of the patient's default row for that
    bound, whatever the age band. The urgent / tumour cut-offs always apply and make the result "high"."""
    test = lab_tests()[test_id]
    value = round(value, 4)  # limits are kept to 4 decimals too: 125 nmol/L is not above 125 nmol/L
    from_laboratory = ref_low is not None or ref_high is not None
    lower = lab_limits.select(test_id, "lower", patient, ignore_age=from_laboratory)
    upper = lab_limits.select(test_id, "upper", patient, ignore_age=from_laboratory)
    if from_laboratory:
        low, high = (None if v is None else round(v, 4) for v in (ref_low, ref_high))
        inclusive = False
        source, confidence, population = "laboratory", "C", "laboratory"
    else:
        low = lower.value if lower else None
        high = upper.value if upper else None
        inclusive = bool(upper and upper.inclusive)
        source = test["threshold_source"]
        weakest = lab_limits.weakest_row(lower, upper)
        confidence = weakest.confidence if weakest else test["threshold_confidence"]
        population = (upper or lower).population if (upper or lower) else None

    if low is None and high is None:
        flag = None
    elif low is not None and value < low:
        flag = "low"
    elif high is not None and (value >= high if inclusive else value > high):
        flag = "high"
    else:
        flag = "normal"

    params: dict = {"test": test_id, "value": value, "unit": test["unit"]}
    cutoff = lab_limits.cutoff_crossed(test_id, patient, value)
    if cutoff is not None:
        flag, row = "high", cutoff
        params |= {
            "limit": cutoff.value,
            "limit_text": cutoff.text(test["unit"]),
            "basis": lab_limits.basis(cutoff),
        }
    elif flag in ("low", "high"):
        row = lower if flag == "low" else upper
        limit = low if flag == "low" else high
        params |= {
            "limit": limit,
            "limit_text": f"{limit:.4g} {test['unit']}" if from_laboratory else row.text(test["unit"]),
            "basis": lab_limits.basis(None if from_laboratory else row),
        }
    else:
        row = None
        weakest = lab_limits.weakest_row(lower, upper)
        params["basis"] = lab_limits.basis(None if from_laboratory else weakest)
    if row is not None:
        meaning_id = row.meaning
    elif flag is None:
        meaning_id = "no_interval"
    else:
        meaning_id = test[f"meaning_{flag}"]
    return Reading(
        test_id,
        value,
        flag,
        low,
        high,
        source,
        confidence,
        population,
        row,
        meaning_id,
        params,
    )


def _entry_fields(reading: Reading, lang: str) -> dict:
    """The fields an entry shares with the lab-entry form: meaning, its id and parameters, and what to do."""
    return {
        "flag": reading.flag,
        "meaning": reading.meaning(lang),
        "meaning_id": reading.meaning_id,
        "params": reading.params,
        "action": reading.action,
        "refer": reading.refer,
        "urgent": reading.urgent,
        "limit": reading.limit.id if reading.limit else None,
    }


def counts(result_date: dt.date, as_of: dt.date) -> bool:
    return (as_of - result_date).days <= RESULT_MAX_AGE_DAYS


def patient_of(case, on: dt.date) -> Patient:
    """The case's patient as the limits select: age at the sample date; pregnancy as the case states it now
    (the record keeps no pregnancy history by result)."""
    pregnant = bool(case.pregnant)
    return Patient(
        case.sex, age_on(case.birth_date, on), pregnant, case.pregnancy_trimester if pregnant else None
    )


def interpret(case, lang: str = DEFAULT_LANG) -> tuple[list[dict], list[str], dict[str, dict]]:
    """(lab entries for the output, ids of results too old to count, latest counting entry per test)."""
    tests = lab_tests()
    latest: dict[str, tuple] = {}
    too_old: set[str] = set()
    for result in case.labs:
        if not counts(result.date, case.as_of):
            too_old.add(result.test)
            continue
        current = latest.get(result.test)
        if current is None or (result.date, result.index) > (current.date, current.index):
            latest[result.test] = result
    entries = {}
    for test_id, result in latest.items():
        test = tests[test_id]

        def canonical(v, test=test, result=result):
            return None if v is None else to_canonical(test, v, result.unit)

        reading = read(
            test_id,
            to_canonical(test, result.value, result.unit),
            patient_of(case, result.date),
            ref_low=canonical(result.ref_low),
            ref_high=canonical(result.ref_high),
        )
        entries[test_id] = {
            "test": test_id,
            "loinc": test["loinc"],
            "value": reading.value,
            "unit": test["unit"],
            "date": result.date.isoformat(),
            **_entry_fields(reading, lang),
            "reported": {"value": result.value, "unit": result.unit},
            "interval": {
                "low": reading.low,
                "high": reading.high,
                "source": reading.source,
                "confidence": reading.confidence,
                "population": reading.population,
            },
        }
    ordered = [entries[t] for t in tests if t in entries]
    return ordered, sorted(too_old - set(latest)), entries


def flag_one(
    test_id: str,
    value: float,
    unit: str,
    sex: str,
    *,
    age: int | None = None,
    pregnant: bool = False,
    trimester: int | None = None,
    lang: str = DEFAULT_LANG,
) -> dict:
    """One result as the lab-entry form shows it while it is typed: canonical value, flag, the interval
    used and what it means. Without an age, age-banded limits do not apply (no interval is guessed).
    Raises KeyError for an unknown test and UnknownUnit for a unit without a documented conversion."""
    test = lab_tests()[test_id]
    patient = Patient(sex, age, bool(pregnant), trimester if pregnant else None)
    reading = read(test_id, to_canonical(test, value, unit), patient)
    return {
        "test": test_id,
        "value": reading.value,
        "unit": test["unit"],
        "low": reading.low,
        "high": reading.high,
        "source": reading.source,
        "confidence": reading.confidence,
        "population": reading.population,
        **_entry_fields(reading, lang),
    }


def _values(entries: Mapping[str, dict] | Iterable[dict]) -> list[dict]:
    return list(entries.values()) if isinstance(entries, Mapping) else list(entries)


def _reason(entry: dict, limit: Limit) -> Msg:
    return Msg(f"lab.{limit.reason_id}", entry["params"])


def referrals(entries: Mapping[str, dict] | Iterable[dict]) -> list[tuple[str, Msg]]:
    """(referral treatment id, reason) for each result whose meaning is "refer" (§12.6): 17-OH-progesterone
    indeterminate or above, raised prolactin, androgen above the limit (female testosterone, DHEA-S by age),
    TSH or free T4 outside, the tumour cut-offs. Entries as `interpret` gives them (a list or by test)."""
    out = []
    for entry in _values(entries):
        limit = lab_limits.by_id().get(entry.get("limit") or "")
        if entry.get("refer") and limit is not None:
            out.append((entry["refer"], _reason(entry, limit)))
    return out


def blocks_coc(entries: Mapping[str, dict] | Iterable[dict]) -> list[Msg]:
    """Reasons to keep combined oral contraceptives at not_yet until endocrinology has seen the patient
    (§12.6 rule, U): 17-OH-progesterone indeterminate or above, raised prolactin, androgen above the limit."""
    out = []
    for entry in _values(entries):
        limit = lab_limits.by_id().get(entry.get("limit") or "")
        if limit is not None and limit.blocks_coc and entry.get("flag") == "high":
            out.append(_reason(entry, limit))
    return out


def localize(entries: list[dict], lang: str) -> list[dict]:
    """Entries re-rendered in another language from their meaning ids and parameters."""
    return [
        {**e, "meaning": render(f"lab.{e['meaning_id']}", e["params"], lang)} if "meaning_id" in e else e
        for e in entries
    ]
