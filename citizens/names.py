"""A phonetic key of a person's name for finding possible duplicates without decrypting the
registry: the blind index of this key (citizens.crypto.name_index) is stored beside the
encrypted name."""

import re

# Titles and degrees that are not part of the name as registered.
_TITLES = frozenset(
    {"H", "HJ", "DR", "DRS", "DRA", "IR", "PROF", "SH", "SE", "SPD", "SKOM", "ST", "MM", "MSI"}
)
# Old (pre-1972) spellings still found on documents, to their current form.
_OLD_SPELLING = (("OE", "U"), ("DJ", "J"), ("TJ", "C"), ("SJ", "SY"), ("CH", "KH"), ("NJ", "NY"))
_NOT_LETTER = re.compile(r"[^A-Z ]+")
_VOWELS = re.compile(r"[AEIOUY]")  # a Y after the first letter is a vowel: RIZKY, RIZKI
_DOUBLED = re.compile(r"(.)\1+")


def normalised(name: str) -> str:
    """Upper case, letters only, titles dropped, single spaces."""
    words = _NOT_LETTER.sub(" ", name.upper()).split()
    return " ".join(word for word in words if word not in _TITLES)


def phonetic_key(name: str) -> str:
    """Each word's first letter and its consonants, old spellings modernised and doubled
    letters merged: MUHAMMAD and MUHAMAD, SITI AMINAH and SITI AMINA share a key."""
    keys = []
    for word in normalised(name).split():
        for old, new in _OLD_SPELLING:
            word = word.replace(old, new)
        rest = _DOUBLED.sub(r"\1", _VOWELS.sub("", word[1:]))
        keys.append(word[0] + rest.removesuffix("H") if len(word) > 1 else word)
    return " ".join(keys)
