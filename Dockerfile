# The web app under gunicorn. Built and run by docker-compose.yml; see README.md "Search on Elasticsearch".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=kb.settings.production \
    KB_VAR_DIR=/app/var

WORKDIR /app

# Only what the app needs: never the local virtualenv, database or index.
COPY pyproject.toml README.md manage.py ./
COPY kb ./kb
COPY practices ./practices
COPY search ./search
COPY templates ./templates
COPY static ./static
RUN pip install .

# Static files are collected at build time; the production settings insist on these being set.
RUN SECRET_KEY=build-only ALLOWED_HOSTS=localhost DATABASE_URL=sqlite:////tmp/build.sqlite3 KB_BASE_URL=http://localhost \
    python manage.py collectstatic --noinput \
    && useradd --system --home /app kb \
    && mkdir -p /app/var/media /app/var/search-index \
    && chown -R kb /app/var

USER kb
EXPOSE 8000
CMD ["gunicorn", "kb.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "180", "--access-logfile", "-"]
