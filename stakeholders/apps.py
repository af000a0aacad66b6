from django.apps import AppConfig


class StakeholdersConfig(AppConfig):
    name = "stakeholders"
