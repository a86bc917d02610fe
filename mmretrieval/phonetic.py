"""Sound-alike keys for words, so a name two recognisers spell differently still matches.

A spoken query is recognised, then matched against recognised speech: rare words and names come
out spelled differently on the two sides ("Kowalczyk", "Kowalchik", "Kovalchick"), often too far
apart for an edit-distance match. A key in the spirit of Metaphone maps letters to the sounds
they usually make (ph/f, cz/ch/sh/tch, c/k/q, z/s, v/w/f), keeps consonants and the first
letter, and drops vowels and doubled sounds. Voiced and voiceless pairs (d/t, b/p, g/k) are
kept apart: the key must stay selective over a whole archive's vocabulary.
"""

from __future__ import annotations

import re

_START = (("kn", "n"), ("gn", "n"), ("pn", "n"), ("wr", "r"), ("wh", "w"), ("x", "s"))
_SOUNDS = (
    ("tch", "X"),
    ("sch", "SK"),
    ("cz", "X"),
    ("ch", "X"),
    ("sh", "X"),
    ("sz", "X"),
    ("ph", "F"),
    ("th", "0"),
    ("gh", ""),
    ("ck", "K"),
    ("dg", "J"),
)
_SOFT_C = re.compile(r"c(?=[eiy])")
_SOFT_G = re.compile(r"g(?=[eiy])")
_LETTERS = str.maketrans({"c": "K", "q": "K", "k": "K", "x": "KS", "z": "S", "v": "F", "w": "F"})
_VOWELS = re.compile(r"[aeiouyh]")


def sound_key(word: str) -> str:
    """The word's sound-alike key ("kowalczyk", "kowalchik" -> "KFLXK"); "" for non-letters."""
    word = "".join(c for c in word.lower() if "a" <= c <= "z")
    if not word:
        return ""
    for prefix, sound in _START:
        if word.startswith(prefix):
            word = sound + word[len(prefix) :]
            break
    for letters, sound in _SOUNDS:
        word = word.replace(letters, sound)
    word = _SOFT_G.sub("J", _SOFT_C.sub("S", word))
    first, rest = word[0], word[1:]
    key = (first if first not in "aeiouy" else "A") + _VOWELS.sub("", rest)
    key = key.translate(_LETTERS).upper()
    return re.sub(r"(.)\1+", r"\1", key)
