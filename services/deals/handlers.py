"""Deals use cases (API commands and consumed events): plain functions of (input, *, uow, ...)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from services.deals.domain.events import registration_event
from services.deals.domain.model import DomainError, InvalidTransition, Registration
from services.deals.domain.policy import DealPolicy
from shared.auth import Principal
from shared.events import CloudEvent
from shared.topics import DEALS_REGISTRATIONS


class NotFound(Exception):
    pass


class ProductsUnavailable(DomainError):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("Some products cannot be registered.")
        self.errors = errors


def _flush_events(registration: Registration, uow) -> None:
    for event_type in registration.events:
        uow.publish(DEALS_REGISTRATIONS, registration_event(event_type, registration))
    registration.events.clear()


def submit_deal(fields: dict[str, Any], *, principal: Principal, uow) -> Registration:
    with uow:
        _check_products(fields["products"], channel=principal.channel, uow=uow)
        registration = Registration.submit(partner_id=principal.owner_key, channel=principal.channel,
                                           submitted_by=principal.sub, **fields)
        uow.registrations.add(registration)
        _flush_events(registration, uow)
        uow.commit()
        return registration


def _check_products(product_ids: list[str], *, channel: str, uow) -> None:
    known = uow.catalog.get_many(product_ids)
    errors: dict[str, list[str]] = {}
    for index, product_id in enumerate(product_ids):
        listing = known.get(product_id)
        if listing is None or listing["status"] != "published":
            errors[f"products.{index}"] = [f"{product_id} is not a published listing."]
        elif not any(channel in offer["channels"] for offer in listing["offers"]):
            errors[f"products.{index}"] = [f"{product_id} is not offered to the {channel} channel."]
    if errors:
        raise ProductsUnavailable(errors)


def get_deal(deal_id: str, *, principal: Principal, uow) -> Registration:
    with uow:
        registration = uow.registrations.get(deal_id)
    # Another partner's registration answers exactly like one that does not exist.
    if registration is None or not _may_see(principal, registration):
        raise NotFound(deal_id)
    return registration


def _may_see(principal: Principal, registration: Registration) -> bool:
    return principal.sees_everything or registration.partner_id == principal.owner_key


def list_deals(*, principal: Principal, status: str | None, limit: int, after_id: str | None, uow):
    with uow:
        return uow.registrations.list(partner_id=None if principal.sees_everything else principal.owner_key,
                                      status=status, limit=limit, after_id=after_id)


def withdraw_deal(deal_id: str, *, principal: Principal, uow) -> Registration:
    return _change(deal_id, principal, uow, lambda r: r.withdraw())


def close_deal(deal_id: str, outcome: str, *, principal: Principal, uow) -> Registration:
    return _change(deal_id, principal, uow, lambda r: r.close(outcome=outcome))


def extend_deal(deal_id: str, *, principal: Principal, policy: DealPolicy, uow) -> Registration:
    return _change(deal_id, principal, uow, lambda r: r.extend(by=policy.extension,
                                                                max_extensions=policy.max_extensions,
                                                                window=policy.extension_window))


def _change(deal_id: str, principal: Principal, uow, change) -> Registration:
    with uow:
        registration = uow.registrations.get(deal_id, for_update=True)
        if registration is None or not _may_see(principal, registration):
            raise NotFound(deal_id)
        change(registration)
        uow.registrations.save(registration)
        _flush_events(registration, uow)
        uow.commit()
        return registration


def expire_due(*, uow_factory, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Expire approved registrations whose protection has passed; one transaction each, so a crash loses nothing."""
    now = now or dt.datetime.now(dt.timezone.utc)
    with uow_factory() as uow:
        due = uow.registrations.due_for_expiry(now, limit)
    expired = 0
    for deal_id in due:
        with uow_factory() as uow:
            registration = uow.registrations.get(deal_id, for_update=True)
            if registration is None or registration.status != "approved":
                continue  # changed meanwhile (closed or extended): nothing to expire
            try:
                registration.expire(now=now)
            except InvalidTransition:
                continue
            uow.registrations.save(registration)
            _flush_events(registration, uow)
            uow.commit()
            expired += 1
    return expired


# --- Consumed events ---------------------------------------------------------------------------------


def on_listing_changed(event: CloudEvent, *, uow) -> None:
    uow.catalog.upsert(event.data)


def on_registration_cleared(event: CloudEvent, *, uow, policy: DealPolicy) -> None:
    registration = uow.registrations.get(event.data["deal_id"], for_update=True)
    if registration is None or registration.status != "submitted":
        return  # a verdict for a registration already withdrawn (or decided) changes nothing
    registration.approve(protection=policy.protection,
                         reason=event.data.get("reason") or "No competing registration was found.")
    uow.registrations.save(registration)
    _flush_events(registration, uow)


def on_case_changed(event: CloudEvent, *, uow) -> None:
    for member in event.data.get("registrations", []):
        registration = uow.registrations.get(member["deal_id"], for_update=True)
        if registration is None or registration.status != "submitted":
            continue
        registration.enter_conflict(
            case_ref=event.data["id"],
            reason="Another registration may cover the same customer and product; the channel desk is reviewing "
                   "it. You will see the decision and its reason here.")
        uow.registrations.save(registration)
        _flush_events(registration, uow)


def on_case_resolved(event: CloudEvent, *, uow, policy: DealPolicy) -> None:
    resolution = event.data.get("resolution") or {}
    for deal_id, outcome in (resolution.get("outcomes") or {}).items():
        registration = uow.registrations.get(deal_id, for_update=True)
        if registration is None or not registration.is_active:
            continue
        try:
            if outcome["status"] == "approved" and registration.status != "approved":
                registration.approve(protection=policy.protection, reason=outcome["reason"])
            elif outcome["status"] == "rejected":
                registration.reject(reason=outcome["reason"])
        except InvalidTransition:
            continue
        uow.registrations.save(registration)
        _flush_events(registration, uow)


def consumer_handlers(policy: DealPolicy) -> dict:
    return {
        "listing.published": on_listing_changed,
        "listing.updated": on_listing_changed,
        "listing.retired": on_listing_changed,
        "registration.cleared": lambda event, *, uow: on_registration_cleared(event, uow=uow, policy=policy),
        "case.opened": on_case_changed,
        "case.updated": on_case_changed,
        "case.resolved": lambda event, *, uow: on_case_resolved(event, uow=uow, policy=policy),
    }


def today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()
