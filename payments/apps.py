from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")

    def ready(self):
        from config import views
        from payments import checks, health  # noqa: F401 (checks registers the deploy checks)

        views.DETAIL["payments"] = health.state
