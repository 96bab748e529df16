from django.apps import AppConfig


class ChartConfig(AppConfig):
    """Composed reads above the apps; no models. At start-up it hands the case builder to treatments, whose
    plan check (and so signing) reads the case without importing upward."""

    name = "dermatox.chart"
    label = "chart"

    def ready(self):
        from dermatox.chart.case_builder import build_case
        from dermatox.treatments.services import case_builder_register

        case_builder_register(build_case)
