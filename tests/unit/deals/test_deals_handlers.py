"""The deals use cases on the in-memory unit of work: submission, idempotency, pre-check, verdicts, expiry."""
import dataclasses
import datetime as dt
import json

import pytest

from services.deals import handlers
from services.deals.domain.commands import SubmitDeal
from services.deals.domain.idempotency import IdempotencyConflict, request_fingerprint
from services.deals.domain.policy import DealPolicy
from services.deals.limits import DealLimits, RateLimited
from shared.events import CloudEvent
from shared.identity import customer_keys
from tests.unit.deals.fakes import FakeDealsUnitOfWork, deal_fields, listing, partner, unique

LIMITS = DealLimits()
POLICY = DealPolicy(protection=dt.timedelta(days=60))


@pytest.fixture
def uow():
    return FakeDealsUnitOfWork()


def published(uow, **kwargs) -> str:
    document = listing(**kwargs)
    uow.catalog.upsert(document)
    return document["id"]


def command(fields: dict, key: str | None = None) -> SubmitDeal:
    """As the API schema builds it: the customer's keys once, and the body's fingerprint for a key."""
    return SubmitDeal(**fields, customer_keys=customer_keys(fields["customer"]), idempotency_key=key,
                      request_fingerprint=request_fingerprint(fields) if key else "")


def send(uow, who, fields, key=None, now=None) -> handlers.Submission:
    return handlers.submit_deal(command(fields, key), principal=who, limits=LIMITS, uow_factory=lambda: uow, now=now)


def submit(uow, who, fields, key=None) -> dict:
    return json.loads(send(uow, who, fields, key).acknowledged)


def event(event_type: str, data: dict, subject: str = "s") -> CloudEvent:
    return CloudEvent(type=event_type, source="/test", subject=subject, data=data)


# --- submission --------------------------------------------------------------------------------------------


def test_a_submission_is_acknowledged_with_its_location_and_emits_deal_submitted(uow):
    who = partner()
    registration = submit(uow, who, deal_fields([published(uow)]))
    assert registration["status"] == "submitted" and registration["partner_id"] == who.partner_id
    assert registration["channel"] == "reseller" and registration["history"][0]["status"] == "submitted"
    [submitted] = uow.events_of_type("deal.submitted")
    assert submitted.subject == registration["id"] and submitted.data["customer"] == registration["customer"]
    assert "_submitted_by" not in submitted.data


@pytest.mark.parametrize("offer, expected", [
    (dict(status="draft"), "not a published listing"),
    (dict(channels=("direct",)), "not offered to the reseller channel"),
    (dict(regions=("APAC",)), "customer's region (EMEA)"),
    (dict(visibility="private", private_to="another-partner"), "customer's region"),
])
def test_products_must_be_published_and_offered_to_the_channel_and_region(uow, offer, expected):
    product = published(uow, **offer)
    with pytest.raises(handlers.ProductsUnavailable) as refused:
        submit(uow, partner(), deal_fields([product]))
    assert expected in refused.value.errors["products.0"][0]
    assert uow.published == []


def test_an_unknown_product_is_named_by_its_position(uow):
    known = published(uow)
    with pytest.raises(handlers.ProductsUnavailable) as refused:
        submit(uow, partner(), deal_fields([known, "no-such-listing"]))
    assert list(refused.value.errors) == ["products.1"]


def test_a_private_offer_is_open_to_its_partner(uow):
    who = partner()
    product = published(uow, visibility="private", private_to=who.partner_id)
    assert submit(uow, who, deal_fields([product]))["status"] == "submitted"


# --- idempotency -------------------------------------------------------------------------------------------


def hold(uow, who, key, fields, now=None):
    """Another request with this key and body has claimed it and is still working."""
    uow.idempotency.claim(who.owner_key, key, request_fingerprint(fields), now=now or dt.datetime.now(dt.UTC),
                          ttl=dt.timedelta(seconds=LIMITS.idempotency_ttl_s),
                          abandoned_after=dt.timedelta(seconds=LIMITS.idempotency_abandoned_after_s))


def test_the_same_key_and_body_replays_the_first_response_exactly(uow):
    who, key, fields = partner(), unique("key"), deal_fields([published(uow)])
    first = send(uow, who, fields, key)
    replay = send(uow, who, dict(reversed(list(fields.items()))), key)  # same JSON, other key order
    assert not first.replayed and replay.replayed
    assert replay.acknowledged == first.acknowledged and replay.deal_id == first.deal_id
    assert replay.version == first.version
    assert len(uow.events_of_type("deal.submitted")) == 1


def test_the_same_key_with_another_body_is_a_conflict(uow):
    who, key, fields = partner(), unique("key"), deal_fields([published(uow)])
    send(uow, who, fields, key)
    with pytest.raises(IdempotencyConflict, match="different request body"):
        send(uow, who, {**fields, "notes": "changed"}, key)


def test_a_second_request_while_the_first_is_in_flight_is_a_conflict(uow):
    who, key, fields = partner(), unique("key"), deal_fields([published(uow)])
    hold(uow, who, key, fields)
    with pytest.raises(IdempotencyConflict, match="still being processed"):
        send(uow, who, fields, key)
    assert uow.events_of_type("deal.submitted") == []


def test_keys_belong_to_one_partner(uow):
    key, fields = unique("key"), deal_fields([published(uow)])
    first, second = send(uow, partner(), fields, key), send(uow, partner(), fields, key)
    assert not second.replayed and second.deal_id != first.deal_id


def test_a_key_is_kept_24_hours_and_then_free_again(uow):
    who, key, fields = partner(), unique("key"), deal_fields([published(uow)])
    start = dt.datetime.now(dt.UTC)
    send(uow, who, fields, key, now=start)
    assert send(uow, who, fields, key, now=start + dt.timedelta(hours=23)).replayed
    later = send(uow, who, {**fields, "notes": "new"}, key, now=start + dt.timedelta(hours=24, seconds=1))
    assert not later.replayed


def test_a_key_whose_request_died_in_flight_can_be_taken_over(uow):
    who, key, fields = partner(), unique("key"), deal_fields([published(uow)])
    start = dt.datetime.now(dt.UTC)
    hold(uow, who, key, fields, now=start)
    later = start + dt.timedelta(seconds=LIMITS.idempotency_abandoned_after_s + 1)
    assert not send(uow, who, fields, key, now=later).replayed


def test_a_failed_request_gives_its_key_back_for_a_corrected_retry(uow):
    who, key = partner(), unique("key")
    refused = deal_fields([published(uow, status="draft")])
    with pytest.raises(handlers.ProductsUnavailable):
        send(uow, who, refused, key)
    corrected = {**refused, "products": [published(uow)]}
    assert not send(uow, who, corrected, key).replayed


# --- pre-check ---------------------------------------------------------------------------------------------


def check(uow, who, customer, products, **kwargs):
    return handlers.check_availability(customer, products, principal=who, limits=kwargs.pop("limits", LIMITS),
                                       uow=uow, **kwargs)


def test_precheck_says_claimed_for_another_partners_customer_without_saying_who(uow):
    product, holder = published(uow), partner()
    customer = {"name": "Acme Widgets Ltd", "domain": "https://www.acme-widgets.co.uk/", "country": "GB"}
    submit(uow, holder, deal_fields([product], customer=customer))
    asker = partner()
    answer = check(uow, asker, {"name": "Totally Different", "domain": "ACME-WIDGETS.CO.UK", "country": "GB"},
                   [product])
    assert answer.result == "claimed"
    assert holder.partner_id not in answer.reason


def test_precheck_says_review_for_a_name_only_match(uow):
    product = published(uow)
    submit(uow, partner(), deal_fields([product], customer={"name": "Acme Widgets Ltd", "country": "GB"}))
    answer = check(uow, partner(), {"name": "ACME Widgets, Limited", "country": "GB"}, [product])
    assert answer.result == "review"


def test_precheck_says_available_for_other_products_or_your_own_registrations(uow):
    first, second, who = published(uow), published(uow), partner()
    customer = {"name": "Acme Widgets Ltd", "domain": "acme-widgets.co.uk", "country": "GB"}
    submit(uow, who, deal_fields([first], customer=customer))
    assert check(uow, who, customer, [first]).result == "available"
    assert check(uow, partner(), customer, [second]).result == "available"


@pytest.mark.parametrize("first, second", [("gmail.com", "gmail.com"), ("jane@gmail.com", "https://www.GMAIL.com/"),
                                           ("ops@outlook.com", "Outlook.com")])
def test_precheck_says_available_for_two_customers_who_share_only_a_free_mail_domain(uow, first, second):
    # SPEC: a free-mail domain is never evidence that a customer is claimed.
    product = published(uow)
    submit(uow, partner(), deal_fields([product], customer={"name": "Harbour Bakery", "domain": first,
                                                             "country": "GB"}))
    answer = check(uow, partner(), {"name": "Quayside Plumbing", "domain": second, "country": "GB"}, [product])
    assert answer.result == "available"


def test_precheck_says_claimed_for_a_tax_id_given_with_and_without_its_country_prefix(uow):
    product = published(uow)
    submit(uow, partner(), deal_fields([product], customer={"name": "Nordwind GmbH", "tax_id": "DE 123 456 789",
                                                             "country": "DE"}))
    same = check(uow, partner(), {"name": "NW Logistik", "tax_id": "123456789", "country": "DE"}, [product])
    assert same.result == "claimed"
    other_prefix = check(uow, partner(), {"name": "NW Logistik", "tax_id": "FR123456789", "country": "DE"}, [product])
    assert other_prefix.result == "review"


def test_precheck_ignores_registrations_that_ended(uow):
    product = published(uow)
    holder, customer = partner(), {"name": "Gone Ltd", "duns": "123456789", "country": "GB"}
    registration = submit(uow, holder, deal_fields([product], customer=customer))
    handlers.withdraw_deal(registration["id"], principal=holder, uow=uow)
    assert check(uow, partner(), customer, [product]).result == "available"


def test_precheck_is_rate_limited_per_partner_with_a_retry_after(uow):
    product, limits = published(uow), dataclasses.replace(LIMITS, checks_per_minute=3)
    who, customer = partner(), {"name": "Acme", "country": "GB"}
    for _ in range(3):
        check(uow, who, customer, [product], limits=limits, now_s=6000.0)
    with pytest.raises(RateLimited) as limited:
        check(uow, who, customer, [product], limits=limits, now_s=6010.0)
    assert limited.value.retry_after_s == 50
    assert check(uow, partner(), customer, [product], limits=limits, now_s=6010.0).result == "available"
    assert check(uow, who, customer, [product], limits=limits, now_s=6060.0).result == "available"


# --- reading and access ----------------------------------------------------------------------------------------


def test_another_partners_registration_is_not_found_for_every_action(uow):
    product, owner, intruder = published(uow), partner(), partner()
    deal_id = submit(uow, owner, deal_fields([product]))["id"]
    attempts = [
        lambda: handlers.get_deal(deal_id, principal=intruder, uow=uow),
        lambda: handlers.withdraw_deal(deal_id, principal=intruder, uow=uow),
        lambda: handlers.close_deal(deal_id, "won", principal=intruder, uow=uow),
        lambda: handlers.extend_deal(deal_id, principal=intruder, policy=POLICY, uow=uow),
        lambda: handlers.amend_deal(deal_id, {"notes": "x"}, principal=intruder, uow=uow),
    ]
    for attempt in attempts:
        with pytest.raises(handlers.NotFound):
            attempt()
    assert handlers.get_deal(deal_id, principal=owner, uow=uow).status == "submitted"


def test_listing_shows_partners_their_own_newest_first_in_pages(uow):
    product, who, other = published(uow), partner(), partner()
    ids = [submit(uow, who, deal_fields([product]))["id"] for _ in range(5)]
    submit(uow, other, deal_fields([product]))
    first = handlers.list_deals(principal=who, limit=3, partner_id=other.partner_id, uow=uow)
    rest = handlers.list_deals(principal=who, limit=3, after=(first[-1].submitted_at, first[-1].id), uow=uow)
    page = first + rest
    assert {r.id for r in page} == set(ids) and len(page) == 5
    assert [r.id for r in page] == [r.id for r in sorted(page, key=lambda r: (r.submitted_at, r.id), reverse=True)]


def test_if_match_with_an_old_version_is_refused(uow):
    product, who = published(uow), partner()
    deal_id = submit(uow, who, deal_fields([product]))["id"]
    with pytest.raises(handlers.PreconditionFailed):
        handlers.amend_deal(deal_id, {"notes": "x"}, principal=who, uow=uow, if_match='"7"')
    with pytest.raises(handlers.PreconditionRequired):
        handlers.amend_deal(deal_id, {"notes": "x"}, principal=who, uow=uow)
    changed = handlers.amend_deal(deal_id, {"notes": "x"}, principal=who, uow=uow, if_match='"1"')
    assert changed.notes == "x" and changed.version == 2


# --- verdicts from conflict ----------------------------------------------------------------------------------


def test_a_cleared_registration_is_approved_with_the_configured_protection(uow):
    who = partner()
    deal_id = submit(uow, who, deal_fields([published(uow)]))["id"]
    handlers.on_registration_cleared(event("registration.cleared", {"deal_id": deal_id, "reason": "", "evidence": []}),
                                     uow=uow, policy=POLICY)
    approved = uow.registrations.get(deal_id)
    assert approved.status == "approved" and approved.reason == handlers.CLEARED_REASON
    assert approved.protection_until - approved.history[-1].at == dt.timedelta(days=60)
    uow.commit()  # the consumer commits; the unit of work then collects what the registration recorded
    assert uow.published[-1][1].type == "deal.approved"


def test_a_case_puts_registrations_in_review_and_its_resolution_decides_without_naming_partners(uow):
    product, winner, loser = published(uow), partner(), partner()
    won_id = submit(uow, winner, deal_fields([product]))["id"]
    lost_id = submit(uow, loser, deal_fields([product]))["id"]
    case_id = unique("case")
    members = [{"deal_id": won_id, "partner_id": winner.partner_id},
               {"deal_id": lost_id, "partner_id": loser.partner_id}]
    handlers.on_case_changed(event("case.opened", {"id": case_id, "members": members}), uow=uow)
    assert uow.registrations.get(lost_id).status == "in_conflict"
    assert uow.registrations.get(lost_id).case_ref == case_id
    outcomes = {won_id: {"status": "approved", "reason": "First to register with a qualified opportunity."},
                lost_id: {"status": "rejected", "reason": f"Awarded to {winner.partner_id.upper()}."}}
    handlers.on_case_resolved(event("case.resolved", {"id": case_id, "members": members,
                                                      "resolution": {"outcomes": outcomes}}), uow=uow, policy=POLICY)
    won, lost = uow.registrations.get(won_id), uow.registrations.get(lost_id)
    assert won.status == "approved" and won.reason == "First to register with a qualified opportunity."
    assert lost.status == "rejected" and winner.partner_id not in json.dumps(lost.public_dict())
    assert lost.reason == handlers.DECIDED_REASONS["rejected"]


def test_a_moot_case_approves_the_registration_left_as_if_cleared(uow):
    product, staying, leaving = published(uow), partner(), partner()
    stay_id = submit(uow, staying, deal_fields([product]))["id"]
    leave_id = submit(uow, leaving, deal_fields([product]))["id"]
    case_id = unique("case")
    members = [{"deal_id": stay_id, "partner_id": staying.partner_id},
               {"deal_id": leave_id, "partner_id": leaving.partner_id}]
    handlers.on_case_changed(event("case.opened", {"id": case_id, "members": members}), uow=uow)
    handlers.withdraw_deal(leave_id, principal=leaving, uow=uow)
    moot = {"decision": "moot", "decided_by": "rules:auto_resolve.moot",
            "outcomes": {stay_id: {"status": "approved", "reason": "Nothing competes with it any more."}}}
    handlers.on_case_resolved(event("case.resolved", {"id": case_id, "members": members, "resolution": moot}),
                              uow=uow, policy=POLICY)
    stayed = uow.registrations.get(stay_id)
    assert stayed.status == "approved" and stayed.reason == "Nothing competes with it any more."
    assert stayed.protection_until - stayed.history[-1].at == POLICY.protection
    assert uow.registrations.get(leave_id).status == "withdrawn"


def test_members_of_a_merged_case_follow_the_case_it_merged_into(uow):
    product, first, second = published(uow), partner(), partner()
    ids = [submit(uow, who, deal_fields([product]))["id"] for who in (first, second)]
    members = [{"deal_id": i, "partner_id": who.partner_id} for i, who in zip(ids, (first, second), strict=True)]
    younger, older = unique("case"), unique("case")
    handlers.on_case_changed(event("case.opened", {"id": younger, "members": members}), uow=uow)
    uow.commit()
    handlers.on_case_changed(event("case.updated", {"id": older, "members": members}), uow=uow)
    uow.commit()
    assert {uow.registrations.get(i).case_ref for i in ids} == {older}
    assert {uow.registrations.get(i).status for i in ids} == {"in_conflict"}
    assert [e.data["case_ref"] for e in uow.events_of_type("deal.updated")][-2:] == [older, older]


def test_case_events_from_before_bounded_events_whole_case_in_registrations_still_apply(uow):
    product, first, second = published(uow), partner(), partner()
    ids = [submit(uow, who, deal_fields([product]))["id"] for who in (first, second)]
    members = [{"deal_id": i, "partner_id": who.partner_id} for i, who in zip(ids, (first, second), strict=True)]
    case_id = unique("case")
    handlers.on_case_changed(event("case.opened", {"id": case_id, "registrations": members}), uow=uow)
    assert {uow.registrations.get(i).status for i in ids} == {"in_conflict"}
    outcomes = {ids[0]: {"status": "approved", "reason": "Yours."}, ids[1]: {"status": "rejected", "reason": "No."}}
    handlers.on_case_resolved(event("case.resolved", {"id": case_id, "registrations": members,
                                                      "resolution": {"outcomes": outcomes}}), uow=uow, policy=POLICY)
    assert [uow.registrations.get(i).status for i in ids] == ["approved", "rejected"]


def test_a_case_event_without_its_members_is_refused_so_the_consumer_dead_letters_it(uow):
    with pytest.raises(KeyError):
        handlers.on_case_changed(event("case.updated", {"id": unique("case")}), uow=uow)


def test_a_verdict_for_a_withdrawn_registration_changes_nothing(uow):
    who = partner()
    deal_id = submit(uow, who, deal_fields([published(uow)]))["id"]
    handlers.withdraw_deal(deal_id, principal=who, uow=uow)
    handlers.on_registration_cleared(event("registration.cleared", {"deal_id": deal_id}), uow=uow, policy=POLICY)
    assert uow.registrations.get(deal_id).status == "withdrawn"


def test_the_read_model_keeps_the_newest_listing_version(uow):
    document = listing(version=3)
    handlers.on_listing_changed(event("listing.updated", document), uow=uow)
    handlers.on_listing_changed(event("listing.updated", {**document, "version": 2, "status": "retired"}), uow=uow)
    assert uow.catalog.get_many([document["id"]])[document["id"]]["status"] == "published"


# --- re-check and expiry ----------------------------------------------------------------------------------


def test_new_products_of_an_approved_registration_are_announced_for_a_recheck(uow):
    who, first, second = partner(), published(uow), published(uow)
    deal_id = submit(uow, who, deal_fields([first]))["id"]
    handlers.on_registration_cleared(event("registration.cleared", {"deal_id": deal_id}), uow=uow, policy=POLICY)
    uow.commit()
    approved = uow.registrations.get(deal_id)
    changed = handlers.amend_deal(deal_id, {"products": [first, second]}, principal=who, uow=uow,
                                  if_match=handlers.etag(approved))
    assert changed.status == "submitted"
    [update] = [e for e in uow.events_of_type("deal.updated") if e.data.get("recheck")]
    assert update.data["status"] == "submitted" and update.data["products"] == [first, second]


def test_expiry_ends_protection_that_has_passed_and_emits_deal_expired(uow):
    who = partner()
    deal_id = submit(uow, who, deal_fields([published(uow)]))["id"]
    handlers.on_registration_cleared(event("registration.cleared", {"deal_id": deal_id}), uow=uow, policy=POLICY)
    uow.commit()
    assert handlers.expire_due(uow_factory=lambda: uow, now=dt.datetime.now(dt.UTC)) == 0
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=61)
    assert handlers.expire_due(uow_factory=lambda: uow, now=later) == 1
    assert uow.registrations.get(deal_id).status == "expired"
    assert [e.subject for e in uow.events_of_type("deal.expired")] == [deal_id]
