"""A real English corpus that is on every machine: the help texts bundled with Python.

``pydoc_data.topics`` holds the text that ``help("if")`` and friends print: about half a
megabyte of English prose and code examples from the Python reference manual. It ships with
CPython, so examples and tests get real text with no download. Its content follows the Python
version, so the exact text (and the splits) can differ between Python versions; within one
version it never changes.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TextCorpus", "corpus"]


@dataclass(frozen=True)
class TextCorpus:
    """A text corpus cut into training, validation and test text."""

    train: str
    valid: str
    test: str


def _pydoc_documents() -> list:
    try:
        from pydoc_data.topics import topics
    except ImportError as error:  # some distributions package it separately
        raise RuntimeError("the 'pydoc' corpus needs Python's pydoc_data module, which this "
                           "Python installation lacks") from error
    return [topics[name].strip() for name in sorted(topics)]


def corpus(name: str = "pydoc", valid_fraction: float = 0.1,
           test_fraction: float = 0.1) -> TextCorpus:
    """Load a bundled corpus, split by whole documents.

    Documents (for ``"pydoc"``: help topics, in alphabetical order) are joined with blank
    lines; the first ones, up to ``1 - valid_fraction - test_fraction`` of the characters, form
    ``train``, the next ``valid_fraction`` form ``valid`` and the rest ``test``.
    """
    if name != "pydoc":
        raise ValueError(f"unknown corpus {name!r}; available: 'pydoc'")
    if valid_fraction < 0 or test_fraction < 0 or valid_fraction + test_fraction >= 1:
        raise ValueError(f"fractions should be non-negative and leave room for training, got "
                         f"valid_fraction={valid_fraction}, test_fraction={test_fraction}")
    documents = _pydoc_documents()
    total = sum(len(document) for document in documents)
    bounds = ((1 - valid_fraction - test_fraction) * total, (1 - test_fraction) * total)
    splits: tuple = ([], [], [])
    seen = 0
    for document in documents:
        # A document goes to the split in which its first character falls.
        which = 0 if seen < bounds[0] else 1 if seen < bounds[1] else 2
        splits[which].append(document)
        seen += len(document)
    return TextCorpus(*("\n\n".join(part) for part in splits))
