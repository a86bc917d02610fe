"""ImageNet labels: what a frame shows, in words a text query can reach.

The visual channel's CNN scores every frame over ImageNet's 1,000 classes; the classes are
WordNet synsets, so each already carries its synonyms ("cab, hack, taxi, taxicab"). A frame
keeps its few most probable labels. A clip's *label vector* is the square root of its label
probabilities (each label's best over the clip's frames, the unlabelled rest in one extra
component), a unit vector; a text query's vector weighs the labels it names or means, its best
at 1. Their inner product, capped at 1, is the clip's score: 0.9 for a clip that shows a
"taxi" at probability 0.81, 0.55 at 0.3, and nothing for clips that show no such thing.

A query reaches a label by its words (a synonym said in full, or a synonym's head noun: "car"
reaches "sports car", not "car mirror") or by meaning: the profile's text encoder embeds every
class name once, and a label as close to the query as ``MIN_SIMILARITY`` counts by its cosine.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from mmretrieval.models import cache_dir, cache_name

CLASSES = 1000
DIM = CLASSES + 1  # the label vector's extra component: probability left unlabelled
MIN_SIMILARITY = 0.6  # text-encoder cosine from which a class counts as meant by a query
MAX_QUERY_LABELS = 50  # a query reaches at most this many classes ("dog": many breeds)
HEAD_CREDIT = 0.8  # a query word that is a synonym's head noun, not the whole synonym
_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")

Label = tuple[int, float]  # (class index, probability)


@dataclass(frozen=True)
class Vocabulary:
    """The 1,000 classes in the models' output order: a display name and WordNet synonyms."""

    names: tuple[str, ...]
    synonyms: tuple[tuple[str, ...], ...]

    def describe(self, labels: Sequence[Label]) -> str:
        """``taxicab 0.81, traffic light 0.07``: labels for people."""
        return ", ".join(f"{self.names[c]} {p:.2f}" for c, p in labels)


@cache
def vocabulary() -> Vocabulary:
    """The shipped class list (mmretrieval/data/imagenet_classes.txt)."""
    text = (resources.files("mmretrieval") / "data" / "imagenet_classes.txt").read_text()
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    if len(rows) != CLASSES:
        raise ValueError(f"imagenet_classes.txt lists {len(rows)} classes, expected {CLASSES}")
    synonyms = tuple(tuple(s.strip() for s in row[2].split(",")) for row in rows)
    # The first synonym names a class, unless another class starts with it too ("crane", the
    # bird and the machine): then the clean name that tells them apart.
    firsts = [s[0] for s in synonyms]
    names = tuple(
        first if firsts.count(first) == 1 else row[1]
        for first, row in zip(firsts, rows, strict=True)
    )
    return Vocabulary(names, synonyms)


def top_labels(probabilities: np.ndarray, count: int, min_probability: float) -> list[Label]:
    """A frame's ``count`` most probable classes at ``min_probability`` or more, best first."""
    best = np.argsort(-probabilities)[:count]
    return [(int(c), float(probabilities[c])) for c in best if probabilities[c] >= min_probability]


def label_vector(frames: Sequence[Sequence[Label]]) -> np.ndarray | None:
    """The unit label vector of a clip from its frames' labels (None: no frame has a label)."""
    best = np.zeros(DIM, np.float64)
    for labels in frames:
        for c, p in labels:
            best[c] = max(best[c], p)
    total = best.sum()
    if total == 0:
        return None
    best /= max(total, 1.0)  # labels of several frames may add up to more than 1
    best[CLASSES] = max(0.0, 1.0 - best[:CLASSES].sum())
    return np.sqrt(best).astype(np.float32)


def labels_score(query: np.ndarray, labels: Sequence[Label]) -> float:
    """One frame's score for a query's label vector (the best frame of a hit)."""
    return min(1.0, sum(float(query[c]) * p**0.5 for c, p in labels))


def _words(text: str) -> list[str]:
    return [_singular(w) for w in _WORD.findall(text.lower())]


def _singular(word: str) -> str:
    """Plural to singular, roughly ("taxis" -> "taxi", "buses" -> "bus"), enough to match."""
    if len(word) > 4 and word.endswith(("ses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


class LabelQuery:
    """Text queries -> label vectors, by words and by the profile's text encoder."""

    def __init__(self, encoder) -> None:
        self.encoder = encoder
        self.vocabulary = vocabulary()
        self._names: np.ndarray | None = None  # the classes through the encoder, on first use
        # each class's synonyms by their first word (said in full) and last (the head noun)
        self._by_first: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        self._by_head: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        for c, synonyms in enumerate(self.vocabulary.synonyms):
            for phrase in (tuple(_words(s)) for s in synonyms):
                if phrase:
                    self._by_first.setdefault(phrase[0], []).append((c, phrase))
                if len(phrase) > 1:
                    self._by_head.setdefault(phrase[-1], []).append((c, phrase))

    def relevance(self, text: str) -> dict[int, float]:
        """Class -> how much ``text`` asks for it (0-1), for the classes it reaches."""
        found = self._by_words(_words(text))
        if self.encoder is not None:
            similarity = self._class_vectors() @ self.encoder.embed_text([text])[0]
            for c in np.flatnonzero(similarity >= MIN_SIMILARITY):
                found[int(c)] = max(found.get(int(c), 0.0), float(similarity[c]))
        best = sorted(found, key=found.get, reverse=True)[:MAX_QUERY_LABELS]
        return {c: found[c] for c in best}

    def _by_words(self, words: Sequence[str]) -> dict[int, float]:
        """Classes a synonym of which the query says in full (1) or by its head noun
        (``HEAD_CREDIT``); a match inside a longer one is dropped ("traffic lights" is not
        "light", the lighter)."""
        matches: list[tuple[int, int, int, float]] = []  # (class, first word, end, credit)
        for i, word in enumerate(words):
            said = set()
            for c, phrase in self._by_first.get(word, ()):
                if tuple(words[i : i + len(phrase)]) == phrase:
                    matches.append((c, i, i + len(phrase), 1.0))
                    said.add((c, phrase))
            for c, phrase in self._by_head.get(word, ()):
                if (c, phrase) not in said:
                    matches.append((c, i, i + 1, HEAD_CREDIT))
        found: dict[int, float] = {}
        for c, first, end, credit in matches:
            inside_longer = any(
                f <= first and end <= e and e - f > end - first for _, f, e, _ in matches
            )
            if not inside_longer:
                found[c] = max(found.get(c, 0.0), credit)
        return found

    def vector(self, text: str) -> np.ndarray | None:
        """The query's label vector (its best class at 1), or None when it names no class."""
        relevance = self.relevance(text)
        if not relevance:
            return None
        top = max(relevance.values())
        vector = np.zeros(DIM, np.float32)
        for c, r in relevance.items():
            vector[c] = r / top
        return vector

    def _class_vectors(self) -> np.ndarray:
        """The class names through the text encoder: embedded once per model and kept in
        ``$MMR_CACHE/labels`` (a thousand texts take seconds on a CPU; a query must not)."""
        if self._names is not None:
            return self._names
        path = cache_dir("labels") / f"imagenet__{cache_name(self.encoder.model_id)}.npy"
        if path.exists():
            self._names = np.load(path)
        else:
            texts = [
                ", ".join(dict.fromkeys([name, *synonyms]))
                for name, synonyms in zip(
                    self.vocabulary.names, self.vocabulary.synonyms, strict=True
                )
            ]
            self._names = self.encoder.embed_text(texts).astype(np.float32)
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.npy")
            np.save(temporary, self._names)
            temporary.replace(path)  # atomic: a concurrent query never reads half a file
        return self._names


