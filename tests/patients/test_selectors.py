import pytest

from dermatox.accounts.roles import Role
from dermatox.audit.models import AuditEntry
from dermatox.common.errors import NotFound, PermissionDenied
from dermatox.patients.selectors import patient_get, patient_search
from dermatox.patients.services import patient_create

pytestmark = pytest.mark.django_db


def test_search_by_name_folds_case_and_turkish_letters(physician, patient):
    for text in ["ipek", "İPEK", "sahin", "Şahin ipek", "IPEK SAHIN"]:
        assert patient_search(actor=physician, text=text) == [patient], text
    assert patient_search(actor=physician, text="mehmet") == []


def test_search_by_birth_date_and_identifier(physician, patient):
    assert patient_search(actor=physician, birth_date=patient.birth_date) == [patient]
    assert patient_search(actor=physician, identifier="12345678901") == [patient]
    assert patient_search(actor=physician, identifier=patient.mrn.lower()) == [patient]
    assert patient_search(actor=physician, identifier="999") == []


def test_search_and_get_never_cross_clinics(staff, actor_for, patient):
    other = actor_for(staff["physician_b"])
    patient_create(
        actor=other,
        data={
            "given_name": "İpek",
            "family_name": "Başka",
            "sex_at_birth": "female",
            "birth_date": "1991-01-01",
        },
    )
    found = patient_search(actor=other, text="ipek")
    assert [p.family_name for p in found] == ["Başka"]
    with pytest.raises(NotFound):
        patient_get(actor=other, patient_id=patient.pk)
    with pytest.raises(NotFound):
        patient_get(actor=other, patient_id="not-a-uuid")


def test_every_read_is_audited(physician, patient):
    patient_get(actor=physician, patient_id=patient.pk)
    patient_search(actor=physician, text="ipek")
    view = AuditEntry.objects.filter(action="patient.view").get()
    assert (view.patient_id, view.actor_username, view.clinic_id) == (
        patient.pk,
        "physician_a",
        physician.clinic.pk,
    )
    search = AuditEntry.objects.filter(action="patient.search").get()
    assert search.detail["text"] == "ipek" and search.detail["results"] == 1


def test_sysadmin_sees_no_patients(staff, actor_for, patient):
    with pytest.raises(PermissionDenied):
        patient_search(actor=actor_for(staff[Role.SYSADMIN]), text="ipek")


def _named(actor, given: str, family: str):
    return patient_create(
        actor=actor,
        data={
            "given_name": given,
            "family_name": family,
            "sex_at_birth": "female",
            "birth_date": "1985-05-05",
        },
    )


def test_lists_and_searches_share_one_order_name_then_record_number(physician):
    """Web search, REST page and FHIR search list patients by family name, given name, then record number
    (unique in the clinic), whether or not a name was searched (the search orders by an expression so
    PostgreSQL can use the trigram index: the order must not change with it)."""
    from dermatox.api.reads import patients_page
    from dermatox.fhir.selectors import SPECS

    created = [_named(physician, g, f) for g, f in [("Ada", "Yıldız"), ("Ada", "Arslan"), ("Ada", "Yıldız")]]
    created.append(_named(physician, "Bora", "Arslan"))
    expected = sorted(created, key=lambda p: (p.family_name, p.given_name, p.mrn))
    assert patient_search(actor=physician) == expected
    assert patient_search(actor=physician, text="ada") == [p for p in expected if p.given_name == "Ada"]
    assert patients_page(actor=physician, text="a").items == expected
    assert patients_page(actor=physician).items == expected
    fhir = SPECS["Patient"]
    assert list(fhir.queryset(physician).current().order_by(*fhir.order)) == expected


def test_name_search_has_its_trigram_index_on_postgresql(db):
    """Migration patients/0005 creates the trigram index the name search relies on at chain scale."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":  # SQLite scans (fast at its sizes): the migration adds nothing
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'patient_search_name_trgm'")
            assert cursor.fetchone() == (0,)
            return
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'patient_search_name_trgm'")
        (definition,) = cursor.fetchone()
    assert "gin_trgm_ops" in definition
