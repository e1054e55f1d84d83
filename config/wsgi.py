import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# What the shared cache keeps names the code's version (caching.keys): worked out once here,
# before gunicorn's workers are forked from this process (preload_app), not in each of them.
from caching.keys import code_version  # noqa: E402

code_version()
