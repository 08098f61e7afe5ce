"""Company-name normalisation: fold case/accents/punctuation, set aside legal forms and division tags,
expand abbreviations, and produce comparison tokens.

Division tags are regional or departmental additions partners make to a customer's name ("Acme - EMEA",
"Acme (Germany)", "Acme, IT Department", "Acme North America Inc."); they are recorded, never compared.
One typing slip (two letters swapped, a letter doubled or dropped) in a long vocabulary or legal-form word
("Hodlings", "Limitd", "Kabushiki Kiasha") is corrected before legal forms are set aside.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz.distance import OSA

from .legal_forms import LEGAL_FORM_PREFIXES, LEGAL_FORM_SUFFIXES
from .vocabulary import (
    ABBREVIATIONS,
    DEPARTMENT_WORDS,
    DIVISION_KEYWORDS,
    GENERIC_WORDS,
    ORGANISATIONAL_WORDS,
    PHRASES,
    REGION_TAG_PHRASES,
    REGION_WORDS,
    STANDALONE_TAG_UNIT_WORDS,
    STOP_WORDS,
    TAG_UNIT_WORDS,
)


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
_SPACED_DASH = re.compile(r"\s+[-–—|/]\s+|\s*[–—]\s*")  # " - EMEA", " | IT", " / Europe"
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


@functools.cache
def legal_form_words() -> frozenset[str]:
    """Every folded word of a legal form ("gmbh", "plc", "kabushiki", "kaisha", ...)."""
    return frozenset(word for form in _all_legal_forms() for word in form)


def _is_legal_form(words: list[str]) -> bool:
    return tuple(words) in _all_legal_forms()


@functools.cache
def _region_tag_words() -> frozenset[str]:
    return frozenset(word for phrase in REGION_TAG_PHRASES for word in phrase)


def _collapse_r_and_d(words: list[str]) -> list[str]:
    # "R&D" folds to "r and d"; as a tag it is one department word.
    collapsed: list[str] = []
    for word in words:
        if word == "d" and collapsed[-2:] == ["r", "and"]:
            collapsed[-2:] = ["rd"]
        else:
            collapsed.append(word)
    return collapsed


def _is_division(words: list[str]) -> bool:
    """Whether a segment set apart by a separator (" - ", ", ", parentheses) is a regional/departmental tag."""
    content = [w for w in _collapse_r_and_d(words) if w not in STOP_WORDS]
    if not content:
        return False
    if any(w in DIVISION_KEYWORDS for w in content):
        return True
    region_words = _region_tag_words()
    return all(
        w in REGION_WORDS or w in region_words or w in DEPARTMENT_WORDS or (len(w) == 2 and len(content) == 1)
        for w in content
    )


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


@functools.cache
def _legal_suffixes_by_last_word() -> dict[str, tuple[tuple[str, ...], ...]]:
    # Only forms ending in a name's last word can match there; longest first, as in _legal_suffixes().
    by_last: dict[str, list[tuple[str, ...]]] = {}
    for form in _legal_suffixes():
        by_last.setdefault(form[-1], []).append(form)
    return {word: tuple(forms) for word, forms in by_last.items()}


@functools.cache
def _legal_prefixes_by_first_word() -> dict[str, tuple[tuple[str, ...], ...]]:
    by_first: dict[str, list[tuple[str, ...]]] = {}
    for form in _legal_prefixes():
        by_first.setdefault(form[0], []).append(form)
    return {word: tuple(forms) for word, forms in by_first.items()}


def _strip_legal_forms(words: list[str]) -> tuple[list[str], list[str]]:
    found: list[str] = []
    changed = True
    while changed and len(words) > 1:
        changed = False
        for form in _legal_suffixes_by_last_word().get(words[-1], ()):
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
    for form in _legal_prefixes_by_first_word().get(words[0], ()) if words else ():
        n = len(form)
        if len(words) > n and tuple(words[:n]) == form:
            found.insert(0, " ".join(form))
            words = words[n:]
            break
    return words, found


@functools.cache
def _region_phrases_by_first_word() -> dict[str, tuple[tuple[str, ...], ...]]:
    by_first: dict[str, list[tuple[str, ...]]] = {}
    for phrase in REGION_TAG_PHRASES:
        by_first.setdefault(phrase[0], []).append(phrase)
    return {first: tuple(sorted(phrases, key=len, reverse=True)) for first, phrases in by_first.items()}


def _region_phrase_at(words: list[str], start: int) -> int:
    """Length of the longest region phrase starting at words[start] (0 if none)."""
    if start >= len(words):
        return 0
    for phrase in _region_phrases_by_first_word().get(words[start], ()):
        if tuple(words[start : start + len(phrase)]) == phrase:
            return len(phrase)
    return 0


def _is_tag_tail(tail: list[str]) -> bool:
    """A tag appended without separator: regions ("north america", "uk and ireland"), then optionally department
    words and a unit word ("it department", "emea region", "head office"), or "hq"/"headquarters" alone."""
    tail = _collapse_r_and_d(tail)
    position = regions = departments = 0
    while position < len(tail):
        size = _region_phrase_at(tail, position)
        if size:
            position += size
            regions += 1
        elif regions and tail[position] == "and" and _region_phrase_at(tail, position + 1):
            position += 1  # "uk and ireland", "europe middle east and africa"
        else:
            break
    while position < len(tail) and tail[position] in DEPARTMENT_WORDS:
        position += 1
        departments += 1
    unit = position == len(tail) - 1 and tail[position] in TAG_UNIT_WORDS
    if unit:
        position += 1
    if position != len(tail):
        return False
    if regions:
        return departments == 0 or unit
    if departments:
        return unit
    return unit and tail[-1] in STANDALONE_TAG_UNIT_WORDS


# A name that continues with a region after these words is named for the place ("Bank of America",
# "Airports Company South Africa", "Universidad de Chile"), not tagged with it.
_PLACE_NAMING_WORDS = frozenset({"company", "corporation", "authority", "council", "university", "college",
                                 "institute", "ministry", "government", "republic", "state", "city", "county"})


def _is_distinctive_word(word: str) -> bool:
    canonical = ABBREVIATIONS.get(word, word)
    return (len(word) >= 2 and word not in STOP_WORDS and word not in REGION_WORDS
            and canonical not in GENERIC_WORDS and canonical not in ORGANISATIONAL_WORDS)


@functools.cache
def _tag_last_words() -> frozenset[str]:
    return frozenset(phrase[-1] for phrase in REGION_TAG_PHRASES) | TAG_UNIT_WORDS


def _split_tag_tail(words: list[str]) -> tuple[list[str], list[str]]:
    """Split a trailing regional/departmental tag typed without separator: "halma north america" -> halma.

    Only when what stays still names a company on its own: "Air Canada", "Bank Central Asia" and
    "Telecom Italia" keep their place name, as do names where the place follows "of"/"de" or "Company".
    """
    if len(words) < 2 or words[-1] not in _tag_last_words():  # most names: no tag can end here
        return words, []
    for start in range(1, len(words)):
        head, tail = words[:start], words[start:]
        if not _is_tag_tail(tail):
            continue
        if head[-1] in STOP_WORDS or head[-1] in _PLACE_NAMING_WORDS or not any(map(_is_distinctive_word, head)):
            return words, []
        return head, tail
    return words, []


@functools.cache
def _slip_targets() -> tuple[frozenset[str], dict[str, str], dict[str, int]]:
    """(words never corrected, dropped-letter spelling -> word, word -> shortest typed length corrected to it).

    Targets are long vocabulary words (7+ letters) and legal-form words (6+ letters): a slip in them is far
    likelier than a company of that spelling. Shorter words are left alone ("Medica" is not "medical").
    """
    legal_words = legal_form_words()
    vocabulary = set(ABBREVIATIONS) | set(ABBREVIATIONS.values()) | GENERIC_WORDS | ORGANISATIONAL_WORDS
    known = frozenset(legal_words | vocabulary | STOP_WORDS | DIVISION_KEYWORDS | DEPARTMENT_WORDS
                      | REGION_WORDS | _region_tag_words() | TAG_UNIT_WORDS)
    min_typed: dict[str, int] = {}
    for word in vocabulary:
        if len(word) >= 7 and word.isalpha():
            min_typed[word] = 7
    for word in legal_words:
        if len(word) >= 6 and word.isalpha():
            min_typed[word] = 6
    dropped: dict[str, str] = {}
    ambiguous: set[str] = set()
    for word in min_typed:
        for i in range(len(word)):
            typed = word[:i] + word[i + 1 :]
            if typed in dropped and dropped[typed] != word:
                ambiguous.add(typed)
            dropped[typed] = word
    for typed in ambiguous | known:
        dropped.pop(typed, None)
    return known, dropped, min_typed


def _corrected(word: str) -> str:
    """The vocabulary or legal-form word `word` is one typing slip away from, else `word` itself."""
    known, dropped, min_typed = _slip_targets()
    if len(word) < 6 or word in known or not word.isalpha():
        return word
    candidates = []
    if word in dropped:
        candidates.append(dropped[word])
    for i in range(len(word) - 1):
        if word[i] == word[i + 1]:  # a doubled letter
            candidates.append(word[:i] + word[i + 1 :])
        swapped = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        candidates.append(swapped)
    for candidate in candidates:
        if candidate in min_typed and len(word) >= min_typed[candidate]:
            return candidate
    return word


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
    words = [_corrected(w) for w in words]
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    words, legal_forms = _strip_legal_forms(words)
    words, tag = _split_tag_tail(words)
    if tag:  # "Halma UK Limited", "Tokio Marine Holdings, Inc. Asia Pacific": a legal form on either side of it
        divisions.append(" ".join(tag))
        words, more_forms = _strip_legal_forms(words)
        legal_forms = more_forms + legal_forms
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
