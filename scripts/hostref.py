"""The host's speed references, printed by the benchmarks beside their figures.

The development machine is shared and its speed varies by up to 2x within a day, so a figure
alone cannot tell a slow hour from a regression. Two references are timed (best of three each)
and each says how much slower than its baseline the host is now:

- **cpu**: a fixed, small loop of pure Python, which stays in the processor's caches;
- **memory**: SQLite putting 150,000 random keys into an index in memory (about 10 MB of
  pages, touched in random order), as an import's writing does. On 6 December 2026 the same
  import of a million rows took 55.6 s and 65.6 s half an hour apart while the cpu loop did
  not move: other machines on the host were using its memory and its shared cache, which a
  loop that stays in the caches cannot see.

A figure divided by the reference that matches its work (memory for imports and the
catalogue's queries, cpu for Python alone) is comparable across hours.

    python scripts/hostref.py
"""

from __future__ import annotations

import random
import sqlite3
import time

# Round figures near each reference's best time on the development machine (6 December 2026:
# the cpu loop took 58-70 ms in quiet hours and 121-183 ms under a load of 12 on its two cores;
# the memory reference 196-223 ms), so that a figure reads as a factor.
BASELINE_MS = 100.0
MEMORY_BASELINE_MS = 200.0
MEMORY_KEYS = 150_000


def _loop() -> int:
    total = 0
    for i in range(1_000_000):
        total = (total + i * i) % 1_000_003
    return total


def _keys() -> list[tuple[int, str]]:
    rng = random.Random(5)
    return [(rng.getrandbits(62), "x" * 20) for _ in range(MEMORY_KEYS)]


def _inserts(rows: list[tuple[int, str]]) -> float:
    db = sqlite3.connect(":memory:")
    try:
        db.execute("CREATE TABLE t (k INTEGER, v TEXT)")
        db.execute("CREATE INDEX t_k ON t (k)")
        started = time.perf_counter()
        db.executemany("INSERT INTO t VALUES (?, ?)", rows)
        return time.perf_counter() - started
    finally:
        db.close()


def reference() -> float:
    """Milliseconds the cpu loop takes now (best of three)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        _loop()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def memory_reference() -> float:
    """Milliseconds the memory reference takes now (best of three)."""
    rows = _keys()
    return min(_inserts(rows) for _ in range(3)) * 1000


def line(label: str = "host reference") -> str:
    cpu, memory = reference(), memory_reference()
    return (f"{label}: cpu {cpu / BASELINE_MS:.2f} ({cpu:.0f} ms; 1.00 = {BASELINE_MS:.0f} ms), "
            f"memory {memory / MEMORY_BASELINE_MS:.2f} ({memory:.0f} ms for {MEMORY_KEYS:,} random keys "
            f"into a SQLite index; 1.00 = {MEMORY_BASELINE_MS:.0f} ms)")


if __name__ == "__main__":
    print(line())
