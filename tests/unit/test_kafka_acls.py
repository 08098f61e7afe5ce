"""A secured cluster's ACLs follow the code: each service may read what its consumers subscribe to, and write only
what its relay publishes and the dead-letter topics of what it reads."""
import ast
import importlib
from pathlib import Path

import pytest

import shared.topics
from deploy.kafka import SERVICES, service_acls
from shared.topics import CONSUMED_BY, PUBLISHED_BY, TOPICS, dlq_name

REPO = Path(__file__).resolve().parents[2]


def subscribed_topics(service: str) -> set[str]:
    """The topics of every run_consumer(topics=...) call in the service's workers, resolved from their source."""
    found: set[str] = set()
    for path in sorted((REPO / "services" / service / "workers").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "run_consumer":
                topics = next(k.value for k in node.keywords if k.arg == "topics")
                if isinstance(topics, ast.List):  # [CATALOG_LISTINGS, ...]
                    found |= {getattr(shared.topics, element.id) for element in topics.elts}
                else:  # list(handlers.CONSUMED_TOPICS)
                    handlers = importlib.import_module(f"services.{service}.handlers")
                    found |= set(getattr(handlers, topics.args[0].attr))
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_consumed_by_names_what_the_workers_subscribe_to(service):
    assert set(CONSUMED_BY[service]) == subscribed_topics(service)


def test_the_deals_user_writes_its_own_topics_and_reads_only_what_it_consumes():
    acls = service_acls("deals")
    written = {name for kind, name, _, operation in acls if kind == "TOPIC" and operation == "WRITE"}
    read = {name for kind, name, _, operation in acls if kind == "TOPIC" and operation == "READ"}
    assert written == set(PUBLISHED_BY["deals"]) | {dlq_name(t) for t in CONSUMED_BY["deals"]}
    assert "conflicts.cases.v1" not in written and "catalog.listings.v1" not in written
    assert read == set(CONSUMED_BY["deals"])
    assert ("GROUP", "dealgate-deals", "PREFIXED", "READ") in acls
    assert not any(kind == "CLUSTER" for kind, *_ in acls)
    assert {name for kind, name, _, operation in acls if operation == "DESCRIBE"} == {spec.name for spec in TOPICS}


def test_catalog_reads_nothing_and_joins_no_group():
    acls = service_acls("catalog")
    assert not any(operation == "READ" for *_, operation in acls)
    assert {name for _, name, _, operation in acls if operation == "WRITE"} == set(PUBLISHED_BY["catalog"])
