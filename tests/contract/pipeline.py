"""All three services wired in one process over the in-memory bus, with SQLite stores: a contract test bench.

Each service's outbox is relayed to the in-memory twin of Kafka, and each consumer reads from it, so the
events are exactly those the real services write; only the transport is the twin.
"""
from __future__ import annotations

import dataclasses
from importlib import import_module
from pathlib import Path

from services.catalog.settings import CatalogSettings
from services.conflict.settings import ConflictSettings
from services.deals.settings import DealsSettings
from shared.bus import InMemoryBus
from shared.config import Settings
from shared.consumer import EventConsumer
from shared.db import upgrade_to_head
from shared.relay import OutboxRelay
from shared.topics import CATALOG_LISTINGS, CONFLICT_CASES, CONFLICT_TERRITORIES

SETTINGS_OF: dict[str, type[Settings]] = {"catalog": CatalogSettings, "deals": DealsSettings,
                                          "conflict": ConflictSettings}


class Pipeline:
    def __init__(self, directory: Path):
        self.bus = InMemoryBus()
        self.services = {}
        self.apps = {}
        for name in ("catalog", "deals", "conflict"):
            settings = SETTINGS_OF[name].from_env(env={"DEALGATE_VAR_DIR": str(directory)})
            settings = dataclasses.replace(settings, relay_doorbell=None)
            upgrade_to_head(settings.database_url, import_module(f"services.{name}.bootstrap").MIGRATIONS)
            service = import_module(f"services.{name}.bootstrap").bootstrap(settings, bus=self.bus)
            self.services[name] = service
            self.apps[name] = import_module(f"services.{name}.app").create_app(
                {"SETTINGS": settings}, **{name: service}).test_client()
        deals, conflict = self.services["deals"], self.services["conflict"]
        conflict_handlers = import_module("services.conflict.handlers")
        deals_handlers = import_module("services.deals.handlers")
        conflict.detector.rebuild(conflict.uow_factory)
        self.consumers = [
            self._consumer("deals", [CATALOG_LISTINGS, CONFLICT_CASES, CONFLICT_TERRITORIES],
                           deals_handlers.consumer_handlers(deals.policy)),
            self._consumer("conflict", list(conflict_handlers.CONSUMED_TOPICS),
                           conflict_handlers.consumer_handlers(detector=conflict.detector, rules=conflict.rules)),
        ]

    def _consumer(self, name, topics, handlers) -> EventConsumer:
        service = self.services[name]
        return EventConsumer(subscription=self.bus.subscribe(topics, f"contract-{name}"),
                             uow_factory=service.uow_factory, handlers=handlers,
                             dlq_publisher_factory=self.bus.publisher, service=name, retry_backoff_s=0)

    def settle(self, rounds: int = 10) -> None:
        """Relay every outbox and run every consumer until nothing moves."""
        for _ in range(rounds):
            moved = 0
            for name, service in self.services.items():
                tables = import_module(f"services.{name}.storage.tables")
                moved += OutboxRelay(service.engine, tables.outbox, self.bus.publisher).drain()
            for consumer in self.consumers:
                moved += consumer.run_once()
            if not moved:
                return
