"""Error codes a client can trust: every code the code raises is a member of a domain's enum, and the
OpenAPI description's `Error.code` lists exactly the registered codes (dermatox.error_codes)."""

import ast
from pathlib import Path

import pytest

from dermatox.common import errors
from dermatox.error_codes import DOMAINS, all_codes

SRC = Path(__file__).resolve().parents[1] / "src" / "dermatox"
ENUMS = {domain.__name__: domain for domain in DOMAINS}
NOT_API = {"ValidationError"}  # Django's field-validation codes stay inside the form/model layer


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def raised_codes():
    """(file:line, code expression) for every `code=` keyword, every `code = …` class attribute of an
    error class and the code of every action `Check(False, reason, code)`."""
    for path in sorted(SRC.rglob("*.py")):
        # CDS Hooks answers in its own shape (docs/cds_hooks.md) and imports nothing but clinical rules.
        if "migrations" in path.parts or "cds" in path.parts:
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            where = f"{path.relative_to(SRC)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call) and _call_name(node) not in NOT_API:
                for kw in node.keywords:
                    if kw.arg == "code":
                        yield where, kw.value
                if _call_name(node) == "Check" and len(node.args) == 3:
                    yield where, node.args[2]
            if isinstance(node, ast.ClassDef):
                for stmt in node.body:
                    if (
                        isinstance(stmt, ast.Assign)
                        and [getattr(t, "id", None) for t in stmt.targets] == ["code"]
                        and any(
                            getattr(b, "id", "").endswith(("Error", "Denied", "Rejected", "Locked"))
                            for b in node.bases
                        )
                    ):
                        yield where, stmt.value


def resolve(expr: ast.expr) -> str | None:
    """`TreatmentCode.SESSION_SIGNED` -> "session_signed"; anything else (a string literal) -> None."""
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id in ENUMS:
        return ENUMS[expr.value.id][expr.attr].value
    return None


def test_every_raised_code_is_a_member_of_a_domain_enum():
    found = list(raised_codes())
    assert len(found) > 30  # the scan sees the raise sites (a broken scan must not pass)
    literal = [where for where, expr in found if isinstance(expr, ast.Constant)]
    assert not literal, f"error codes written as strings (use the domain's enum): {literal}"
    codes = {resolve(expr) for _where, expr in found if not isinstance(expr, ast.Name)}
    codes.discard(None)
    assert codes <= set(all_codes())
    assert {"vial_insufficient", "session_entered_in_error", "plan_blocked"} <= codes


def test_the_error_classes_codes_are_registered():
    classes = [errors.DermatoxError, *errors.DermatoxError.__subclasses__()]
    for cls in classes:
        assert cls.code in all_codes(), cls


@pytest.mark.django_db
def test_the_openapi_error_code_lists_every_registered_code(client):
    spec = client.get("/api/openapi.json").json()
    listed = spec["components"]["schemas"]["Error"]["properties"]["code"]["enum"]
    assert listed == all_codes()
    assert len(listed) == len(set(listed))
