"""Webhook use cases: managing a partner's endpoints (the API), turning deals events into queued messages (the
webhook worker's consumer), and delivering what is due (the worker's delivery loop)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import structlog

from services.deals.domain import webhooks
from services.deals.domain.model import parse_iso
from services.deals.domain.webhooks import WebhookError
from services.deals.storage.webhooks import WebhookRepository, WebhooksUnitOfWork
from services.deals.webhook_sender import Sender, SendResult
from shared.clock import iso, utcnow
from shared.events import CloudEvent

log = structlog.get_logger(__name__)


class NotFound(Exception):
    pass


class LimitReached(WebhookError):
    pass


def aware(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes for what was stored as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


def public_endpoint(endpoint: dict[str, Any], *, now: dt.datetime | None = None,
                    secret: str | None = None) -> dict[str, Any]:
    """An endpoint as its partner sees it; the secret only right after it was made (creation, rotation)."""
    now = now or utcnow()
    until = aware(endpoint.get("previous_secret_until"))
    document = {
        "id": endpoint["id"], "url": endpoint["url"], "events": list(endpoint["events"]),
        "enabled": bool(endpoint["enabled"]), "disabled_reason": endpoint.get("disabled_reason"),
        "disabled_at": iso(aware(endpoint.get("disabled_at"))),
        "failing_since": iso(aware(endpoint.get("failing_since"))),
        "previous_secret_valid_until": iso(until) if until and until > now else None,
        "created_at": iso(aware(endpoint["created_at"])), "updated_at": iso(aware(endpoint["updated_at"])),
    }
    if secret is not None:
        document["secret"] = secret
    return document


def public_delivery(delivery: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": delivery["id"], "event_type": delivery["event_type"], "deal_id": delivery.get("deal_id"),
        "status": delivery["status"], "attempt_count": delivery["attempt_count"],
        "next_attempt_at": iso(aware(delivery.get("next_attempt_at"))) if delivery["status"] == "pending" else None,
        "created_at": iso(aware(delivery["created_at"])),
        "last_attempt_at": iso(aware(delivery.get("last_attempt_at"))),
        "payload": delivery["payload"],
        "attempts": [{"at": iso(aware(a["attempted_at"])), "trigger": a["trigger"],
                      "response_status": a["response_status"], "latency_ms": a["latency_ms"], "error": a["error"],
                      "response_excerpt": a["response_excerpt"]} for a in delivery.get("attempts", [])],
    }


# -- managing endpoints (the API) --------------------------------------------------------------------------------

def register_endpoint(repo: WebhookRepository, *, partner_id: str, url: str, events: list[str], development: bool,
                      resolve: webhooks.Resolver, max_endpoints: int, now: dt.datetime | None = None
                      ) -> dict[str, Any]:
    now = now or utcnow()
    webhooks.check_url(url, development=development, resolve=resolve)
    if repo.count_endpoints(partner_id) >= max_endpoints:
        raise LimitReached(f"A partner may register at most {max_endpoints} webhook endpoints; delete one first.")
    secret = webhooks.new_secret()
    endpoint = repo.add_endpoint(partner_id=partner_id, url=url, events=events, secret=secret, now=now)
    return public_endpoint(endpoint, now=now, secret=secret)


def get_endpoint(repo: WebhookRepository, endpoint_id: str, *, partner_id: str, for_update: bool = False
                 ) -> dict[str, Any]:
    endpoint = repo.endpoint(endpoint_id, partner_id=partner_id, for_update=for_update)
    if endpoint is None:
        raise NotFound(endpoint_id)
    return endpoint


def update_endpoint(repo: WebhookRepository, endpoint_id: str, changes: dict[str, Any], *, partner_id: str,
                    development: bool, resolve: webhooks.Resolver, now: dt.datetime | None = None
                    ) -> dict[str, Any]:
    """Change the URL, the events, or enable a disabled endpoint again (which forgets its failures)."""
    now = now or utcnow()
    get_endpoint(repo, endpoint_id, partner_id=partner_id, for_update=True)
    values: dict[str, Any] = {"updated_at": now}
    if "url" in changes:
        webhooks.check_url(changes["url"], development=development, resolve=resolve)
        values["url"] = changes["url"]
    if "events" in changes:
        values["events"] = sorted(set(changes["events"]))
    if "enabled" in changes:
        values["enabled"] = changes["enabled"]
        if changes["enabled"]:
            values.update(disabled_reason=None, disabled_at=None, failing_since=None)
        else:
            values.update(disabled_reason="Disabled by the partner.", disabled_at=now)
    repo.update_endpoint(endpoint_id, **values)
    return public_endpoint(get_endpoint(repo, endpoint_id, partner_id=partner_id), now=now)


def rotate_secret(repo: WebhookRepository, endpoint_id: str, *, partner_id: str,
                  now: dt.datetime | None = None) -> dict[str, Any]:
    """A new secret signs from now on; the one it replaces signs too for ROTATION_OVERLAP (both signatures go
    in webhook-signature), so a receiver can switch without losing a message."""
    now = now or utcnow()
    endpoint = get_endpoint(repo, endpoint_id, partner_id=partner_id, for_update=True)
    secret = webhooks.new_secret()
    repo.update_endpoint(endpoint_id, secret=secret, previous_secret=endpoint["secret"],
                         previous_secret_until=now + webhooks.ROTATION_OVERLAP, updated_at=now)
    return public_endpoint(get_endpoint(repo, endpoint_id, partner_id=partner_id), now=now, secret=secret)


def delete_endpoint(repo: WebhookRepository, endpoint_id: str, *, partner_id: str) -> None:
    get_endpoint(repo, endpoint_id, partner_id=partner_id, for_update=True)
    repo.delete_endpoint(endpoint_id)


def replay(repo: WebhookRepository, endpoint_id: str, delivery_id: str, *, partner_id: str,
           now: dt.datetime | None = None) -> dict[str, Any]:
    """Queue one more attempt of a delivery that is over (succeeded or given up), with the same webhook-id."""
    now = now or utcnow()
    endpoint = get_endpoint(repo, endpoint_id, partner_id=partner_id, for_update=True)
    delivery = repo.delivery(delivery_id, endpoint_id=endpoint_id)
    if delivery is None:
        raise NotFound(delivery_id)
    if not endpoint["enabled"]:
        raise WebhookError("The endpoint is disabled; enable it (PATCH enabled=true) before replaying.")
    if delivery["status"] == "pending":
        raise WebhookError("This delivery is still being tried; it will be sent again on its schedule.")
    repo.update_delivery(delivery_id, status="pending", replay=True, next_attempt_at=now)
    return public_delivery({**delivery, "status": "pending", "next_attempt_at": now, "attempts": []})


# -- from deals events to queued messages (the worker's consumer) -----------------------------------------------

def on_deals_event(event: CloudEvent, *, uow: WebhooksUnitOfWork) -> None:
    """Queue a message for each of the partner's endpoints that asked for what this event means."""
    data = event.data or {}
    webhook = webhooks.webhook_type(event.type, data)
    if webhook is None or not data.get("partner_id"):
        return
    endpoints = uow.webhooks.subscribed(data["partner_id"], webhook)
    if not endpoints:
        return
    # The reason is partner-facing text kept in deals, not on the topic: the history entry of this status.
    registration = uow.registrations.get(data["id"])
    document = dict(data)
    if registration is not None:
        reasons = [h.reason for h in registration.history if h.status == data.get("status")]
        document["reason"] = reasons[-1] if reasons else registration.reason
        document["opportunity_name"] = registration.opportunity_name
        document["extensions_used"] = registration.extensions_used
    _enqueue(uow.webhooks, endpoints, webhook, document, event_id=event.id, at=parse_iso(event.time) or utcnow())


def enqueue_expiring(uow: WebhooksUnitOfWork, now: dt.datetime | None = None) -> int:
    """deal.expiring for approved registrations whose protection ends within EXPIRING_NOTICE; once per
    protection end (an extension earns a new notice)."""
    now = now or utcnow()
    partners = uow.webhooks.partners_subscribed_to("deal.expiring")
    queued = 0
    for document in uow.webhooks.approved_ending_between(now, now + webhooks.EXPIRING_NOTICE, partners):
        endpoints = uow.webhooks.subscribed(document["partner_id"], "deal.expiring")
        queued += _enqueue(uow.webhooks, endpoints, "deal.expiring", document, event_id="", at=now)
    return queued


def _enqueue(repo: WebhookRepository, endpoints: list[dict[str, Any]], webhook: str, document: dict[str, Any], *,
             event_id: str, at: dt.datetime) -> int:
    body = webhooks.payload(webhook, document, at=at)
    key = webhooks.dedup_key(webhook, document, event_id)
    now = utcnow()
    queued = 0
    for endpoint in endpoints:
        queued += repo.enqueue(endpoint_id=endpoint["id"], partner_id=endpoint["partner_id"], event_type=webhook,
                               dedup_key=key, deal_id=document.get("id"), payload=body,
                               message_id=webhooks.new_message_id(), now=now)
    return queued


# -- delivering (the worker's delivery loop) ---------------------------------------------------------------------

def deliver_due(uow_factory: Callable[[], WebhooksUnitOfWork], *, sender: Sender, resolve: webhooks.Resolver,
                development: bool, now: Callable[[], dt.datetime] = utcnow, batch: int = 20,
                lease: dt.timedelta = dt.timedelta(minutes=2)) -> int:
    """One pass: take what is due (a transaction of its own), send each outside any transaction, record each
    outcome in a short transaction. Returns how many were attempted."""
    with uow_factory() as uow:
        due = uow.webhooks.due(now(), limit=batch, lease=lease)
        uow.commit()
    for delivery in due:
        attempt_one(uow_factory, delivery, sender=sender, resolve=resolve, development=development, now=now)
    return len(due)


def attempt_one(uow_factory: Callable[[], WebhooksUnitOfWork], delivery: dict[str, Any], *, sender: Sender,
                resolve: webhooks.Resolver, development: bool, now: Callable[[], dt.datetime] = utcnow) -> None:
    started = now()
    if not delivery["enabled"]:
        with uow_factory() as uow:  # disabled while queued: nothing is sent until the partner enables it again
            uow.webhooks.update_delivery(delivery["id"], next_attempt_at=None, status="failed", replay=False)
            uow.commit()
        return
    timestamp = int(started.timestamp())
    secrets_in_use = [delivery["secret"]]
    until = aware(delivery.get("previous_secret_until"))
    if delivery.get("previous_secret") and until and until > started:
        secrets_in_use.append(delivery["previous_secret"])
    headers = {
        "content-type": "application/json", "user-agent": "Dealgate-Webhooks/1",
        "webhook-id": delivery["id"], "webhook-timestamp": str(timestamp),
        "webhook-signature": webhooks.signature_header(secrets_in_use, delivery["id"], timestamp, delivery["payload"]),
    }
    try:
        target = webhooks.check_url(delivery["url"], development=development, resolve=resolve)  # again, now
    except webhooks.UnsafeUrl as exc:
        result = SendResult(status=None, latency_ms=0, error=f"refused before sending: {exc}")
    else:
        result = sender.send(target, headers, delivery["payload"])
    status, latency_ms, error = result.status, result.latency_ms, result.error
    excerpt, retry_after = result.excerpt, result.retry_after_s
    finished = now()
    trigger = "replay" if delivery["replay"] else "scheduled"
    attempts = delivery["attempt_count"] + (0 if delivery["replay"] else 1)
    with uow_factory() as uow:
        uow.webhooks.record_attempt(delivery["id"], at=started, trigger=trigger, response_status=status,
                                    latency_ms=latency_ms, error=error, response_excerpt=excerpt)
        values: dict[str, Any] = dict(attempt_count=attempts, last_attempt_at=started, replay=False)
        endpoint_values: dict[str, Any] = {}
        if webhooks.is_success(status):
            values.update(status="succeeded", next_attempt_at=None)
            if delivery.get("failing_since") is not None:
                endpoint_values["failing_since"] = None
        else:
            retry_at = None if delivery["replay"] else webhooks.next_attempt_at(attempts, finished,
                                                                                 retry_after_s=retry_after)
            values.update(status="pending" if retry_at else "failed", next_attempt_at=retry_at)
            failing_since = aware(delivery.get("failing_since")) or started
            if delivery.get("failing_since") is None:
                endpoint_values["failing_since"] = started
            reason = _disable_reason(status, failing_since, finished)
            if reason:
                endpoint_values.update(enabled=False, disabled_reason=reason, disabled_at=finished)
                values.update(status="failed", next_attempt_at=None)
        uow.webhooks.update_delivery(delivery["id"], **values)
        if endpoint_values:
            uow.webhooks.update_endpoint(delivery["endpoint_id"], **endpoint_values)
        uow.commit()
    log.info("webhook.attempted", delivery=delivery["id"], endpoint=delivery["endpoint_id"], trigger=trigger,
             status=status, latency_ms=latency_ms, error=error, outcome=values["status"],
             disabled="enabled" in endpoint_values)


def _disable_reason(status: int | None, failing_since: dt.datetime, now: dt.datetime) -> str | None:
    if status == 410:
        return "The receiver answered 410 Gone: it asked for no more webhooks."
    if now - failing_since >= webhooks.DISABLE_AFTER:
        return (f"Every delivery failed since {iso(failing_since)} (the whole retry schedule); "
                "fix the receiver and enable the endpoint again.")
    return None
