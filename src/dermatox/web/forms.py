"""Forms: field widgets and per-field messages. Rules live in the models, validators and services;
forms only shape input, so the same rules hold for the CLI and (later) the API."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator
from django.db.models import Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dermatox.assessments.models import Observation
from dermatox.clinical.observations import observation_types
from dermatox.clinical.reference import load
from dermatox.common.errors import InvalidInput
from dermatox.patients.models import (
    Allergy,
    Condition,
    Consent,
    Encounter,
    MedicationStatement,
    Note,
    Patient,
    PatientIdentifier,
    PregnancyStatus,
)
from dermatox.treatments.models import AdverseEvent, FollowUp, TreatmentCourse, TreatmentSession
from dermatox.web.labels import display

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
icd10_validator = RegexValidator(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$", _("must look like L64.9"))
snomed_validator = RegexValidator(r"^[0-9]{6,18}$", _("must be a SNOMED CT concept id (digits)"))


def apply_errors(form: forms.Form, exc: InvalidInput, field_map: dict[str, str] | None = None) -> None:
    """Put a service's field errors next to the form fields they belong to (`field_map`: service field ->
    form field where the names differ); the rest go on top of the form."""
    for name, msgs in (exc.fields or {"__all__": [exc.message]}).items():
        name = (field_map or {}).get(name, name)
        form.add_error(name if name in form.fields else None, msgs)


def vocabulary_choices(file_name: str, kind: str | None = None) -> list[tuple[str, str]]:
    rows = [r for r in load(file_name) if kind is None or r.get("kind") == kind]
    return [("", "—")] + [(r["id"], display(r)) for r in rows]


class PatientForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = [
            "given_name",
            "family_name",
            "sex_at_birth",
            "birth_date",
            "phone",
            "email",
            "address",
            "preferred_language",
        ]
        widgets = {"birth_date": DATE}


class PatientSearchForm(forms.Form):
    label_suffix = ""

    q = forms.CharField(label=_("Name"), required=False, max_length=100)
    birth_date = forms.DateField(label=_("Date of birth"), required=False, widget=DATE)
    identifier = forms.CharField(label=_("Record no. / ID"), required=False, max_length=64)


class IdentifierForm(forms.ModelForm):
    class Meta:
        model = PatientIdentifier
        fields = ["system", "value"]


class EncounterForm(forms.ModelForm):
    class Meta:
        model = Encounter
        fields = ["kind", "status", "start", "end", "reason"]
        widgets = {"start": DATETIME, "end": DATETIME}


class CodedForm(forms.ModelForm):
    """A record picked from a reference list (coded) or typed as free text."""

    vocabulary: str = ""
    vocabulary_kind: str | None = None
    text_field = "text"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"] = forms.ChoiceField(
            label=_("From list"),
            required=False,
            choices=vocabulary_choices(self.vocabulary, self.vocabulary_kind),
        )
        self.fields[self.text_field].required = False
        self.order_fields(["code", self.text_field])

    def clean(self):
        data = super().clean()
        code = data.get("code")
        if code:
            row = {r["id"]: r for r in load(self.vocabulary)}[code]
            data[self.text_field] = data.get(self.text_field) or row["display"]
            self.apply_codes(data, row)
        elif not data.get(self.text_field):
            self.add_error(self.text_field, _("Choose from the list or type a description."))
        return data

    def apply_codes(self, data: dict, row: dict) -> None:
        return None


class HistoryConditionForm(CodedForm):
    vocabulary, vocabulary_kind = "conditions.toml", "history"

    class Meta:
        model = Condition
        fields = ["text", "clinical_status", "onset_date"]
        widgets = {"onset_date": DATE}


class DiagnosisForm(CodedForm):
    vocabulary, vocabulary_kind = "conditions.toml", "diagnosis"
    icd10 = forms.CharField(label="ICD-10", required=False, max_length=10, validators=[icd10_validator])
    snomed = forms.CharField(label="SNOMED CT", required=False, max_length=20, validators=[snomed_validator])

    class Meta:
        model = Condition
        fields = ["text", "icd10", "snomed", "clinical_status", "onset_date"]
        widgets = {"onset_date": DATE}

    def apply_codes(self, data, row):
        data["icd10"] = row.get("icd10", "")
        data["snomed"] = row.get("snomed", "")


class MedicationForm(CodedForm):
    vocabulary, text_field = "medications.toml", "name"

    class Meta:
        model = MedicationStatement
        fields = ["name", "dose", "status", "start_date", "end_date"]
        widgets = {"start_date": DATE, "end_date": DATE}


class AllergyForm(CodedForm):
    vocabulary, text_field = "allergens.toml", "substance"

    class Meta:
        model = Allergy
        fields = ["substance", "reaction", "criticality"]


class PregnancyForm(forms.ModelForm):
    class Meta:
        model = PregnancyStatus
        fields = ["pregnant", "trimester", "breastfeeding", "can_become_pregnant", "recorded_on"]
        widgets = {"recorded_on": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recorded_on"].initial = timezone.localdate()


class ConsentForm(forms.ModelForm):
    class Meta:
        model = Consent
        fields = ["kind", "decision", "scope", "signer_name", "signed_at"]
        widgets = {"signed_at": DATETIME}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["signed_at"].initial = timezone.localtime().replace(second=0, microsecond=0)


class PatientEncounterChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{timezone.localtime(obj.start):%Y-%m-%d %H:%M} · {obj.get_kind_display()}"


class _EncounterLinked(forms.ModelForm):
    def __init__(self, *args, patient: Patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["encounter"] = PatientEncounterChoice(
            label=_("Visit"),
            required=False,
            # The 30 latest visits; a subquery, because a sliced queryset cannot validate a choice.
            queryset=Encounter.objects.filter(
                pk__in=Subquery(
                    Encounter.objects.current().filter(patient=patient).order_by("-start").values("pk")[:30]
                )
            ).order_by("-start"),
        )


class NoteForm(_EncounterLinked):
    class Meta:
        model = Note
        fields = ["encounter", "kind", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 6})}


class ObservationForm(_EncounterLinked):
    code = forms.ChoiceField(label=_("Measurement"))
    value = forms.CharField(label=_("Value"), max_length=32)
    effective_at = forms.DateTimeField(label=_("Measured at"), widget=DATETIME)

    class Meta:
        model = Observation
        fields = ["encounter", "code", "value", "effective_at", "method", "body_site", "device", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = [
            (t.id, display(t) + (f" [{t.unit}]" if t.unit else "")) for t in observation_types().values()
        ]
        self.fields["effective_at"].initial = timezone.localtime().replace(second=0, microsecond=0)


class FollowUpForm(forms.ModelForm):
    class Meta:
        model = FollowUp
        fields = ["due_date", "reason", "source"]
        widgets = {"due_date": DATE}


class TreatmentCourseForm(forms.ModelForm):
    treatment = forms.ChoiceField(label=_("Treatment"))

    class Meta:
        model = TreatmentCourse
        fields = ["treatment", "weeks", "outcome", "ended_on", "note"]
        widgets = {"ended_on": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["treatment"].choices = [
            (r["id"], display(r)) for r in load("treatments.toml") if r["area"] == "acne"
        ]


class AdverseEventForm(forms.ModelForm):
    class Meta:
        model = AdverseEvent
        fields = ["session", "kind", "severity", "onset", "outcome", "note"]
        widgets = {"onset": DATE}

    def __init__(self, *args, patient: Patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = (
            TreatmentSession.objects.current().filter(patient=patient).order_by("-created_at")
        )
        self.fields["session"].required = False


class EnteredInErrorForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is this record wrong?"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )


class AuditFilterForm(forms.Form):
    patient = forms.CharField(label=_("Patient record no."), required=False, max_length=32)
    user = forms.CharField(label=_("User"), required=False, max_length=150)
    action = forms.CharField(label=_("Action"), required=False, max_length=60)
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE)


class EmergencyAccessForm(forms.Form):
    """Break-the-glass request. The rules (reason length, duration bounds) are the service's; the form only
    shapes the input, so every field is optional here and the service names what is missing."""

    patient_ref = forms.CharField(
        label=_("Record no. or national ID"),
        required=False,
        max_length=64,
        help_text=_("The exact number: other clinics' patients cannot be browsed or searched by name."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why you need this record now. It is kept in the audit trail and shown to the managers."),
    )
    minutes = forms.IntegerField(label=_("Duration (minutes)"), required=False, min_value=1)
