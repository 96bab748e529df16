from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "dermatox.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling"
