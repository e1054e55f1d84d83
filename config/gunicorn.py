"""gunicorn settings; every value can be overridden from the environment.

gunicorn -c config/gunicorn.py config.wsgi
"""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, not every few seconds: a new worker starts with empty
# in-memory caches (kept pages, kept parts of pages), so recycling often costs every worker
# its warm-up again and again under load.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 50_000))
max_requests_jitter = max_requests // 10
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
preload_app = True
# gunicorn opens a control socket for `gunicornc` at one path per user
# ($XDG_RUNTIME_DIR/gunicorn.ctl or ~/.gunicorn/gunicorn.ctl), which every gunicorn that user runs
# on the host would share. None, unless this instance is given its own path.
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]


def when_ready(server):
    """In the master, once the application is loaded (preload_app) and before the first worker
    is forked: everything loading made (modules, code, the URLs, the compiled templates) is
    moved out of the collector's reach (`gc.freeze()`, which Python's documentation gives for
    a process that forks). A worker's collections then walk only what it made itself: after a
    cold run a full collection takes up to 22 ms instead of 94, no longer walking some 110,000
    objects that live as long as the process and writing to each one's header, which copied
    the master's pages into every worker (docs/performance.md, Memory).

    The documentation also suggests keeping the collector off while loading, so that no freed
    holes are left in the pages the workers share. Collecting once here instead is a choice:
    it leaves a few holes, where the other way would keep whatever loading left unreachable
    for the life of the process."""
    gc.collect()
    gc.freeze()
