"""Where the desk's pages live: in the admin, under the address of the model each is about
(admin/access/accesspin/for-buyer/, …), named as the admin names its pages
("admin:access_accesspin_for_buyer"), behind the admin's own log-in (`admin_view`: staff
only, never cached, CSRF-checked) and each view's declared permission. The ModelAdmins
mount them (their get_urls, access/admin.py)."""

from django.urls import path

from access.desk import views

PAGES = {
    "accesspin": [
        ("dashboard/", views.dashboard_view, "access_dashboard"),
        ("batches/", views.batches_view, "access_accesspin_batches"),
        ("batches/csv/", views.batch_csv_view, "access_accesspin_batch_csv"),
        ("batches/revoke/", views.batch_revoke_view, "access_accesspin_batch_revoke"),
        ("issue/", views.issue_view, "access_accesspin_issue"),
        ("for-buyer/", views.for_buyer_view, "access_accesspin_for_buyer"),
        ("<int:pk>/replace/", views.replace_view, "access_accesspin_replace"),
    ],
    "entitlement": [
        ("buyers.csv", views.buyers_csv_view, "access_entitlement_buyers_csv"),
    ],
    "announcement": [
        ("announce/<int:lesson_pk>/", views.announce_view, "access_announcement_announce"),
    ],
}


def patterns_for(model_admin) -> list:
    """The desk's pages under `model_admin`'s address."""
    wrap = model_admin.admin_site.admin_view
    return [
        path(route, wrap(view), name=name)
        for route, view, name in PAGES.get(model_admin.model._meta.model_name, [])
    ]
