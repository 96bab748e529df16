"""Helpers for pathway cases: build a case from parts, read a status."""

AS_OF = "2026-11-21"


def case(sex="male", birth_date="1986-05-01", **parts):
    patient = {"sex": sex, "birth_date": birth_date}
    for flag in ("pregnant", "breastfeeding", "can_become_pregnant", "pregnancy_trimester"):
        if flag in parts:
            patient[flag] = parts.pop(flag)
    return {"as_of": AS_OF, "patient": patient, **parts}


def rec(result, treatment):
    return next(r for r in result["recommendations"] if r["treatment"] == treatment)


def status(result, treatment):
    return rec(result, treatment)["status"]


def finding_ids(result):
    return {f["id"] for f in result["findings"]}


def lab(test, value, unit, date="2026-10-01", **extra):
    return {"test": test, "value": value, "unit": unit, "date": date, **extra}
