"""Text data for sequence models: tokenizers, vocabularies, batching, a bundled corpus.

Covers what the course notes use torchtext for::

    from ember.text import Vocab, basic_english_tokenize, batchify, get_batch, corpus

    text = corpus("pydoc")
    vocab = Vocab.build(basic_english_tokenize(text.train))
    ids = ember.tensor(vocab.encode(basic_english_tokenize(text.train)))
    train = batchify(ids, 20)                     # (rows, 20)
    data, target = get_batch(train, 0, bptt=35)   # (35, 20), (700,)
"""
from .batching import BucketBatchSampler, PadCollate, batchify, get_batch
from .corpus import TextCorpus, corpus
from .vocab import (
    DEFAULT_SPECIALS,
    Vocab,
    basic_english_tokenize,
    build_vocab_from_iterator,
    char_tokenize,
    get_tokenizer,
)

__all__ = [
    "DEFAULT_SPECIALS",
    "BucketBatchSampler",
    "PadCollate",
    "TextCorpus",
    "Vocab",
    "basic_english_tokenize",
    "batchify",
    "build_vocab_from_iterator",
    "char_tokenize",
    "corpus",
    "get_batch",
    "get_tokenizer",
]
