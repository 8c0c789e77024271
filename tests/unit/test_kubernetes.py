"""deploy/kubernetes/ cannot be applied here (no cluster): parse every manifest and check
the invariants plume's guarantees rest on — durable topics that match the contract, three
Kafka controllers and brokers, three PostgreSQL instances, probed and locked-down pods,
consumers no more than partitions, and alert rules from their one source."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
import yaml

from ops import kubernetes_manifests
from services.counter.settings import CounterSettings
from services.delivery.settings import DeliverySettings
from services.intake.settings import IntakeSettings
from shared.settings import ServiceSettings
from shared.topics import ACTIONS, TOPICS, spec_of

pytestmark = pytest.mark.unit
KUBERNETES = kubernetes_manifests.KUBERNETES
SETTINGS: dict[str, ServiceSettings] = {
    "intake": IntakeSettings(supporter_key_secret="x" * 16),
    "counter": CounterSettings(),
    "delivery": DeliverySettings(),
}
CONSUMERS = ("counter", "delivery")


def _kustomization() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    return loaded


@functools.cache
def _documents() -> list[dict[str, Any]]:
    return [
        doc
        for name in _kustomization()["resources"]
        for doc in yaml.safe_load_all((KUBERNETES / name).read_text())
        if doc
    ]


def _of_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for doc in _documents() if doc["kind"] == kind]


def _named(kind: str, name: str) -> dict[str, Any]:
    found = [doc for doc in _of_kind(kind) if doc["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    expressions = selector.get("matchExpressions", [])
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items()) and all(
        e["operator"] == "In" and labels.get(e["key"]) in e["values"] for e in expressions
    )


def _pod_labels(service: str) -> dict[str, str]:
    labels: dict[str, str] = _named("Deployment", service)["spec"]["template"]["metadata"]["labels"]
    return labels


def _container(service: str) -> dict[str, Any]:
    containers: list[dict[str, Any]] = _named("Deployment", service)["spec"]["template"]["spec"][
        "containers"
    ]
    assert len(containers) == 1
    return containers[0]


def test_the_kustomization_lists_every_manifest_and_each_parses() -> None:
    on_disk = {path.name for path in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(_kustomization()["resources"]) == on_disk
    for doc in _documents():
        assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"], doc


def test_the_generated_manifests_are_current() -> None:
    stale = [str(p.relative_to(KUBERNETES)) for p in kubernetes_manifests.stale_files()]
    assert not stale, f"{stale} differ: run python -m ops.kubernetes_manifests"


def test_every_contract_topic_is_a_durable_kafka_topic() -> None:
    cluster = _named("Kafka", kubernetes_manifests.KAFKA_CLUSTER)["metadata"]["name"]
    topics = {doc["spec"]["topicName"]: doc for doc in _of_kind("KafkaTopic")}
    assert set(topics) == {spec.name for spec in TOPICS}
    for spec in TOPICS:
        topic = topics[spec.name]
        config = topic["spec"]["config"]
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == cluster, spec.name
        assert topic["spec"]["partitions"] == spec.partitions, spec.name
        assert topic["spec"]["replicas"] == 3, spec.name
        assert int(config["min.insync.replicas"]) == 2, spec.name
        assert str(config["unclean.leader.election.enable"]).lower() == "false", spec.name
        policy = config.get("cleanup.policy", "delete")
        assert policy == ("compact" if spec.compacted else "delete"), spec.name


def test_kafka_runs_three_controllers_and_three_brokers_and_replicates_its_own_topics() -> None:
    cluster = kubernetes_manifests.KAFKA_CLUSTER
    pools = [
        p
        for p in _of_kind("KafkaNodePool")
        if p["metadata"]["labels"]["strimzi.io/cluster"] == cluster
    ]
    controllers = sum(p["spec"]["replicas"] for p in pools if "controller" in p["spec"]["roles"])
    brokers = sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"])
    assert controllers == 3  # a quorum that survives one loss; an even count adds nothing
    assert brokers >= 3
    config = _named("Kafka", cluster)["spec"]["kafka"]["config"]
    assert config["auto.create.topics.enable"] is False
    assert config["default.replication.factor"] == config["offsets.topic.replication.factor"] == 3
    assert config["min.insync.replicas"] == config["transaction.state.log.min.isr"] == 2
    assert config["unclean.leader.election.enable"] is False


def test_postgresql_runs_three_instances_with_a_synchronous_standby() -> None:
    (cluster,) = _of_kind("Cluster")
    assert cluster["spec"]["instances"] == 3
    assert cluster["spec"]["postgresql"]["synchronous"]["number"] >= 1


@pytest.mark.parametrize("service", SETTINGS)
def test_each_service_runs_its_command_and_is_probed_on_its_port(service: str) -> None:
    container = _container(service)
    port = type(SETTINGS[service]).model_fields["port"].default  # not this shell's override
    assert container["command"] == ["plume", "serve", service]
    assert {"name": "http", "containerPort": port} in container["ports"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env[f"PLUME_{service.upper()}_PORT"] == str(port)
    assert env[f"PLUME_{service.upper()}_HOST"] == "0.0.0.0"  # reachable from the Service


@pytest.mark.parametrize("service", SETTINGS)
def test_each_service_reads_only_settings_it_has_and_secrets_from_secrets(service: str) -> None:
    settings = SETTINGS[service]
    known = settings.environment()
    secret_names = {"PLUME_DATABASE_URL"} | {name for name in known if "SECRET" in name}
    for variable in _container(service)["env"]:
        name = variable["name"]
        assert name in known or not name.startswith("PLUME_"), f"{service} has no {name}"
        if name in secret_names:
            assert "value" not in variable and variable["valueFrom"]["secretKeyRef"], name


def test_the_secret_file_is_ignored_by_git_and_its_example_names_every_key() -> None:
    (generator,) = _kustomization()["secretGenerator"]
    (env_file,) = generator["envs"]
    assert env_file in (KUBERNETES / ".gitignore").read_text().split()
    example = (KUBERNETES / f"{env_file}.example").read_text().splitlines()
    keys = {line.split("=")[0] for line in example if line and not line.startswith("#")}
    used = {
        e["valueFrom"]["secretKeyRef"]["key"]
        for service in SETTINGS
        for e in _container(service)["env"]
        if e.get("valueFrom", {}).get("secretKeyRef", {}).get("name") == generator["name"]
    }
    assert used and used == keys


@pytest.mark.parametrize("service", SETTINGS)
def test_each_service_requests_and_limits_cpu_and_memory(service: str) -> None:
    resources = _container(service)["resources"]
    for bound in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(resources[bound]), (service, bound)


def _pod_specs() -> list[tuple[str, dict[str, Any]]]:
    kinds = ("Deployment", "Job")
    return [
        (d["metadata"]["name"], d["spec"]["template"]["spec"]) for k in kinds for d in _of_kind(k)
    ]


def test_every_pod_runs_as_non_root_without_privileges() -> None:
    assert {name for name, _ in _pod_specs()} >= set(SETTINGS)
    for name, pod in _pod_specs():
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert not context.get("privileged"), name


@pytest.mark.parametrize("service", SETTINGS)
def test_each_service_has_a_disruption_budget_and_a_service(service: str) -> None:
    labels = _pod_labels(service)
    assert any(_selects(b["spec"]["selector"], labels) for b in _of_kind("PodDisruptionBudget"))
    routed = [s for s in _of_kind("Service") if s["spec"]["selector"].items() <= labels.items()]
    assert [p["targetPort"] for s in routed for p in s["spec"]["ports"]] == ["http"], service


def test_intake_is_autoscaled_and_the_deployment_leaves_it_the_count() -> None:
    (autoscaler,) = [h for h in _of_kind("HorizontalPodAutoscaler")]
    assert autoscaler["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "intake",
    }
    assert 2 <= autoscaler["spec"]["minReplicas"] <= autoscaler["spec"]["maxReplicas"]
    assert "replicas" not in _named("Deployment", "intake")["spec"]


@pytest.mark.parametrize("service", CONSUMERS)
def test_consumers_are_no_more_than_the_partitions_of_the_actions_topic(service: str) -> None:
    partitions = spec_of(ACTIONS).partitions
    assert 2 <= _named("Deployment", service)["spec"]["replicas"] <= partitions
    for autoscaler in _of_kind("HorizontalPodAutoscaler"):
        if autoscaler["spec"]["scaleTargetRef"]["name"] == service:
            assert autoscaler["spec"]["maxReplicas"] <= partitions


def test_the_pod_monitor_scrapes_every_service_under_its_own_job_name() -> None:
    (monitor,) = _of_kind("PodMonitor")
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")
    for service in SETTINGS:
        labels = _pod_labels(service)
        assert _selects(monitor["spec"]["selector"], labels), service
        assert labels[monitor["spec"]["jobLabel"]] == service  # the rules use job="counter", …


def test_the_prometheus_rule_holds_exactly_the_groups_of_the_rules_files() -> None:
    rule_files = sorted(kubernetes_manifests.RULES.glob("*.yml"))
    groups = [g for path in rule_files for g in yaml.safe_load(Path(path).read_text())["groups"]]
    (rule,) = _of_kind("PrometheusRule")
    assert groups and rule["spec"]["groups"] == groups


def test_intake_counts_its_rate_limits_in_the_redis_service() -> None:
    env = {v["name"]: v.get("value") for v in _container("intake")["env"]}
    host, port = env["PLUME_INTAKE_REDIS_URL"].split("//")[1].split("/")[0].split(":")
    service = _named("Service", host)
    assert int(port) in {p["port"] for p in service["spec"]["ports"]}
    pods = _named("Deployment", host)["spec"]["template"]["metadata"]["labels"]
    assert _selects({"matchLabels": service["spec"]["selector"]}, pods)
