"""Objects a server keeps are skipped by garbage collection, and freed when replaced."""

from __future__ import annotations

import gc
import weakref

from smartlens.heap import freeze_loaded


class _Model:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it
        self.layers = [{"w": [k]} for k in range(50_000)]


def test_what_is_loaded_is_frozen_and_a_replaced_model_is_freed():
    try:
        model = _Model()
        frozen = freeze_loaded()
        assert frozen >= 50_000 and gc.get_freeze_count() == frozen
        # what a script run's collection sees is no longer the model
        assert all(o is not model for o in gc.get_objects(generation=2))
        gone = weakref.ref(model)
        del model
        gc.collect()
        assert gone() is not None  # frozen: no collection frees it, even unreferenced
        freeze_loaded()  # the next load thaws and collects what was replaced
        assert gone() is None
    finally:
        gc.unfreeze()
