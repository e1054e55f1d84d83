from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")

    def ready(self):
        from access import dashboard_extras
        from access.offer import actions
        from config import views
        from payments import checks, health, revenue  # noqa: F401 (checks: the deploy checks)

        views.DETAIL["payments"] = health.state
        actions.register("payments/_pay_button.html")  # beside the DM button of every offer
        dashboard_extras.register_section("payments/_dashboard_include.html")
        dashboard_extras.register_income(revenue.income)  # in the headline's revenue
