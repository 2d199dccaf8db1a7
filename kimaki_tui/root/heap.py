"""Keeps the cyclic garbage collector's full passes short: what kimaki holds for good once it has
started is set aside where the collector never looks.

Once started, the process holds over 100,000 long-lived objects (its modules, discord.py's
and Textual's, the bot's caches). A full collection walked them all with the event loop
stopped: 50–75 ms, which in a burst of new threads landed as a 60–95 ms delay on the messages
waiting behind it. `gc.freeze()` moves everything alive into a generation no collection scans;
later passes see only what came after. Reference counting still frees those objects as usual,
but one that dies in a reference cycle waits for the next settling: it runs again at each
reconnection to Discord (which also rebuilds discord.py's caches), after putting back what the
last one set aside.
"""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger(__name__)


def set_start_up_objects_aside() -> None:
    """Take back what was set aside, collect once (no garbage is set aside), freeze what is left."""
    began = time.perf_counter()
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    took = (time.perf_counter() - began) * 1000
    log.info("%d start-up objects set aside from garbage collection (%.0f ms)", gc.get_freeze_count(), took)
