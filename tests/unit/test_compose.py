"""deploy/docker-compose.yml cannot run here (no Docker engine): check that it describes
the contract's topology — every process, every port, and the wiring of the app services."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.unit
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
APP_SERVICES = {"intake": 8001, "counter": 8002, "delivery": 8003}
CONTRACT_PORTS = {
    "intake": 8001,
    "counter": 8002,
    "delivery": 8003,
    "kafka": 9092,
    "postgres": 5432,
    "prometheus": 9090,
}


def load(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text())
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = load(DEPLOY / "docker-compose.yml")
    found: dict[str, Any] = compose["services"]
    return found


def published_ports(service: dict[str, Any]) -> set[int]:
    """Host ports of "[ip:]host:container" entries."""
    return {int(str(entry).split(":")[-2]) for entry in service.get("ports", [])}


def test_every_contract_process_is_a_service_with_its_port(services: dict[str, Any]) -> None:
    for name, port in CONTRACT_PORTS.items():
        assert name in services, f"no {name} service"
        assert port in published_ports(services[name]), f"{name} does not publish {port}"


def test_mounted_files_exist(services: dict[str, Any]) -> None:
    for service in services.values():
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), f"{source} is mounted but missing"


def test_grafana_is_provisioned_from_deploy_grafana(services: dict[str, Any]) -> None:
    assert "./grafana:/etc/grafana/provisioning:ro" in services["grafana"]["volumes"]
    datasources = load(DEPLOY / "grafana" / "datasources" / "prometheus.yml")["datasources"]
    host = datasources[0]["url"].split("//")[1].split(":")[0]
    assert host in services


def test_infrastructure_uses_the_official_images(services: dict[str, Any]) -> None:
    assert services["kafka"]["image"].startswith("apache/kafka:4.")
    assert services["postgres"]["image"] == "postgres:15"
    assert services["prometheus"]["image"].startswith("prom/prometheus")
    assert services["grafana"]["image"].startswith("grafana/grafana")


@pytest.mark.parametrize("name", [*APP_SERVICES, "init"])
def test_app_services_reach_kafka_and_postgres_by_service_name(
    services: dict[str, Any], name: str
) -> None:
    env = services[name]["environment"]
    kafka_host = env["PLUME_KAFKA_BOOTSTRAP"].split(":")[0]
    database_host = env["PLUME_DATABASE_URL"].split("@")[1].split(":")[0]
    assert kafka_host in services
    assert database_host in services
    assert env["PLUME_SUPPORTER_KEY_SECRET"]


@pytest.mark.parametrize(("name", "port"), APP_SERVICES.items())
def test_app_services_listen_on_their_published_port(
    services: dict[str, Any], name: str, port: int
) -> None:
    service = services[name]
    env = service["environment"]
    assert service["command"] == ["plume", "serve", name]
    assert int(env[f"PLUME_{name.upper()}_PORT"]) == port
    assert env[f"PLUME_{name.upper()}_HOST"] == "0.0.0.0"  # reachable from outside


@pytest.mark.parametrize(
    ("config", "hosts"),
    [
        ("prometheus.compose.yml", {name: name for name in APP_SERVICES}),
        ("prometheus.yml", {name: "127.0.0.1" for name in APP_SERVICES}),
    ],
)
def test_prometheus_scrapes_the_three_services(config: str, hosts: dict[str, str]) -> None:
    jobs = {
        job["job_name"]: job["static_configs"][0]["targets"]
        for job in load(DEPLOY / "prometheus" / config)["scrape_configs"]
    }
    for name, port in APP_SERVICES.items():
        assert jobs[name] == [f"{hosts[name]}:{port}"]


def test_intake_counts_its_rate_limits_in_the_redis_service(services: dict[str, Any]) -> None:
    url = services["intake"]["environment"]["PLUME_INTAKE_REDIS_URL"]
    host = url.split("//")[1].split(":")[0]
    assert services[host]["image"].startswith("redis:")
    assert services["intake"]["depends_on"][host]["condition"] == "service_healthy"
