from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "dermatox.accounts"
    label = "accounts"

    def ready(self) -> None:
        from dermatox.accounts import signals  # noqa: F401  (login/logout audit)
