"""gunicorn settings shared by every web service, locally and in the images."""

import os
import tempfile

_host = os.environ.get("HOST", "0.0.0.0")  # noqa: S104
bind = [f"{_host}:{os.environ.get('PORT', '8000')}"]
# /metrics is served only on METRICS_PORT, which the ingress never routes (ecommerce_common.metrics).
if os.environ.get("METRICS_PORT"):
    bind.append(f"{_host}:{os.environ['METRICS_PORT']}")
# The workers keep their metrics in files here, so any of them answers a scrape for all.
# Set before any worker imports prometheus_client; one folder per gunicorn unless given.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="prometheus-gunicorn-")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycling only guards against slow leaks; at a few thousand requests/s a low limit would
# restart every worker each second (bench/FINDINGS.md §5).
max_requests = 50000
max_requests_jitter = 5000
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "false").lower() == "true" else None
errorlog = "-"
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR") or None
# No control socket (gunicornc): its one default path ($HOME/.gunicorn/gunicorn.ctl) would be
# shared by every gunicorn of a machine, and the masters starting together race to create it.
control_socket_disable = True


def on_starting(server):
    """Start from zero: files of an earlier run would add their counts to this one's."""
    from ecommerce_common.metrics_files import clean_multiprocess_dir

    clean_multiprocess_dir(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
