"""Python's cyclic garbage collector paused around a night's bulk work.

Pricing and paying build millions of short-lived acyclic objects (inputs, lines, log rows);
each time their count passes the collector's thresholds it walks every live object, and on
a 10k-account first night those walks cost ~20% of the invoicing step. Reference counting
still frees everything as usual; only cycles wait until the block ends, when the collector
is switched back on.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
