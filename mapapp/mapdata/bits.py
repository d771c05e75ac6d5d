"""Sets of organisations as bits packed 64 to a word (one bit per position in the map's
columns): 3,000,000 organisations in 375 KB, ANDed, ORed and counted a word at a time, and
turned into positions without a mask of the millions when few are set."""

from __future__ import annotations

import numpy as np


def pack(mask: np.ndarray) -> np.ndarray:
    """A boolean mask as bits in 64-bit words: 1,000,000 organisations in 125 KB, and
    ANDed, ORed and counted (``np.bitwise_count``) a word at a time."""
    packed = np.packbits(mask, bitorder="little")
    padded = np.zeros(-(-len(packed) // 8) * 8, dtype=np.uint8)
    padded[:len(packed)] = packed
    return padded.view(np.uint64)


def unpack(bits: np.ndarray, n: int) -> np.ndarray:
    """The boolean mask of ``n`` organisations that ``pack`` made."""
    return np.unpackbits(bits.view(np.uint8), count=n, bitorder="little").view(bool)


def count_bits(bits: np.ndarray) -> int:
    return int(np.bitwise_count(bits).sum())


# Below one set bit in this many words, positions are found from the words that hold any.
SPARSE_WORDS = 8


def positions(bits: np.ndarray, n: int) -> np.ndarray:
    """The positions (ascending, below ``n``) whose bit is set: from the few words that hold
    any when the set is sparse (a filter to one project among millions), else from the mask."""
    words = np.asarray(bits)
    if count_bits(words) * SPARSE_WORDS < len(words):
        held = np.flatnonzero(words)
        found = np.unpackbits(words[held].view(np.uint8).reshape(-1, 8), axis=1, bitorder="little")
        rows, columns = np.nonzero(found)
        out = held[rows] * 64 + columns
        return out[out < n]
    return np.flatnonzero(unpack(words, n))
