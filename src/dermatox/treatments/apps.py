from django.apps import AppConfig


class TreatmentsConfig(AppConfig):
    name = "dermatox.treatments"
    label = "treatments"

    def ready(self):
        from dermatox.audit.writes import register_withdrawal
        from dermatox.treatments.actions import session_withdraw
        from dermatox.treatments.models import TreatmentSession

        register_withdrawal(TreatmentSession, session_withdraw)
