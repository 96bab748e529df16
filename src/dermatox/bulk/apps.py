from django.apps import AppConfig


class BulkConfig(AppConfig):
    name = "dermatox.bulk"
    label = "bulk"
    verbose_name = "FHIR bulk export"
