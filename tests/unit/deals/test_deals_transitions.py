"""Every lifecycle transition of a registration, allowed and forbidden, with its reason and its event."""
import datetime as dt

import pytest

from services.deals.domain.model import FINAL_STATUSES, STATUSES, DomainError, InvalidTransition, Registration
from tests.unit.deals.fakes import unique

NOW = dt.datetime(2030, 5, 1, 12, 0, tzinfo=dt.UTC)
PROTECTION = dt.timedelta(days=90)


def submitted() -> Registration:
    return Registration.submit(partner_id=unique("p"), channel="reseller", submitted_by="partner:x",
                               customer={"name": "Acme Ltd", "country": "GB", "domain": "acme.example"},
                               products=[unique("listing")], amount={"amount": "100.00", "currency": "USD"},
                               expected_close="2030-06-01", now=NOW)


def in_status(status: str) -> Registration:
    """A registration brought to `status` by its legal path, with its events cleared."""
    registration = submitted()
    if status in ("in_conflict", "rejected"):
        registration.enter_conflict(case_ref=unique("case"), reason="In review.", now=NOW)
    if status in ("approved", "won", "lost", "expired"):
        registration.approve(protection=PROTECTION, reason="Cleared.", now=NOW)
    if status == "rejected":
        registration.reject(reason="Awarded elsewhere.", now=NOW)
    if status == "withdrawn":
        registration.withdraw(now=NOW)
    if status in ("won", "lost"):
        registration.close(outcome=status, now=NOW)
    if status == "expired":
        registration.expire(now=NOW + PROTECTION + dt.timedelta(seconds=1))
    assert registration.status == status
    registration.events.clear()
    return registration


ACTIONS = {
    "approve": lambda r: r.approve(protection=PROTECTION, reason="Cleared.", now=NOW),
    "enter_conflict": lambda r: r.enter_conflict(case_ref="case-1", reason="In review.", now=NOW),
    "reject": lambda r: r.reject(reason="Awarded elsewhere.", now=NOW),
    "withdraw": lambda r: r.withdraw(now=NOW),
    "close_won": lambda r: r.close(outcome="won", now=NOW),
    "close_lost": lambda r: r.close(outcome="lost", now=NOW),
    "extend": lambda r: r.extend(by=dt.timedelta(days=30), max_extensions=1, window=dt.timedelta(days=100), now=NOW),
    "expire": lambda r: r.expire(now=NOW + dt.timedelta(days=1000)),
    "amend_products": lambda r: r.amend({"products": [unique("listing")]}, now=NOW),
}
# (from status, action) -> (new status, event type). Everything not listed must be refused.
ALLOWED = {
    ("submitted", "approve"): ("approved", "deal.approved"),
    ("in_conflict", "approve"): ("approved", "deal.approved"),
    ("submitted", "enter_conflict"): ("in_conflict", "deal.updated"),
    ("submitted", "reject"): ("rejected", "deal.rejected"),
    ("in_conflict", "reject"): ("rejected", "deal.rejected"),
    ("approved", "reject"): ("rejected", "deal.rejected"),
    ("submitted", "withdraw"): ("withdrawn", "deal.withdrawn"),
    ("in_conflict", "withdraw"): ("withdrawn", "deal.withdrawn"),
    ("approved", "withdraw"): ("withdrawn", "deal.withdrawn"),
    ("approved", "close_won"): ("won", "deal.closed"),
    ("approved", "close_lost"): ("lost", "deal.closed"),
    ("approved", "extend"): ("approved", "deal.updated"),
    ("approved", "expire"): ("expired", "deal.expired"),
    ("approved", "amend_products"): ("submitted", "deal.updated"),
}


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", ACTIONS)
def test_each_transition_is_allowed_or_refused_as_the_lifecycle_says(status, action):
    registration = in_status(status)
    before = registration.to_dict()
    if (status, action) in ALLOWED:
        new_status, event_type = ALLOWED[(status, action)]
        ACTIONS[action](registration)
        assert registration.status == new_status
        assert registration.events[-1][0] == event_type
        assert registration.history[-1].status == new_status and registration.history[-1].reason
        assert registration.history[-1].at is not None
        assert registration.version == before["version"] + 1
    else:
        with pytest.raises(InvalidTransition) as refused:
            ACTIONS[action](registration)
        assert str(refused.value), "a refusal explains itself to the partner"
        assert registration.to_dict() == before and registration.events == []


def test_approval_sets_protection_from_the_policy():
    registration = in_status("submitted")
    registration.approve(protection=dt.timedelta(days=60), reason="Cleared.", now=NOW)
    assert registration.protection_until == NOW + dt.timedelta(days=60)


def test_extension_is_allowed_once_in_the_last_days_of_protection():
    registration = in_status("approved")
    window, by = dt.timedelta(days=14), dt.timedelta(days=30)
    too_early = NOW + dt.timedelta(days=10)
    with pytest.raises(InvalidTransition, match="last 14 days"):
        registration.extend(by=by, max_extensions=1, window=window, now=too_early)
    in_window = registration.protection_until - dt.timedelta(days=3)
    registration.extend(by=by, max_extensions=1, window=window, now=in_window)
    assert registration.protection_until == NOW + PROTECTION + by
    assert registration.extensions_used == 1
    with pytest.raises(InvalidTransition, match="already used"):
        registration.extend(by=by, max_extensions=1, window=window, now=registration.protection_until)


def test_an_approved_registration_cannot_expire_before_its_protection_ends():
    registration = in_status("approved")
    with pytest.raises(InvalidTransition):
        registration.expire(now=NOW + dt.timedelta(days=89))
    assert registration.status == "approved"


def test_closing_needs_a_known_outcome():
    with pytest.raises(DomainError):
        in_status("approved").close(outcome="tied", now=NOW)


def test_new_customer_or_products_of_an_approved_registration_go_back_to_conflict_detection():
    registration = in_status("approved")
    registration.amend({"customer": {"name": "Other Corp", "country": "US"}}, now=NOW)
    assert registration.status == "submitted" and registration.protection_until is None
    assert registration.events == [("deal.updated", {"recheck": True})]
    assert "checking again" in registration.reason


def test_other_edits_keep_the_status_and_emit_an_update_without_recheck():
    registration = in_status("approved")
    registration.amend({"notes": "Budget confirmed.", "amount": {"amount": "5.00", "currency": "EUR"}}, now=NOW)
    assert registration.status == "approved" and registration.notes == "Budget confirmed."
    assert registration.events == [("deal.updated", {})]


def test_an_edit_that_changes_nothing_emits_nothing():
    registration = in_status("approved")
    registration.amend({"products": list(registration.products)}, now=NOW)
    assert registration.events == [] and registration.status == "approved"


@pytest.mark.parametrize("status", ["in_conflict", *FINAL_STATUSES])
def test_a_registration_in_review_or_finished_cannot_be_edited(status):
    registration = in_status(status)
    with pytest.raises(InvalidTransition):
        registration.amend({"notes": "Changed."}, now=NOW)


def test_a_submitted_registration_keeps_its_customer_until_it_has_a_verdict():
    registration = in_status("submitted")
    with pytest.raises(InvalidTransition, match="verdict"):
        registration.amend({"customer": {"name": "Other Corp", "country": "US"}}, now=NOW)
    registration.amend({"notes": "More detail."}, now=NOW)
    assert registration.notes == "More detail."


def test_only_editable_fields_can_change():
    with pytest.raises(DomainError):
        in_status("approved").amend({"partner_id": "someone-else"}, now=NOW)


def test_a_registration_survives_its_round_trip_through_storage():
    registration = in_status("approved")
    assert Registration.from_dict(registration.to_dict()).to_dict() == registration.to_dict()
    assert "_submitted_by" not in registration.public_dict()
