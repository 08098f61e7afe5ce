"""Customer identity, one normaliser for every service: registrable domains (free-mail aware), tax ids and DUNS
numbers, company names (legal forms, division tags, abbreviations), and a customer's exact keys.

Deals validates, stores and pre-checks with it; conflict's matching scores with it (its fuzzy scoring stays in
services/conflict/matching). Pure Python: no I/O at import; data files and the Public Suffix List load lazily.
"""

from .customer import CustomerKeys, customer_keys, name_key, strong_match
from .domains import InvalidDomain, domain_label, host_of, is_free_mail, registrable_domain, web_domain
from .identifiers import normalise_duns, normalise_tax_id, same_tax_id, tax_id_core
from .names import NormalisedName, legal_form_words, normalise_name

__all__ = [
    "CustomerKeys",
    "InvalidDomain",
    "NormalisedName",
    "customer_keys",
    "domain_label",
    "host_of",
    "is_free_mail",
    "legal_form_words",
    "name_key",
    "normalise_duns",
    "normalise_name",
    "normalise_tax_id",
    "registrable_domain",
    "same_tax_id",
    "strong_match",
    "tax_id_core",
    "web_domain",
]
