"""Catalog, deals and conflict judge countries, regions, currencies and customer identity alike.

Each judgement is asked of the service itself, through the entry point it uses: catalog's and deals' request
schemas, deals' product check behind its pre-check API (region of the customer against the offers' regions),
conflict's rules engine (the region a case routes by) and conflict's matching (the keys a profile is compared
on). If one service grows its own copy of a fact and the copies part, a row here fails.
"""
from __future__ import annotations

import datetime as dt
import uuid

import pycountry
import pytest

from services.catalog.api import schemas as catalog_schemas
from services.conflict.domain.rules import CaseFacts, RulesOfEngagement
from services.conflict.matching import CustomerProfile, compare_customers
from services.conflict.matching.scoring import features_of
from services.deals.api import schemas as deals_schemas
from shared.auth import TokenService
from tests.contract.pipeline import Pipeline

SALES_REGIONS = ("NA", "EMEA", "APAC", "LATAM")
TRICKY_COUNTRIES = ("PR", "VI", "GU", "AS", "MP", "UM", "KZ", "UZ", "KG", "TJ", "TM", "TR", "CY", "GE", "IR", "EG",
                    "MX", "AU", "GL", "PM", "IO", "AQ", "BV", "TW", "US", "GB",
                    "UK", "XK", "ZZ", "")  # the last four are no ISO 3166-1 codes
TRICKY_CURRENCIES = ("USD", "EUR", "JPY", "XAF", "XOF", "XCD", "XCG", "ZWG", "VES",
                     "USN", "BOV", "CLF", "MXV", "UYI", "XAU", "XAG", "XDR", "XTS", "XXX",
                     "VEF", "ZWL", "HRK", "CUC", "SLL", "ANG", "ABC")
WITHDRAWN_CURRENCIES = ("VEF", "ZWL", "HRK", "CUC", "SLL", "ANG", "LTL", "EEK", "DEM", "FRF")


# --- regions: catalog's offers, deals' product check, conflict's routing ----------------------------------------


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The three services in one process; catalog publishes one listing per sales region, offered to resellers."""
    pipeline = Pipeline(tmp_path_factory.mktemp("shared-facts"))
    tokens = TokenService(pipeline.services["deals"].settings.jwt_secret)
    admin = {"Authorization": "Bearer " + tokens.issue("admin")}
    catalog = pipeline.apps["catalog"]
    listing_of_region = {}
    for region in SALES_REGIONS:
        created = catalog.post("/v1/listings", headers=admin, json={
            "title": f"{region} Suite", "summary": "x", "vendor": "V", "category": "facts", "tags": [],
            "offers": [{"name": "Std", "channels": ["reseller"], "regions": [region],
                        "pricing": {"model": "flat", "price": {"amount": "10.00", "currency": "USD"}}}]})
        assert created.status_code == 201, created.json
        assert catalog.post(f"/v1/listings/{created.json['id']}/publish", headers=admin).status_code == 200
        listing_of_region[region] = created.json["id"]
    pipeline.settle()
    return pipeline, tokens, listing_of_region


def deals_regions_for(stack, country: str) -> set[str] | None:
    """The regions whose offers deals lets a reseller register a customer of `country` for; None if deals refuses
    the country itself."""
    pipeline, tokens, listing_of_region = stack
    reseller = {"Authorization": "Bearer " + tokens.issue("partner", partner_id=f"facts-{uuid.uuid4().hex[:8]}")}
    products = [listing_of_region[region] for region in SALES_REGIONS]
    answer = pipeline.apps["deals"].post("/v1/deals/check", headers=reseller, json={
        "customer": {"name": "Probe Customer", "country": country}, "products": products})
    if answer.status_code == 200:
        return set(SALES_REGIONS)
    assert answer.status_code == 422, answer.json
    errors = answer.json["errors"]
    if any(field.startswith("customer.country") for field in errors):
        return None
    return {region for index, region in enumerate(SALES_REGIONS) if f"products.{index}" not in errors}


ROUTE_BY_REGION = RulesOfEngagement.from_dict({"version": 1, "rules": [
    {"id": f"route-{region}", "when": {"region": [region]}, "then": {"queue": region}} for region in SALES_REGIONS]})


def conflict_region_for(country: str) -> str | None:
    """The region conflict's rules route a case of `country` by (the queue of the matching region rule)."""
    registration = {"deal_id": "d1", "partner_id": "p1", "channel": "reseller", "products": ["x"],
                    "customer": {"name": "Probe Customer", "country": country},
                    "amount": {"amount": "1", "currency": "USD"}, "submitted_at": "2030-01-07T09:00:00Z"}
    queue = ROUTE_BY_REGION.route(CaseFacts((registration,)), opened_at=dt.datetime(2030, 1, 7, tzinfo=dt.UTC)).queue
    return queue if queue in SALES_REGIONS else None


def catalog_takes_region(region: str) -> bool:
    errors = catalog_schemas.OfferSchema().validate({
        "name": "Std", "channels": ["reseller"], "regions": [region],
        "pricing": {"model": "flat", "price": {"amount": "1.00", "currency": "USD"}}})
    return "regions" not in errors


@pytest.mark.parametrize("country", TRICKY_COUNTRIES)
def test_deals_checks_offers_by_the_region_conflict_routes_by(stack, country):
    routed = conflict_region_for(country)
    offered = deals_regions_for(stack, country)
    if routed is None:
        assert offered is None, f"deals takes {country!r}, which conflict cannot route"
    else:
        assert offered == {routed}, f"{country}: deals checks offers of {offered}, conflict routes by {routed}"
        assert catalog_takes_region(routed)


def deals_takes_country(country: str) -> bool:
    return "country" not in deals_schemas.CustomerSchema().validate({"name": "Probe", "country": country})


def test_every_country_deals_takes_is_one_conflict_routes_by_a_catalog_region():
    candidates = [c.alpha_2 for c in pycountry.countries] + ["UK", "EL", "XK", "EU", "ZZ", "AN", "YU", "CS"]
    for country in candidates:
        routed = conflict_region_for(country)
        assert deals_takes_country(country) == (routed is not None), country
        assert routed is None or catalog_takes_region(routed), country


# --- currencies: catalog's prices and deals' amounts --------------------------------------------------------------


def catalog_takes_currency(code: str) -> bool:
    return not catalog_schemas.MoneySchema().validate({"amount": "10.00", "currency": code})


def deals_takes_currency(code: str) -> bool:
    return not deals_schemas.MoneySchema().validate({"amount": "10.00", "currency": code})


@pytest.mark.parametrize("code", TRICKY_CURRENCIES)
def test_catalog_and_deals_take_the_same_currencies(code):
    assert catalog_takes_currency(code) == deals_takes_currency(code)


def test_every_iso_4217_code_is_judged_alike():
    for code in sorted({c.alpha_3 for c in pycountry.currencies} | set(WITHDRAWN_CURRENCIES)):
        assert catalog_takes_currency(code) == deals_takes_currency(code), code
    assert catalog_takes_currency("USD") and not catalog_takes_currency("USN") and not catalog_takes_currency("VEF")


# --- customer identity: deals' keys and conflict's matching -------------------------------------------------------


def deals_keys(customer: dict) -> dict | None:
    """The customer keys deals' submission schema computes, or None when deals refuses the customer."""
    body = {"customer": {"country": "GB", **customer}, "products": ["p1"],
            "amount": {"amount": "10.00", "currency": "USD"},
            "expected_close": (dt.date.today() + dt.timedelta(days=30)).isoformat()}
    errors = deals_schemas.DealSubmitSchema().validate(body)
    if errors:
        assert set(errors) == {"customer"}, errors
        return None
    return deals_schemas.DealSubmitSchema().load(body).customer_keys


def conflict_profile(customer: dict, contact_email: str | None = None) -> CustomerProfile:
    return CustomerProfile.from_registration({"country": "GB", **customer}, {"email": contact_email})


@pytest.mark.parametrize("pasted, key", [
    ("https://www.ACME.co.uk/x", "acme.co.uk"),
    ("gmail.com", None),
    ("user@outlook.com", None),
    ("Bücher.de", "xn--bcher-kva.de"),
    ("shop.acme.github.io", "acme.github.io"),
    ("co.uk", None),
    ("-acme.com", None),
])
def test_deals_and_conflict_take_the_same_domain_as_the_customer_key(pasted, key):
    keys = deals_keys({"name": "Acme Widgets", "domain": pasted})
    deals_domain = keys["domain"] if keys else None
    conflict_domains = features_of(conflict_profile({"name": "Acme Widgets", "domain": pasted})).domains
    assert deals_domain == key
    assert conflict_domains == ((key,) if key else ())


@pytest.mark.parametrize("email", ["user@outlook.com", "someone@GMAIL.com"])
def test_a_free_mail_contact_is_no_customer_key_for_conflict_either(email):
    assert features_of(conflict_profile({"name": "Acme Widgets"}, contact_email=email)).domains == ()


@pytest.mark.parametrize("left, right, same", [
    ("Acme Widgets, Inc.", "ACME WIDGETS GMBH", True),
    ("Müller Maschinenbau AG", "Mueller Maschinenbau GmbH", True),
    ("Acme Intl. Ltd (EMEA)", "ACME International Limited", True),
    ("Kabushiki Kaisha Toshiba", "Toshiba K.K.", True),
    ("Acme Widgets Inc.", "Acme Gadgets Inc.", False),
])
def test_deals_and_conflict_agree_on_which_names_are_one_name(left, right, same):
    deals_same = deals_keys({"name": left})["name"] == deals_keys({"name": right})["name"]
    conflict_same = (features_of(conflict_profile({"name": left})).tokens
                     == features_of(conflict_profile({"name": right})).tokens)
    assert deals_same == conflict_same == same


def deals_precheck(stack, registered: dict, asked: dict) -> str:
    """What deals' pre-check answers a second reseller about `asked` once a first registered `registered`, on a
    product of their own (so no other row's registrations count)."""
    pipeline, tokens, _ = stack
    admin = {"Authorization": "Bearer " + tokens.issue("admin")}
    product = pipeline.apps["catalog"].post("/v1/listings", headers=admin, json={
        "title": "Probe", "summary": "x", "vendor": "V", "category": "facts", "tags": [],
        "offers": [{"name": "Std", "channels": ["reseller"], "regions": ["EMEA"],
                    "pricing": {"model": "flat", "price": {"amount": "10.00", "currency": "USD"}}}]}).json["id"]
    pipeline.apps["catalog"].post(f"/v1/listings/{product}/publish", headers=admin)
    pipeline.settle()
    first, second = ({"Authorization": "Bearer " + tokens.issue("partner", partner_id=f"facts-{uuid.uuid4().hex[:8]}")}
                     for _ in range(2))
    submitted = pipeline.apps["deals"].post("/v1/deals", headers=first, json={
        "customer": {"country": "GB", **registered}, "products": [product],
        "amount": {"amount": "10.00", "currency": "USD"},
        "expected_close": (dt.date.today() + dt.timedelta(days=30)).isoformat()})
    assert submitted.status_code == 201, submitted.json
    answer = pipeline.apps["deals"].post("/v1/deals/check", headers=second, json={
        "customer": {"country": "GB", **asked}, "products": [product]})
    assert answer.status_code == 200, answer.json
    return answer.json["result"]


@pytest.mark.parametrize("left, right", [
    ({"domain": "gmail.com"}, {"domain": "jane@gmail.com"}),
    ({"domain": "user@outlook.com"}, {"domain": "Outlook.com"}),
    ({"domain": "https://www.ACME.co.uk/x"}, {"domain": "shop.acme.co.uk"}),
    ({"domain": "acme.github.io"}, {"domain": "other.github.io"}),
    ({"tax_id": "DE 123 456 789"}, {"tax_id": "123456789"}),
    ({"tax_id": "DE123456789"}, {"tax_id": "FR123456789"}),
    ({"duns": "12-345-6789"}, {"duns": "123456789"}),
])
def test_deals_says_claimed_exactly_when_conflict_sees_a_shared_identifier(stack, left, right):
    # Two different names: only the identifier can make them one customer.
    first, second = {"name": "Harbour Bakery", **left}, {"name": "Quayside Plumbing", **right}
    answer = deals_precheck(stack, first, second)
    signals = compare_customers(conflict_profile(first), conflict_profile(second)).signals
    shared_identifier = any(s["kind"] in ("domain", "tax_id", "duns") and s["relation"] == "same" for s in signals)
    assert (answer == "claimed") == shared_identifier, (answer, signals)
