# syntax=docker/dockerfile:1

# The whole build context lands only in this throw-away stage; the image below copies an explicit
# list from it, so .venv, .dev-keys.json, .env*, db.sqlite3 and var/ can never reach the image.
FROM python:3.12-slim AS source
WORKDIR /src
COPY . .
# A fresh checkout may not have these yet; empty directories keep the COPY lines below valid.
RUN mkdir -p locale static templates

FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=purworejo_portal.settings.production

# WeasyPrint (SKTS letters) needs Pango, HarfBuzz and a font; gettext compiles the catalogues.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core gettext \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system app && useradd --system --gid app --home-dir /app --no-create-home app

WORKDIR /app

# Dependencies first so source edits reuse this layer. pyproject.toml declares no packages
# (`[tool.setuptools] packages = []`): `pip install .` installs only the dependencies and the
# sources are found through PYTHONPATH=/app.
COPY --from=source /src/pyproject.toml ./
RUN pip install .

# Every Django app must be listed here; a missing one fails at start-up, not silently.
COPY --from=source /src/manage.py ./
COPY --from=source /src/purworejo_portal ./purworejo_portal
COPY --from=source /src/citizens ./citizens
COPY --from=source /src/submissions ./submissions
COPY --from=source /src/verification ./verification
COPY --from=source /src/stakeholders ./stakeholders
COPY --from=source /src/skts ./skts
COPY --from=source /src/templates ./templates
COPY --from=source /src/static ./static
COPY --from=source /src/locale ./locale

# Without a settings module compilemessages needs no secrets; it finds ./locale on its own.
RUN DJANGO_SETTINGS_MODULE= django-admin compilemessages \
    && mkdir -p /app/var/private /app/var/staticfiles \
    && chown -R app:app /app/var

USER app

EXPOSE 8000

CMD ["gunicorn", "purworejo_portal.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
