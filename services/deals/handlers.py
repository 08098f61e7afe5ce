"""Deals use cases (API commands and consumed events): plain functions of (input, *, uow, ...)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import structlog

from services.deals.domain.commands import SubmitDeal
from services.deals.domain.idempotency import judge
from services.deals.domain.model import DomainError, InvalidTransition, Registration, utcnow
from services.deals.domain.policy import DealPolicy
from services.deals.lead_handlers import on_territory_changed
from services.deals.limits import DealLimits, RateLimited, window_of
from shared.auth import Principal
from shared.events import CloudEvent
from shared.identity import customer_keys, strong_match
from shared.reference import region_of
from shared.topics import CATALOG_LISTINGS, CONFLICT_CASES, CONFLICT_TERRITORIES

if TYPE_CHECKING:  # the protocol only: handlers receive their storage, they never build it
    from services.deals.storage.uow import DealsUnitOfWork


log = structlog.get_logger(__name__)


class NotFound(Exception):
    pass


class PreconditionFailed(Exception):
    """An If-Match named a version that is no longer current."""


class PreconditionRequired(Exception):
    """An amendment without If-Match: it could silently overwrite a change the caller has not seen (SPEC: 428)."""


class ProductsUnavailable(DomainError):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("Some products cannot be registered.")
        self.errors = errors


# --- Submission ------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Submission:
    """What a submission answers: the acknowledged registration as JSON text, and whether it is a replay."""

    acknowledged: str
    deal_id: str
    version: int
    replayed: bool = False

    @classmethod
    def replay(cls, acknowledged: str) -> Submission:
        registration = json.loads(acknowledged)
        return cls(acknowledged, deal_id=registration["id"], version=registration["version"], replayed=True)


def submit_deal(command: SubmitDeal, *, principal: Principal, limits: DealLimits,
                uow_factory: Callable[[], DealsUnitOfWork], now: dt.datetime | None = None) -> Submission:
    """Register a deal; with an Idempotency-Key, this owns the key's whole life (claim, replay, complete, release).

    The claim commits in its own short transaction, so that a concurrent duplicate sees it at once. A request
    that fails (a validation failure is never stored) gives its key back for a corrected retry.
    """
    key = command.idempotency_key
    if key is None:
        return _register(command, principal=principal, uow=uow_factory())
    now = now or utcnow()
    with uow_factory() as uow:
        existing = uow.idempotency.claim(principal.owner_key, key, command.request_fingerprint, now=now,
                                         ttl=dt.timedelta(seconds=limits.idempotency_ttl_s),
                                         abandoned_after=dt.timedelta(seconds=limits.idempotency_abandoned_after_s))
        uow.commit()
    if existing is not None:
        return Submission.replay(judge(existing, command.request_fingerprint))
    try:
        return _register(command, principal=principal, uow=uow_factory(), idempotency_key=key)
    except BaseException:
        with uow_factory() as uow:
            uow.idempotency.release(principal.owner_key, key)
            uow.commit()
        raise


def _register(command: SubmitDeal, *, principal: Principal, uow: DealsUnitOfWork,
              idempotency_key: str | None = None) -> Submission:
    with uow:
        _check_products(command.products, principal=principal, customer=command.customer,
                        customer_domain=command.customer_keys["domain"], uow=uow)
        # The roles that may submit always carry a channel (shared.auth.DEFAULT_CHANNEL).
        registration = Registration.submit(partner_id=principal.owner_key,
                                           channel=principal.channel,  # type: ignore[arg-type]
                                           submitted_by=principal.sub, **command.registration_fields())
        uow.registrations.add(registration, customer_keys=command.customer_keys)
        acknowledged = json.dumps(registration.public_dict(), separators=(",", ":"))
        if idempotency_key:
            uow.idempotency.complete(principal.owner_key, idempotency_key, acknowledged)
        uow.commit()
        return Submission(acknowledged, deal_id=registration.id, version=registration.version)


def etag(registration: Registration) -> str:
    return f'"{registration.version}"'


def _check_products(product_ids: list[str], *, principal: Principal, customer: dict[str, Any],
                    uow: DealsUnitOfWork, customer_domain: str | None = None) -> None:
    """Each product must be published and have an offer for the caller's channel and the customer's region."""
    known = uow.catalog.get_many(product_ids)
    region = region_of(customer["country"])
    # The customer key, not domain_normalised: a free-mail domain names no customer, so no private offer is to it.
    domain = customer_domain or customer_keys(customer)["domain"]
    errors: dict[str, list[str]] = {}
    for index, product_id in enumerate(product_ids):
        listing = known.get(product_id)
        offers = listing["offers"] if listing else []
        if listing is None or listing["status"] != "published":
            errors[f"products.{index}"] = [f"{product_id} is not a published listing."]
        elif not any(principal.channel in offer.get("channels", ()) for offer in offers):
            errors[f"products.{index}"] = [f"{product_id} is not offered to the {principal.channel} channel."]
        elif not any(_offer_fits(offer, principal, region, domain) for offer in offers):
            errors[f"products.{index}"] = [f"{product_id} is not offered to your channel in the customer's "
                                           f"region ({region})."]
    if errors:
        raise ProductsUnavailable(errors)


def _offer_fits(offer: dict, principal: Principal, region: str | None, customer_domain: str | None) -> bool:
    if principal.channel not in offer.get("channels", ()) or region not in offer.get("regions", ()):
        return False
    if offer.get("visibility", "public") == "private":
        return offer.get("private_to") in (principal.partner_id, customer_domain)
    return True


# --- Pre-check ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Availability:
    result: str  # available | claimed | review
    reason: str


def check_availability(customer: dict, product_ids: list[str], *, principal: Principal, limits: DealLimits,
                       uow: DealsUnitOfWork,
                       now_s: float | None = None) -> Availability:
    """Judged only on deals' own registrations; the answer never says whose registration it found."""
    with uow:
        _hit_shared_limit(f"check:{principal.owner_key}", limits.checks_per_minute,
                          now_s=time.time() if now_s is None else now_s, uow=uow)
        _check_products(product_ids, principal=principal, customer=customer, uow=uow)
        competing = uow.registrations.competing(customer=customer, excluding_partner=principal.owner_key)
        uow.commit()
    wanted, keys = set(product_ids), customer_keys(customer)
    overlapping = [r for r in competing if wanted & set(r.products)]
    if any(strong_match(keys, customer_keys(r.customer)) for r in overlapping):
        return Availability("claimed", "Another registration already covers this customer for at least one of "
                                       "these products. You can still register; the channel desk decides.")
    if overlapping:
        return Availability("review", "A registration for a similarly named customer covers at least one of "
                                      "these products; a registration would be reviewed by the channel desk.")
    return Availability("available", "No other registration covers this customer for these products.")


def _hit_shared_limit(bucket: str, per_minute: int, *, now_s: float, uow: DealsUnitOfWork) -> None:
    if per_minute <= 0:
        return
    window, retry_after = window_of(now_s)
    if uow.rate_limits.hit(bucket, window) > per_minute:
        raise RateLimited(retry_after)


# --- Reading -----------------------------------------------------------------------------------------------


def get_deal(deal_id: str, *, principal: Principal, uow: DealsUnitOfWork) -> Registration:
    with uow:
        registration = uow.registrations.get(deal_id)
    # Another partner's registration answers exactly like one that does not exist.
    if registration is None or not _may_see(principal, registration):
        raise NotFound(deal_id)
    return registration


def _may_see(principal: Principal, registration: Registration) -> bool:
    return principal.sees_everything or registration.partner_id == principal.owner_key


def list_deals(*, principal: Principal, limit: int, status: str | None = None, channel: str | None = None,
               partner_id: str | None = None, after: tuple[dt.datetime, str] | None = None,
               uow: DealsUnitOfWork) -> list[Registration]:
    """Partners see their own registrations whatever filter they send; desk and admin may filter by partner."""
    owner = partner_id if principal.sees_everything else principal.owner_key
    with uow:
        return uow.registrations.list(partner_id=owner, status=status, channel=channel, limit=limit, after=after)


# --- Changes -----------------------------------------------------------------------------------------------


def withdraw_deal(deal_id: str, *, principal: Principal, uow: DealsUnitOfWork) -> Registration:
    return _change(deal_id, principal, uow, lambda r: r.withdraw())


def close_deal(deal_id: str, outcome: str, *, principal: Principal, uow: DealsUnitOfWork) -> Registration:
    return _change(deal_id, principal, uow, lambda r: r.close(outcome=outcome))


def extend_deal(deal_id: str, *, principal: Principal, policy: DealPolicy, uow: DealsUnitOfWork) -> Registration:
    return _change(deal_id, principal, uow, lambda r: r.extend(by=policy.extension,
                                                                max_extensions=policy.max_extensions,
                                                                window=policy.extension_window))


def amend_deal(deal_id: str, changes: dict[str, Any], *, principal: Principal, uow: DealsUnitOfWork,
               if_match: str | None = None) -> Registration:
    def amend(registration: Registration) -> None:
        if "products" in changes or "customer" in changes:
            _check_products(changes.get("products", registration.products), principal=principal,
                            customer=changes.get("customer", registration.customer), uow=uow)
        registration.amend(changes)
    return _change(deal_id, principal, uow, amend, if_match=if_match, if_match_required=True)


def _change(deal_id: str, principal: Principal, uow: DealsUnitOfWork, change, *,
            if_match: str | None = None, if_match_required: bool = False) -> Registration:
    with uow:
        registration = uow.registrations.get(deal_id, for_update=True)
        if registration is None or not _may_see(principal, registration):
            raise NotFound(deal_id)  # before 428: another partner's registration answers as one that is not there
        if if_match is None and if_match_required:
            raise PreconditionRequired(deal_id)
        if if_match is not None and if_match.strip() not in ("*", etag(registration)):
            raise PreconditionFailed(deal_id)
        change(registration)
        uow.registrations.save(registration)
        uow.commit()
        return registration


def erase_deal(deal_id: str, *, principal: Principal, uow: DealsUnitOfWork) -> Registration:
    """Redact a registration's personal data (admin only; see model.PERSONAL_FIELDS) in its row, the acknowledgement
    its idempotency record replays and its events still in the outbox; `deal.erased` makes conflict redact its
    copy. The history keeps who erased which fields when. Erasing again changes nothing."""
    with uow:
        registration = uow.registrations.get(deal_id, for_update=True)
        if registration is None:
            raise NotFound(deal_id)
        erased = registration.erase(by=principal.sub)
        if erased:
            uow.registrations.save(registration)
        copies = uow.personal_data.erase(registration.id, registration.partner_id)
        uow.commit()
    log.info("deal.personal_data_erased", deal_id=deal_id, by=principal.sub, fields=erased, copies=copies)
    return registration


# --- Scheduled jobs ------------------------------------------------------------------------------------------


def expire_due(*, uow_factory: Callable[[], DealsUnitOfWork], now: dt.datetime | None = None, limit: int = 500) -> int:
    """Expire approved registrations whose protection has passed; one transaction each, so a crash loses nothing."""
    now = now or utcnow()
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
            uow.commit()
            expired += 1
    return expired


def prune_bookkeeping(*, uow_factory: Callable[[], DealsUnitOfWork], limits: DealLimits,
                      now: dt.datetime | None = None) -> None:
    """Idempotency keys past their 24 h and finished rate-limit windows are of no further use."""
    now = now or utcnow()
    with uow_factory() as uow:
        uow.idempotency.prune(now - dt.timedelta(seconds=limits.idempotency_ttl_s))
        uow.rate_limits.prune(window_of(now.timestamp())[0] - 1)
        uow.commit()


# --- Consumed events ---------------------------------------------------------------------------------


def on_listing_changed(event: CloudEvent, *, uow: DealsUnitOfWork) -> None:
    uow.catalog.upsert(event.data)


CLEARED_REASON = "No competing registration was found for this customer and product."
IN_REVIEW_REASON = ("Another registration may cover the same customer and product; the channel desk is reviewing "
                    "it. You will see the decision and its reason here.")
DECIDED_REASONS = {"approved": "The channel desk reviewed the overlap and approved this registration.",
                   "rejected": "The channel desk reviewed the overlap and awarded the customer to another "
                               "registration."}


def on_registration_cleared(event: CloudEvent, *, uow: DealsUnitOfWork, policy: DealPolicy) -> None:
    registration = uow.registrations.get(event.data["deal_id"], for_update=True)
    if registration is None or registration.status != "submitted":
        return  # a verdict for a registration already withdrawn (or decided) changes nothing
    registration.approve(protection=policy.protection, reason=event.data.get("reason") or CLEARED_REASON)
    uow.registrations.save(registration)


def _members(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The members a case event is about: those its change touched ("members"; the case itself is summarised
    beside them, however large). Events from before that carried the whole case in "registrations"."""
    return data["members"] if "members" in data else data["registrations"]


def on_case_changed(event: CloudEvent, *, uow: DealsUnitOfWork) -> None:
    """Members go into review; members of a case merged into this one follow it (their case_ref changes).

    Only the members the change touched come with the event: a claim or a status note names none or one."""
    for member in _members(event.data):
        registration = uow.registrations.get(member["deal_id"], for_update=True)
        if registration is None:
            continue
        if registration.status == "submitted":
            registration.enter_conflict(case_ref=event.data["id"], reason=IN_REVIEW_REASON)
        elif registration.status == "in_conflict" and registration.case_ref != event.data["id"]:
            registration.follow_case(event.data["id"])
        else:
            continue
        uow.registrations.save(registration)


def on_case_resolved(event: CloudEvent, *, uow: DealsUnitOfWork, policy: DealPolicy) -> None:
    resolution = event.data.get("resolution") or {}
    members = _members(event.data)  # the members with an outcome in this event (a large case decides in parts)
    for deal_id, outcome in (resolution.get("outcomes") or {}).items():
        registration = uow.registrations.get(deal_id, for_update=True)
        if registration is None or not registration.is_active:
            continue
        competitors = {m.get("partner_id") for m in members if m.get("partner_id") != registration.partner_id}
        status = outcome.get("status")
        reason = _reason_for_partner(outcome.get("reason"), competitors, DECIDED_REASONS.get(status, ""))
        try:
            if status == "approved" and registration.status != "approved":
                registration.approve(protection=policy.protection, reason=reason)
            elif status == "rejected":
                registration.reject(reason=reason)
        except InvalidTransition:
            continue
        uow.registrations.save(registration)


def _reason_for_partner(reason: str | None, competitors: Iterable[str | None], fallback: str) -> str:
    """The desk's words, unless they name a competing partner: a partner never learns who else claimed."""
    if not reason or not reason.strip():
        return fallback
    lowered = reason.casefold()
    if any(competitor and competitor.casefold() in lowered for competitor in competitors):
        return fallback
    return reason


# What the deals consumer group reads: the worker subscribes to these and the ACLs and lag metrics follow them
# (the webhooks worker reads deals.registrations.v1 in a group of its own).
CONSUMED_TOPICS = (CATALOG_LISTINGS, CONFLICT_CASES, CONFLICT_TERRITORIES)


def consumer_handlers(policy: DealPolicy) -> dict:
    return {
        "listing.published": on_listing_changed,
        "listing.updated": on_listing_changed,
        "listing.retired": on_listing_changed,
        "registration.cleared": lambda event, *, uow: on_registration_cleared(event, uow=uow, policy=policy),
        "case.opened": on_case_changed,
        "case.updated": on_case_changed,
        "case.resolved": lambda event, *, uow: on_case_resolved(event, uow=uow, policy=policy),
        "territory.updated": on_territory_changed,  # issue 18: the territories read model leads use
    }
