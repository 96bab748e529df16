"""Import arrows point inward only: web/api -> apps -> clinical. Checked on the source, not by hope."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "dermatox"
APPS = ["accounts", "audit", "patients", "assessments", "treatments", "inventory", "intake", "scheduling"]
OUTER = ["web", "cli", "demo", "chart", "settings", "urls", "wsgi"]


def imports_of(package: str) -> set[str]:
    root = SRC / package if (SRC / package).is_dir() else SRC / f"{package}.py"
    files = root.rglob("*.py") if root.is_dir() else [root]
    found = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
    return found


def test_clinical_imports_nothing_of_ours_outside_itself_and_no_django():
    for module in imports_of("clinical"):
        assert not module.startswith("django"), module
        if module.startswith("dermatox"):
            assert module.startswith("dermatox.clinical"), module


@pytest.mark.parametrize("app", APPS)
def test_apps_do_not_import_the_outer_layers(app):
    for module in imports_of(app):
        for outer in OUTER:
            assert module != f"dermatox.{outer}" and not module.startswith(f"dermatox.{outer}."), (
                f"{app} imports {module}"
            )


def test_chart_does_not_import_web():
    assert not any(m.startswith("dermatox.web") for m in imports_of("chart"))


def test_documents_render_only_what_they_are_given():
    """Printed documents import no app: the callers compose what to print."""
    for module in imports_of("documents"):
        if module.startswith("dermatox"):
            assert module.startswith("dermatox.documents"), module
