"""The host's speed reference, printed by the benchmarks beside their figures.

The development machine is shared and its speed varies by up to 2x within a day, so a figure
alone cannot tell a slow hour from a regression. ``reference()`` times a fixed, small,
CPU-bound loop of pure Python (best of three, about 0.1 s each in a quiet hour) and says how
much slower than ``BASELINE_MS`` the host is now: a figure divided by that factor is
comparable across hours.

    python scripts/hostref.py
"""

from __future__ import annotations

import time

# About the loop's best time on the development machine (121-183 ms under a load of 12 on its
# two cores, 6 December 2026): a round figure, so that 1.00 is a quiet hour.
BASELINE_MS = 100.0


def _loop() -> int:
    total = 0
    for i in range(1_000_000):
        total = (total + i * i) % 1_000_003
    return total


def reference() -> float:
    """Milliseconds the reference loop takes now (best of three)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        _loop()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def line(label: str = "host reference") -> str:
    ms = reference()
    return f"{label}: {ms / BASELINE_MS:.2f} = {ms:.0f} ms for the reference loop (1.00 = {BASELINE_MS:.0f} ms, a quiet hour)"


if __name__ == "__main__":
    print(line())
