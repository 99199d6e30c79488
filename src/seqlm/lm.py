"""Recurrent language models on the book's corpus, trained and measured one way
(Chapters 3, 5, 6 and 7).

A chapter's sizes name the recipe: ``{prefix}batch_size`` streams of ``{prefix}bptt``
tokens, trained with ``{prefix}train`` (a :class:`~seqlm.config.TrainConfig`) on the
first ``{token_key}`` tokens of each split (None: all), where the prefix is "" for
words and "char_" for characters. Validation and test read 16 streams, in windows of
100 words or 200 characters.
"""

from __future__ import annotations

from seqlm import batches, results, train
from seqlm.data import Corpus

EVAL_ROWS = 16
EVAL_BPTT = {"word": 100, "char": 200}


def _prefix(corpus: Corpus) -> str:
    return "" if corpus.level == "word" else "char_"


def split_ids(corpus: Corpus, size: dict, split: str):
    """The token ids a chapter uses from one split of the corpus."""
    limit = (size["train_tokens"] if split == "train" else size["eval_tokens"]) \
        if corpus.level == "word" else size["char_tokens"]
    return corpus.ids(split)[:limit]


def eval_batches(corpus: Corpus, size: dict, split: str) -> batches.StreamBatches:
    return batches.StreamBatches(split_ids(corpus, size, split), EVAL_ROWS,
                                 EVAL_BPTT[corpus.level])


def fit(model, corpus: Corpus, size: dict, device, quiet: bool | None = None) -> train.History:
    """Train ``model`` on the corpus's train split with the chapter's recipe for its level."""
    prefix = _prefix(corpus)
    config = size[f"{prefix}train"]
    if quiet is not None:
        config = config.replace(progress=not quiet)
    source = batches.StreamBatches(split_ids(corpus, size, "train"), size[f"{prefix}batch_size"],
                                   size[f"{prefix}bptt"])
    return train.train(model, source, eval_batches(corpus, size, "valid"), config, device)


def test_loss(model, corpus: Corpus, size: dict, device=None) -> float:
    """Nats per token on the test split (exp: the perplexity; / ln 2: bits per character)."""
    return train.evaluate(model, eval_batches(corpus, size, "test"), device)


def load_or_fit(setup, chapter: str, name: str, model, corpus: Corpus, size: dict) -> bool:
    """Another chapter's trained model: its weights when that chapter ran with this profile
    (:func:`seqlm.results.save_weights`), else trained here with that chapter's recipe and
    the same seed, which gives the same weights. Whether they were loaded."""
    if results.load_weights(setup, chapter, name, model):
        return True
    print(f"[the {name} of {chapter} is not saved for profile {setup.profile} and this code: "
          f"trained here with that chapter's recipe and seed]")
    fit(model, corpus, size, setup.device, setup.quiet)
    return False
