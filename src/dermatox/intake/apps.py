from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "dermatox.intake"
    label = "intake"
    verbose_name = "Patient intake"
