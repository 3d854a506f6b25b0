"""Per-frame inference of the learned methods on the calling thread only.

TensorFlow (and a TFLite interpreter) split each operation of a network between a pool of
threads, one per core. In the lens, several visitors' recognitions, WebRTC's encoders and the
tracking share those cores: every operation of a MobileNetV3 (about 150 per frame) then waits for
the slowest of its pool's threads to get a core back, and a 16 ms frame took 1.5 s under load.
One thread per call avoids that wait; the server's parallelism comes from the visitors' own
recognition slots instead (:class:`smartlens.lens.processor.FairSlots`). Training keeps
TensorFlow's default pools (it sets none of this before it starts).
"""

from __future__ import annotations

import logging

log = logging.getLogger("smartlens.methods")

#: Threads of a per-frame TFLite interpreter (the head on frozen features).
INFERENCE_THREADS = 1


def single_threaded_inference() -> bool:
    """Make TensorFlow run each operation on the calling thread (once per process, before it
    starts its pools); whether that took effect (False when TensorFlow had already started, as
    after a training in the same process: its pools then stay as they are)."""
    import tensorflow as tf

    try:
        if tf.config.threading.get_intra_op_parallelism_threads() == 1:
            return True
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        log.debug("TensorFlow has started already: its thread pools stay as they are")
        return False
    return True
