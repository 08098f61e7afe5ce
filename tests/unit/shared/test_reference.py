"""shared.reference: every ISO country has exactly one sales region, and the currency rule holds."""
from __future__ import annotations

from importlib import resources

import pycountry
import pytest

from shared.reference import (
    FUND_CURRENCIES,
    REGIONS,
    X_CURRENCIES_IN_CIRCULATION,
    countries,
    is_country,
    is_price_currency,
    price_currencies,
    region_of,
)


def m49_table_codes() -> list[str]:
    text = resources.files("shared").joinpath("data", "m49_regions.txt").read_text(encoding="utf-8")
    return [code for line in text.splitlines() if line.strip() and not line.startswith("#")
            for code in line.split("\t")[3].split()]


def test_every_pycountry_country_has_a_sales_region():
    missing = sorted(c.alpha_2 for c in pycountry.countries if region_of(c.alpha_2) not in REGIONS)
    assert missing == []


def test_the_m49_table_names_each_iso_country_once_and_nothing_else():
    codes = m49_table_codes()
    assert len(codes) == len(set(codes))
    assert set(codes) == countries()


@pytest.mark.parametrize("country, region", [
    ("US", "NA"), ("CA", "NA"), ("GL", "NA"), ("BM", "NA"), ("PM", "NA"),
    ("MX", "LATAM"), ("PR", "LATAM"), ("VI", "LATAM"), ("BR", "LATAM"), ("GS", "LATAM"), ("BV", "LATAM"),
    ("DE", "EMEA"), ("EG", "EMEA"), ("ZA", "EMEA"), ("TR", "EMEA"), ("CY", "EMEA"), ("GE", "EMEA"),
    ("IO", "EMEA"), ("TF", "EMEA"),
    ("JP", "APAC"), ("AU", "APAC"), ("GU", "APAC"), ("AS", "APAC"), ("MP", "APAC"), ("UM", "APAC"),
    ("KZ", "APAC"), ("UZ", "APAC"), ("IR", "APAC"), ("TW", "APAC"), ("AQ", "APAC"),
])
def test_regions_follow_the_un_m49_geoscheme(country, region):
    assert region_of(country) == region


@pytest.mark.parametrize("country", ["pr", " PR ", "Pr"])
def test_region_lookup_ignores_case_and_surrounding_space(country):
    assert region_of(country) == "LATAM"


@pytest.mark.parametrize("country", ["", None, "UK", "EL", "XK", "ZZ", "USA", "E"])
def test_what_is_no_iso_country_has_no_region(country):
    assert region_of(country) is None
    assert not is_country(country or "")


@pytest.mark.parametrize("code", ["USD", "EUR", "JPY", "CHF", "XAF", "XOF", "XCD", "XPF", "XCG", "VES", "ZWG"])
def test_circulating_currencies_are_price_currencies(code):
    assert is_price_currency(code)


@pytest.mark.parametrize("code", [
    "USN", "BOV", "CHE", "CHW", "CLF", "COU", "MXV", "UYI", "UYW",  # funds
    "XAU", "XAG", "XPT", "XPD", "XDR", "XBA", "XSU", "XUA", "XTS", "XXX",  # units, testing, no currency
    "VEF", "ZWL", "HRK", "SLL", "CUC", "ANG",  # withdrawn
    "usd", "US", "DOLLAR", "",
])
def test_funds_units_and_withdrawn_codes_are_not(code):
    assert not is_price_currency(code)


def test_the_currency_rule_leaves_out_exactly_funds_and_units():
    active = {currency.alpha_3 for currency in pycountry.currencies}
    left_out = active - price_currencies()
    assert active >= FUND_CURRENCIES
    assert left_out == FUND_CURRENCIES | {code for code in active if code.startswith("X")} - X_CURRENCIES_IN_CIRCULATION
    assert price_currencies() >= X_CURRENCIES_IN_CIRCULATION
