"""Content-Security-Policy with nonces, Permissions-Policy and `Cache-Control: no-store` on every answer that
can carry patient data (page, PDF, .ics, REST, FHIR, bulk file); static files still cache; templates hold
no script or style the policy would block; the API docs load nothing from another host."""

import re
from pathlib import Path

import pytest
from django.utils import timezone

from dermatox.accounts.roles import Role
from dermatox.accounts.tokens import api_token_create
from dermatox.bulk.models import BulkExportJob
from dermatox.bulk.services import export_run
from dermatox.common.context import Actor
from dermatox.patients.services import encounter_create
from tests.scheduling.helpers import (
    at,
    book,
    clock,  # noqa: F401 (fixture: booking needs the scheduling clock)
    days,
)
from tests.web.test_outcomes_and_documents import treated_man  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

SRC = Path(__file__).resolve().parents[2] / "src" / "dermatox"
TEMPLATES = sorted(SRC.glob("**/templates/**/*.html"))
WEB_TEMPLATES = [t for t in TEMPLATES if "/documents/templates/" not in str(t)]  # documents: PDF only


def policy(response) -> dict[str, list[str]]:
    directives = [d.strip().split() for d in response["Content-Security-Policy"].split(";") if d.strip()]
    return {d[0]: d[1:] for d in directives}


def assert_private(response):
    assert response["Cache-Control"] == "no-store", response.get("Cache-Control")
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    assert "microphone=()" in response["Permissions-Policy"]


def bearer(user, clinic, scopes):
    _token, secret = api_token_create(
        actor=Actor.system(clinic=clinic),
        clinic=clinic,
        user=user,
        name="h",
        role=Role.PHYSICIAN,
        scopes=scopes,
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_a_page_has_a_nonce_policy_and_no_store(login, staff, patient, client):
    login(staff[Role.PHYSICIAN])
    response = client.get(f"/patients/{patient.pk}/")
    assert response.status_code == 200
    assert_private(response)
    csp = policy(response)
    assert csp["default-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    for directive in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in csp[directive] and "'unsafe-eval'" not in csp[directive]
        assert set(csp[directive]) <= {"'self'"} | {s for s in csp[directive] if s.startswith("'nonce-")}


def test_the_nonce_in_the_header_is_the_one_on_the_pages_inline_style(
    login,
    staff,
    physician,
    patient,
    client,
    clock,  # noqa: F811
):
    book(physician, patient, at(days(1), 10))
    login(staff[Role.PHYSICIAN])
    response = client.get(f"/schedule/?date={days(1).isoformat()}")
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    page = response.content.decode()
    assert f'<style nonce="{nonce}">' in page and "style=" not in page
    # A second response gets a fresh nonce.
    again = client.get(f"/schedule/?date={days(1).isoformat()}")
    assert nonce not in again["Content-Security-Policy"]


def test_a_pdf_is_not_stored(login, staff, physician, client, treated_man):  # noqa: F811
    man, _session, _later = treated_man
    visit = encounter_create(
        actor=physician, patient=man, data={"kind": "consultation", "start": timezone.now()}
    )
    login(staff[Role.PHYSICIAN])
    pdf = client.get(f"/patients/{man.pk}/visits/{visit.pk}/summary.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert_private(pdf)


def test_an_ics_file_is_not_stored(login, staff, physician, patient, client, clock):  # noqa: F811
    login(staff[Role.PHYSICIAN])
    appointment = book(physician, patient, at(days(1), 11))
    ics = client.get(f"/schedule/appointments/{appointment.pk}/ics/")
    assert ics.status_code == 200 and ics["Content-Type"].startswith("text/calendar")
    assert_private(ics)


def test_rest_and_fhir_answers_are_not_stored(client, staff, clinics, patient):
    auth = bearer(staff[Role.PHYSICIAN], clinics[0], ["read"])
    rest = client.get(f"/api/patients/{patient.pk}", **auth)
    assert rest.status_code == 200 and rest.json()["given_name"] == "İpek"
    assert_private(rest)
    fhir = client.get(f"/fhir/Patient/{patient.pk}", **auth)
    assert fhir.status_code == 200
    assert_private(fhir)
    assert_private(client.get("/api/patients"))  # errors too (401)


def test_a_bulk_export_file_is_not_stored(
    client, staff, clinics, patient, django_capture_on_commit_callbacks
):
    auth = {
        **bearer(staff[Role.PHYSICIAN], clinics[0], ["read", "export"]),
        "HTTP_PREFER": "respond-async",
        "HTTP_ACCEPT": "application/fhir+json",
    }
    with django_capture_on_commit_callbacks(execute=True):
        kickoff = client.get("/fhir/Patient/$export", **auth)
    assert kickoff.status_code == 202
    assert_private(kickoff)
    export_run(str(BulkExportJob.objects.get().pk))
    manifest = client.get(kickoff["Content-Location"], **auth)
    assert_private(manifest)
    url = next(o["url"] for o in manifest.json()["output"] if o["type"] == "Patient")
    ndjson = client.get(url, **auth)
    assert ndjson.status_code == 200 and b"\xc4\xb0pek" in b"".join(ndjson.streaming_content)
    assert_private(ndjson)


def test_static_files_keep_their_caching(client):
    response = client.get("/static/web/dermatox.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
    assert "Content-Security-Policy" not in response


def test_the_api_docs_load_everything_from_this_site(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.content.decode()
    hosts = re.findall(r"""(?:src|href)=["']((?:https?:)?//[^"']+)""", html)
    assert hosts == [], hosts
    for asset in re.findall(r"""(?:src|href)=["'](/static/[^"']+)""", html):
        assert client.get(asset).status_code == 200, asset
    assert "swagger-ui-bundle.js" in html
    assert '"validatorUrl": null' in html  # no badge image fetched from swagger.io


# --- templates -----------------------------------------------------------------------------------------------

SCRIPT = re.compile(r"<script\b([^>]*)>", re.I)
HANDLER = re.compile(r"""<[a-z][^>]*\son[a-z]+\s*=""", re.I | re.S)
STYLE_ATTRIBUTE = re.compile(r"""<[a-z][^>]*\sstyle\s*=""", re.I | re.S)
STYLE_ELEMENT = re.compile(r"<style\b([^>]*)>", re.I)
NONCE = 'nonce="{{ request.csp_nonce }}"'


def test_the_scan_finds_templates():
    assert len(TEMPLATES) > 40 and any(t.name == "base.html" for t in WEB_TEMPLATES)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: str(t.relative_to(SRC)))
def test_no_template_has_an_inline_script_without_the_nonce_or_an_inline_handler(template):
    text = template.read_text()
    for attributes in SCRIPT.findall(text):
        assert "src=" in attributes or NONCE in attributes, f"inline <script{attributes}> without the nonce"
    assert not HANDLER.search(text), "inline event handler (on…=): use a static script"


@pytest.mark.parametrize("template", WEB_TEMPLATES, ids=lambda t: str(t.relative_to(SRC)))
def test_no_page_template_has_a_style_attribute_or_a_style_element_without_the_nonce(template):
    text = template.read_text()
    assert not STYLE_ATTRIBUTE.search(text), "style attribute: use a class in dermatox.css"
    for attributes in STYLE_ELEMENT.findall(text):
        assert NONCE in attributes, "<style> without the nonce"


def test_the_scans_catch_what_they_look_for():
    assert HANDLER.search('<input onclick="this.select()">') and not HANDLER.search('<a data-on="x">')
    assert STYLE_ATTRIBUTE.search('<div class="x"\n style="top:1%">') and not STYLE_ATTRIBUTE.search(
        "<style>"
    )
    assert SCRIPT.findall("<script>alert(1)</script>") == [""]


def test_outcome_plots_carry_no_styles_the_policy_would_block(login, staff, treated_man):  # noqa: F811
    man, _session, _later = treated_man
    page = login(staff[Role.PHYSICIAN]).get(f"/patients/{man.pk}/outcomes/").content.decode()
    assert "<svg" in page and "<style" not in page and "style=" not in page
    assert 'stroke-dasharray="' in page  # the session line, as a presentation attribute
