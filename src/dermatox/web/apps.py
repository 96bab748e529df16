from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "dermatox.web"
    label = "web"
