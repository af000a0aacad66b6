"""Settings shared by every environment; everything switchable comes from the environment."""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from purworejo_portal.devkeys import development_keys

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)

# Core
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
ROOT_URLCONF = "purworejo_portal.urls"
WSGI_APPLICATION = "purworejo_portal.wsgi.application"
ASGI_APPLICATION = "purworejo_portal.asgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "citizens.User"
SITE_ID = 1

INSTALLED_APPS = [
    # Django's admin with the portal's site (who may open it: citizens.policy.can_use_admin).
    "purworejo_portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "import_export",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "citizens",
    "submissions",
    "verification",
    "stakeholders",
    "skts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Cache-Control: no-store on every answer its view did not mark public (personal data).
    "purworejo_portal.middleware.NoStoreMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "purworejo_portal.middleware.PortalLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "citizens.middleware.OfficerIdleTimeoutMiddleware",
    "citizens.middleware.RequireOfficerMFAMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "citizens.context_processors.navigation",
            ],
        },
    },
]

# Database: SQLite file by default so `make run` needs no server.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's, checking a kept connection only after it sat idle (see its docstring).
    DATABASES["default"]["ENGINE"] = "purworejo_portal.db.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )

# Personal-data encryption (citizens/crypto.py). Newest key first; older keys only decrypt.
_dev_keys = development_keys(BASE_DIR) if DEBUG or env.bool("DEV_KEYS", default=False) else {}
FIELD_ENCRYPTION_KEYS = env.list(
    "FIELD_ENCRYPTION_KEYS", default=_dev_keys.get("FIELD_ENCRYPTION_KEYS", [])
)
BLIND_INDEX_KEY = env("BLIND_INDEX_KEY", default=_dev_keys.get("BLIND_INDEX_KEY", ""))
if not SECRET_KEY:
    SECRET_KEY = _dev_keys.get("SECRET_KEY", "")

# Auth and accounts
# Django's and allauth's backends, loading the signed-in account more cheaply (citizens.backends).
AUTHENTICATION_BACKENDS = [
    "citizens.backends.ModelBackend",
    "citizens.backends.AuthenticationBackend",
]
# ASVS 2.1.1: at least 12 characters. allauth's forms take these validators too (with
# validators set it ignores its own ACCOUNT_PASSWORD_MIN_LENGTH).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = False
# Repeated failures lock the account (per e-mail) and the client (per IP).
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/15m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_ADAPTER = "citizens.adapters.MFAAdapter"
MFA_TOTP_ISSUER = "Portal Kependudukan Purworejo"

# Sessions in the database with their account's id, read together with the account in one
# statement (citizens/sessions.py): no cache round trip on a signed-in request.
SESSION_ENGINE = "citizens.sessions"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 8)
# Officer, admin and institution-admin sessions also end after this many minutes without a
# request (citizens.middleware.OfficerIdleTimeoutMiddleware).
OFFICER_IDLE_TIMEOUT_MINUTES = env.int("OFFICER_IDLE_TIMEOUT_MINUTES", default=30)
# Hours an account invitation link (own password and TOTP, citizens/invitations.py) works.
ACCOUNT_INVITATION_HOURS = env.int("ACCOUNT_INVITATION_HOURS", default=72)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Security headers; CSP is Django's own middleware, no inline script anywhere.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Internationalisation: Indonesian by default, English available.
LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Indonesian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True

# Static and uploaded files; uploads live outside the static root and are never served directly.
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "private")
STORAGES = {
    "default": {"BACKEND": "citizens.filecrypt.EncryptedFileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Retention of stored files (docs/operations.md, "Files at rest"): an institution's batch file
# is deleted this many days after the batch was applied, refused or cancelled; a submission's
# evidence files this many days after its decision (or withdrawal). The rows, their hashes and
# the F-1.06 statement stay.
BATCH_FILE_RETENTION_DAYS = env.int("BATCH_FILE_RETENTION_DAYS", default=30)
EVIDENCE_RETENTION_DAYS = env.int("EVIDENCE_RETENTION_DAYS", default=365)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5_242_880

# Review: how long an officer's claim on an item lasts, and after how many working days
# (Monday to Friday, minus REVIEW_HOLIDAYS as YYYY-MM-DD) a waiting item is overdue.
REVIEW_CLAIM_MINUTES = env.int("REVIEW_CLAIM_MINUTES", default=30)
REVIEW_SLA_WORKING_DAYS = env.int("REVIEW_SLA_WORKING_DAYS", default=3)
REVIEW_HOLIDAYS = env.list("REVIEW_HOLIDAYS", default=[])

# E-mail
MAILERS = {
    "default": {
        "BACKEND": env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"),
        "OPTIONS": {},
    }
}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="noreply@dukcapil.purworejokab.go.id")

# Celery: with REDIS_URL a real broker; without it tasks run eagerly in-process.
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# A task whose worker died unacknowledged is delivered again after this many seconds; longer
# than any task runs (a chunked batch apply resumes where it stopped).
# Workers look for such tasks every CELERY_UNACKED_RESTORE_SECONDS.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_SECONDS", default=100),
    "unacked_restore_throttle": 1,
}
CELERY_BEAT_SCHEDULE = {
    # New registry changes to institutions' webhook subscriptions (stakeholders/webhooks.py).
    "dispatch-webhooks": {"task": "stakeholders.tasks.dispatch_webhooks", "schedule": 30.0},
    # SKTS letters: expiry reminders 30 days ahead, and letters of closed records end (skts).
    "skts-letters": {"task": "skts.tasks.letters_housekeeping", "schedule": 3600.0},
    # The statistics pages' counts, recounted from the registry (citizens/statistics.py).
    "refresh-statistics": {"task": "citizens.tasks.refresh_statistics", "schedule": 3600.0},
    # Sessions past their expiry, deleted (citizens/sessions.py).
    "clear-expired-sessions": {"task": "citizens.tasks.clear_expired_sessions", "schedule": 3600.0},
    # The data-quality findings (citizens/quality.py), once a day.
    "check-data-quality": {"task": "citizens.tasks.check_data_quality", "schedule": 86400.0},
    # Stored files past their retention period, deleted (submissions/ and stakeholders/
    # retention.py), and temporary files of writes a killed process left behind.
    "purge-expired-evidence": {
        "task": "submissions.tasks.purge_expired_evidence",
        "schedule": 86400.0,
    },
    "purge-expired-batch-files": {
        "task": "stakeholders.tasks.purge_expired_batch_files",
        "schedule": 86400.0,
    },
    # Scheduled reports (verification/reports.py): Monday 06:00 for the head of Dukcapil, the
    # first of the month 06:30 for the statistics office. A repeated run keeps the first.
    "weekly-head-report": {
        "task": "verification.tasks.weekly_head_report",
        "schedule": crontab(minute=0, hour=6, day_of_week=1),
    },
    "monthly-statistics-report": {
        "task": "verification.tasks.monthly_statistics_report",
        "schedule": crontab(minute=30, hour=6, day_of_month=1),
    },
}

CACHES = {
    "default": (
        {"BACKEND": "purworejo_portal.cache.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    ),
    # Template fragments that depend only on the code, the language and the role (the menu,
    # the footer): process memory, no round trip; a deploy restarts the processes.
    "fragments": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "fragments",
        "OPTIONS": {"MAX_ENTRIES": 1000},
    },
    # Cek data pages already read from `default` or rendered, under keys that name their
    # version (submissions/views_mydata.py): process memory, no round trip, no decryption.
    "pages": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "pages",
        "OPTIONS": {"MAX_ENTRIES": 2000},
    },
}

# Logging: personal data never goes to logs (see docs/operations.md).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint logs every rendering step at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# Only API keys (stakeholders.api.views.ApiView) and the signed-in session (the schema and
# docs pages) authenticate the API: DRF's default HTTP Basic made every API URL a password
# oracle beside allauth's rate limits.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
}
# Institution API: requests per API key (DRF rate syntax), see stakeholders/api.
API_KEY_RATE = env("API_KEY_RATE", default="600/min")
# SKTS letters (skts/): number format, validity, issuing official, public address of the QR
# verification page, and how many verification page views one IP address may make a minute.
SKTS_NUMBER_FORMAT = env("SKTS_NUMBER_FORMAT", default="474.4/{seq:05d}/SKTS/{year}")
SKTS_VALIDITY_DAYS = env.int("SKTS_VALIDITY_DAYS", default=365)
SKTS_REMINDER_DAYS = env.int("SKTS_REMINDER_DAYS", default=30)
SKTS_OFFICIAL_NAME = env("SKTS_OFFICIAL_NAME", default="Drs. CONTOH PEJABAT, M.Si.")
SKTS_OFFICIAL_POSITION = env(
    "SKTS_OFFICIAL_POSITION",
    default="Kepala Dinas Kependudukan dan Pencatatan Sipil Kabupaten Purworejo",
)
SKTS_PUBLIC_BASE_URL = env("SKTS_PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
SKTS_VERIFY_RATE_PER_MINUTE = env.int("SKTS_VERIFY_RATE_PER_MINUTE", default=30)
# Linking an account to a resident (citizens/linking.py). Failed attempts are counted per
# account (locked for the window after the latest of MAX failures within it), per IP address
# (the same rule) and per target record by its NIK's blind index: once a record has had
# LINK_TARGET_MAX_FAILURES failures within LINK_TARGET_WINDOW_HOURS, online linking of it is
# closed for good and only its village operator can link it in person.
LINK_ACCOUNT_MAX_FAILURES = env.int("LINK_ACCOUNT_MAX_FAILURES", default=5)
LINK_ACCOUNT_WINDOW_MINUTES = env.int("LINK_ACCOUNT_WINDOW_MINUTES", default=60)
LINK_IP_MAX_FAILURES = env.int("LINK_IP_MAX_FAILURES", default=20)
LINK_IP_WINDOW_MINUTES = env.int("LINK_IP_WINDOW_MINUTES", default=60)
LINK_TARGET_MAX_FAILURES = env.int("LINK_TARGET_MAX_FAILURES", default=5)
LINK_TARGET_WINDOW_HOURS = env.int("LINK_TARGET_WINDOW_HOURS", default=24)
# Statistics: published counts under this are suppressed for analysts and in downloads.
STATS_SUPPRESSION_THRESHOLD = env.int("STATS_SUPPRESSION_THRESHOLD", default=5)
# Scheduled reports: addresses besides the heads' accounts (comma-separated).
REPORTS_WEEKLY_RECIPIENTS = env.list("REPORTS_WEEKLY_RECIPIENTS", default=[])
REPORTS_STATISTICS_RECIPIENTS = env.list("REPORTS_STATISTICS_RECIPIENTS", default=[])
# Institution batches: how many worker processes apply one confirmed file side by side.
IMPORT_APPLY_WORKERS = env.int("IMPORT_APPLY_WORKERS", default=2)
SPECTACULAR_SETTINGS = {
    "TITLE": "Purworejo Population Portal API",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
