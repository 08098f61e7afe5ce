"""shared.identity: a customer's exact keys, strong matches, and the web domain deals validates with."""
import pytest

from shared.identity import InvalidDomain, customer_keys, name_key, same_tax_id, strong_match, web_domain


@pytest.mark.parametrize("pasted, domain", [
    ("https://www.ACME.co.uk/x", "acme.co.uk"), ("jane@Sales.Acme.com", "acme.com"), ("Bücher.de", "xn--bcher-kva.de"),
    ("xn--bcher-kva.de", "xn--bcher-kva.de"), ("gmail.com", "gmail.com"), ("user@outlook.com", "outlook.com"),
    ("shop.acme.github.io", "acme.github.io"),  # hosting tenants are different customers
])
def test_the_web_domain_of_what_people_paste(pasted, domain):
    assert web_domain(pasted) == domain


@pytest.mark.parametrize("pasted", ["acme", "http://[acme", "co.uk", "-acme.com", "acme-.com", "a..b.com",
                                    "127.0.0.1", f"{'a' * 64}.com", "", "   "])
def test_what_names_no_web_domain_is_refused_with_a_reason(pasted):
    with pytest.raises(InvalidDomain, match="web domain"):
        web_domain(pasted)


@pytest.mark.parametrize("domain", ["gmail.com", "jane@gmail.com", "https://www.GMAIL.com/", "user@outlook.com"])
def test_a_free_mail_domain_is_never_a_customer_key(domain):
    assert customer_keys({"name": "Harbour Bakery", "country": "GB", "domain": domain})["domain"] is None


def test_customer_keys_fold_every_identifier():
    keys = customer_keys({"name": "Acme Widgets, Inc.", "country": "US", "domain": "https://www.ACME.com/about",
                          "tax_id": "de 123.456-789", "duns": "12-345-6789"})
    assert keys == {"country": "US", "domain": "acme.com", "tax_id": "DE123456789", "duns": "123456789",
                    "name": "acme widgets"}


@pytest.mark.parametrize("a, b", [("Acme Widgets, Inc.", "ACME WIDGETS GMBH"), ("Müller AG", "Mueller GmbH"),
                                  ("Acme Intl. Ltd (EMEA)", "ACME International Limited"),
                                  ("Kabushiki Kaisha Toshiba", "Toshiba K.K."), ("Acme S.p.A.", "Acme SpA")])
def test_name_keys_set_aside_every_legal_form_and_tag(a, b):
    assert name_key(a) == name_key(b)


def test_two_different_companies_keep_different_name_keys():
    assert name_key("Acme Widgets Inc.") != name_key("Acme Gadgets Inc.")


def keys(**customer):
    return customer_keys({"name": "Someone", "country": "DE", **customer})


@pytest.mark.parametrize("a, b, same", [
    (keys(domain="acme.de"), keys(domain="https://shop.acme.de"), True),
    (keys(domain="gmail.com"), keys(domain="gmail.com"), False),
    (keys(duns="123456789"), keys(duns="123-456-789"), True),
    (keys(tax_id="DE123456789"), keys(tax_id="123456789"), True),
    (keys(tax_id="DE123456789"), keys(tax_id="FR123456789"), False),
    (keys(tax_id="DE123456789"), customer_keys({"name": "x", "country": "AT", "tax_id": "DE123456789"}), False),
    (keys(), keys(), False),  # one name and country alone is for the desk to review, not beyond doubt
])
def test_strong_matches_are_shared_identifiers(a, b, same):
    assert strong_match(a, b) is same
    assert strong_match(b, a) is same


def test_same_tax_id_tolerates_a_missing_prefix_only():
    assert same_tax_id("CHE123456789", "123456789")
    assert not same_tax_id("DE123456789", "DE987654321")
