"""The permission a custom admin view needs, declared where the view is written and checked
before it does anything (tests/config/test_admin_permissions.py walks every one of them). A
view is a function of the request (the seller's desk, access/desk/views.py) or a ModelAdmin's
method:

    @requires("access.view_dashboard")
    def dashboard_view(request): ...

    @requires("lessons.add_lesson", "lessons.change_lesson", any_of=True)
    def live_preview_view(self, request): ...

A user without it gets 403 whatever the method or the parameters, so a view cannot answer
"405" or "400" to someone who may not use it at all.
"""

import functools

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest


def requires(*permissions: str, any_of: bool = False):
    """The admin view (a function of the request, or a ModelAdmin method) needs all of
    `permissions` ("app_label.codename"), or one of them with `any_of`."""
    if not permissions:
        raise ValueError("name at least one permission")

    def decorate(view):
        @functools.wraps(view)
        def checked(*args, **kwargs):
            request = args[0] if isinstance(args[0], HttpRequest) else args[1]
            if not allowed(request.user, permissions, any_of=any_of):
                raise PermissionDenied
            return view(*args, **kwargs)

        checked.required_permissions = tuple(permissions)
        checked.permissions_any_of = any_of
        return checked

    return decorate


def allowed(user, permissions, *, any_of: bool = False) -> bool:
    check = any if any_of else all
    return user.is_active and user.is_staff and check(user.has_perm(p) for p in permissions)
