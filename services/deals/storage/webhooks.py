"""Webhook tables (migration 0007) and the repository the API and the webhook worker share."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from services.deals.domain.events import new_events
from services.deals.storage.repository import RegistrationRepository
from services.deals.storage.tables import metadata, outbox, registrations
from shared.uow import SqlUnitOfWork

webhook_endpoints = sa.Table(
    "webhook_endpoints", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("partner_id", sa.String(100), nullable=False),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("events", sa.JSON, nullable=False),
    sa.Column("secret", sa.String(100), nullable=False),
    sa.Column("previous_secret", sa.String(100)),
    sa.Column("previous_secret_until", sa.DateTime(timezone=True)),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("disabled_reason", sa.String(300)),
    sa.Column("disabled_at", sa.DateTime(timezone=True)),
    sa.Column("failing_since", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("endpoint_id", sa.String(36), sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("partner_id", sa.String(100), nullable=False),
    sa.Column("event_type", sa.String(40), nullable=False),
    sa.Column("dedup_key", sa.String(200), nullable=False),
    sa.Column("deal_id", sa.String(36)),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempt_count", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
    sa.Column("replay", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_attempt_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("endpoint_id", "dedup_key", name="uq_webhook_deliveries_endpoint_dedup"),
)

webhook_attempts = sa.Table(
    "webhook_attempts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("delivery_id", sa.String(40), sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("trigger", sa.String(16), nullable=False),
    sa.Column("response_status", sa.Integer),
    sa.Column("latency_ms", sa.Integer, nullable=False),
    sa.Column("error", sa.String(300)),
    sa.Column("response_excerpt", sa.String(512)),
)

# The webhook worker's inbox: it consumes deals.registrations.v1 in a consumer group of its own.
webhook_inbox = sa.Table(
    "webhook_inbox", metadata,
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("topic", sa.String(200), nullable=False),
    sa.Column("event_type", sa.String(100), nullable=False),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
)

def _endpoint(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


class WebhookRepository:
    def __init__(self, connection: Connection):
        self._connection = connection
        # Each partner's endpoints as this transaction read them: the webhook consumer's batch asks once per
        # event, and most events of a batch come from a few partners. Any write here forgets them.
        self._endpoints_of: dict[str, list[dict[str, Any]]] = {}

    # -- endpoints --

    def count_endpoints(self, partner_id: str) -> int:
        return int(self._connection.execute(
            sa.select(sa.func.count()).select_from(webhook_endpoints)
            .where(webhook_endpoints.c.partner_id == partner_id)).scalar_one())

    def add_endpoint(self, *, partner_id: str, url: str, events: list[str], secret: str,
                     now: dt.datetime) -> dict[str, Any]:
        self._endpoints_of.clear()
        row = dict(id=str(uuid.uuid4()), partner_id=partner_id, url=url, events=sorted(set(events)), secret=secret,
                   previous_secret=None, previous_secret_until=None, enabled=True, disabled_reason=None,
                   disabled_at=None, failing_since=None, created_at=now, updated_at=now)
        self._connection.execute(webhook_endpoints.insert().values(**row))
        return row

    def endpoint(self, endpoint_id: str, *, partner_id: str | None = None,
                 for_update: bool = False) -> dict[str, Any] | None:
        query = sa.select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
        if partner_id is not None:
            query = query.where(webhook_endpoints.c.partner_id == partner_id)
        if for_update:
            query = query.with_for_update()
        row = self._connection.execute(query).first()
        return _endpoint(row) if row else None

    def endpoints(self, partner_id: str) -> list[dict[str, Any]]:
        if partner_id not in self._endpoints_of:
            rows = self._connection.execute(
                sa.select(webhook_endpoints).where(webhook_endpoints.c.partner_id == partner_id)
                .order_by(webhook_endpoints.c.created_at, webhook_endpoints.c.id))
            self._endpoints_of[partner_id] = [_endpoint(row) for row in rows]
        return [dict(endpoint) for endpoint in self._endpoints_of[partner_id]]

    def subscribed(self, partner_id: str, event_type: str) -> list[dict[str, Any]]:
        """The partner's enabled endpoints that asked for this event type."""
        return [e for e in self.endpoints(partner_id) if e["enabled"] and event_type in e["events"]]

    def partners_subscribed_to(self, event_type: str) -> set[str]:
        rows = self._connection.execute(sa.select(webhook_endpoints.c.partner_id, webhook_endpoints.c.events)
                                        .where(webhook_endpoints.c.enabled.is_(True)))
        return {row.partner_id for row in rows if event_type in row.events}

    def update_endpoint(self, endpoint_id: str, **values: Any) -> None:
        self._endpoints_of.clear()
        self._connection.execute(webhook_endpoints.update().where(webhook_endpoints.c.id == endpoint_id)
                                 .values(**values))

    def delete_endpoint(self, endpoint_id: str) -> None:
        self._endpoints_of.clear()
        # In order, without relying on ON DELETE CASCADE (SQLite enforces it only when told to).
        deliveries = sa.select(webhook_deliveries.c.id).where(webhook_deliveries.c.endpoint_id == endpoint_id)
        self._connection.execute(webhook_attempts.delete().where(webhook_attempts.c.delivery_id.in_(deliveries)))
        self._connection.execute(webhook_deliveries.delete().where(webhook_deliveries.c.endpoint_id == endpoint_id))
        self._connection.execute(webhook_endpoints.delete().where(webhook_endpoints.c.id == endpoint_id))

    # -- deliveries --

    def enqueue(self, *, endpoint_id: str, partner_id: str, event_type: str, dedup_key: str, deal_id: str | None,
                payload: str, message_id: str, now: dt.datetime) -> bool:
        """Queue a message for the endpoint unless the same fact was queued for it before; True if queued."""
        exists = self._connection.execute(
            sa.select(webhook_deliveries.c.id).where(webhook_deliveries.c.endpoint_id == endpoint_id,
                                                     webhook_deliveries.c.dedup_key == dedup_key)).first()
        if exists:
            return False
        self._connection.execute(webhook_deliveries.insert().values(
            id=message_id, endpoint_id=endpoint_id, partner_id=partner_id, event_type=event_type,
            dedup_key=dedup_key, deal_id=deal_id, payload=payload, status="pending", attempt_count=0,
            next_attempt_at=now, replay=False, created_at=now, last_attempt_at=None))
        return True

    def due(self, now: dt.datetime, *, limit: int, lease: dt.timedelta) -> list[dict[str, Any]]:
        """Take the deliveries due now for one pass, and push their next attempt `lease` ahead so that another
        worker does not take them meanwhile (if this one dies mid-pass, they come due again after the lease).
        SKIP LOCKED on PostgreSQL: two workers take different rows."""
        query = (sa.select(webhook_deliveries.c.id)
                 .where(webhook_deliveries.c.status == "pending", webhook_deliveries.c.next_attempt_at <= now)
                 .order_by(webhook_deliveries.c.next_attempt_at).limit(limit))
        if self._connection.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = [row.id for row in self._connection.execute(query)]
        if not ids:
            return []
        self._connection.execute(webhook_deliveries.update().where(webhook_deliveries.c.id.in_(ids))
                                 .values(next_attempt_at=now + lease))
        rows = self._connection.execute(
            sa.select(webhook_deliveries, webhook_endpoints.c.url, webhook_endpoints.c.secret,
                      webhook_endpoints.c.previous_secret, webhook_endpoints.c.previous_secret_until,
                      webhook_endpoints.c.enabled, webhook_endpoints.c.failing_since)
            .join(webhook_endpoints, webhook_endpoints.c.id == webhook_deliveries.c.endpoint_id)
            .where(webhook_deliveries.c.id.in_(ids)).order_by(webhook_deliveries.c.next_attempt_at))
        return [dict(row._mapping) for row in rows]

    def delivery(self, delivery_id: str, *, endpoint_id: str) -> dict[str, Any] | None:
        row = self._connection.execute(sa.select(webhook_deliveries).where(
            webhook_deliveries.c.id == delivery_id, webhook_deliveries.c.endpoint_id == endpoint_id)).first()
        return dict(row._mapping) if row else None

    def update_delivery(self, delivery_id: str, **values: Any) -> None:
        self._connection.execute(webhook_deliveries.update().where(webhook_deliveries.c.id == delivery_id)
                                 .values(**values))

    def record_attempt(self, delivery_id: str, *, at: dt.datetime, trigger: str, response_status: int | None,
                       latency_ms: int, error: str | None, response_excerpt: str | None) -> None:
        self._connection.execute(webhook_attempts.insert().values(
            delivery_id=delivery_id, attempted_at=at, trigger=trigger, response_status=response_status,
            latency_ms=latency_ms, error=error[:300] if error else None,
            response_excerpt=response_excerpt[:512] if response_excerpt else None))

    def deliveries(self, endpoint_id: str, *, limit: int, before: tuple[dt.datetime, str] | None = None
                   ) -> list[dict[str, Any]]:
        """Newest first, each with its attempts (oldest first)."""
        query = sa.select(webhook_deliveries).where(webhook_deliveries.c.endpoint_id == endpoint_id)
        if before is not None:
            created, delivery_id = before
            query = query.where(sa.tuple_(webhook_deliveries.c.created_at, webhook_deliveries.c.id)
                                < sa.tuple_(sa.literal(created), sa.literal(delivery_id)))
        rows = [dict(row._mapping) for row in self._connection.execute(
            query.order_by(webhook_deliveries.c.created_at.desc(), webhook_deliveries.c.id.desc()).limit(limit))]
        attempts: dict[str, list[dict[str, Any]]] = {row["id"]: [] for row in rows}
        if rows:
            for attempt in self._connection.execute(
                    sa.select(webhook_attempts).where(webhook_attempts.c.delivery_id.in_(list(attempts)))
                    .order_by(webhook_attempts.c.id)):
                attempts[attempt.delivery_id].append(dict(attempt._mapping))
        for row in rows:
            row["attempts"] = attempts[row["id"]]
        return rows

    # -- the expiring notice --

    def approved_ending_between(self, start: dt.datetime, end: dt.datetime, partner_ids: set[str]
                                ) -> list[dict[str, Any]]:
        if not partner_ids:
            return []
        rows = self._connection.execute(
            sa.select(registrations.c.document).where(
                registrations.c.status == "approved", registrations.c.protection_until > start,
                registrations.c.protection_until <= end, registrations.c.partner_id.in_(sorted(partner_ids))))
        return [row.document for row in rows]


class WebhooksUnitOfWork(SqlUnitOfWork):
    """The webhook worker's transaction: its own inbox, the webhook tables and the registrations it reads."""

    webhooks: WebhookRepository
    registrations: RegistrationRepository

    def __init__(self, engine: Engine):
        super().__init__(engine, outbox_table=outbox, inbox_table=webhook_inbox, new_events=new_events)

    def open_repositories(self, connection: Connection) -> None:
        self.webhooks = WebhookRepository(connection)
        self.registrations = RegistrationRepository(connection, self.seen)
