"""gunicorn's configuration, the one web server of both modes: `manage.py serve` runs
`gunicorn -c ragbase/gunicorn_config.py`, and so does the Docker image. Everything comes from the
Django settings (GUNICORN_*, .env.example); the command line may add `--bind`.

GUNICORN_WORKERS processes in both modes. With a Qdrant server each talks to it; in embedded mode
each reaches the store through `serve`, the one process that owns it (ragbase/web_server.py). A
worker loads the URLconf and the embedder once forked (`post_worker_init`) and closes its
connections when it exits (`worker_exit`). The workers write their Prometheus series to one folder
(ragbase/process_metrics.py), so /metrics sums them whichever worker answers.
"""
import os
import sys

import django

from ragbase.process_metrics import remove_shared_metrics, share_metrics_with_child_processes

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragbase.settings")
os.environ["RAGBASE_WEB_SERVER"] = "true"  # settings: a bounded database pool, WEB_EMBED_THREADS
# Before Django loads; under `serve` the folder is serve's. /metrics then sums every worker.
shared_metrics = share_metrics_with_child_processes()
django.setup()

from django.conf import settings  # noqa: E402

from chunks.vector_index import uses_embedded_store  # noqa: E402
from ragbase import web_server  # noqa: E402

if uses_embedded_store() and not settings.STORE_OWNER_SOCKET:
    # Each worker would open the store itself: the first would own it, the others fail, none drain.
    remove_shared_metrics(shared_metrics)
    sys.exit("ragbase: error: without QDRANT_URL the embedded vector store is served by `manage.py serve`, "
             "which owns it and starts gunicorn; set QDRANT_URL to run gunicorn on its own")

wsgi_app = "ragbase.wsgi:application"
bind = [f"0.0.0.0:{os.environ.get('PORT', '8000')}"]
worker_class = "ragbase.web_server.StoppingThreadWorker"  # gthread: a pool of threads
workers = settings.GUNICORN_WORKERS
threads = settings.GUNICORN_THREADS
timeout = settings.GUNICORN_TIMEOUT
graceful_timeout = settings.GUNICORN_GRACEFUL_TIMEOUT
keepalive = settings.GUNICORN_KEEPALIVE
accesslog = "-" if settings.GUNICORN_ACCESS_LOG else None
errorlog = "-"
# TLS ends at the reverse proxy (SECURE_PROXY_SSL_HEADER); TRUSTED_PROXY_COUNT decides whose
# X-Forwarded-For entry is the client.
forwarded_allow_ips = "*"
# Never preload: the application (models, the store) is loaded in the worker, after the fork.
preload_app = False
control_socket_disable = True  # gunicorn 27 control socket: not used, and one path per machine


def post_worker_init(worker):
    web_server.worker_started(worker)


def worker_exit(server, worker):
    web_server.worker_exiting()


def on_exit(server):
    remove_shared_metrics(shared_metrics)
