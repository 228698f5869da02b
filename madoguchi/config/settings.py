"""Django settings for madoguchi, read from environment variables.

Defaults make ``./run demo`` work with nothing set: SQLite in ``var/``, DEBUG on in
demo mode only, mail to the console. Production sets ``MADOGUCHI_ENV=production``,
``SECRET_KEY`` and ``DATABASE_URL``. See ``docs/configuration.md``.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from madoguchi.config.env import env_bool, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("MADOGUCHI_VAR_DIR", str(BASE_DIR / "var")))

# demo | production | test
MADOGUCHI_ENV = env_str("MADOGUCHI_ENV", "demo")
DEBUG = env_bool("DEBUG", MADOGUCHI_ENV == "demo")

SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if MADOGUCHI_ENV == "production":
        raise ImproperlyConfigured("SECRET_KEY must be set in production")
    SECRET_KEY = "madoguchi-demo-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "madoguchi.core",
    "madoguchi.accounts",
    "madoguchi.catalog",
    "madoguchi.guide",
    "madoguchi.portal",
    "madoguchi.forms",
    "madoguchi.notifications",
    "madoguchi.payments",
    "madoguchi.applications",
    "madoguchi.cases",
    "madoguchi.approvals",
    "madoguchi.integrations",
    "madoguchi.appointments",
    "madoguchi.reservations",
    "madoguchi.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "madoguchi.core.middleware.AuditContextMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "madoguchi.config.urls"
WSGI_APPLICATION = "madoguchi.config.wsgi.application"
ASGI_APPLICATION = "madoguchi.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "madoguchi" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "madoguchi.core.context_processors.ward",
            ],
            "builtins": ["madoguchi.core.templatetags.madoguchi"],
        },
    }
]

_default_db = f"sqlite:///{VAR_DIR / 'madoguchi.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        env_secret("DATABASE_URL", _default_db),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif env_bool("DB_SERVER_SIDE_BINDING", False):
    # Parameters bound by the server: psycopg then prepares the statements a
    # connection runs again and again, so PostgreSQL plans them once. Not behind a
    # pooler in transaction mode.
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A cache shared by every worker process on the host (login rate limits, TOTP codes
# already used): files under var/ by default, so nothing else needs to run.
CACHES = {
    "default": {
        "BACKEND": env_str("CACHE_BACKEND", "django.core.cache.backends.filebased.FileBasedCache"),
        "LOCATION": env_str("CACHE_LOCATION", str(VAR_DIR / "cache")),
    }
}

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"

# Login throttling (django-axes): lock a username+IP pair after repeated failures.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_VERBOSE = False

# Staff must use TOTP two-factor authentication outside the demo.
STAFF_REQUIRE_2FA = env_bool("STAFF_REQUIRE_2FA", MADOGUCHI_ENV == "production")

LANGUAGE_CODE = "ja"
# Each language is named in itself (an endonym), as a language switch should show it.
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "madoguchi" / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "madoguchi" / "static"]
# Outside production WhiteNoise serves static files straight from the app folders.
WHITENOISE_USE_FINDERS = MADOGUCHI_ENV != "production"
WHITENOISE_AUTOREFRESH = MADOGUCHI_ENV != "production"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if MADOGUCHI_ENV == "production"
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if MADOGUCHI_ENV == "demo"
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "デモ区役所 <noreply@demo-ku.example.jp>")

EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)

# The transactional outbox (madoguchi.notifications): how often and how long a message
# that could not be delivered is retried (30 s doubling up to an hour, 12 attempts ≈ 6 h).
NOTIFICATIONS_MAX_ATTEMPTS = env_int("NOTIFICATIONS_MAX_ATTEMPTS", 12)
NOTIFICATIONS_RETRY_BASE_SECONDS = env_int("NOTIFICATIONS_RETRY_BASE_SECONDS", 30)
NOTIFICATIONS_RETRY_MAX_SECONDS = env_int("NOTIFICATIONS_RETRY_MAX_SECONDS", 3600)
NOTIFICATIONS_SENDING_TIMEOUT_SECONDS = env_int("NOTIFICATIONS_SENDING_TIMEOUT_SECONDS", 900)

# Background work: Django's Tasks API (django-tasks backport), database backend.
TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", MADOGUCHI_ENV == "production")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", False) else None

# Ward identity shown on every page.
WARD_NAME = env_str("WARD_NAME", "デモ区")
WARD_NAME_EN = env_str("WARD_NAME_EN", "Demo Ward")
WARD_PREFECTURE = env_str("WARD_PREFECTURE", "東京都")
# 全国地方公共団体コード (6 digits) in the open data files; empty for the fictional demo ward.
WARD_LOCAL_GOVERNMENT_CODE = env_str("WARD_LOCAL_GOVERNMENT_CODE", "")

# Catalog data (procedures.yaml, life_events.yaml) imported by `./run manage catalog_import`.
CATALOG_DIR = Path(env_str("CATALOG_DIR", str(BASE_DIR / "madoguchi" / "catalog" / "data")))

# Identity providers (OpenID Connect authorization code + PKCE). The demo provider
# runs inside madoguchi and stands in for デジタル認証アプリ.
IDENTITY_PROVIDERS = env_list("IDENTITY_PROVIDERS", [] if MADOGUCHI_ENV == "production" else ["demo"])
OIDC_CLIENT_ID = env_str("OIDC_CLIENT_ID", "madoguchi-demo")
OIDC_CLIENT_SECRET = env_secret("OIDC_CLIENT_SECRET", "")
OIDC_ISSUER = env_str("OIDC_ISSUER", "")
OIDC_AUTHORIZATION_ENDPOINT = env_str("OIDC_AUTHORIZATION_ENDPOINT", "")
OIDC_TOKEN_ENDPOINT = env_str("OIDC_TOKEN_ENDPOINT", "")
OIDC_JWKS_URI = env_str("OIDC_JWKS_URI", "")

# Encryption of sensitive fields (マイナンバー): comma-separated keys, newest first; old
# keys still decrypt (rotation). Without it, a key derived from SECRET_KEY is used.
FIELD_ENCRYPTION_KEY = env_secret("FIELD_ENCRYPTION_KEY")

# How long an application draft is kept after its last saved page.
APPLICATIONS_DRAFT_DAYS = env_int("APPLICATIONS_DRAFT_DAYS", 30)
# Case handling: the processing deadline of procedures without ``processing_days``.
CASES_DEFAULT_PROCESSING_DAYS = env_int("CASES_DEFAULT_PROCESSING_DAYS", 10)
# A web process seals the audit chain at most this often (seconds); the worker seals the rest.
AUDIT_SEAL_MIN_INTERVAL = float(env_str("AUDIT_SEAL_MIN_INTERVAL", "0.5"))
# Counter appointments and the same-day queue (madoguchi.appointments, docs/appointments.md).
APPOINTMENTS_BOOKING_DAYS = env_int("APPOINTMENTS_BOOKING_DAYS", 28)
APPOINTMENTS_MAX_FUTURE_BOOKINGS = env_int("APPOINTMENTS_MAX_FUTURE_BOOKINGS", 3)
APPOINTMENTS_EARLY_MINUTES = env_int("APPOINTMENTS_EARLY_MINUTES", 10)
APPOINTMENTS_MAX_APPOINTMENTS_IN_A_ROW = env_int("APPOINTMENTS_MAX_APPOINTMENTS_IN_A_ROW", 2)
APPOINTMENTS_WALKIN_MAX_WAIT_MINUTES = env_int("APPOINTMENTS_WALKIN_MAX_WAIT_MINUTES", 20)
APPOINTMENTS_WAIT_SAMPLE_SIZE = env_int("APPOINTMENTS_WAIT_SAMPLE_SIZE", 10)
APPOINTMENTS_SOON_THRESHOLD = env_int("APPOINTMENTS_SOON_THRESHOLD", 3)
APPOINTMENTS_CHECKIN_EARLY_MINUTES = env_int("APPOINTMENTS_CHECKIN_EARLY_MINUTES", 60)
APPOINTMENTS_TICKETS_PER_CLIENT_PER_HOUR = env_int("APPOINTMENTS_TICKETS_PER_CLIENT_PER_HOUR", 5)
APPOINTMENTS_TICKETS_PER_ADDRESS_PER_HOUR = env_int("APPOINTMENTS_TICKETS_PER_ADDRESS_PER_HOUR", 0)
# Webhooks to core systems (madoguchi.integrations).
WEBHOOKS_MAX_ATTEMPTS = env_int("WEBHOOKS_MAX_ATTEMPTS", 10)
WEBHOOKS_TIMEOUT_SECONDS = env_int("WEBHOOKS_TIMEOUT_SECONDS", 10)
WEBHOOKS_RETRY_BASE_SECONDS = env_int("WEBHOOKS_RETRY_BASE_SECONDS", 30)
WEBHOOKS_RETRY_MAX_SECONDS = env_int("WEBHOOKS_RETRY_MAX_SECONDS", 3600)

# Application form definitions imported by `./run manage forms_import`.
FORMS_DIR = env_str("FORMS_DIR", str(BASE_DIR / "madoguchi" / "forms" / "data"))

# Payments: the provider used by default, and the sandbox provider's webhook secret
# (derived from SECRET_KEY when empty) and, behind a proxy, its webhook URL.
PAYMENT_DEFAULT_PROVIDER = env_str("PAYMENT_DEFAULT_PROVIDER", "sandbox")
PAYMENT_SANDBOX_SECRET = env_secret("PAYMENT_SANDBOX_SECRET")
PAYMENT_SANDBOX_WEBHOOK_URL = env_str("PAYMENT_SANDBOX_WEBHOOK_URL")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
