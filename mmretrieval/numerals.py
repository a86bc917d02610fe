"""Numbers typed as words and numbers written as digits, so either finds the other.

Whisper writes most numbers it hears as digits ("more than 60 of them", "4 generations",
"£10,000"), while people type what was said ("more than sixty of them"), and subtitles may
spell numbers out while a query has digits. So each English number word of a query also
counts as its value in digits, a run of them ("twenty nine", "four hundred") as the run's
value too, and a query's digits count as the number's one-word name ("60" -> "sixty").
``thousand`` also counts as ``000``: "10,000" is the tokens ``10`` and ``000``.
"""

from __future__ import annotations

from collections.abc import Sequence

_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
VALUES: dict[str, int] = {
    **{word: n for n, word in enumerate(_UNITS)},
    **{word: 10 * (n + 2) for n, word in enumerate(_TENS)},
}
SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_NAMES = {str(value): word for word, value in VALUES.items()}
_SPELLED = {"thousand": ("000",), "million": ("000",)}  # "10,000" -> 10 000


def number_forms(sequence: Sequence[str]) -> dict[str, set[str]]:
    """For the words of a query in order, each number word's digits and those of the run of
    number words it is in ("twenty nine" -> ``29`` for both); each digit token's one-word
    name. Words with no other form are left out."""
    forms: dict[str, set[str]] = {}
    run: list[str] = []
    for word in [*sequence, ""]:  # the empty word ends the last run
        if word in VALUES or (word in SCALES and run):
            run.append(word)
            continue
        if len(run) > 1:
            for member in run:
                forms.setdefault(member, set()).add(str(_value(run)))
        run = []
        if name := _NAMES.get(word):
            forms.setdefault(word, set()).add(name)
    for word in sequence:
        if (value := VALUES.get(word, SCALES.get(word))) is not None:
            forms.setdefault(word, set()).update((str(value), *_SPELLED.get(word, ())))
    return forms


def _value(run: Sequence[str]) -> int:
    """The number a run of number words names ("four hundred and" is not one: no "and")."""
    total = current = 0
    for word in run:
        if word in SCALES:
            current = max(current, 1) * SCALES[word]
            if SCALES[word] >= 1000:
                total, current = total + current, 0
        else:
            current += VALUES[word]
    return total + current
