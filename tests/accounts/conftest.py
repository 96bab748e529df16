import pytest
from django.utils import timezone


@pytest.fixture
def clock(time_machine):
    """A clock that stands still until shifted: TOTP codes change every 30 s and a code works once."""
    time_machine.move_to(timezone.now(), tick=False)
    return time_machine


@pytest.fixture(autouse=True)
def _english():
    """Messages are compared in English; a page seen in Turkish earlier must not leave Turkish active."""
    from django.utils import translation

    with translation.override("en"):
        yield
