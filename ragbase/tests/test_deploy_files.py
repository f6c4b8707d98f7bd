"""compose.yaml and Dockerfile checked as data: there is no container engine or compose plugin here,
so this stands in for `docker compose config` (services, healthchecks, start order, no secrets)."""
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]


def test_compose_has_the_services():
    assert {"postgres", "qdrant", "migrate", "web", "worker"} <= set(SERVICES)
    assert SERVICES["postgres"]["image"].startswith("postgres:")
    assert SERVICES["qdrant"]["image"].startswith("qdrant/qdrant:")
    assert "qcluster" in SERVICES["worker"]["command"]
    assert "migrate" in SERVICES["migrate"]["command"]


def test_the_qdrant_server_knows_the_fusions_search_sends():
    """Search sends Qdrant's `rrf` query with k and leg weights (SEARCH_FUSION): a server older
    than 1.17 refuses it, and every hybrid search would answer 503."""
    version = re.fullmatch(r"qdrant/qdrant:v(\d+)\.(\d+)\.(\d+)", SERVICES["qdrant"]["image"])
    assert version and tuple(map(int, version.groups())) >= (1, 17, 0)


def test_stores_have_volumes_and_healthchecks():
    assert "pg_isready" in str(SERVICES["postgres"]["healthcheck"]["test"])
    assert "/readyz" in str(SERVICES["qdrant"]["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in SERVICES["postgres"]["volumes"])
    assert any(v.endswith(":/qdrant/storage") for v in SERVICES["qdrant"]["volumes"])
    assert "QDRANT__SERVICE__API_KEY" in SERVICES["qdrant"]["environment"]


def test_app_services_wait_for_healthy_dependencies():
    assert SERVICES["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "worker"):
        depends = SERVICES[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["qdrant"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert SERVICES[name]["env_file"] == ".env"


def test_workers_scale():
    assert "replicas" in SERVICES["worker"]["deploy"]
    assert "container_name" not in SERVICES["worker"] and "container_name" not in SERVICES["web"]


def test_no_secrets_baked_in():
    """Every secret-looking value is an ${VAR} reference, never a literal."""
    secret_name = re.compile(r"(PASSWORD|API_KEY|SECRET|TOKEN|ENCRYPTION_KEY)")

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str) and secret_name.search(key) and isinstance(value, str):
                    assert value.startswith("${"), f"{key} has a literal value"
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(COMPOSE)
    for text in (COMPOSE["x-app"]["environment"]["DATABASE_URL"],):
        assert "${POSTGRES_PASSWORD" in text


def test_dockerfile_is_multistage_nonroot_with_healthcheck():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.count("FROM python:3.11-slim") == 2
    assert "COPY --from=builder /opt/venv" in dockerfile
    assert re.search(r"^USER ragbase$", dockerfile, re.M)
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    assert "collectstatic" in dockerfile and "gunicorn -c ragbase/gunicorn_config.py" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in ignored and ".git" in ignored and ".venv" in ignored


def test_the_image_installs_the_production_requirements_only():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install -r /tmp/requirements.txt" in dockerfile and "requirements-dev" not in dockerfile
    production = (ROOT / "requirements.txt").read_text().lower()
    assert "django==" in production and "pytest" not in production and "playwright" not in production
    development = (ROOT / "requirements-dev.txt").read_text()
    assert "-r requirements.txt" in development.splitlines() and "pytest==" in development


def test_the_image_and_serve_run_one_server_configuration():
    """The Dockerfile's gunicorn and `manage.py serve` load the same configuration file, which takes
    its process count from GUNICORN_WORKERS in both modes (test_serve counts the processes)."""
    from ragbase.management.commands.serve import GUNICORN_CONFIG

    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"-c {GUNICORN_CONFIG.relative_to(ROOT)}" in dockerfile and "--workers" not in dockerfile
