# syntax=docker/dockerfile:1
# ragbase production image: gunicorn (ragbase/gunicorn_config.py) serving ragbase.wsgi; the same image runs migrate and qcluster.

# --- builder: a virtualenv with every pinned package (the embedding models ship inside them) ---
FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt

# --- runtime ---------------------------------------------------------------------------------
FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=ragbase.settings \
    RAGBASE_VAR_DIR=/var/lib/ragbase \
    STATIC_ROOT=/app/staticfiles \
    MODELS_DIR=/app/models \
    PORT=8000
RUN groupadd --system ragbase && useradd --system --gid ragbase --home /app ragbase \
    && mkdir -p /var/lib/ragbase/media /app && chown -R ragbase:ragbase /var/lib/ragbase /app
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY --chown=ragbase:ragbase . /app
USER ragbase

# Build-time only placeholders so settings import; real values come from the environment at run time.
# Load the embedder once (materialises the bundled model files under MODELS_DIR, no network),
# then collect static files.
RUN SECRET_KEY=build-only APP_ENCRYPTION_KEY=0000000000000000000000000000000000000000000000000000000000000000 \
    DATABASE_URL=postgres://build@127.0.0.1:1/none ALLOWED_HOSTS=build.invalid \
    python -c "import django; django.setup(); import importlib; \
m = importlib.import_module('chunks.embedding'); \
getattr(m, 'get_embedder', None) and m.get_embedder(); print('embedder ready')" \
    && SECRET_KEY=build-only APP_ENCRYPTION_KEY=0000000000000000000000000000000000000000000000000000000000000000 \
    DATABASE_URL=postgres://build@127.0.0.1:1/none ALLOWED_HOSTS=build.invalid \
    python manage.py collectstatic --noinput

EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/healthz', timeout=4)" || exit 1
# The same server configuration as `manage.py serve` (ragbase/gunicorn_config.py, from the GUNICORN_*
# settings): with QDRANT_URL set, GUNICORN_WORKERS processes of GUNICORN_THREADS threads each.
CMD ["sh", "-c", "exec gunicorn -c ragbase/gunicorn_config.py --bind 0.0.0.0:${PORT}"]
