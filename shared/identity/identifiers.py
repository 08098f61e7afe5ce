"""Customer identifiers as pasted (tax ids, DUNS numbers) folded to the form two services compare."""

from __future__ import annotations

import re

_ID_JUNK = re.compile(r"[\s\-./_]+")
# Prefixes of three letters that are pasted or left off as a whole: Swiss UID "CHE-123.456.789", Austrian "ATU...".
_THREE_LETTER_TAX_PREFIXES = ("CHE", "ATU")


def normalise_tax_id(value: str | None) -> str | None:
    """Upper case without spaces, dashes, dots, slashes or underscores; None when nothing is left."""
    if not value:
        return None
    text = _ID_JUNK.sub("", str(value)).upper()
    return text or None


def tax_id_core(tax_id: str) -> str:
    """VAT-style ids are pasted with and without the country prefix ("DE123456789" / "123456789")."""
    if len(tax_id) > 5 and tax_id.startswith(_THREE_LETTER_TAX_PREFIXES) and tax_id[3:].isdigit():
        return tax_id[3:]
    if len(tax_id) > 4 and tax_id[:2].isalpha() and tax_id[2:].isalnum() and any(c.isdigit() for c in tax_id[2:]):
        return tax_id[2:]
    return tax_id


def same_tax_id(left: str, right: str) -> bool:
    """Whether two normalised tax ids name one company: equal, or equal but for a country prefix one side left
    off. Two different prefixes ("DE123456789" / "FR123456789") are two companies."""
    return left == right or tax_id_core(left) == tax_id_core(right) and not (
        left[:2].isalpha() and right[:2].isalpha() and left[:2] != right[:2]
    )


def normalise_duns(value: str | None) -> str | None:
    """Nine digits, or None when the value cannot be a DUNS number."""
    if not value:
        return None
    digits = _ID_JUNK.sub("", str(value))
    return digits if len(digits) == 9 and digits.isdigit() else None
