from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "dermatox.audit"
    label = "audit"
