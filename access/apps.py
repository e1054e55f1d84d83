from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = _("Access")

    def ready(self):
        from access import checks  # noqa: F401 (registers the deployment checks)
        from access.offer import extends

        extends.register()  # the offer's part of lessons' importer and render_lessons
