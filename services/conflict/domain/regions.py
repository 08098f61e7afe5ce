"""Sales regions (NA, EMEA, APAC, LATAM) of ISO 3166-1 alpha-2 countries, for routing cases by region."""
from __future__ import annotations

_REGIONS = {
    "NA": "US CA PR UM VI GU AS MP BM",
    "LATAM": "MX BR AR CL CO PE VE EC BO PY UY GT HN SV NI CR PA CU DO HT JM TT BS BB BZ GY SR GF "
             "AG DM GD KN LC VC AW CW SX BQ KY TC VG AI MS GP MQ BL MF FK",
    "APAC": "CN JP KR KP TW HK MO MN IN PK BD LK NP BT MV AF ID MY SG TH VN PH KH LA MM BN TL AU NZ PG FJ "
            "SB VU NC PF WS TO KI TV NR FM MH PW CK NU TK WF KZ UZ KG TJ TM",
}
COUNTRY_REGION = {country: region for region, countries in _REGIONS.items() for country in countries.split()}
# Europe, the Middle East and Africa are everything else: the longest list, so it is the fallback.
DEFAULT_REGION = "EMEA"


def region_of(country: str | None) -> str:
    return COUNTRY_REGION.get((country or "").strip().upper(), DEFAULT_REGION)
