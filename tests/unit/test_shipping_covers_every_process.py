"""The compose file and the Helm chart run every process deploy/stack.py runs, with arguments the image accepts.

A worker added to a service (and to the supervisor) but not to the shipped artifacts would silently never run in
production; these tests name it instead.
"""
from pathlib import Path

import yaml

from deploy.stack import SERVICES

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text())
VALUES = yaml.safe_load((REPO / "deploy" / "helm" / "dealgate" / "values.yaml").read_text())
EXPECTED = ({(role, service) for service, workers in SERVICES.items() for role in workers}
            | {("api", service) for service in SERVICES})


def test_compose_runs_every_api_and_worker_once_and_every_migration():
    commands = [tuple(spec["command"]) for spec in COMPOSE["services"].values()
                if "DEALGATE_IMAGE" in str(spec.get("image"))]
    processes = [command for command in commands if command[0] != "migrate"]
    assert sorted(processes) == sorted(EXPECTED)
    assert sorted(command for command in commands if command[0] == "migrate") == sorted(
        ("migrate", service) for service in SERVICES)


def test_the_chart_has_a_deployment_for_every_api_and_worker():
    workers = {(spec["role"], spec["service"]) for spec in VALUES["workers"].values()}
    apis = {("api", service) for service in VALUES["apis"]}
    assert workers | apis == EXPECTED
    assert all(name == f"{spec['service']}-{spec['role']}" for name, spec in VALUES["workers"].items())


def test_every_shipped_process_is_one_the_image_entry_point_can_start():
    entrypoint = (REPO / "deploy" / "container" / "entrypoint.sh").read_text()
    assert 'exec python -m "services.$service.workers.$role"' in entrypoint
    for role, service in EXPECTED:
        module = REPO / "services" / service / ("app.py" if role == "api" else f"workers/{role}.py")
        assert module.is_file(), f"{role} {service}: no {module.relative_to(REPO)}"


def test_compose_services_share_the_kafka_and_database_settings_the_code_reads():
    environment = COMPOSE["x-dealgate-env"]
    assert environment["KAFKA_BOOTSTRAP_SERVERS"] == "kafka-1:9092,kafka-2:9092,kafka-3:9092"
    for service in SERVICES:
        assert f"/dealgate_{service}" in environment[f"{service.upper()}_DATABASE_URL"]
        # relays run in their own containers: the API's doorbell on 127.0.0.1 cannot reach them
        assert environment[f"{service.upper()}_RELAY_DOORBELL_PORT"] == "0"
