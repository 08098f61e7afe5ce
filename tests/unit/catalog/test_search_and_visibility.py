"""Search words and who sees which offers: the rules both databases and every view share."""
import pytest

from services.catalog.api.caching import decode_cursor, encode_cursor, listing_etag, page_etag
from services.catalog.domain.search import Viewer, query_terms, searchable_fields, terms, visible_view


def test_words_are_folded_the_same_way_for_documents_and_queries():
    assert terms("Zero-Trust Réseau, v2!") == ["zero", "trust", "reseau", "v2"]
    assert query_terms("Backup backup  BACKUP of_things") == ["backup", "of", "things"]
    assert query_terms("!!! ---") == []
    assert len(query_terms(" ".join(f"w{n}" for n in range(20)))) == 8


def test_searchable_fields_split_title_tags_and_summary():
    assert searchable_fields("Cloud ERP", ["Finance", "multi-entity"], "For teams.") == {
        "title": "cloud erp", "tags": "finance multi entity", "summary": "for teams"}


def document(*offers, status="published"):
    return {"id": "l1", "status": status, "version": 4, "offers": list(offers)}


PUBLIC = {"id": "o1", "visibility": "public", "private_to": None}
FOR_ACME = {"id": "o2", "visibility": "private", "private_to": "acme"}
FOR_DOMAIN = {"id": "o3", "visibility": "private", "private_to": "example.com"}


def test_anonymous_readers_see_public_offers_of_published_listings_only():
    anonymous = Viewer.anonymous()
    assert visible_view(document(PUBLIC, FOR_ACME), anonymous)["offers"] == [PUBLIC]
    assert visible_view(document(FOR_ACME), anonymous) is None, "only private offers: invisible"
    assert visible_view(document(PUBLIC, status="draft"), anonymous) is None


def test_a_private_offer_is_seen_by_its_partner_or_its_customer_domain():
    acme = Viewer.of(role="partner", partner_id="ACME", subject="partner:acme")
    assert visible_view(document(PUBLIC, FOR_ACME, FOR_DOMAIN), acme)["offers"] == [PUBLIC, FOR_ACME]
    buyer = Viewer.of(role="marketplace", partner_id="market", subject="buyer@Example.com")
    assert visible_view(document(FOR_ACME, FOR_DOMAIN), buyer)["offers"] == [FOR_DOMAIN]
    other = Viewer.of(role="partner", partner_id="globex")
    assert visible_view(document(FOR_ACME), other) is None


def test_admins_see_everything_including_drafts():
    admin = Viewer.of(role="admin")
    full = document(FOR_ACME, status="draft")
    assert visible_view(full, admin) is full


def test_cursors_round_trip_and_garbage_is_refused():
    assert decode_cursor(encode_cursor((4, 123))) == (4, 123)
    assert encode_cursor(None) is None and decode_cursor(None) is None
    for garbage in ("zzz", "!!", encode_cursor((1, 2)) + "x", "bm90LWEtY3Vyc29y"):
        with pytest.raises(ValueError):
            decode_cursor(garbage)


def test_etags_change_with_the_revision_and_the_request_but_not_otherwise():
    assert page_etag(7, "anon\nq") == page_etag(7, "anon\nq")
    assert page_etag(8, "anon\nq") != page_etag(7, "anon\nq") != page_etag(7, "acme\nq")
    assert listing_etag(document(PUBLIC), full_document_version=True) == '"4"'
    assert listing_etag(document(PUBLIC), full_document_version=False) != listing_etag(
        document(PUBLIC, FOR_ACME), full_document_version=False)
