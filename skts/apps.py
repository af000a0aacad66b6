from django.apps import AppConfig


class SktsConfig(AppConfig):
    name = "skts"
