"""Tokenizers and vocabularies: text -> tokens -> integer ids, and back.

A vocabulary works at whatever level its tokens are: characters (``Vocab.build("hello")``
iterates the string's characters) or words (``Vocab.build(basic_english_tokenize(text))``).
"""
from __future__ import annotations

import collections
import re
from collections.abc import Iterable, Sequence
from typing import Callable

from ember.utils.data._arrays import to_numpy

__all__ = [
    "DEFAULT_SPECIALS",
    "Vocab",
    "basic_english_tokenize",
    "build_vocab_from_iterator",
    "char_tokenize",
    "get_tokenizer",
]

DEFAULT_SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")

_WORD_OR_SYMBOL = re.compile(r"\w+|[^\w\s]")


def basic_english_tokenize(text: str) -> list[str]:
    """Lower-case ``text`` and split it into words and punctuation.

    A token is a run of letters, digits and underscores, or a single other non-space
    character: ``"Don't stop!"`` -> ``["don", "'", "t", "stop", "!"]``. HTML line breaks
    (``<br />``), common in web text, count as spaces.
    """
    return _WORD_OR_SYMBOL.findall(text.lower().replace("<br />", " "))


def char_tokenize(text: str) -> list[str]:
    """Every character is a token (spaces and newlines included)."""
    return list(text)


def get_tokenizer(tokenizer: str | Callable[[str], list[str]] | None) -> Callable:
    """A tokenizer by name, as in torchtext: ``"basic_english"``, ``"char"``, ``None``
    (split on whitespace) or a callable, returned as it is."""
    if callable(tokenizer):
        return tokenizer
    if tokenizer is None:
        return str.split
    named = {"basic_english": basic_english_tokenize, "char": char_tokenize}
    if tokenizer not in named:
        raise ValueError(f"unknown tokenizer {tokenizer!r}; choose from {sorted(named)}, None "
                         f"or a function")
    return named[tokenizer]


def _tokens_of(iterator: Iterable) -> Iterable[str]:
    """Flatten: a ``str`` item is one token, any other item is an iterable of tokens."""
    for item in iterator:
        if isinstance(item, str):
            yield item
        else:
            yield from item


def _special_index(token: str) -> property:
    """A read-only property: the id of ``token`` in the vocabulary, ``None`` when it is absent."""
    return property(lambda self: self.stoi.get(token), doc=f"The id of ``{token}`` (``None`` when absent).")


class Vocab:
    """A bijection between tokens and the ids ``0 .. len(vocab) - 1``.

    ``itos[i]`` is the token with id ``i`` and ``stoi[token]`` its id. Looking up a token that
    is not in the vocabulary gives the id of ``unk_token`` when the vocabulary has it, and
    raises ``KeyError`` otherwise (unless :meth:`set_default_index` says what to return).

    Build one from data with :meth:`Vocab.build`, or from a list of tokens in id order with
    ``Vocab(tokens)``.
    """

    def __init__(self, tokens: Iterable[str], unk_token: str | None = "<unk>") -> None:
        self.itos: list[str] = list(tokens)
        self.stoi: dict[str, int] = {token: index for index, token in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            duplicates = [t for t, n in collections.Counter(self.itos).items() if n > 1]
            raise ValueError(f"tokens must be unique, repeated: {duplicates[:10]}")
        self.default_index: int | None = self.stoi.get(unk_token) if unk_token else None

    @classmethod
    def build(cls, iterator: Iterable, min_freq: int = 1, max_size: int | None = None,
              specials: Sequence[str] = DEFAULT_SPECIALS, special_first: bool = True,
              unk_token: str | None = "<unk>") -> Vocab:
        """Count tokens and keep those seen at least ``min_freq`` times.

        ``iterator`` yields tokens (``str``) or lists of tokens (one list per sentence, say);
        a plain string yields its characters, giving a character vocabulary. Tokens are
        ordered by decreasing count, ties alphabetically; ``max_size`` caps how many ordinary
        tokens are kept. ``specials`` (``<pad> <bos> <eos> <unk>`` by default, so ``<pad>``
        is id 0) go first, or last with ``special_first=False``.
        """
        if min_freq < 1:
            raise ValueError(f"min_freq should be at least 1, got {min_freq}")
        counts = collections.Counter(_tokens_of(iterator))
        for special in specials:
            counts.pop(special, None)
        ordinary = sorted((token for token, count in counts.items() if count >= min_freq),
                          key=lambda token: (-counts[token], token))
        if max_size is not None:
            ordinary = ordinary[:max_size]
        tokens = list(specials) + ordinary if special_first else ordinary + list(specials)
        return cls(tokens, unk_token=unk_token)

    # ---- lookups -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        index = self.stoi.get(token, self.default_index)
        if index is None:
            raise KeyError(f"token {token!r} is not in the vocabulary and there is no default "
                           f"index (add '<unk>' or call set_default_index)")
        return index

    def __call__(self, tokens: Iterable[str]) -> list[int]:
        return self.lookup_indices(tokens)

    def lookup_indices(self, tokens: Iterable[str]) -> list[int]:
        return [self[token] for token in tokens]

    def lookup_tokens(self, indices: Iterable[int]) -> list[str]:
        return [self.itos[index] for index in indices]

    def set_default_index(self, index: int | None) -> None:
        """The id returned for unknown tokens (``None``: raise ``KeyError`` instead)."""
        self.default_index = index

    def get_default_index(self) -> int | None:
        return self.default_index

    def get_itos(self) -> list[str]:
        return self.itos

    def get_stoi(self) -> dict[str, int]:
        return self.stoi

    pad_index = _special_index("<pad>")
    bos_index = _special_index("<bos>")
    eos_index = _special_index("<eos>")
    unk_index = _special_index("<unk>")

    # ---- encoding ------------------------------------------------------------------------

    def encode(self, tokens: Iterable[str], add_bos: bool = False,
               add_eos: bool = False) -> list[int]:
        """Token ids for ``tokens`` (a string encodes character by character), optionally
        framed by ``<bos>`` and ``<eos>``."""
        ids = self.lookup_indices(tokens)
        if add_bos:
            ids.insert(0, self._require("<bos>"))
        if add_eos:
            ids.append(self._require("<eos>"))
        return ids

    def decode(self, ids: Iterable[int], skip_specials: bool = False,
               specials: Sequence[str] = DEFAULT_SPECIALS) -> list[str]:
        """Tokens for ``ids`` (a list, array or 1-D tensor of ints).

        ``skip_specials`` leaves out ``<pad> <bos> <eos> <unk>``. Join the result yourself:
        ``"".join(...)`` for characters, ``" ".join(...)`` for words.
        """
        tokens = self.lookup_tokens(int(i) for i in to_numpy(ids).reshape(-1).tolist())
        if skip_specials:
            return [token for token in tokens if token not in specials]
        return tokens

    def _require(self, token: str) -> int:
        if token not in self.stoi:
            raise KeyError(f"the vocabulary has no {token!r} token")
        return self.stoi[token]

    def __repr__(self) -> str:
        preview = ", ".join(repr(t) for t in self.itos[:8])
        more = ", ..." if len(self.itos) > 8 else ""
        return f"Vocab(size={len(self)}, tokens=[{preview}{more}])"


def build_vocab_from_iterator(iterator: Iterable, min_freq: int = 1,
                              specials: Sequence[str] | None = None,
                              special_first: bool = True,
                              max_tokens: int | None = None) -> Vocab:
    """torchtext's builder: like :meth:`Vocab.build`, but with no special tokens unless given,
    and ``max_tokens`` counting the specials too."""
    specials = tuple(specials or ())
    max_size = None if max_tokens is None else max(0, max_tokens - len(specials))
    return Vocab.build(iterator, min_freq=min_freq, max_size=max_size, specials=specials,
                       special_first=special_first)
