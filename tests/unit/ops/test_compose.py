"""docker-compose.yml: valid against the compose specification, and the project's policies hold
(pinned images, health checks, named volumes, UIs on loopback only, no secrets in the file)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def _check_jsonschema() -> str:
    found = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("check-jsonschema is not installed in the virtualenv (dev dependency)")
    return found


def test_compose_file_matches_the_compose_specification() -> None:
    result = subprocess.run([_check_jsonschema(), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_validator_rejects_an_invalid_file(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  web:\n    image: nginx:1.27\n    ports: 8080\n    healthcheck: yes\n")
    result = subprocess.run([_check_jsonschema(), "--builtin-schema", "vendor.compose-spec", str(broken)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0


def test_the_stack_the_issue_asks_for(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"timescaledb", "airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
            "airflow-triggerer", "mlflow", "spark-master", "spark-worker", "sidecar", "dashboard", "smtp",
            "simulator"} <= set(services)
    assert services["timescaledb"]["image"].startswith("timescale/timescaledb:")
    assert services["simulator"]["profiles"] == ["offline"]
    assert services["mlflow"]["environment"]["MLFLOW_BACKEND_STORE_URI"].startswith("postgresql")
    assert any(v.endswith(":/mlflow/artifacts") for v in services["mlflow"]["volumes"])
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
        assert services[name]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"


def test_every_long_running_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    missing = [name for name, svc in compose["services"].items()
               if name != "airflow-init" and "healthcheck" not in svc]
    assert missing == []


def test_images_are_pinned_and_volumes_named(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        image = svc.get("image", "")
        tag = image.rsplit("/", 1)[-1]
        assert ":" in tag and not tag.endswith(":latest"), f"{name}: image {image!r} is not pinned"
        for volume in svc.get("volumes", []):
            source = volume.split(":", 1)[0]
            assert source.startswith("./") or source in compose["volumes"], f"{name}: undeclared volume {source}"


def test_ports_are_published_on_loopback_only(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        for port in svc.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"


INTERPOLATION = re.compile(r"\$\{[^}]*\}")
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|API_KEY|FERNET_KEY)$")


def literal_secrets(node: Any, path: str = "compose") -> list[str]:
    """Values that carry a secret written in the file rather than taken from the environment: a
    secret-named key with a literal value, or a URL with a literal password."""
    if isinstance(node, dict):
        return [hit for key, value in node.items() for hit in literal_secrets(value, f"{path}.{key}")]
    if isinstance(node, list):
        return [hit for i, value in enumerate(node) for hit in literal_secrets(value, f"{path}[{i}]")]
    if not isinstance(node, str):
        return []
    literal = INTERPOLATION.sub("", node)
    key = path.rsplit(".", 1)[-1]
    password_in_url = re.search(r"//[^/@\s]*:([^@/\s]+)@", literal)
    if password_in_url or (SECRET_NAME.search(key) and literal.strip()):
        return [f"{path} = {node}"]
    return []


def test_no_secret_is_written_in_the_file(compose: dict[str, Any]) -> None:
    assert literal_secrets(compose) == []


def test_the_secret_check_finds_literals() -> None:
    bad = {"services": {"a": {"environment": {
        "DB": "postgresql://u:hunter2@db:5432/x", "OK": "postgresql://${U}:${P:?set P}@db:5432/x",
        "AIRFLOW__CORE__FERNET_KEY": "abc", "API_TOKEN": "${TOKEN:-}", "PLAIN": "value"}}}}
    assert literal_secrets(bad) == ["compose.services.a.environment.DB = postgresql://u:hunter2@db:5432/x",
                                    "compose.services.a.environment.AIRFLOW__CORE__FERNET_KEY = abc"]


def test_env_example_documents_every_variable_the_file_reads() -> None:
    body = "\n".join(line for line in COMPOSE.read_text().splitlines() if not line.lstrip().startswith("#"))
    used = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", body))  # $${X} is the container's, not .env's
    documented = set(re.findall(r"^#?\s*([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert used - documented == set()
