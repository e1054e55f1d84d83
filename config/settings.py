"""One settings module, read from the environment (and a `.env` file in development).

Fails closed: DEBUG is off unless asked for, and without DEBUG a SECRET_KEY must be given.
"""

import hashlib
import ipaddress
import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.utils.csp import CSP

from config import env

BASE_DIR = Path(__file__).resolve().parent.parent
env.load_dotenv(Path(env.get("ENV_FILE", str(BASE_DIR / ".env"))))

DEBUG = env.get_bool("DEBUG", default=False)

# Commands that read only the models and the migrations sign and hash nothing, so a fresh
# checkout may ask whether the migrations match the models without a secret: each such run
# gets a throwaway random key. Every other process without DEBUG stops without one.
KEYLESS_COMMANDS = {"makemigrations", "showmigrations", "sqlmigrate", "help", "version"}


def _keyless_command(argv: list[str]) -> bool:
    """Whether this process is manage.py (or django-admin) running a command that needs no key."""
    runner = Path(argv[0]).name if argv else ""
    return runner in {"manage.py", "django-admin", "__main__.py"} and (
        len(argv) > 1 and argv[1] in KEYLESS_COMMANDS
    )


SECRET_KEY = env.get("SECRET_KEY")
if not SECRET_KEY:
    if _keyless_command(sys.argv):
        SECRET_KEY = secrets.token_urlsafe(50)
    elif not DEBUG:
        sys.exit("SECRET_KEY is not set: set it in the environment or .env (or set DEBUG=1).")
    else:
        SECRET_KEY = "django-insecure-development-only-key"  # noqa: S105 (used only with DEBUG on)

ALLOWED_HOSTS = env.get_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env.get_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "allauth",
    "allauth.account",
    # django.tasks' database backend and its worker, `manage.py db_worker` (config/mail.py)
    "django_tasks_db",
    "caching",
    "accounts",
    "lessons",
    "access",
    "payments",
]

MIDDLEWARE = [
    "config.middleware.ForwardedHeadersMiddleware",
    "config.middleware.HeadAsGetMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "config.languages.LanguageMiddleware",
    "caching.anonymous.PageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "accounts.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.ReaderLanguageMiddleware",
    "access.middleware.AccessMiddleware",
    "config.middleware.NoIndexMiddleware",
    "config.middleware.NotCompressedMiddleware",
    "config.middleware.AccountPagesNotStoredMiddleware",
    "config.middleware.AdminControlCharactersMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "config.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env.get_int("CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
# Behind PgBouncer in transaction mode, server-side cursors (QuerySet.iterator() on
# PostgreSQL, used by the admin's choice fields) cannot survive between transactions.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.get_bool(
    "DATABASE_DISABLE_SERVER_SIDE_CURSORS", default=False
)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Writers queue instead of failing with "database is locked" when requests collide; in
    # write-ahead-log mode readers never wait for a writer.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Fail fast: a database that is away, slow or hung gives readers the 503 page within
    # seconds instead of holding a worker until gunicorn kills it (config/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "config.postgresql"
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options.setdefault("connect_timeout", env.get_int("DATABASE_CONNECT_TIMEOUT", 3, minimum=2))
    if _statement := env.get_int("DATABASE_STATEMENT_TIMEOUT", 5, minimum=0):
        _given = _options.get("options", "")
        _options["options"] = f"{_given} -c statement_timeout={_statement}s".strip()
        _options.setdefault("reply_timeout", _statement + 1)
    _options.setdefault("keepalives", 1)
    _options.setdefault("keepalives_idle", 30)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sessions in the database, each read with its user in one plain query (accounts/sessions.py).
SESSION_ENGINE = "accounts.sessions"
# The home page in the language of the page that logged in or out.
LOGIN_REDIRECT_URL = LOGOUT_REDIRECT_URL = "lessons:home"
LOGIN_URL = "account_login"

# django-allauth: the email address is the login. Readers arrive on a phone to redeem a PIN, so
# signing up asks for the email address only (a password is optional) and proves it with a code
# sent by email; logging in works with a password or with a code sent by email. Verification is
# mandatory, which is also what lets sign-up, log-in and reset say nothing about which
# addresses have an account (allauth's enumeration prevention).
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
# Code pages offer "Request new code" (twice a page): a code whose e-mail came late, or not at
# all, is never a dead end.
ACCOUNT_EMAIL_VERIFICATION_SUPPORTS_RESEND = True
ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND = True
# allauth's rate limits also keep the e-mails that confirm following a series by e-mail
# (access/follows.py) in bounds: per address and series, and per client address.
ACCOUNT_RATE_LIMITS = {"follow_series": "3/h/key,20/h/ip"}
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = True
# Sign-up goes on with a log-in code (accounts.adapter): give it the quarter of an hour a
# sign-up code has, for a reader who fetches mail on a phone, and a button for a new one (two
# at most). Changes of password and e-mail
# address are told to the account's address.
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 15 * 60
ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
# Codes sent by email are six digits: a phone shows its number pad and offers the code from
# the mail. Each code allows allauth's few attempts, within its time limit.
ALLAUTH_USER_CODE_FORMAT = {"numeric": True, "length": 6, "dashed": False}
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {
    "signup": "accounts.forms.SignupForm",
    "confirm_login_code": "accounts.forms.ConfirmLoginCodeForm",
    "confirm_email_verification_code": "accounts.forms.ConfirmEmailVerificationCodeForm",
    "change_password": "accounts.forms.ChangePasswordForm",
    "set_password": "accounts.forms.SetPasswordForm",
    "reset_password_from_key": "accounts.forms.ResetPasswordKeyForm",
}

# With Redis, short timeouts and a backend that serves on without it when it is away or hung
# (caching/backend.py): only allauth's rate limits and speed-ups live there.
_redis_timeout = env.get_int("REDIS_TIMEOUT_MS", 250, minimum=1) / 1000
CACHES = {
    "default": {
        **(
            {
                "BACKEND": "caching.backend.FailSoftRedisCache",
                "LOCATION": env.get("REDIS_URL"),
                "OPTIONS": {
                    "socket_connect_timeout": _redis_timeout,
                    "socket_timeout": _redis_timeout,
                },
            }
            if env.get("REDIS_URL")
            else {
                "BACKEND": "django.core.cache.backends.db.DatabaseCache",
                "LOCATION": "django_cache",
            }
        ),
        "KEY_PREFIX": env.get("CACHE_KEY_PREFIX"),
    }
}

# What the site keeps (anonymous readers' whole pages, kept parts of pages, the lessons and
# lists lessons/pages.py works out; in the worker and in Redis) is kept this long at most
# (caching/); a write to a series or lesson, or a scheduled lesson coming out, makes it stale
# within seconds. 0 turns every such store off.
PAGE_CACHE_SECONDS = env.get_int("PAGE_CACHE_SECONDS", 3600, minimum=0)
# With Redis, the stores above keep what they make there too, for every worker and server
# (caching.stores' shared tier); the database cache would cost a query for each page a worker
# does not hold, about what making it again costs, so without Redis each worker keeps its own.
# Not with DEBUG either: the development server reloads an edited template without changing
# the code version those entries are named by, and it is one process anyway.
KEPT_IN_SHARED_CACHE = bool(env.get("REDIS_URL")) and not DEBUG
# A kept part of a page ({% shared %}, caching/kept.py) that reads a variable its tag does not
# pass fails loudly instead of showing nothing: on with DEBUG, and in tests.
KEPT_TEMPLATES_STRICT = DEBUG
# Beacons (reading progress, paywall views, taps on the contact buttons) one client address
# may send in a minute (config/beacons.py).
BEACONS_PER_MINUTE = env.get_int("BEACONS_PER_MINUTE", 120, minimum=1)
# The same pages may be kept by shared caches (nginx's micro-cache, a CDN) this long, and served
# while they are fetched again for this much longer (`s-maxage`, `stale-while-revalidate`): a
# change reaches readers through them within the sum and the page cache's own bound
# (docs/performance.md).
SHARED_CACHE_SECONDS = env.get_int("SHARED_CACHE_SECONDS", 2, minimum=0)
SHARED_CACHE_STALE_SECONDS = env.get_int("SHARED_CACHE_STALE_SECONDS", 2, minimum=0)

# The interface speaks English (the source) and Indonesian, one address per language
# (config/languages.py): LANGUAGE_CODE at the plain addresses, the other under its code.
LANGUAGES = [("en", "English"), ("id", "Bahasa Indonesia")]
LANGUAGE_CODE = env.get("LANGUAGE_CODE", "en")
if LANGUAGE_CODE not in dict(LANGUAGES):
    sys.exit(f"LANGUAGE_CODE must be one of {', '.join(dict(LANGUAGES))}; got {LANGUAGE_CODE!r}.")
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale-allauth"]
# The old switcher's cookie is only ever deleted now.
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.get("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files (lesson images) and the share images the site draws (lessons/share.py): a
# folder on this server by default, served by the app when SERVE_MEDIA is on (development and
# `make serve`); in production by the proxy, from that folder or from object storage
# (MEDIA_STORAGE_BACKEND and its OPTIONS; docs/deploy.md). Lessons link images at MEDIA_URL;
# their names carry a hash of the content, so they can be cached forever.
MEDIA_URL = env.get("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(env.get("MEDIA_ROOT", str(BASE_DIR / "media")))
SERVE_MEDIA = env.get_bool("SERVE_MEDIA", default=DEBUG)
STORAGES = {
    "default": {
        "BACKEND": env.get("MEDIA_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"),
        "OPTIONS": env.get_json_object("MEDIA_STORAGE_OPTIONS"),
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Security. Without DEBUG the site is assumed to be served over HTTPS; SECURE_HTTPS=0 is only
# for trying the production server on http://127.0.0.1 (make serve).
SECURE_HTTPS = env.get_bool("SECURE_HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = SECURE_HTTPS
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = SECURE_HTTPS
SECURE_HSTS_SECONDS = env.get_int("SECURE_HSTS_SECONDS", 31_536_000) if SECURE_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.get_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.get_bool("SECURE_HSTS_PRELOAD", default=False)
# Load balancers probe app servers over plain http.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if env.get_bool("BEHIND_TLS_PROXY", default=False):
    # Only behind a proxy that sets X-Forwarded-Proto itself, overwriting the client's.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "https:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Email: SMTP when EMAIL_HOST is set, else printed to the console (development).
MAILERS = {
    "default": (
        {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": env.get("EMAIL_HOST"),
                "port": env.get_int("EMAIL_PORT", 587),
                "username": env.get("EMAIL_HOST_USER"),
                "password": env.get("EMAIL_HOST_PASSWORD"),
                "use_tls": env.get_bool("EMAIL_USE_TLS", default=True),
                "timeout": 10,
            },
        }
        if env.get("EMAIL_HOST")
        else {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    )
}
DEFAULT_FROM_EMAIL = env.get("DEFAULT_FROM_EMAIL", "lessons@localhost")
# Every e-mail is a task (config/mail.py): kept in the database and sent by `manage.py
# db_worker` (make run and make serve start one beside the web server), so no request waits
# on the mail server, and a mail server that is away delays e-mails without losing them.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
SERVER_EMAIL = DEFAULT_FROM_EMAIL

SITE_NAME = env.get("SITE_NAME", "Lessons")
ADMIN_PATH = env.get("ADMIN_PATH", "admin/").strip("/") + "/"

# Lessons: the teaser of a premium lesson without a `<!-- more -->` marker is its leading
# blocks up to this many words; bodies over LESSON_BODY_MAX_BYTES are refused.
LESSON_TEASER_WORDS = env.get_int("LESSON_TEASER_WORDS", 150, minimum=1)
LESSON_BODY_MAX_BYTES = env.get_int("LESSON_BODY_MAX_BYTES", 500 * 1024)
# Rendering a text may take this long (in a child process) before it is refused; 0: no limit.
LESSON_RENDER_SECONDS = env.get_int("LESSON_RENDER_SECONDS", 5, minimum=0)
# All the rendering of one admin request (a live preview, a save), its diagrams included, may
# take this long in total (lessons/rendering/budget.py).
LESSON_RENDER_BUDGET_SECONDS = env.get_int("LESSON_RENDER_BUDGET_SECONDS", 10, minimum=1)
# At most this many admin requests render at once on the whole site (one per author).
LESSON_RENDERS_AT_ONCE = env.get_int("LESSON_RENDERS_AT_ONCE", 2, minimum=1)
LESSON_WORDS_PER_MINUTE = 200
# Lesson images: the largest upload accepted, and the most pixels an image may decode to (a
# small file can claim a huge picture: a "decompression bomb").
LESSON_IMAGE_MAX_BYTES = env.get_int("LESSON_IMAGE_MAX_BYTES", 5 * 1024 * 1024, minimum=1)
LESSON_IMAGE_MAX_PIXELS = env.get_int("LESSON_IMAGE_MAX_PIXELS", 25_000_000, minimum=1)

# Access PINs: stored as HMAC-SHA256 under this key. Changing it makes every unredeemed PIN
# unusable, so it is separate from SECRET_KEY (which it defaults to) and can outlive its rotation.
PIN_HASH_KEY = env.get("PIN_HASH_KEY", SECRET_KEY)
# Failed redemptions allowed before a pause: per account, and per client IP address.
PIN_FAILURES_PER_USER = env.get_int("PIN_FAILURES_PER_USER", 5, minimum=1)
PIN_FAILURE_WINDOW_USER_MINUTES = env.get_int("PIN_FAILURE_WINDOW_USER_MINUTES", 15, minimum=1)
PIN_FAILURES_PER_IP = env.get_int("PIN_FAILURES_PER_IP", 20, minimum=1)
PIN_FAILURE_WINDOW_IP_MINUTES = env.get_int("PIN_FAILURE_WINDOW_IP_MINUTES", 60, minimum=1)
# How many proxies in front of the app append to X-Forwarded-For (0: use REMOTE_ADDR).
# allauth's rate limits (logins, sign-ups) read the client IP the same way.
TRUSTED_PROXY_COUNT = env.get_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
# The proxies' addresses (or networks), as gunicorn reads them: X-Forwarded-* from any other
# address is dropped (config/middleware.py). "*": any.
FORWARDED_ALLOW_IPS = env.get_list("FORWARDED_ALLOW_IPS", "127.0.0.1")
for _address in set(FORWARDED_ALLOW_IPS) - {"*"}:
    try:
        ipaddress.ip_network(_address, strict=False)
    except ValueError:
        sys.exit(f"FORWARDED_ALLOW_IPS: {_address!r} is not an IP address or network.")

# Payments on the site (payments/): Midtrans, through its official client. With
# PAYMENTS_SIMULATOR (on by default only with DEBUG, refused by `check --deploy`) a simulator
# speaking the same API stands in for it: `make run` starts it beside the site, with a server
# key of its own. MIDTRANS_SNAP_URL and MIDTRANS_API_URL point the client elsewhere (the
# simulator, or any stand-in for Midtrans' API).
PAYMENTS_SIMULATOR = env.get_bool("PAYMENTS_SIMULATOR", default=DEBUG)
PAYMENTS_SIMULATOR_PORT = env.get_int("PAYMENTS_SIMULATOR_PORT", 8001, minimum=1)
MIDTRANS_IS_PRODUCTION = env.get_bool("MIDTRANS_IS_PRODUCTION", default=False)
MIDTRANS_SERVER_KEY = env.get("MIDTRANS_SERVER_KEY") or (
    "SB-Mid-server-simulator-" + hashlib.sha256(f"sim:{SECRET_KEY}".encode()).hexdigest()[:24]
    if PAYMENTS_SIMULATOR
    else ""
)
MIDTRANS_CLIENT_KEY = env.get("MIDTRANS_CLIENT_KEY")
_midtrans = "midtrans.com" if MIDTRANS_IS_PRODUCTION else "sandbox.midtrans.com"  # its own
_simulator = f"http://127.0.0.1:{PAYMENTS_SIMULATOR_PORT}"
MIDTRANS_SNAP_URL = env.get("MIDTRANS_SNAP_URL") or (
    f"{_simulator}/snap/v1" if PAYMENTS_SIMULATOR else f"https://app.{_midtrans}/snap/v1"
)
MIDTRANS_API_URL = env.get("MIDTRANS_API_URL") or (
    _simulator if PAYMENTS_SIMULATOR else f"https://api.{_midtrans}"
)
# How long the gateway may take to answer (creating a payment page, a status, a refund).
PAYMENTS_GATEWAY_TIMEOUT_SECONDS = env.get_int("PAYMENTS_GATEWAY_TIMEOUT_SECONDS", 10, minimum=1)
# How long an order can be paid; a reader who comes back within it gets the same order.
PAYMENTS_ORDER_MINUTES = env.get_int("PAYMENTS_ORDER_MINUTES", 60, minimum=5)
# A refund or chargeback ends the access its order gave.
PAYMENTS_REVOKE_ON_REFUND = env.get_bool("PAYMENTS_REVOKE_ON_REFUND", default=True)
# The reader is sent to the gateway's payment page by the pay button's form (a redirect):
# the page's origin is the one other place a form may lead.
SECURE_CSP["form-action"].append("{0.scheme}://{0.netloc}".format(urlsplit(MIDTRANS_SNAP_URL)))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.get("LOG_LEVEL", "INFO")},
    # Each task's start and end (the e-mail worker), once: not again through Django's own
    # development handler.
    "loggers": {
        "django.tasks": {
            "handlers": ["console"],
            "level": env.get("LOG_LEVEL", "INFO"),
            "propagate": False,
        }
    },
}
