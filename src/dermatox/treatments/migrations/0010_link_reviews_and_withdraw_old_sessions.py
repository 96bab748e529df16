"""Records made before 0009: link each review a signing scheduled to its session (same patient, the
session's protocol, created by its signer within a minute of the signature), and give sessions already
marked entered in error the withdrawal of what their signing created — administrations, vial withdrawals,
open or booked reviews — with the session's who, when and why (treatments.actions.SessionWithdraw)."""

import datetime as dt

from django.db import migrations

WINDOW = dt.timedelta(minutes=1)


def forwards(apps, schema_editor):
    FollowUp = apps.get_model("treatments", "FollowUp")
    TreatmentSession = apps.get_model("treatments", "TreatmentSession")
    InjectionPoint = apps.get_model("treatments", "InjectionPoint")
    Withdrawal = apps.get_model("inventory", "Withdrawal")

    signed = TreatmentSession.objects.filter(status="signed", signed_at__isnull=False)
    for session in signed.iterator():
        FollowUp.objects.filter(
            session__isnull=True,
            patient_id=session.patient_id,
            source=f"protocol:{session.protocol}",
            created_by_id=session.signed_by_id,
            created_at__gte=session.signed_at - WINDOW,
            created_at__lte=session.signed_at + WINDOW,
        ).update(session=session)

    for session in signed.filter(entered_in_error_at__isnull=False).iterator():
        stamp = {
            "entered_in_error_at": session.entered_in_error_at,
            "entered_in_error_by_id": session.entered_in_error_by_id,
            "entered_in_error_reason": session.entered_in_error_reason,
        }
        given = InjectionPoint.objects.filter(session=session, withdrawal__isnull=False)
        Withdrawal.objects.filter(pk__in=given.values("withdrawal_id"), entered_in_error_at__isnull=True).update(
            **stamp
        )
        given.filter(entered_in_error_at__isnull=True).update(**stamp)
        FollowUp.objects.filter(
            session=session, entered_in_error_at__isnull=True, status__in=("open", "booked")
        ).update(**stamp)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0001_initial"),
        ("treatments", "0009_session_withdrawal"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
