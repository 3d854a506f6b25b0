"""Long-lived objects kept out of Python's cyclic garbage collector.

Streamlit runs ``gc.collect(2)`` after every script run, and ``keras.backend.clear_session()``
(another full collection) whenever Keras is imported, which TensorFlow Lite's import does. A
fragment polling twice a second then scans TensorFlow's ~350,000 objects four times a second:
150 ms each, holding the GIL that recognitions and WebRTC need (measured with py-spy on the lens
serving a classifier: 80 % of the server's CPU). Frozen objects are skipped by collections.
"""

from __future__ import annotations

import gc


def freeze_loaded() -> int:
    """Freeze what is alive now (a model, an index, the imported libraries) so later collections
    skip it; what was frozen before is thawed and collected first, so a model replaced since is
    freed. Call after loading something the process keeps. Returns how many objects are frozen."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
