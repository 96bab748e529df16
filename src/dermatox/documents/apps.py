from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "dermatox.documents"
    label = "documents"
