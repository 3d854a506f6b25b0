"""Per-frame inference of the learned methods, on the calling thread only.

In the lens a learned recogniser shares the process' cores with WebRTC's decoders and encoders
and the other visitors. TensorFlow hands every operation of a call to its own thread pool and
the caller waits for it, spinning; OpenCV's SIFT does the same with its ``parallel_for``. Measured
in the lens (one browser visitor): a call on a blank frame took 275-310 ms of the calling
thread's CPU and 1-2 s of wall time, against 2 ms when nothing else ran in the process.

So a trained network is also saved as TFLite (:func:`export_tflite`, ``model.tflite`` beside
``model.keras``: the same outputs up to float32 rounding) and run by a TFLite interpreter on one thread
(:class:`TFLiteModel`), which computes in the caller's own thread (1.5 ms for the classifier
here); OpenCV runs on one thread too (:func:`single_threaded_inference`). The lens' parallelism
comes from its visitors' recognition slots (:class:`smartlens.lens.processor.FairSlots`).
Training keeps TensorFlow's and OpenCV's default pools (it calls none of this before it starts).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..storage import atomic_write_bytes

log = logging.getLogger("smartlens.methods")

#: The file a trained network is saved as for inference.
TFLITE_FILE = "model.tflite"


def single_threaded_inference() -> bool:
    """OpenCV on one thread, and TensorFlow too when it has not started yet (a model without its
    TFLite file then runs in Keras on one thread); whether TensorFlow's took effect."""
    import cv2

    cv2.setNumThreads(1)
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


def export_tflite(model: Any, folder: Path) -> Path | None:
    """Save the Keras ``model`` as ``folder/model.tflite`` (through a SavedModel); None, with a
    warning, when the conversion fails (the model then runs in Keras)."""
    import tensorflow as tf

    tmp = Path(tempfile.mkdtemp(prefix="smartlens-export-"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.export(str(tmp / "saved"), format="tf_saved_model", verbose=False)
            data = tf.lite.TFLiteConverter.from_saved_model(str(tmp / "saved")).convert()
    except Exception as exc:  # a model TFLite cannot hold still runs, in Keras
        log.warning("could not save the model as TFLite (%s): the lens will run it in Keras", exc)
        return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return atomic_write_bytes(Path(folder) / TFLITE_FILE, data)


class TFLiteModel:
    """A network saved by :func:`export_tflite`, called like the Keras model on a float32 batch
    (N, S, S, 3): one frame at a time, on one thread, in the caller's thread. An interpreter serves
    one call at a time, so each calling thread gets its own (made on its first call): the lens'
    recognition slots run one model's frames in parallel."""

    def __init__(self, path: Path, input_size: int):
        self._path, self._size = Path(path), input_size
        self._local = threading.local()
        self._interpreter()  # a broken file fails here, when the model is loaded

    def _interpreter(self) -> Any:
        """This thread's interpreter, with its input and output tensors' indices."""
        found = getattr(self._local, "interp", None)
        if found is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
                from tensorflow import lite

                interp = lite.Interpreter(model_path=str(self._path), num_threads=1)
            inp = interp.get_input_details()[0]
            interp.resize_tensor_input(inp["index"], [1, self._size, self._size, 3])
            interp.allocate_tensors()
            found = self._local.interp = (interp, inp["index"], interp.get_output_details()[0]["index"])
        return found

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        interp, inp, outp = self._interpreter()
        out = []
        for frame in np.asarray(batch, np.float32):
            interp.set_tensor(inp, frame[None])
            interp.invoke()
            out.append(interp.get_tensor(outp)[0].copy())
        return np.stack(out)
