"""Deployment checks for access PINs (run by `manage.py check --deploy`)."""

import hmac

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def check_pin_hash_key(app_configs, **kwargs):
    """PIN_HASH_KEY should be its own secret in production, so that SECRET_KEY can be rotated
    (or leak) without touching the PINs' hashes."""
    if settings.DEBUG or not hmac.compare_digest(
        str(settings.PIN_HASH_KEY).encode(), str(settings.SECRET_KEY).encode()
    ):
        return []
    return [
        checks.Warning(
            "PIN_HASH_KEY is the same as SECRET_KEY.",
            hint=(
                "Set PIN_HASH_KEY to its own random value. Unredeemed PINs are hashed under the "
                "current key: to keep them, set PIN_HASH_KEY to the current SECRET_KEY and give "
                "SECRET_KEY a new value instead (which logs everyone out)."
            ),
            id="access.W001",
        )
    ]
