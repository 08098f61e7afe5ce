"""Same-customer matching for deal registrations: normalisers, evidence-based scoring, blocking index.

Pure Python: no I/O at import; data files and the Public Suffix List load lazily on first use.
"""

from .domains import is_free_mail, registrable_domain
from .index import IndexedRegistration, MatchIndex, Overlap
from .names import NormalisedName, normalise_name
from .scoring import (
    CustomerFeatures,
    CustomerMatch,
    CustomerProfile,
    compare_customers,
    normalise_country,
    normalise_duns,
    normalise_tax_id,
)

__all__ = [
    "CustomerFeatures",
    "CustomerMatch",
    "CustomerProfile",
    "IndexedRegistration",
    "MatchIndex",
    "NormalisedName",
    "Overlap",
    "compare_customers",
    "is_free_mail",
    "normalise_country",
    "normalise_duns",
    "normalise_name",
    "normalise_tax_id",
    "registrable_domain",
]
