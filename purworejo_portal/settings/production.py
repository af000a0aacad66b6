"""Production: every secret from the environment, HTTPS only."""

from purworejo_portal.settings.base import *  # noqa: F403
from purworejo_portal.settings.base import env

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS")
BLIND_INDEX_KEY = env("BLIND_INDEX_KEY")

# Number of reverse proxies in front of the portal, so rate limits see the real client IP.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
STORAGES = {
    "default": {"BACKEND": "citizens.filecrypt.EncryptedFileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MIDDLEWARE = [
    *MIDDLEWARE[:1],  # noqa: F405
    "whitenoise.middleware.WhiteNoiseMiddleware",
    *MIDDLEWARE[1:],  # noqa: F405
]
# SMTP from one URL, e.g. smtp+tls://user:password@mail.example.go.id:587
_smtp = env.email_url("EMAIL_URL", default="smtp://localhost:25")
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": _smtp["EMAIL_HOST"],
            "port": _smtp["EMAIL_PORT"],
            "username": _smtp["EMAIL_HOST_USER"],
            "password": _smtp["EMAIL_HOST_PASSWORD"],
            "use_tls": _smtp.get("EMAIL_USE_TLS", False),
            "use_ssl": _smtp.get("EMAIL_USE_SSL", False),
        },
    }
}
