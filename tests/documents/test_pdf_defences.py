"""Each defence of issue 12 §1.2 on its own, so that losing one is caught even while the others hold:
the fetcher (nothing but static files and data:), css_string (no way out of a CSS string), the text
cleaning at the service boundary, and one renderer for every PDF."""

import base64
import datetime as dt
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import tinycss2
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from weasyprint.urls import URLFetcher

from dermatox.accounts.services import clinic_create, user_create
from dermatox.assessments.services import observation_record
from dermatox.common.context import Actor
from dermatox.common.text import clean_line, clean_multiline
from dermatox.documents import fetcher, pdf
from dermatox.documents.fetcher import BASE_URL, RefusedURL, StaticOnlyFetcher, static_file
from dermatox.documents.templatetags.answers import css_string
from dermatox.inventory.services import lot_receive
from dermatox.patients.services import patient_create
from tests.dates import FAR_EXPIRY
from tests.documents.conftest import SECRET, breakout
from tests.pdf import pdf_text

SRC = Path(__file__).resolve().parents[2] / "src" / "dermatox"


def _html_with(*urls_and_tags: str) -> str:
    return "<html><head><style>{}</style></head><body><p>BODY-TEXT</p>{}</body></html>".format(*urls_and_tags)


def test_the_renderer_loads_data_urls_but_no_network_and_no_local_file(monkeypatch, listener, secret_file):
    port, arrived = listener
    drawn = base64.b64encode(
        b'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="30"><text y="20">DATA-URL-OK</text></svg>'
    ).decode()
    style = (
        f"@import url(http://127.0.0.1:{port}/import); "
        f"@page {{ @top-center {{ content: url(http://127.0.0.1:{port}/margin) url(file://{secret_file}); }} }} "
        f"body {{ background: url(ftp://127.0.0.1:{port}/ftp); }}"
    )
    tags = (
        f'<img src="file://{secret_file}"><img src="http://127.0.0.1:{port}/img">'
        f'<img src="https://127.0.0.1:{port}/tls"><img src="/../../{secret_file}">'
        f'<link rel="stylesheet" href="http://127.0.0.1:{port}/css">'
        f'<img src="data:image/svg+xml;base64,{drawn}">'
    )
    monkeypatch.setattr(pdf, "render_to_string", lambda *_a, **_k: _html_with(style, tags))
    text = pdf_text(pdf.render_pdf("documents/base.html", {}, language="en"))
    assert arrived == []
    assert SECRET not in text
    assert "BODY-TEXT" in text and "DATA-URL-OK" in text


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:1/x",
        "https://example.org/x",
        "ftp://127.0.0.1/x",
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "https://dermatox-static.invalid/static/../settings/base.py",
        "https://dermatox-static.invalid/static/%2e%2e/%2e%2e/settings/base.py",
        "https://dermatox-static.invalid/static//etc/passwd",
        "https://dermatox-static.invalid/static/web/../../../../../../etc/passwd",
        "https://dermatox-static.invalid/static/web\\..\\..\\settings\\base.py",
        "https://dermatox-static.invalid/etc/passwd",
        "https://dermatox-static.invalid.evil.example/static/web/dermatox.css",
        "https://user@dermatox-static.invalid:443/static/web/dermatox.css",
        "/static/web/dermatox.css",
    ],
)
def test_the_fetcher_refuses_everything_but_the_apps_static_files(url):
    with pytest.raises(RefusedURL):
        StaticOnlyFetcher().fetch(url)


def test_the_fetcher_serves_a_static_file_from_the_app_folders():
    response = StaticOnlyFetcher().fetch(BASE_URL + "static/web/dermatox.css")
    assert response.read() == (SRC / "web/static/web/dermatox.css").read_bytes()
    assert response.content_type == "text/css"
    assert static_file("/static/web/nothing-here.css") is None


def test_only_the_shared_renderer_calls_weasyprint():
    """One renderer, one fetcher: a new PDF view that called WeasyPrint itself would miss the fetcher."""
    users = [
        path.relative_to(SRC).as_posix()
        for path in SRC.rglob("*.py")
        if re.search(r"^\s*(from|import) weasyprint", path.read_text(), re.MULTILINE)
    ]
    assert sorted(users) == ["documents/fetcher.py", "documents/pdf.py"]


def _css_string_value(escaped: str):
    tokens = [t for t in tinycss2.parse_component_value_list(f'"{escaped}"') if t.type != "whitespace"]
    return tokens


@given(st.text())
def test_css_string_always_gives_one_css_string_with_the_text(text):
    tokens = _css_string_value(css_string(text))
    assert len(tokens) == 1 and tokens[0].type == "string", tokens
    expected = re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]", " ", text)
    assert tokens[0].value == expected


@pytest.mark.parametrize("end", ["\r", "\f", "\n", "\r\n", "\x0b", "\u2028", '"', "\\", "</style>"])
def test_css_string_alone_stops_the_breakout(monkeypatch, listener, secret_file, end):
    """With WeasyPrint's own permissive fetcher, an uncleaned name still cannot leave its CSS string."""
    port, arrived = listener
    monkeypatch.setattr(fetcher, "StaticOnlyFetcher", URLFetcher)
    given_name, family_name = breakout(port, "css", secret_file, end=end)
    name = f"{given_name} {family_name}"
    context = {
        "clinic": SimpleNamespace(name=name),
        "patient": SimpleNamespace(display_name="Ayla", mrn="AAA-1", birth_date=dt.date(1980, 1, 2)),
        "patient_line": name,
        "printed_at": timezone.now(),
    }
    text = pdf_text(pdf.render_pdf("documents/base.html", context, language="en"))
    assert arrived == []
    assert SECRET not in text and "Ayla" in text


def test_clean_line_and_multiline():
    assert clean_line("Ay\rla\f \u202eKaya\u0000\x85") == "Ay la Kaya"
    assert clean_line("  kept  as is  ") == "  kept  as is  "  # nothing to clean: untouched
    assert clean_multiline("line 1\r\nline 2\rline 3\x0c\u2066x") == "line 1\nline 2\nline 3  x"
    assert clean_multiline("a\tb\nc") == "a\tb\nc"


@pytest.mark.django_db
def test_every_kind_of_name_is_cleaned_where_it_is_written(physician, nurse, clinics):
    bad = "Ev\rvel\f\u202e\x00"
    patient = patient_create(
        actor=physician,
        data={
            "given_name": bad,
            "family_name": "Ok\x1b[31m",
            "sex_at_birth": "male",
            "birth_date": "1980-01-02",
        },
    )
    assert (patient.given_name, patient.family_name) == ("Ev vel", "Ok [31m")
    assert patient.search_name == "ev vel ok [31m"
    obs = observation_record(actor=nurse, patient=patient, code="daily_shedding", value=90, body_site=bad)
    assert obs.body_site == "Ev vel"
    system = Actor.system()
    assert clinic_create(actor=system, name=bad, code="ccx").name == "Ev vel"
    user = user_create(actor=system, username="clean1", password="a-Long-pass-phrase-9", full_name=bad)
    assert user.full_name == "Ev vel"
    lot = lot_receive(
        actor=nurse,
        product="onabotulinumtoxinA",
        lot_number="L1\r\f",
        expiry=FAR_EXPIRY,
        vial_units=100,
        vials=1,
    )
    assert lot.lot_number == "L1"
