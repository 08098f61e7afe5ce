"""Reference facts every service judges alike: ISO 3166-1 countries with their sales region, ISO 4217 currencies.

Countries and currencies come from pycountry (the ISO 3166-1 and ISO 4217 lists it ships). Sales regions follow
one published convention, the UN M49 geoscheme (data/m49_regions.txt names its source):

    Northern America                                   -> NA
    Latin America and the Caribbean                    -> LATAM
    Europe, Africa and Western Asia                    -> EMEA
    the rest of Asia (Central, Southern, Eastern and
    South-eastern) and Oceania                         -> APAC
    Antarctica (in no M49 region)                      -> APAC

Antarctica goes to APAC because its stations are supplied mostly from Hobart and Christchurch. So, for example,
Puerto Rico and the U.S. Virgin Islands are LATAM, Guam and American Samoa APAC, Kazakhstan and Uzbekistan APAC,
Turkey, Cyprus and the Caucasus EMEA, Iran and Afghanistan APAC (M49's Southern Asia).
"""
from __future__ import annotations

import functools
from importlib import resources

import pycountry

REGIONS = ("NA", "EMEA", "APAC", "LATAM")

# M49 sub-region (or area) code -> sales region: the convention above, group by group.
_SALES_REGION_OF_M49_GROUP = {
    "021": "NA",  # Northern America
    "419": "LATAM",  # Latin America and the Caribbean
    "154": "EMEA", "039": "EMEA", "155": "EMEA", "151": "EMEA",  # Europe: Northern, Southern, Western, Eastern
    "015": "EMEA", "202": "EMEA",  # Africa: Northern, Sub-Saharan
    "145": "EMEA",  # Western Asia
    "143": "APAC", "034": "APAC", "030": "APAC", "035": "APAC",  # Asia: Central, Southern, Eastern, South-eastern
    "053": "APAC", "054": "APAC", "057": "APAC", "061": "APAC",  # Oceania: ANZ, Melanesia, Micronesia, Polynesia
    "010": "APAC",  # Antarctica
}

# ISO 4217 codes that are not money anyone quotes a price in. Funds are the codes ISO 4217 flags as funds
# (pycountry does not carry the flag, so they are named here).
FUND_CURRENCIES = frozenset("BOV CHE CHW CLF COU MXV USN UYI UYW".split())
# X codes are supranational: most are units (gold XAU, silver XAG, platinum XPT, palladium XPD, SDR XDR, bond
# market units XBA-XBD, XSU, XUA, XAD), the testing code XTS and "no currency" XXX. Only these are issued as money.
X_CURRENCIES_IN_CIRCULATION = frozenset("XAF XCD XCG XOF XPF".split())


@functools.cache
def _region_of_country() -> dict[str, str]:
    text = resources.files("shared").joinpath("data", "m49_regions.txt").read_text(encoding="utf-8")
    regions: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        group, _region, _name, countries = line.split("\t")
        for country in countries.split():
            regions[country] = _SALES_REGION_OF_M49_GROUP[group]
    return regions


def region_of(country_alpha2: str | None) -> str | None:
    """The sales region of an ISO 3166-1 alpha-2 country ("pr" and " PR " count as "PR"); None if none is known."""
    return _region_of_country().get((country_alpha2 or "").strip().upper())


@functools.cache
def countries() -> frozenset[str]:
    """Every ISO 3166-1 alpha-2 code."""
    return frozenset(country.alpha_2 for country in pycountry.countries)


def is_country(code: str) -> bool:
    """Whether `code` is an ISO 3166-1 alpha-2 code exactly as written (upper case)."""
    return code in countries()


@functools.cache
def price_currencies() -> frozenset[str]:
    """The ISO 4217 codes a price or a deal amount may be given in.

    The rule: the active codes (ISO 4217 list one as pycountry ships it, so withdrawn codes such as VEF, HRK and
    ZWL are out), less funds and less the X codes that are units rather than money.
    """
    active = {currency.alpha_3 for currency in pycountry.currencies}
    return frozenset(code for code in active - FUND_CURRENCIES
                     if not code.startswith("X") or code in X_CURRENCIES_IN_CIRCULATION)


def is_price_currency(code: str) -> bool:
    """Whether `code` is an ISO 4217 code a price may be given in, exactly as written (upper case)."""
    return code in price_currencies()
