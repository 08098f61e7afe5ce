"""Registrable-domain extraction from pasted forms, e-mails and free-mail providers."""

import pytest

from shared.identity import host_of, is_free_mail, registrable_domain


@pytest.mark.parametrize(
    "pasted",
    ["https://www.acme.co.uk/", "shop.acme.co.uk", "ACME.CO.UK", "http://acme.co.uk:8080/x?y=1",
     "  www.acme.co.uk  ", "jane.doe@acme.co.uk", "Jane.Doe@Sales.ACME.co.uk", "acme.co.uk."],
)
def test_pasted_forms_reduce_to_one_registrable_domain(pasted):
    assert registrable_domain(pasted) == "acme.co.uk"


def test_path_and_subdomains_are_dropped():
    assert registrable_domain("acme.com/contact") == "acme.com"
    assert registrable_domain("aws.amazon.com") == "amazon.com"
    assert registrable_domain("https://eu.shop.siemens.de/de/") == "siemens.de"


@pytest.mark.parametrize("value", [None, "", "   ", "localhost", "not a domain", "10.0.0.1", "http://", "@"])
def test_unusable_values_give_none(value):
    assert registrable_domain(value) is None


@pytest.mark.parametrize(
    "value",
    ["someone@gmail.com", "x@googlemail.com", "outlook.com", "a@hotmail.co.uk", "a@hotmail.es", "a@yahoo.co.jp",
     "a@yahoo.com.br", "a@gmx.de", "a@gmx.net", "a@web.de", "a@t-online.de", "a@orange.fr", "a@libero.it",
     "a@mail.ru", "a@yandex.ru", "a@yandex.kz", "a@qq.com", "a@163.com", "a@naver.com", "a@proton.me",
     "a@protonmail.com", "a@icloud.com", "a@me.com", "a@aol.com", "a@zoho.com", "a@live.com"],
)
def test_free_mail_never_counts_as_customer_domain(value):
    assert registrable_domain(value) is None
    assert is_free_mail(value.rsplit("@", 1)[-1])


def test_free_mail_detection_does_not_swallow_corporate_domains():
    assert not is_free_mail("orange.com")  # the operator's corporate domain, unlike orange.fr mailboxes
    assert not is_free_mail("acme.com")
    assert registrable_domain("orange.com") == "orange.com"


def test_hosting_platform_tenants_stay_apart():
    assert registrable_domain("acme.github.io") == "acme.github.io"
    assert registrable_domain("other.github.io") == "other.github.io"


def test_internationalised_domains_compare_in_punycode():
    assert registrable_domain("müller.de") == registrable_domain("xn--mller-kva.de") == "xn--mller-kva.de"


def test_host_of_strips_scheme_credentials_port_and_path():
    assert host_of("https://user:pw@www.acme.com:443/a/b?c#d") == "www.acme.com"
