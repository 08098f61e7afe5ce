"""What the listing schemas accept and refuse, with the field each refusal names."""
import pytest
from marshmallow import ValidationError

from services.catalog.api.schemas import ListingCreateSchema, ListingPatchSchema, ListingQuerySchema


def offer(**overrides) -> dict:
    return {"name": "Standard", "channels": ["reseller", "msp"], "regions": ["NA", "EMEA"],
            "pricing": {"model": "flat", "price": {"amount": "1000.00", "currency": "USD"}}, **overrides}


def listing(**overrides) -> dict:
    return {"title": "Zero Trust Gateway", "summary": "Secure access", "vendor": "Northwind",
            "category": "network-security", "tags": ["vpn"], "offers": [offer()], **overrides}


def errors_of(schema, data) -> dict:
    with pytest.raises(ValidationError) as raised:
        schema.load(data)
    return raised.value.normalized_messages()


def test_a_complete_listing_loads_with_amounts_kept_as_exact_decimal_strings():
    loaded = ListingCreateSchema().load(listing(offers=[offer(pricing={
        "model": "per_unit", "unit": "GB", "price": {"amount": "0.000125", "currency": "EUR"}})]))
    assert loaded["offers"][0]["pricing"]["price"] == {"amount": "0.000125", "currency": "EUR"}
    assert loaded["offers"][0]["visibility"] == "public"


@pytest.mark.parametrize("amount, message", [
    (1000.5, "decimal string"), (1000, "decimal string"), ("1e3", "digits"), ("-5.00", "digits"),
    ("NaN", "digits"), ("1.1234567", "digits"), ("", "digits"), ("1,000.00", "digits"),
])
def test_amounts_must_be_non_negative_decimal_strings(amount, message):
    errors = errors_of(ListingCreateSchema(), listing(offers=[offer(
        pricing={"model": "flat", "price": {"amount": amount, "currency": "USD"}})]))
    assert message in errors["offers"][0]["pricing"]["price"]["amount"][0]


@pytest.mark.parametrize("currency", ["usd", "US", "XXX", "ABC", "DOLLAR"])
def test_currencies_must_be_iso_4217_codes(currency):
    errors = errors_of(ListingCreateSchema(), listing(offers=[offer(
        pricing={"model": "flat", "price": {"amount": "1.00", "currency": currency}})]))
    assert "ISO 4217" in errors["offers"][0]["pricing"]["price"]["currency"][0]


def test_channels_and_regions_come_from_the_fixed_sets_once_each():
    errors = errors_of(ListingCreateSchema(), listing(offers=[
        offer(channels=["retail"], regions=["EU"]), offer(channels=["msp", "msp"], regions=[])]))
    assert "channels" in errors["offers"][0] and "regions" in errors["offers"][0]
    assert errors["offers"][1]["channels"] == ["List each value once."]
    assert "regions" in errors["offers"][1]


def test_a_private_offer_names_its_audience_and_a_public_one_does_not():
    errors = errors_of(ListingCreateSchema(), listing(offers=[offer(visibility="private"),
                                                              offer(private_to="acme-reseller")]))
    assert "private_to" in errors["offers"][0] and "private_to" in errors["offers"][1]
    loaded = ListingCreateSchema().load(listing(offers=[offer(visibility="private", private_to="example.co.uk")]))
    assert loaded["offers"][0]["private_to"] == "example.co.uk"


def test_pricing_models_need_their_unit_or_term():
    errors = errors_of(ListingCreateSchema(), listing(offers=[
        offer(pricing={"model": "per_unit", "price": {"amount": "1.00", "currency": "USD"}}),
        offer(pricing={"model": "subscription", "price": {"amount": "1.00", "currency": "USD"}}),
        offer(pricing={"model": "barter", "price": {"amount": "1.00", "currency": "USD"}})]))
    assert "unit" in errors["offers"][0]["pricing"]
    assert "term_months" in errors["offers"][1]["pricing"]
    assert "model" in errors["offers"][2]["pricing"]


def test_text_has_sensible_limits_and_blank_is_empty():
    errors = errors_of(ListingCreateSchema(), listing(title="   ", summary="x" * 2001, vendor="v" * 121,
                                                      category="Network Security", tags=["t" * 41] + ["x"] * 20))
    assert {"title", "summary", "vendor", "category", "tags"} <= set(errors)


def test_at_most_fifty_offers():
    assert "offers" in errors_of(ListingCreateSchema(), listing(offers=[offer()] * 51))


def test_a_patch_takes_any_subset_but_not_nothing():
    assert ListingPatchSchema(partial=True).load({"title": "New"}) == {"title": "New"}
    assert "_schema" in errors_of(ListingPatchSchema(partial=True), {})


def test_query_filters_are_checked():
    errors = errors_of(ListingQuerySchema(), {"channel": "retail", "region": "EU", "limit": "0"})
    assert {"channel", "region", "limit"} <= set(errors)
    assert ListingQuerySchema().load({})["limit"] == 50
