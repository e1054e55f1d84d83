import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)  # as get_asgi_application() does

from config.handlers import ASGIHandler  # noqa: E402 (after the apps are set up)

# Django's, each address resolved once per worker (config/handlers.py).
application = ASGIHandler()
