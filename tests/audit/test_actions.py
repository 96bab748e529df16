"""Audit actions as a registry: audit_record refuses an unregistered name (strict in tests), every name
built from a record's kind comes from a listed family, and docs/audit-actions.md is the registry's table."""

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.test import override_settings

from dermatox.audit.actions import CLINICAL_MODELS, REGISTRY, action, check_registered, markdown_table
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.common.records import ClinicalRecord

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_an_unregistered_action_is_refused_in_tests(clinics):
    with pytest.raises(ValueError, match="unregistered audit action"):
        audit_record(actor=Actor.system(clinic=clinics[0]), action="patient.peek")


@override_settings(DERMATOX_STRICT_AUDIT_ACTIONS=False)
def test_production_logs_an_unregistered_action_and_still_records(caplog):
    check_registered("patient.peek")  # does not raise: the entry must not be lost for want of a name
    assert "unregistered audit action 'patient.peek'" in caplog.text


def test_family_names_are_registered_and_others_refused():
    assert action("{0}.entered_in_error", "treatmentsession") == "treatmentsession.entered_in_error"
    with pytest.raises(KeyError):
        action("{0}.entered_in_error", "auditentry")
    with pytest.raises(KeyError):
        action("{0}.deleted", "patient")


def test_every_clinical_record_can_be_withdrawn_under_a_registered_name():
    models = {m._meta.model_name for m in apps.get_models() if issubclass(m, ClinicalRecord)}
    assert models <= set(CLINICAL_MODELS)
    assert all(f"{m}.entered_in_error" in REGISTRY for m in models)


def test_no_action_is_built_with_an_f_string_and_every_literal_is_registered():
    literals, built = [], []
    for path in sorted((ROOT / "src" / "dermatox").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                "add_argument",
                "add_parser",
            ):
                continue
            for kw in node.keywords:
                if kw.arg in ("action", "audit_as"):
                    if isinstance(kw.value, ast.JoinedStr):
                        built.append(f"{path.name}:{node.lineno}")
                    elif isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                        literals.append((f"{path.name}:{node.lineno}", kw.value.value))
    assert not built, f"audit actions built with f-strings: {built}"
    assert len(literals) > 50  # the scan sees the call sites
    assert [where for where, name in literals if name not in REGISTRY] == []


def test_the_documented_table_is_the_registry():
    assert (ROOT / "docs" / "audit-actions.md").read_text() == markdown_table()
