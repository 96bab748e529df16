from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "dermatox.assessments"
    label = "assessments"
