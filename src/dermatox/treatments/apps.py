from django.apps import AppConfig


class TreatmentsConfig(AppConfig):
    name = "dermatox.treatments"
    label = "treatments"
