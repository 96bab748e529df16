import pytest

from tests.e2e import csp


@pytest.fixture(autouse=True)
def csp_violations(context):
    """Every browser test also checks that the Content-Security-Policy blocked nothing the UI needs."""
    seen = csp.watch(context)
    yield seen
    assert seen == [], "the Content-Security-Policy blocked something:\n" + "\n".join(seen)
