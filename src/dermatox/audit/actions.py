"""Every audit action, registered once with what it records: `audit_record` refuses a name not listed here
(in tests; production logs it and still records), docs/audit-actions.md is this table, and names built from
a record's kind come from `action()` over a listed family — never from an f-string at the call site."""

from __future__ import annotations

import logging

from django.conf import settings

log = logging.getLogger(__name__)

# Records a user may mark entered in error, by model name (ClinicalRecord subclasses).
CLINICAL_MODELS = (
    "patient",
    "patientidentifier",
    "encounter",
    "condition",
    "medicationstatement",
    "allergy",
    "pregnancystatus",
    "consent",
    "note",
    "observation",
    "followup",
    "treatmentcourse",
    "treatmentsession",
    "injectionpoint",
    "adverseevent",
    "externaltoxindose",
    "assessmentsnapshot",
    "withdrawal",
    "intakeform",
    "appointment",
)
RECORD_FORMS = (
    "identifier",
    "encounter",
    "history",
    "diagnosis",
    "medication",
    "allergy",
    "pregnancy",
    "consent",
    "note",
    "observation",
    "treatment_course",
    "adverse_event",
    "follow_up",
)
CONSENT_KINDS = ("treatment", "photography", "photo_teaching_marketing")
CONSENT_DECISIONS = ("granted", "refused", "withdrawn")
REMINDER_KINDS = ("appointment", "recall")
REMINDER_STATUSES = ("sent", "failed", "skipped_no_email", "skipped_cancelled")
TRANSFER_KINDS = ("patients", "toxin", "observations")

# Families: a name pattern, the values of its one placeholder ({0}) or two ({0}.{1}), and what it records.
FAMILIES: dict[str, tuple[tuple[str, ...], str]] = {
    "{0}.entered_in_error": ((CLINICAL_MODELS,), "A record marked entered in error (the reason stays on it)"),
    "{0}.view_for_correction": ((CLINICAL_MODELS,), "A record opened to mark it entered in error"),
    "patient.view_for_{0}": ((RECORD_FORMS,), "A patient shown on the form that adds that kind of record"),
    "patient.view_for_{0}_examination": ((("hair", "skin"),), "A patient shown on an examination form"),
    "appointment.calendar_{0}": ((("day", "week"),), "The calendar shown (the appointments of the days)"),
    "reminder.{0}.{1}": ((REMINDER_KINDS, REMINDER_STATUSES), "A reminder sent, failed or not sent, and why"),
    "import.{0}": ((TRANSFER_KINDS,), "A CSV file imported (rows written, patients named)"),
    "export.{0}": ((TRANSFER_KINDS,), "A CSV export of the clinic (patients named)"),
    "condition.add.{0}": ((("history", "diagnosis"),), "A medical-history item or diagnosis added"),
    "consent.{0}.{1}": ((CONSENT_KINDS, CONSENT_DECISIONS), "A consent recorded, by kind and decision"),
    "vial.{0}": ((("administered", "wasted"),), "Units taken from a vial: given to a patient, or wasted"),
}

ACTIONS: dict[str, str] = {
    # sign-in and accounts
    "auth.login": "A user signed in",
    "auth.login_failed": "A sign-in refused (wrong password, locked, inactive)",
    "auth.logout": "A user signed out",
    "auth.clinic_choose": "A user chose the clinic to work in",
    "auth.password_changed": "A user changed their password",
    "auth.password_reset": "An administrator reset a user's password (change forced at next sign-in)",
    "auth.second_factor_enrolled": "A user set up their second factor",
    "auth.second_factor_verified": "A second-factor code accepted",
    "auth.second_factor_failed": "A second-factor code refused",
    "auth.second_factor_reset": "A user's second factor removed by an administrator",
    "auth.recovery_codes_renewed": "A user's recovery codes replaced",
    "auth.signed_out_everywhere": "Every session of a user ended",
    "accounts.member_deactivated": "A staff member's membership of the clinic deactivated",
    "accounts.member_reactivated": "A staff member's membership of the clinic reactivated",
    "user.create": "A staff account created",
    "clinic.create": "A clinic created",
    "clinic.second_factor_required": "A clinic's second-factor requirement changed",
    "api_token.create": "An API token issued",
    "api_token.list": "The API tokens listed",
    "api_token.revoke": "An API token revoked",
    "api_token.rotate": "An API token replaced by a new one",
    # patients
    "patient.create": "A patient registered",
    "patient.update": "A patient's details changed",
    "patient.view": "A patient's record (or a section of it) shown",
    "patient.list": "The clinic's recent patients listed",
    "patient.search": "A patient search (the patients found are named)",
    "patient.view_versions": "A patient record's versions shown",
    "patient.view_for_edit": "A patient shown on the edit form",
    "patient.view_for_booking": "A patient shown on the booking form",
    "patient.view_for_intake": "A patient shown to start an intake",
    "patient.view_for_labs": "A patient shown on the lab results form",
    "patient.view_for_lab_flag": "A lab value flagged against the patient's record",
    "patient.view_for_session": "A patient shown to start a toxin session",
    "patient.export_case": "A patient's case exported for the rules",
    "patient.emergency_access": "Emergency access to another clinic's patient opened (with its reason)",
    "patient.emergency_access_end": "Emergency access ended",
    "patient.emergency_access_refused": "Emergency access refused",
    "patient.emergency_access_list": "The clinic's emergency accesses listed",
    "identifier.add": "An identifier added to a patient",
    "encounter.create": "A visit recorded",
    "observation.record": "A measurement recorded",
    "medication.add": "A medication added",
    "allergy.add": "An allergy added",
    "pregnancy_status.record": "A pregnancy status recorded",
    "note.add": "A clinical note written",
    "treatment_course.record": "An earlier treatment course recorded",
    "external_toxin_dose.record": "A toxin dose given elsewhere recorded",
    "adverse_event.record": "An adverse event recorded",
    # assessments and documents
    "assessment.view": "The assessment page shown",
    "assessment.sign": "An assessment signed",
    "plan.export_pdf": "A treatment plan printed",
    "visit.export_pdf": "A visit summary printed",
    "aftercare.export_pdf": "Aftercare instructions printed",
    "intake.export_pdf": "An intake form printed",
    "clinic.view_outcomes": "The clinic's outcome figures shown",
    # toxin sessions and stock
    "session.create": "A toxin session started",
    "session.view": "A toxin session shown",
    "session.point": "An injection point added, moved or re-dosed",
    "session.vial": "The vial of a session chosen",
    "session.note": "A session note changed",
    "session.sign": "A toxin session signed (units deducted, administrations recorded)",
    "session.administrations_withdrawn": "A withdrawn session's administrations and open reviews withdrawn with it",
    "lot.receive": "A lot of toxin received",
    "lot.recall": "A lot recall run (the patients listed are named)",
    "vial.open": "A vial reconstituted",
    "vial.discard": "A vial discarded (what was left recorded as waste)",
    "vial.returned": "A withdrawn session's units put back into its vial",
    "stock.view": "The stock page shown",
    "stock.policy": "The clinic's stock policy changed",
    # follow-ups, booking, intake
    "follow_up.create": "A follow-up added (by hand, by an assessment or by a signed session)",
    "follow_up.status": "A follow-up's status changed",
    "recall.list": "The recall worklist shown (the patients shown are named)",
    "appointment.view": "An appointment shown",
    "appointment.book": "An appointment booked",
    "appointment.reschedule": "An appointment moved",
    "appointment.cancel": "An appointment cancelled",
    "appointment.status": "An appointment's status changed (arrived, seen, no-show)",
    "appointment.export_ics": "An appointment exported as a calendar file",
    "intake.start": "An intake link made for a patient",
    "intake.open": "An intake form opened on the tablet",
    "intake.submit": "An intake form submitted by the patient",
    "intake.view": "A submitted intake shown",
    "intake.confirm": "An intake confirmed into the record",
    "intake.cancel": "An intake discarded",
    # interfaces
    "fhir.read": "A FHIR resource read",
    "fhir.search": "A FHIR search (the patients disclosed are named)",
    "fhir.history": "A FHIR resource's history read",
    "bulk.export_kickoff": "A bulk export started",
    "bulk.export_download": "A bulk export file downloaded (its patients are named)",
    "bulk.export_cancel": "A bulk export cancelled",
    "bulk.export_delete": "A bulk export deleted",
    "cds.prefetch": "Data the CDS service fetched from this FHIR server for a hook",
    # the trail itself, demo
    "audit.view": "The audit trail shown",
    "demo.load": "Demo data loaded",
}


def _expand() -> dict[str, str]:
    out = dict(ACTIONS)
    for pattern, (values, meaning) in FAMILIES.items():
        if len(values) == 1:
            out |= {pattern.format(v): meaning for v in values[0]}
        else:
            out |= {pattern.format(a, b): meaning for a in values[0] for b in values[1]}
    return out


REGISTRY: dict[str, str] = _expand()


def action(pattern: str, *values: str) -> str:
    """The registered name of a family member: `action("{0}.entered_in_error", "observation")`."""
    if pattern not in FAMILIES:
        raise KeyError(f"not an audit action family: {pattern}")
    name = pattern.format(*values)
    if name not in REGISTRY:
        raise KeyError(f"unregistered audit action: {name}")
    return name


def check_registered(name: str) -> None:
    """Refuse an unregistered action in tests and development; in production log it (the entry is still
    written: an audit must never be lost for want of a name)."""
    if name in REGISTRY:
        return

    if getattr(settings, "DERMATOX_STRICT_AUDIT_ACTIONS", settings.DEBUG):
        raise ValueError(f"unregistered audit action {name!r}: add it to dermatox/audit/actions.py")
    log.error("unregistered audit action %r", name)


def markdown_table() -> str:
    """docs/audit-actions.md: every action and what it records (tests/audit/test_actions.py keeps the file
    equal to this)."""
    rows = [
        "# Audit actions",
        "",
        "Every action the audit trail records, from `src/dermatox/audit/actions.py` (the registry `audit_record`",
        "checks). Names made from a record's kind are listed one by one.",
        "",
        "| Action | What it records |",
        "|---|---|",
    ]
    rows += [f"| `{name}` | {meaning} |" for name, meaning in sorted(REGISTRY.items())]
    return "\n".join(rows) + "\n"
