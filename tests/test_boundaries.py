"""Import arrows point inward only: web/api -> apps -> clinical. Checked on the source, not by hope."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "dermatox"
APPS = ["accounts", "audit", "patients", "assessments", "treatments", "inventory", "intake", "scheduling"]
JSON_BODY = "dermatox.common.json_body"  # the bounded JSON reader, usable by every edge
OUTER = ["web", "api", "fhir", "bulk", "cli", "demo", "chart", "settings", "urls", "wsgi", "transfer"]


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


def test_cds_imports_only_clinical_and_keeps_django_in_its_views():
    """CDS Hooks maps prefetched FHIR itself: no app, no record of ours; Django only in views.py. It reads
    its body with the bounded JSON reader every edge uses (common/json_body, which imports nothing else
    of ours and no Django at import)."""
    for path in (SRC / "cds").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module]
                if isinstance(node, ast.ImportFrom) and node.module
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for module in names:
                if module.startswith("dermatox"):
                    assert module.startswith(("dermatox.clinical", "dermatox.cds")) or module == JSON_BODY, (
                        f"{path.name}: {module}"
                    )
                if path.name != "views.py":
                    assert not module.startswith("django"), f"{path.name}: {module}"


def test_the_json_body_reader_imports_nothing_of_ours_and_no_django_at_import():
    tree = ast.parse((SRC / "common" / "json_body.py").read_text())
    for node in tree.body:  # module level only: the size limit is read from the settings when called
        names = (
            [node.module]
            if isinstance(node, ast.ImportFrom) and node.module
            else [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else []
        )
        for module in names:
            assert not module.startswith(("dermatox", "django")), module
