"""Zachary's karate club: the classic small social network for node classification.

34 members of a university karate club (Zachary, 1977, "An information flow model for
conflict and fission in small groups"); an edge joins two members who met outside the club.
After a dispute between the instructor ("Mr. Hi", node 0) and the club officer ("Officer",
node 33) the club split in two; the label of each member is the faction they joined. A GCN
trained on the labels of nodes 0 and 33 alone recovers most of the split.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

import ember
from ember.utils.data import Dataset

from .data import Data

__all__ = ["KarateClub", "karate_club"]

# The 78 friendships, as each member's neighbours with a larger number (0-based).
_NEIGHBOURS_ABOVE = {
    0: (1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 17, 19, 21, 31),
    1: (2, 3, 7, 13, 17, 19, 21, 30),
    2: (3, 7, 8, 9, 13, 27, 28, 32),
    3: (7, 12, 13),
    4: (6, 10),
    5: (6, 10, 16),
    6: (16,),
    8: (30, 32, 33),
    9: (33,),
    13: (33,),
    14: (32, 33),
    15: (32, 33),
    18: (32, 33),
    19: (33,),
    20: (32, 33),
    22: (32, 33),
    23: (25, 27, 29, 32, 33),
    24: (25, 27, 31),
    25: (31,),
    26: (29, 33),
    27: (33,),
    28: (31, 33),
    29: (32, 33),
    30: (32, 33),
    31: (32, 33),
    32: (33,),
}

# The faction each member joined: 0 = Mr. Hi's, 1 = the Officer's.
_FACTION = (0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1,
            1, 1, 1, 1, 1, 1)

FACTION_NAMES = ("Mr. Hi", "Officer")


def karate_club() -> Data:
    """Zachary's karate club as a :class:`Data` graph.

    * ``x``: one-hot node identities, ``float32`` ``(34, 34)`` (the network has no features),
    * ``edge_index``: ``(2, 156)``, the 78 friendships in both directions, sorted,
    * ``y``: ``int64`` ``(34,)``, the faction (0: Mr. Hi, 1: Officer),
    * ``train_mask``: ``bool`` ``(34,)``, true for the two leaders (nodes 0 and 33) only.
    """
    pairs = np.array([(i, j) for i, above in _NEIGHBOURS_ABOVE.items() for j in above])
    both = np.concatenate([pairs, pairs[:, ::-1]])
    both = both[np.lexsort((both[:, 1], both[:, 0]))]
    num_nodes = len(_FACTION)
    train_mask = np.zeros(num_nodes, dtype=bool)
    train_mask[[0, num_nodes - 1]] = True
    return Data(
        x=ember.from_numpy(np.eye(num_nodes, dtype=np.float32)),
        edge_index=ember.from_numpy(np.ascontiguousarray(both.T, dtype=np.int64)),
        y=ember.from_numpy(np.array(_FACTION, dtype=np.int64)),
        train_mask=ember.from_numpy(train_mask),
    )


class KarateClub(Dataset):
    """A dataset holding the single :func:`karate_club` graph (``dataset[0]``)."""

    num_classes = len(FACTION_NAMES)
    classes: ClassVar[list[str]] = list(FACTION_NAMES)

    def __init__(self, transform=None) -> None:
        self.transform = transform
        self._graph = karate_club()

    @property
    def num_features(self) -> int:
        return self._graph.num_node_features

    def __len__(self) -> int:
        return 1

    def __getitem__(self, index: int) -> Data:
        if index not in (0, -1):
            raise IndexError(f"KarateClub holds one graph; index {index} is out of range")
        return self._graph if self.transform is None else self.transform(self._graph)
