from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "dermatox.patients"
    label = "patients"
