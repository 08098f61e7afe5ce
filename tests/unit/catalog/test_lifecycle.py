"""The listing lifecycle (draft -> published -> retired) and the events it announces, on an in-memory unit of work."""
import uuid

import pytest

from services.catalog import handlers
from services.catalog.domain.events import new_events
from services.catalog.domain.model import DomainError, InvalidTransition, Listing
from shared.topics import CATALOG_LISTINGS
from shared.uow import FakeUnitOfWorkBase, SeenAggregates


class FakeListingRepository:
    def __init__(self, seen: SeenAggregates):
        self.rows: dict[str, dict] = {}
        self._seen = seen

    def get(self, listing_id, *, for_update=False):
        document = self.rows.get(listing_id)
        if not document:
            return None
        listing = Listing.from_dict(document)
        self._seen.add(listing)
        return listing

    def add(self, listing):
        self._seen.add(listing)
        self.rows[listing.id] = listing.to_dict()

    def save(self, listing, *, expected_version):
        if self.rows[listing.id]["version"] != expected_version:
            return False
        self._seen.add(listing)
        self.rows[listing.id] = listing.to_dict()
        return True


class FakeCatalogUnitOfWork(FakeUnitOfWorkBase):
    def __init__(self):
        super().__init__(new_events)
        self.listings = FakeListingRepository(self.seen)


def offer(**overrides) -> dict:
    return {"name": "Standard", "channels": ["reseller"], "regions": ["NA"],
            "pricing": {"model": "flat", "price": {"amount": "100.00", "currency": "USD"}}, **overrides}


def draft_fields(**overrides) -> dict:
    return {"title": f"Listing {uuid.uuid4().hex[:8]}", "summary": "A summary", "vendor": "Vendor",
            "category": "security", "tags": ["a", "b", "a"], "offers": [offer()], **overrides}


@pytest.fixture
def uow():
    return FakeCatalogUnitOfWork()


def test_a_new_listing_is_a_draft_and_announces_nothing(uow):
    listing = handlers.create_listing(draft_fields(), uow=uow)
    assert listing.status == "draft" and listing.version == 1
    assert listing.tags == ["a", "b"], "tags are kept once each"
    assert uow.published == []


def test_publishing_announces_the_full_listing_keyed_by_its_id(uow):
    listing = handlers.create_listing(draft_fields(), uow=uow)
    published = handlers.publish_listing(listing.id, uow=uow)
    assert published.status == "published" and published.version == 2
    [(topic, event)] = uow.published
    assert topic == CATALOG_LISTINGS and event.type == "listing.published" and event.subject == listing.id
    assert event.data == published.to_dict()


def test_a_listing_without_offers_cannot_be_published(uow):
    listing = handlers.create_listing(draft_fields(offers=[]), uow=uow)
    with pytest.raises(InvalidTransition, match="at least one offer"):
        handlers.publish_listing(listing.id, uow=uow)
    assert uow.listings.rows[listing.id]["status"] == "draft"


def test_updating_a_published_listing_announces_listing_updated(uow):
    listing = handlers.create_listing(draft_fields(), uow=uow)
    handlers.publish_listing(listing.id, uow=uow)
    updated = handlers.update_listing(listing.id, {"title": "New title"}, expected_versions=frozenset({2}), uow=uow)
    assert updated.title == "New title" and updated.version == 3
    assert [event.type for _, event in uow.published] == ["listing.published", "listing.updated"]


def test_editing_a_draft_announces_nothing(uow):
    listing = handlers.create_listing(draft_fields(), uow=uow)
    handlers.update_listing(listing.id, {"summary": "Better"}, expected_versions=frozenset({1}), uow=uow)
    assert uow.published == []


def test_a_stale_version_is_refused_and_nothing_changes(uow):
    listing = handlers.create_listing(draft_fields(), uow=uow)
    handlers.publish_listing(listing.id, uow=uow)
    with pytest.raises(handlers.VersionMismatch) as raised:
        handlers.update_listing(listing.id, {"title": "Lost"}, expected_versions=frozenset({1}), uow=uow)
    assert raised.value.current_version == 2
    assert uow.listings.rows[listing.id]["title"] == listing.title


def test_a_published_listing_must_keep_an_offer(uow):
    listing = handlers.create_listing(draft_fields(), uow=uow)
    handlers.publish_listing(listing.id, uow=uow)
    with pytest.raises(DomainError) as raised:
        handlers.update_listing(listing.id, {"offers": []}, expected_versions=frozenset({2}), uow=uow)
    assert raised.value.field == "offers"


def test_offers_sent_back_with_their_id_keep_it_and_new_ones_get_a_fresh_id(uow):
    listing = handlers.create_listing(draft_fields(), uow=uow)
    kept_id = listing.offers[0].id
    updated = handlers.update_listing(
        listing.id, {"offers": [offer(id=kept_id, name="Renamed"), offer(id="made-up-by-client")]},
        expected_versions=frozenset({1}), uow=uow)
    assert updated.offers[0].id == kept_id and updated.offers[0].name == "Renamed"
    assert updated.offers[1].id not in (kept_id, "made-up-by-client")


def test_retiring_a_published_listing_announces_it_and_it_stays_retired(uow):
    listing = handlers.create_listing(draft_fields(), uow=uow)
    handlers.publish_listing(listing.id, uow=uow)
    retired = handlers.retire_listing(listing.id, uow=uow)
    assert retired.status == "retired"
    assert uow.events_of_type("listing.retired")[0].data["status"] == "retired"
    with pytest.raises(InvalidTransition):
        handlers.publish_listing(listing.id, uow=uow)
    with pytest.raises(InvalidTransition):
        handlers.update_listing(listing.id, {"title": "x"}, expected_versions=frozenset({3}), uow=uow)


def test_retiring_a_draft_announces_nothing_because_nobody_saw_it(uow):
    listing = handlers.create_listing(draft_fields(), uow=uow)
    assert handlers.retire_listing(listing.id, uow=uow).status == "retired"
    assert uow.published == []


def test_publishing_twice_is_a_state_conflict(uow):
    listing = handlers.create_listing(draft_fields(), uow=uow)
    handlers.publish_listing(listing.id, uow=uow)
    with pytest.raises(InvalidTransition, match="already published"):
        handlers.publish_listing(listing.id, uow=uow)


def test_an_unknown_listing_is_not_found(uow):
    with pytest.raises(handlers.NotFound):
        handlers.publish_listing(str(uuid.uuid4()), uow=uow)
