import pytest
from django.utils import timezone


@pytest.fixture
def clock(time_machine):
    """A clock that stands still until shifted: TOTP codes change every 30 s and a code works once."""
    time_machine.move_to(timezone.now(), tick=False)
    return time_machine
