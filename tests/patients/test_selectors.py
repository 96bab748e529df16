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
