"""Company-name normalisation: fold case/accents/punctuation, set aside legal forms and division tags,
expand abbreviations, and produce comparison tokens."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz.distance import OSA

from .legal_forms import LEGAL_FORM_PREFIXES, LEGAL_FORM_SUFFIXES
from .vocabulary import ABBREVIATIONS, DIVISION_KEYWORDS, PHRASES, REGION_WORDS, STOP_WORDS


@dataclass(frozen=True, slots=True)
class NormalisedName:
    original: str
    folded: str  # canonical text: folded, legal form/division removed, abbreviations expanded, stop words kept
    tokens: tuple[str, ...]  # comparison keys: stop words dropped, umlaut spellings unified ("mueller" -> "muller")
    division: str | None = None  # e.g. "EMEA" from "Acme - EMEA"; recorded, never compared
    legal_form: str | None = None  # e.g. "gmbh and co kg"


# Letters NFKD does not decompose into base + accent.
_SPECIAL_LETTERS = str.maketrans({
    "ß": "ss", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o", "œ": "oe", "Œ": "oe", "ł": "l", "Ł": "l",
    "đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "þ": "th", "Þ": "th", "ı": "i", "ĸ": "k",
    "&": " and ", "+": " and ", "’": "", "'": "", "`": "", "´": "", "‘": "",
})
_WEB_SUFFIX = re.compile(r"\.(com|net|org|io|ai|co|de|co\.uk|com\.au)\b")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_DOTTED_INITIALS = re.compile(r"\b(?:[a-z]\.){2,}")  # "s.p.a.", "i.b.m." -- but "R.L. S.A." stays two groups
_PARENTHETICAL = re.compile(r"\s*[\(\[]([^()\[\]]*)[\)\]]")
_SPACED_DASH = re.compile(r"\s+[-–—|]\s+|\s*[–—]\s*")
# "mueller"/"müller"/"muller" share one key; only before a consonant, so "queen" and "boeing" stay intact.
# Not at the start of a word either, so acronyms ("aep") and "aerospace" keep their letters.
_UMLAUT_SPELLING = re.compile(r"(?<=[a-z][aou])e(?=[b-df-hj-np-tv-z])")


def fold_text(text: str) -> str:
    """Lower-case ASCII words separated by single spaces; '&' becomes 'and'; dotted initials joined."""
    text = unicodedata.normalize("NFKC", text).translate(_SPECIAL_LETTERS)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = _WEB_SUFFIX.sub(" ", text)
    text = _DOTTED_INITIALS.sub(lambda m: " " + m.group(0).replace(".", "") + " ", text)
    words = _NON_ALNUM.sub(" ", text).split()
    return " ".join(_join_initials(words))


def _join_initials(words: list[str]) -> list[str]:
    # "s a", "j p", "i b m" are what dotted initials ("S.A.", "J.P.", "I.B.M.") fold to.
    joined: list[str] = []
    run = ""
    for word in words:
        if len(word) == 1 and word.isalpha():
            run += word
            continue
        if run:
            joined.append(run)
            run = ""
        joined.append(word)
    if run:
        joined.append(run)
    return joined


def token_key(token: str) -> str:
    return _UMLAUT_SPELLING.sub("", token)


@functools.cache
def _legal_suffixes() -> tuple[tuple[str, ...], ...]:
    forms = {tuple(fold_text(form).split()) for group in LEGAL_FORM_SUFFIXES.values() for form in group}
    forms.discard(())
    return tuple(sorted(forms, key=len, reverse=True))  # longest first: "gmbh and co kg" before "kg"


@functools.cache
def _legal_prefixes() -> tuple[tuple[str, ...], ...]:
    forms = {tuple(fold_text(form).split()) for form in LEGAL_FORM_PREFIXES}
    forms.discard(())
    return tuple(sorted(forms, key=len, reverse=True))


@functools.cache
def _long_single_word_forms() -> tuple[str, ...]:
    # Long spelled-out forms are often mistyped ("Limitted", "Corporatoin"); short ones are too ambiguous.
    return tuple(form[0] for form in _legal_suffixes() if len(form) == 1 and len(form[0]) >= 7)


def _is_mistyped_legal_form(word: str) -> bool:
    return len(word) >= 7 and any(
        abs(len(word) - len(form)) <= 1 and OSA.distance(word, form, score_cutoff=1) <= 1
        for form in _long_single_word_forms()
    )


@functools.cache
def _phrase_max_len() -> int:
    return max(len(phrase) for phrase in PHRASES)


@functools.cache
def _all_legal_forms() -> frozenset[tuple[str, ...]]:
    return frozenset(_legal_suffixes()) | frozenset(_legal_prefixes())


def _is_legal_form(words: list[str]) -> bool:
    return tuple(words) in _all_legal_forms()


def _is_division(words: list[str]) -> bool:
    content = [w for w in words if w not in STOP_WORDS]
    if not content:
        return False
    if any(w in DIVISION_KEYWORDS for w in content):
        return True
    return all(w in REGION_WORDS or (len(w) == 2 and len(content) == 1) for w in content)


def _split_division(text: str) -> tuple[str, list[str]]:
    """Remove division tags (parentheticals, " - EMEA", ", UK Branch") from raw text; return the rest and the tags."""
    divisions: list[str] = []

    def take_parenthetical(match: re.Match[str]) -> str:
        inner = match.group(1).strip()
        if _is_legal_form(fold_text(inner).split()):
            return " " + inner  # "(Pty) Ltd" is part of the legal form
        if inner:
            divisions.append(inner)
        return " "

    text = _PARENTHETICAL.sub(take_parenthetical, text)

    segments = _SPACED_DASH.split(text)
    kept = [segments[0]]
    for segment in segments[1:]:
        if _is_division(fold_text(segment).split()):
            divisions.append(segment.strip())
        else:
            kept.append(segment)
    text = " ".join(kept)

    parts = text.split(",")
    kept = [parts[0]]
    for part in parts[1:]:
        words = fold_text(part).split()
        if words and not _is_legal_form(words) and _is_division(words):
            divisions.append(part.strip())
        else:
            kept.append(part)
    return " ".join(kept), divisions


def _strip_legal_forms(words: list[str]) -> tuple[list[str], list[str]]:
    found: list[str] = []
    changed = True
    while changed and len(words) > 1:
        changed = False
        for form in _legal_suffixes():
            n = len(form)
            if len(words) > n and tuple(words[-n:]) == form:
                found.insert(0, " ".join(form))
                words = words[:-n]
                while len(words) > 1 and words[-1] in ("and", "und", "et", "y"):
                    words = words[:-1]  # "Merck & Co" -> "merck"
                changed = True
                break
        if not changed and len(words) > 1 and _is_mistyped_legal_form(words[-1]):
            found.insert(0, words[-1])
            words = words[:-1]
            changed = True
    for form in _legal_prefixes():
        n = len(form)
        if len(words) > n and tuple(words[:n]) == form:
            found.insert(0, " ".join(form))
            words = words[n:]
            break
    return words, found


def _expand(words: list[str]) -> list[str]:
    expanded: list[str] = []
    i = 0
    longest = _phrase_max_len()
    while i < len(words):
        for n in range(min(longest, len(words) - i), 1, -1):
            phrase = PHRASES.get(tuple(words[i : i + n]))
            if phrase:
                expanded.append(phrase)
                i += n
                break
        else:
            expanded.append(ABBREVIATIONS.get(words[i], words[i]))
            i += 1
    return expanded


@functools.lru_cache(maxsize=100_000)
def normalise_name(name: str) -> NormalisedName:
    # Cached: the same stored names are compared again and again, and the result is immutable.
    original = name or ""
    rest, divisions = _split_division(original)
    words = fold_text(rest).split()
    if not words:  # the whole name looked like a tag, e.g. "(EMEA)": compare it rather than nothing
        words = fold_text(original).split()
        divisions = []
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    words, legal_forms = _strip_legal_forms(words)
    if len(words) > 1 and words[0] == "the":  # "The ... Company": the article may surface after stripping
        words = words[1:]
    words = _expand(words)
    content = [w for w in words if w not in STOP_WORDS] or words
    return NormalisedName(
        original=original,
        folded=" ".join(words),
        tokens=tuple(token_key(w) for w in content),
        division="; ".join(divisions) or None,
        legal_form=" ".join(legal_forms) or None,
    )
