"""Scoring bands and evidence content for pairs of customer profiles."""

import json

import pytest

from services.conflict.matching import CustomerProfile, compare_customers
from services.conflict.matching.scoring import normalise_country, typing_slip
from shared.identity import normalise_duns, normalise_tax_id


def P(name, country="US", **kw):
    return CustomerProfile(name=name, country=country, **kw)


def signal(match, kind):
    return next(s for s in match.signals if s["kind"] == kind)


def test_tax_and_duns_normalisation():
    assert normalise_tax_id(" de 123.456-789 ") == "DE123456789"
    assert normalise_tax_id("") is None
    assert normalise_duns("12-345-6789") == "123456789"
    assert normalise_duns("123 456 789") == "123456789"
    assert normalise_duns("12345678") is None
    assert normalise_duns("12345678X") is None
    assert normalise_country(" uk ") == "GB"
    assert normalise_country("Germany") is None


@pytest.mark.parametrize(
    ("left", "right"),
    [("Bank of Hawaii", "Bank of Hope"), ("Bank of Hawaii", "Bank of America"),
     ("Acadia Healthcare", "Acadia Pharmaceuticals"), ("Delta Air Lines", "Delta Dental"),
     ("Delta Air Lines", "Delta Electronics"), ("General Electric", "General Mills"),
     ("General Motors", "General Mills"), ("Schneider Haustechnik GmbH", "Schneider Elektrotechnik GmbH")],
)
def test_companies_sharing_a_first_word_do_not_match(left, right):
    assert compare_customers(P(left), P(right)).band == "none"


@pytest.mark.parametrize(
    ("left", "right", "country"),
    [("Intl Business Machines Corp", "International Business Machines", "US"),
     ("Müller & Söhne GmbH", "Mueller and Soehne", "DE"), ("The Coca-Cola Company", "Coca Cola", "US"),
     ("Telefónica, S.A.", "TELEFONICA SA", "ES"), ("Acme Widgets Ltd - EMEA", "ACME WIDGETS LIMITED", "GB")],
)
def test_spelling_variants_are_clear_matches(left, right, country):
    match = compare_customers(P(left, country), P(right, country))
    assert match.band == "clear"
    assert match.score >= 0.9


def test_typo_is_at_least_a_possible_match():
    match = compare_customers(P("Mircosoft Corporation"), P("Microsoft"))
    assert match.band in ("possible", "clear")
    assert signal(match, "name")["fuzzy_tokens"] == [["mircosoft", "microsoft", pytest.approx(0.889, abs=1e-3)]]


def test_acronym_with_shared_domain_is_clear():
    match = compare_customers(P("IBM", domain="ibm.com"), P("International Business Machines Corporation",
                                                               domain="https://www.ibm.com/"))
    assert match.band == "clear"
    assert signal(match, "domain") == {"kind": "domain", "relation": "same", "value": "ibm.com",
                                       "left": ["ibm.com"], "right": ["ibm.com"], "weight": 5.0}
    assert signal(match, "name")["method"] == "acronym"


def test_acronym_without_shared_domain_is_only_supporting():
    assert compare_customers(P("IBM"), P("International Business Machines")).band == "none"
    supported = compare_customers(P("IBM"), P("International Business Machines", domain="ibm.com"))
    assert supported.band == "possible"
    assert signal(supported, "domain")["relation"] == "spells_other_name"


def test_subsidiary_with_own_domain_does_not_match_parent():
    match = compare_customers(P("Whole Foods Market", domain="wholefoodsmarket.com"), P("Amazon", domain="amazon.com"))
    assert match.band == "none"
    assert signal(match, "domain")["relation"] == "different"
    assert signal(match, "domain")["weight"] < 0


def test_different_domains_outweigh_identical_names():
    match = compare_customers(P("Atlas Construction", domain="atlas-construct.com"),
                              P("Atlas Construction", domain="atlasbuild.com"))
    assert match.band == "none"


def test_subdomain_of_group_domain_is_the_same_customer():
    match = compare_customers(P("Amazon Web Services", domain="aws.amazon.com"), P("Amazon.com, Inc.",
                                                                                  contact_email="x@amazon.com"))
    assert match.band == "clear"


def test_free_mail_is_ignored_and_reported():
    match = compare_customers(P("Zentrix Analytics", contact_email="bob@gmail.com"),
                              P("Zentrix Analytics", contact_email="amy@gmail.com"))
    assert match.band == "clear"  # judged on the name alone
    assert not any(s["kind"] == "domain" for s in match.signals)
    notes = [s for s in match.signals if s["kind"] == "free_mail"]
    assert {(n["side"], n["value"]) for n in notes} == {("left", "gmail.com"), ("right", "gmail.com")}


def test_same_name_in_different_countries_is_not_a_match():
    assert compare_customers(P("Summit Engineering Ltd", "GB"), P("Summit Engineering Inc.", "US")).band == "none"


def test_country_mismatch_is_not_a_veto_for_a_shared_identifier():
    match = compare_customers(P("Siemens AG", "DE", domain="siemens.com"), P("Siemens Inc", "US",
                                                                             contact_email="a@siemens.com"))
    assert match.band == "clear"
    country = signal(match, "country")
    assert country["relation"] == "different" and country["overridden_by_identifier"] is True


def test_tax_id_match_across_formats_and_prefix():
    match = compare_customers(P("Zentrix GmbH", "DE", tax_id="DE 123 456 789"), P("Zentrix Holding", "DE",
                                                                                  tax_id="123456789"))
    assert signal(match, "tax_id")["relation"] == "same"
    assert match.band == "clear"


def test_different_tax_ids_are_strong_negative():
    match = compare_customers(P("Zentrix GmbH", "DE", tax_id="DE111111111"), P("Zentrix GmbH", "DE",
                                                                               tax_id="DE222222222"))
    assert match.band == "none"


def test_duns_match_is_strong_evidence():
    match = compare_customers(P("Zentrix", duns="12-345-6789"), P("ZX Holdings", duns="123456789"))
    assert signal(match, "duns") == {"kind": "duns", "relation": "same", "left": "123456789",
                                     "right": "123456789", "weight": 6.0}
    assert match.band in ("possible", "clear")


def test_evidence_is_json_serialisable_and_self_explanatory():
    match = compare_customers(P("Acme Widgets GmbH - EMEA", "DE", domain="https://www.acme.de/"),
                              P("ACME Widgets", "DE", contact_email="jo@acme.de"))
    evidence = json.loads(json.dumps(match.to_evidence()))
    assert evidence["band"] == "clear" and 0.9 <= evidence["score"] <= 1.0
    name = next(s for s in evidence["signals"] if s["kind"] == "name")
    assert name["shared_tokens"] == ["acme", "widgets"]
    assert name["left"] == "Acme Widgets GmbH - EMEA" and name["left_division"] == "EMEA"
    assert name["left_legal_form"] == "gmbh" and name["similarity"] == 1.0
    assert {s["kind"] for s in evidence["signals"]} >= {"domain", "name", "country"}
    assert all("weight" in s for s in evidence["signals"])


def test_bands_follow_score():
    for a, b in [("Acme", "Acme Holdings"), ("Acme", "Zentrix"), ("Acme Widgets", "Acme Widgets")]:
        match = compare_customers(P(a), P(b))
        expected = "clear" if match.score >= 0.9 else "possible" if match.score >= 0.5 else "none"
        assert match.band == expected
    assert compare_customers(P("Acme"), P("Acme Logistics")).band == "possible"


def test_custom_token_weights_change_the_outcome():
    left, right = P("Zentrix Widgets"), P("Zentrix Gadgets")
    assert compare_customers(left, right).band == "none"
    heavy_brand = compare_customers(left, right, token_weights={"widgets": 0.05, "gadgets": 0.05})
    assert heavy_brand.score > compare_customers(left, right).score


@pytest.mark.parametrize(
    ("bare", "designated"),
    [("Bunzl", "Bunzl Holdings"), ("Bunzl plc", "Bunzl Group Holdings"), ("BUNZL", "The Bunzl Group of Companies"),
     ("Tate & Lyle", "Tate & Lyle Holding Company"), ("Bunzl", "Bunzl Hldgs"), ("Kongsberg", "Kongsberg Gruppen ASA")],
)
def test_bare_brand_against_its_group_form_is_clear(bare, designated):
    match = compare_customers(P(bare, "GB"), P(designated, "GB"))
    assert match.band == "clear"
    assert signal(match, "name")["method"] == "designator"


@pytest.mark.parametrize(
    ("left", "right"),
    [("Apex Holdings", "Apex Logistics"), ("Capital", "Capital Group"), ("Apex Holdings", "Apex Group")],
)
def test_designators_do_not_join_two_designated_or_generic_names(left, right):
    assert signal(compare_customers(P(left), P(right)), "name")["method"] != "designator"


def test_typing_slip_kinds():
    assert typing_slip("hlama", "halma") == "transposed"
    assert typing_slip("hallma", "halma") == "doubled"
    assert typing_slip("hama", "halma") == "dropped"
    assert typing_slip("bayer", "bauer") is None  # a substituted letter is not a slip
    assert typing_slip("halmaa", "halma") == "doubled" and typing_slip("hxalma", "halma") is None


@pytest.mark.parametrize("typed", ["Hlama Ltd", "Hallma", "Hama plc", "HALAM"])
def test_short_name_slip_backed_by_the_other_sides_domain_and_country_is_possible(typed):
    match = compare_customers(P(typed, "GB"), P("Halma plc", "GB", domain="https://www.halma.com/"))
    assert match.band in ("possible", "clear")
    slip = signal(match, "name")["slips"][0]
    assert slip["meant"] == "halma" and slip["backed_by_domain_label"] == "halma"


@pytest.mark.parametrize(
    ("left", "right"),
    [(P("Hama", "GB"), P("Halma plc", "DE", domain="halma.com")),  # another country
     (P("Hama", "GB", domain="hama.com"), P("Halma plc", "GB", domain="halma.com")),  # two domains
     (P("Hama", "GB"), P("Halma plc", "GB")),  # no domain behind either spelling
     (P("Hama", "GB"), P("Halma plc", "GB", domain="acme-holdings.com")),  # a domain that spells neither
     (P("Hama", "GB", tax_id="GB111111111"), P("Halma plc", "GB", domain="halma.com", tax_id="GB222222222"))],
)
def test_short_name_slip_without_its_backing_opens_nothing(left, right):
    assert compare_customers(left, right).band == "none"


def test_substituted_letter_in_a_short_name_is_no_match_even_for_review():
    match = compare_customers(P("Bosch GmbH", "DE"), P("Busch GmbH", "DE"), review_band=True)
    assert match.band == "none"


@pytest.mark.parametrize(
    ("left", "right"),
    [(P("Loews", "US"), P("Lowes", "US")),  # one slip, same country, no domain: ambiguous
     (P("Summit Engineering Ltd", "GB"), P("Summit Engineering Inc.", "US")),  # one name in two countries
     (P("HP Inc.", "US"), P("HP Inc", "GB", domain="hp.com"))],
)
def test_ambiguous_pairs_are_review_only_when_asked(left, right):
    assert compare_customers(left, right).band == "none"
    assert compare_customers(left, right, review_band=True).band == "review"


@pytest.mark.parametrize(
    ("left", "right"),
    [(P("Leeds Teaching Hospitals NHS Trust", "GB"), P("Leicester Teaching Hospitals NHS Trust", "GB")),
     (P("Hughes Logistics Ltd", "GB"), P("Hughes Electrical Ltd", "GB")),
     (P("Atlas Construction", domain="atlas-construct.com"), P("Atlas Construction", domain="atlasbuild.com"))],
)
def test_names_that_disagree_or_different_domains_are_never_review(left, right):
    assert compare_customers(left, right, review_band=True).band == "none"


def test_swiss_and_austrian_tax_ids_match_with_and_without_their_three_letter_prefix():
    match = compare_customers(P("Weber Treuhand SA", "CH", tax_id="CHE-471.153.807"),
                              P("Weber Treuhand AG", "CH", tax_id="471153807"))
    assert signal(match, "tax_id")["relation"] == "same"
    assert signal(compare_customers(P("Acme", "AT", tax_id="ATU12345678"), P("Acme", "AT", tax_id="12345678")),
                  "tax_id")["relation"] == "same"
    assert signal(compare_customers(P("Acme", "ES", tax_id="ESB12345678"), P("Acme", "ES", tax_id="B12345678")),
                  "tax_id")["relation"] == "same"
