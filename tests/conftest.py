import datetime as dt
import os
import sys

import pytest

from dermatox.accounts.models import Chain, Clinic, Membership, User
from dermatox.accounts.roles import Role
from dermatox.common.context import Actor
from dermatox.inventory.services import lot_receive, vial_open
from dermatox.patients.services import patient_create
from tests.dates import FAR_EXPIRY

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # pytest-django live_server + sync Playwright

PASSWORD = "Correct-Horse-77"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture
def clinics(db):
    chain = Chain.objects.create(name="Test Chain")
    a = Clinic.objects.create(name="Clinic A", code="aaa", chain=chain)
    b = Clinic.objects.create(name="Clinic B", code="bbb", chain=chain)
    return a, b


def make_user(username: str, clinic: Clinic, role: str) -> User:
    user = User(username=username, full_name=username.title())
    user.set_password(PASSWORD)
    user.save()
    Membership.objects.create(user=user, clinic=clinic, role=role)
    return user


@pytest.fixture
def staff(clinics):
    """One user per role in clinic A, and a physician in clinic B."""
    a, b = clinics
    users = {role: make_user(f"{role}_a", a, role) for role in Role.values}
    users["physician_b"] = make_user("physician_b", b, Role.PHYSICIAN)
    return users


@pytest.fixture
def actor_for(clinics):
    def build(user: User, clinic: Clinic | None = None) -> Actor:
        membership = Membership.objects.get(user=user, clinic=clinic) if clinic else user.memberships.first()
        return Actor(user=user, clinic=membership.clinic, role=membership.role, ip="127.0.0.1")

    return build


@pytest.fixture
def physician(staff, actor_for):
    return actor_for(staff[Role.PHYSICIAN])


@pytest.fixture
def nurse(staff, actor_for):
    return actor_for(staff[Role.NURSE])


@pytest.fixture
def receive_and_open(nurse):
    """Receive a lot of onabotulinumtoxinA and open its first vial, as a nurse would."""

    def build(lot_number: str, *, vials: int = 1, vial_units: int = 200, diluent_ml=4):
        lot = lot_receive(
            actor=nurse,
            product="onabotulinumtoxinA",
            lot_number=lot_number,
            expiry=FAR_EXPIRY,
            vial_units=vial_units,
            vials=vials,
        )
        return vial_open(actor=nurse, vial_id=lot.vials.first().pk, diluent_ml=diluent_ml)

    return build


@pytest.fixture
def patient(physician):
    return patient_create(
        actor=physician,
        data={
            "given_name": "İpek",
            "family_name": "Şahin",
            "sex_at_birth": "female",
            "birth_date": "1990-04-02",
            "preferred_language": "tr",
        },
        identifiers=[("national_id", "12345678901")],
    )


@pytest.fixture
def login(client):
    """Log a user in through the real login form and choose the clinic."""

    def do(user: User, clinic: Clinic | None = None):
        client.logout()
        response = client.post("/login/", {"username": user.username, "password": PASSWORD})
        assert response.status_code == 302, response.content[:500]
        clinic = clinic or user.memberships.first().clinic
        client.post("/clinic/", {"clinic": clinic.pk})
        return client

    return do


def _is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    flagged = bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
    return flagged or "transactional_db" in request.fixturenames or "live_server" in request.fixturenames


@pytest.fixture(autouse=True)
def _audit_append_only_across_flush(request):
    """Transactional tests end with a flush (DELETE of every table), which the append-only triggers
    refuse. Around such tests: make sure the triggers are there, and lift them just before the flush."""
    if not _is_transactional(request):
        yield
        return
    request.getfixturevalue("_django_db_helper")  # set up first, so our teardown runs before its flush
    from django.db import connection

    from dermatox.audit import protection

    protection.install(connection)
    yield
    protection.remove(connection)


def pytest_configure(config):
    """Browser tests save what they saw here, to be looked at."""
    from pathlib import Path

    directory = Path(os.environ.get("DERMATOX_SCREENSHOTS", "/tmp/dermatox-screenshots"))
    directory.mkdir(parents=True, exist_ok=True)
    pytest.screenshot_dir = directory


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist a test id runs once, however many items carry it (schemathesis gives every
    operation of a contract test the same id): refuse, rather than pass having tested one operation."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    import collections

    repeated = sorted(i for i, n in collections.Counter(item.nodeid for item in items).items() if n > 1)
    if repeated:
        message = (
            "these tests share one id and would run once in parallel: "
            + ", ".join(repeated)
            + " - run their files without -n (scripts/test.sh does)"
        )
        sys.stderr.write(message + "\n")  # xdist shows a worker's UsageError only as a crash
        raise pytest.UsageError(message)


@pytest.fixture(autouse=True)
def _clock_moved_ahead():
    """`make test` runs the suite a second time with the clock moved ahead (DERMATOX_TEST_CLOCK_AHEAD_DAYS):
    a test that only passes today, e.g. one with a fixed future date, fails there."""
    days = int(os.environ.get("DERMATOX_TEST_CLOCK_AHEAD_DAYS", "0") or 0)
    if not days:
        yield
        return
    import time_machine

    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=days), tick=True):
        yield


@pytest.fixture(autouse=True)
def _language_reset():
    """A page served in Turkish leaves Turkish active in the thread: the next test starts in the default."""
    yield
    from django.utils import translation

    translation.deactivate()
