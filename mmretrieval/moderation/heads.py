"""Supervised moderation heads: per category, a logistic regression on the profile's sentence
embeddings and one on the sentence's words (TF-IDF of words, word pairs and the character
3-5-grams inside words), their probabilities averaged; trained on the labelled corpus the project
ships (``mmretrieval/data/moderation_corpus.txt``, written by ``moderation_corpus.py`` next to
it).

Why words beside the embedding: a transcript is not what was said, and a misheard or extra word
moves the whole sentence's embedding, while "cocaine" or "kill yourself" still counts as a word.
The word heads also read each word's character 3-5-grams, so a word heard a little wrong (a
plural, a split compound, a lost ending) still shares most of its pieces with the word trained
on; on the heard dev set and on hand-written sentences held out of training this raised recall
in most categories and flagged no more ordinary lines.
On the dev set (``benchmarks/moderation_dev.py``: the heard corpus) the averaged heads kept
more harmful lines as heard, at their calibrated strong scores, and flagged no more ordinary
ones; so did they with whole template groups held out (a one-off check).

Why heads and not prompt similarity alone: a sentence about violence (news, fiction, sport,
"cut the onions") sits close to violent prompts in embedding space, so bare similarity flags
ordinary speech. A head learns from hard negatives where the line is.

Heads depend on the text encoder, so they are keyed by its model id and by the corpus digest.
They are trained at first use (embedding ~4,000 sentences: a minute or two on a laptop CPU) and
cached under ``$MMR_CACHE/moderation`` (``~/.cache/mmretrieval``) as plain text: coefficients,
the word columns (hashed, so no vocabulary is stored) with their idf, and the held-out
scores the corpus report uses. Trained weights are never shipped in the
repository; training is deterministic (lbfgs on fixed embeddings), so every machine gets the
same heads from the same corpus. ``python -m mmretrieval.moderation.heads`` trains them ahead of
time for the offline profile's encoder.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mmretrieval.models import cache_dir, cache_name
from mmretrieval.moderation.wordlist import DATA_DIR

log = logging.getLogger(__name__)

CORPUS = DATA_DIR / "moderation_corpus.txt"
HEAD_CATEGORIES = ("violence", "weapons", "drugs", "self_harm", "hate_speech")
FOLDS = 5
# Of the corpus's ordinary sentences, the share a head may flag alone (calibrated_strong): the
# issue's 2% of clips spread over ~3 scored texts a clip and 5 heads is ~0.13% a text; the
# corpus's hard negatives are harder than ordinary speech, so 0.2% of them.
HARD_NEGATIVE_BUDGET = 0.002
# A strong score is never under this, however few ordinary sentences score high: a head that
# flags alone needs some confidence (0.4 lets hate speech, whose ordinary sentences score lowest,
# keep the heard dev lines that score 0.4-0.5; no head's corpus calibration goes lower).
STRONG_FLOOR = 0.4
C = 4.0  # inverse regularisation; of 0.25-16, 4 separated the benchmark's sentences best
NGRAM_WEIGHT = 0.6  # the word heads' share of the averaged probability (chosen on the dev set)
NGRAM_COLUMNS = 2**20  # hashed columns of word unigrams, bigrams and character n-grams
FORMAT = 3  # of the cached heads file: 2 added the word heads, 3 character n-grams
_DIGITS = 6


@dataclass(frozen=True)
class Sentence:
    text: str
    group: str  # the generator's template group (threats, fiction, cooking, ...)
    categories: frozenset[str]
    source: str  # the corpus sentence it is (``text``), or was heard from (a heard corpus)


@dataclass(frozen=True)
class Words:
    """A sentence's words, word pairs and in-word character 3-5-grams as TF-IDF (sublinear
    counts, smoothed idf, unit length, as scikit-learn's TfidfVectorizer), hashed into
    ``NGRAM_COLUMNS`` columns; only the columns the training sentences use are kept, the rest
    count towards a sentence's length."""

    columns: np.ndarray  # (m,) sorted hashed columns seen in training
    idf: np.ndarray  # (m,)
    unseen_idf: float  # of a column no training sentence has

    @classmethod
    def fit(cls, texts: Sequence[str]) -> Words:
        df = np.bincount(_hashed(texts).indices, minlength=NGRAM_COLUMNS)
        columns = np.flatnonzero(df)
        n = len(texts)
        return cls(columns, np.log((1 + n) / (1 + df[columns])) + 1, math.log(1 + n) + 1)

    def features(self, texts: Sequence[str]):
        """(n, m) sparse TF-IDF rows of ``texts``."""
        from scipy import sparse

        counts = _hashed(texts)
        at = np.minimum(np.searchsorted(self.columns, counts.indices), len(self.columns) - 1)
        seen = self.columns[at] == counts.indices
        weights = (1 + np.log(counts.data)) * np.where(seen, self.idf[at], self.unseen_idf)
        rows = np.repeat(np.arange(len(texts)), np.diff(counts.indptr))
        norms = np.sqrt(np.bincount(rows, weights**2, minlength=len(texts)))
        values = weights / np.maximum(norms[rows], 1e-12)
        shape = (len(texts), len(self.columns))
        return sparse.csr_matrix((values[seen], (rows[seen], at[seen])), shape=shape)


@dataclass(frozen=True)
class Heads:
    """The trained heads of one encoder: P(category | sentence) for each category."""

    encoder: str
    digest: str  # of the corpus they were trained on
    categories: tuple[str, ...]
    coef: np.ndarray  # (k, d) of the embedding heads
    intercept: np.ndarray  # (k,)
    held_out: np.ndarray  # (n, k) out-of-fold scores of the corpus sentences, in file order
    words: Words
    word_coef: np.ndarray  # (k, m) of the word heads
    word_intercept: np.ndarray  # (k,)
    word_weight: float = NGRAM_WEIGHT  # the word heads' share of the averaged probability

    def score(self, vectors: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """(n, d) unit vectors of ``texts`` -> (n, k) probabilities, columns in ``categories``
        order."""
        if len(vectors) == 0:
            return np.zeros((0, len(self.categories)))
        embedded = np.asarray(vectors, np.float64) @ self.coef.T + self.intercept
        worded = self.words.features(texts) @ self.word_coef.T + self.word_intercept
        w = self.word_weight
        return (1 - w) / (1 + np.exp(-embedded)) + w / (1 + np.exp(-worded))

    def column(self, category: str) -> int:
        return self.categories.index(category)


def read_corpus(
    paths: Sequence[Path] = (CORPUS,), known: Sequence[str] = HEAD_CATEGORIES
) -> list[Sentence]:
    """The labelled sentences of corpus files, in order (formats in their generators'
    docstrings: ``categories<TAB>group<TAB>sentence``, and a fourth column, the sentence that
    was spoken, in the heard corpus); a category not in ``known`` is an error."""
    sentences = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) not in (3, 4):
                raise ValueError(
                    f"{path} line {number}: expected categories<TAB>group<TAB>sentence"
                    f"[<TAB>spoken sentence], found {len(parts)} columns"
                )
            labels, group, text = parts[:3]
            categories = frozenset() if labels == "-" else frozenset(labels.split(","))
            unknown = categories - set(known)
            if unknown:
                raise ValueError(f"{path} line {number}: unknown category {', '.join(unknown)}")
            sentences.append(Sentence(text, group, categories, parts[-1]))
    return sentences


def corpus_digest(path: Path = CORPUS) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def train(vectors: np.ndarray, corpus: Sequence[Sentence], encoder: str, digest: str) -> Heads:
    """A head per category (positives: its sentences; negatives: every other sentence), and
    out-of-fold scores from stratified ``FOLDS``-fold cross-validation."""
    from sklearn.model_selection import StratifiedKFold

    x = np.asarray(vectors, np.float64)
    texts = [s.text for s in corpus]
    held_out = np.zeros((len(corpus), len(HEAD_CATEGORIES)))
    groups = np.array([s.group for s in corpus])
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=0)
    for train_rows, test_rows in folds.split(x, groups):  # every group in every fold
        heads = fit(x, corpus, train_rows, encoder, digest)
        held_out[test_rows] = heads.score(x[test_rows], [texts[i] for i in test_rows])
    heads = fit(x, corpus, np.arange(len(corpus)), encoder, digest)
    return dataclasses.replace(heads, held_out=held_out.round(3))


def fit(
    x: np.ndarray,
    corpus: Sequence[Sentence],
    rows: np.ndarray,
    encoder: str = "",
    digest: str = "",
    ngram_weight: float = NGRAM_WEIGHT,
) -> Heads:
    """The heads fitted on the corpus ``rows`` (``x``: every sentence's vector), without held-out
    scores; ``ngram_weight`` 0 gives the embedding heads alone (the dev set compares)."""
    from sklearn.linear_model import LogisticRegression

    words = Words.fit([corpus[i].text for i in rows])
    features = words.features([corpus[i].text for i in rows])
    labels = [np.array([c in corpus[i].categories for i in rows]) for c in HEAD_CATEGORIES]

    def regressions(data) -> list[LogisticRegression]:
        return [
            LogisticRegression(C=C, class_weight="balanced", max_iter=3000).fit(data, y)
            for y in labels
        ]

    embedded, worded = regressions(x[rows]), regressions(features)
    return Heads(
        encoder,
        digest,
        HEAD_CATEGORIES,
        np.array([m.coef_[0] for m in embedded]),
        np.array([m.intercept_[0] for m in embedded]),
        np.zeros((0, len(HEAD_CATEGORIES))),
        words,
        np.array([m.coef_[0] for m in worded]),
        np.array([m.intercept_[0] for m in worded]),
        ngram_weight,
    )


def calibrated_strong(
    heads: Heads, corpus: Sequence[Sentence], budget: float = HARD_NEGATIVE_BUDGET
) -> dict[str, float]:
    """Per category, ``strong_score`` of the held-out scores of the corpus's hard negatives: the
    lowest ``strong`` score the default policy may give the category's classifier (the dev set,
    ``benchmarks/moderation_dev.py``, may choose a higher one). Set on the corpus, never on a
    benchmark; each category gets its own, since a head's scores on ordinary speech differ by
    category."""
    ordinary = np.array([not s.categories for s in corpus])
    return {
        category: strong_score(heads.held_out[ordinary, k], budget)
        for k, category in enumerate(heads.categories)
    }


def strong_score(ordinary: np.ndarray, budget: float = HARD_NEGATIVE_BUDGET) -> float:
    """The lowest score (in steps of 0.05, at least ``STRONG_FLOOR``) that at most ``budget`` of
    the ``ordinary`` sentences' scores reach: a classifier's strong score by the corpus (the
    heads' held-out scores, or the profanity model's, which never saw the corpus)."""
    scores = np.sort(np.asarray(ordinary, np.float64))[::-1]
    allowed = int(budget * len(scores))  # ordinary sentences that may score at or above it
    above = scores[allowed] if allowed < len(scores) else 0.0
    return max(STRONG_FLOOR, math.floor(above * 20 + 1) / 20)


def heads_for(encoder) -> Heads:
    """The heads of ``encoder`` (a text encoder with ``model_id`` and ``embed_text``): cached,
    or trained now and cached."""
    digest = corpus_digest()
    path = cache_path(encoder.model_id, digest)
    if path.is_file():
        heads = read_heads(path)
        if (heads.encoder, heads.digest) == (encoder.model_id, digest):
            return heads
        log.info("moderation heads %s are for another corpus or encoder: trained again", path)
    corpus = read_corpus()
    log.info(
        "training moderation heads for %s on %d sentences (once; cached)",
        encoder.model_id,
        len(corpus),
    )
    heads = train(encoder.embed_text([s.text for s in corpus]), corpus, encoder.model_id, digest)
    return write_heads(heads, cache_path(encoder.model_id, digest))


def cache_path(model_id: str, digest: str) -> Path:
    name = cache_name(model_id.removeprefix("bundled:"))
    return cache_dir("moderation") / f"heads{FORMAT}_{name}_{digest}.txt"


def write_heads(heads: Heads, path: Path) -> Heads:
    """Plain text: ``key value`` header lines, a coefficient line per category (intercept first)
    for the embedding heads and for the word heads, a line per word column (its hashed column,
    idf and a coefficient per category), then one line of held-out scores per corpus
    sentence."""
    lines = [
        "# moderation heads (mmretrieval/moderation/heads.py): logistic regression per category",
        f"encoder {heads.encoder}",
        f"corpus {heads.digest}",
        f"categories {' '.join(heads.categories)}",
        f"dim {heads.coef.shape[1]}",
        f"word_weight {heads.word_weight:g}",
        f"unseen_idf {heads.words.unseen_idf:.{_DIGITS}g}",
    ]
    for k, category in enumerate(heads.categories):
        numbers = [heads.intercept[k], *heads.coef[k]]
        lines.append(f"head {category} " + " ".join(f"{v:.{_DIGITS}g}" for v in numbers))
        lines.append(f"word_head {category} {heads.word_intercept[k]:.{_DIGITS}g}")
    words = heads.words
    for n, column in enumerate(words.columns):
        numbers = [words.idf[n], *heads.word_coef[:, n]]
        lines.append(f"word {column} " + " ".join(f"{v:.{_DIGITS}g}" for v in numbers))
    lines += ["held_out " + " ".join(f"{v:g}" for v in row) for row in heads.held_out]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return read_heads(path)  # what is used is exactly what a later run reads back


def read_heads(path: Path) -> Heads:
    fields: dict[str, str] = {}
    heads: dict[str, list[float]] = {}
    word_intercept: dict[str, float] = {}
    columns, word_rows, held_out = [], [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" ")
        if key == "head":
            category, _, numbers = value.partition(" ")
            heads[category] = [float(v) for v in numbers.split()]
        elif key == "word_head":
            category, _, number = value.partition(" ")
            word_intercept[category] = float(number)
        elif key == "word":
            column, _, numbers = value.partition(" ")
            columns.append(int(column))
            word_rows.append([float(v) for v in numbers.split()])
        elif key == "held_out":
            held_out.append([float(v) for v in value.split()])
        else:
            fields[key] = value
    categories = tuple(fields["categories"].split())
    rows = np.array([heads[c] for c in categories])
    words = np.array(word_rows).reshape(-1, len(categories) + 1)
    return Heads(
        fields["encoder"],
        fields["corpus"],
        categories,
        rows[:, 1:],
        rows[:, 0],
        np.array(held_out).reshape(-1, len(categories)),
        Words(np.array(columns, np.int64), words[:, 0], float(fields["unseen_idf"])),
        words[:, 1:].T.copy(),
        np.array([word_intercept[c] for c in categories]),
        float(fields["word_weight"]),
    )


def _hashed(texts: Sequence[str]):
    """(n, NGRAM_COLUMNS) sparse counts of each text's word unigrams and bigrams and of the
    character 3-5-grams inside its words (lower case), hashed into one set of columns."""
    from sklearn.feature_extraction.text import HashingVectorizer

    options = {"n_features": NGRAM_COLUMNS, "alternate_sign": False, "norm": None}
    words = HashingVectorizer(ngram_range=(1, 2), **options)
    pieces = HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), **options)
    return (words.transform(texts) + pieces.transform(texts)).tocsr()


def main() -> None:
    """Train (and cache) the heads of the offline profile's encoder now, not at first use."""
    from mmretrieval.adapters.base import AdapterSet
    from mmretrieval.config import load_profile

    logging.basicConfig(level=logging.INFO)
    encoder = AdapterSet(load_profile("offline")).get("text")
    heads = heads_for(encoder)
    log.info("heads cached at %s", cache_path(encoder.model_id, corpus_digest()))
    strong = calibrated_strong(heads, read_corpus())
    log.info("strong scores (held-out, hard negatives): %s", strong)


if __name__ == "__main__":
    main()
