from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "dermatox.inventory"
    label = "inventory"
