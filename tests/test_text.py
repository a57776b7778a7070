"""ember.text: tokenizers, vocabularies, stream batching (batchify / get_batch), bucketing,
padding and the bundled pydoc corpus."""
from __future__ import annotations

import string

import ember
import numpy as np
import pytest
from ember.text import (
    BucketBatchSampler,
    PadCollate,
    Vocab,
    basic_english_tokenize,
    batchify,
    build_vocab_from_iterator,
    corpus,
    get_batch,
    get_tokenizer,
)
from ember.utils.data import DataLoader


@pytest.fixture
def alphabet():
    """The notes' example: the 26 letters as ids 0..25 of a character vocabulary."""
    vocab = Vocab.build(string.ascii_lowercase, specials=())
    return vocab, ember.tensor(vocab.encode(string.ascii_lowercase))


# -------------------------------------------------------------------- stream batching


def test_batchify_alphabet_gives_six_rows_of_four_and_drops_yz(alphabet):
    vocab, ids = alphabet
    grid = batchify(ids, 4)
    assert tuple(grid.shape) == (6, 4) and grid.dtype == ember.int64
    rows = ["".join(vocab.decode(row)) for row in grid]
    assert rows == ["agms", "bhnt", "ciou", "djpv", "ekqw", "flrx"]
    columns = ["".join(vocab.decode(grid[:, j])) for j in range(4)]
    assert columns == ["abcdef", "ghijkl", "mnopqr", "stuvwx"]
    assert "y" not in rows[-1] and "z" not in "".join(rows)
    assert batchify(list(range(10)), 3).tolist() == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]


def test_get_batch_inputs_and_shifted_targets(alphabet):
    vocab, ids = alphabet
    grid = batchify(ids, 4)
    data, target = get_batch(grid, 0, bptt=3)
    assert tuple(data.shape) == (3, 4) and tuple(target.shape) == (12,)
    assert ["".join(vocab.decode(row)) for row in data] == ["agms", "bhnt", "ciou"]
    assert "".join(vocab.decode(target)) == "bhntciou" + "djpv"
    last_data, last_target = get_batch(grid, 3, bptt=3)  # only 2 rows remain before the end
    assert tuple(last_data.shape) == (2, 4) and "".join(vocab.decode(last_target)) == "ekqwflrx"
    chunks = [get_batch(grid, i, bptt=2)[0].shape[0] for i in range(0, grid.shape[0] - 1, 2)]
    assert chunks == [2, 2, 1]
    with pytest.raises(ValueError):
        get_batch(grid, 5, bptt=2)


# -------------------------------------------------------------------------- tokenizers


def test_basic_english_tokenize_and_get_tokenizer():
    assert basic_english_tokenize("Don't stop!<br />The END, ok?") == [
        "don", "'", "t", "stop", "!", "the", "end", ",", "ok", "?"]
    assert get_tokenizer("basic_english") is basic_english_tokenize
    assert get_tokenizer(None)("a  b\nc") == ["a", "b", "c"]
    assert get_tokenizer("char")("ab ") == ["a", "b", " "]
    with pytest.raises(ValueError):
        get_tokenizer("spacy")


# ------------------------------------------------------------------------ vocabularies


def test_char_vocab_with_specials_roundtrip():
    vocab = Vocab.build("hello world")
    assert vocab.itos[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    assert (vocab.pad_index, vocab.bos_index, vocab.eos_index, vocab.unk_index) == (0, 1, 2, 3)
    assert vocab.itos[4:6] == ["l", "o"]  # most frequent first: l x3, o x2
    assert vocab.itos[6:] == sorted(set("hello world") - {"l", "o"})  # ties: alphabetical
    ids = vocab.encode("hold", add_bos=True, add_eos=True)
    assert ids[0] == 1 and ids[-1] == 2
    assert "".join(vocab.decode(ids, skip_specials=True)) == "hold"
    assert vocab["z"] == vocab.unk_index and vocab.encode("z!") == [3, 3]
    assert len(vocab) == 4 + len(set("hello world")) and "h" in vocab


def test_word_vocab_min_freq_max_size_and_lookups():
    sentences = [basic_english_tokenize(s) for s in ["the cat sat", "the dog sat", "a cat"]]
    vocab = Vocab.build(sentences, min_freq=2)
    assert vocab.itos[4:] == ["cat", "sat", "the"]
    assert Vocab.build(sentences, max_size=1).itos[4:] == ["cat"]
    assert vocab(["the", "cat"]) == [vocab.stoi["the"], vocab.stoi["cat"]]
    assert vocab.lookup_tokens([4, 6]) == ["cat", "the"]
    ids = ember.tensor(vocab.encode(["the", "cat", "dog"]))
    assert vocab.decode(ids) == ["the", "cat", "<unk>"]
    no_unk = Vocab(["x", "y"])
    with pytest.raises(KeyError, match="not in the vocabulary"):
        no_unk["z"]
    no_unk.set_default_index(0)
    assert no_unk["z"] == 0
    with pytest.raises(ValueError, match="unique"):
        Vocab(["a", "a"])


def test_build_vocab_from_iterator_like_torchtext():
    vocab = build_vocab_from_iterator([["b", "a", "b"], ["c"]], specials=["<unk>"],
                                      max_tokens=3)
    assert vocab.get_itos() == ["<unk>", "b", "a"]
    assert vocab.get_default_index() == 0
    assert build_vocab_from_iterator([["x"]]).get_stoi() == {"x": 0}


# ---------------------------------------------------------------- bucketing and padding


def test_bucket_batch_sampler_groups_similar_lengths():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 100, size=200)
    sampler = BucketBatchSampler(lengths, batch_size=8, pool_size=80,
                                 generator=ember.Generator().manual_seed(0))
    batches = list(sampler)
    assert len(batches) == len(sampler) == 25
    assert sorted(i for batch in batches for i in batch) == list(range(200))
    spread = np.mean([np.ptp(lengths[batch]) for batch in batches])
    random_spread = np.mean([np.ptp(lengths[rng.permutation(200)[:8]]) for _ in range(50)])
    assert spread < random_spread / 4  # sorted pools make batches of similar lengths
    again = BucketBatchSampler(lengths, batch_size=8, pool_size=80,
                               generator=ember.Generator().manual_seed(0))
    assert list(again) == batches
    dropping = BucketBatchSampler(lengths[:50], batch_size=8, pool_size=24, drop_last=True)
    assert len(list(dropping)) == len(dropping) == 6  # pools of 24, 24, 2: 3 + 3 + 0 batches
    ordered = list(BucketBatchSampler([3, 1, 2], batch_size=2, shuffle=False))
    assert ordered == [[1, 2], [0]]


def test_pad_collate_shapes_values_and_loader():
    samples = [(ember.tensor([5, 6, 7]), 1), (ember.tensor([8]), 0), (ember.tensor([9, 4]), 1)]
    padded, lengths, labels = PadCollate(padding_value=0)(samples)
    assert tuple(padded.shape) == (3, 3)  # (max_len, batch)
    assert padded.tolist() == [[5, 8, 9], [6, 0, 4], [7, 0, 0]]
    assert lengths.tolist() == [3, 1, 2] and labels.tolist() == [1, 0, 1]
    first, lengths = PadCollate(padding_value=-1, batch_first=True)([[1, 2], [3]])
    assert first.tolist() == [[1, 2], [3, -1]]
    loader = DataLoader(samples, batch_size=2, collate_fn=PadCollate())
    assert [tuple(batch[0].shape) for batch in loader] == [(3, 2), (2, 1)]


# ------------------------------------------------------------------------------ corpus


def test_pydoc_corpus_is_real_deterministic_text():
    text = corpus("pydoc")
    assert text == corpus()
    total = len(text.train) + len(text.valid) + len(text.test)
    assert total > 100_000
    assert 0.7 < len(text.train) / total < 0.9 and len(text.valid) > 0 and len(text.test) > 0
    words = basic_english_tokenize(text.train)
    assert words.count("the") > 1000  # English prose, not just code
    assert text.valid[:200] not in text.train
    with pytest.raises(ValueError, match="available"):
        corpus("wikitext2")


def test_corpus_to_language_model_batches():
    text = corpus()
    vocab = Vocab.build(basic_english_tokenize(text.train), min_freq=3)
    ids = ember.tensor(vocab.encode(basic_english_tokenize(text.valid)))
    grid = batchify(ids, 10)
    data, target = get_batch(grid, 0, bptt=35)
    assert tuple(data.shape) == (35, 10) and tuple(target.shape) == (350,)
    assert int(grid.numpy().max()) < len(vocab)
