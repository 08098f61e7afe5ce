"""Same-customer matching for deal registrations: evidence-based scoring and the blocking index.

The normalisers it scores with (domains, names, tax ids, DUNS) live in shared.identity, which deals uses too.
Pure Python: no I/O at import; data files and the Public Suffix List load lazily on first use.
"""

from .index import IndexedRegistration, MatchIndex, Overlap
from .scoring import (
    CustomerFeatures,
    CustomerMatch,
    CustomerProfile,
    compare_customers,
    normalise_country,
)

__all__ = [
    "CustomerFeatures",
    "CustomerMatch",
    "CustomerProfile",
    "IndexedRegistration",
    "MatchIndex",
    "Overlap",
    "compare_customers",
    "normalise_country",
]
