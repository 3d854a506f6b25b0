"""Keras callbacks that every training route passes to its one ``model.fit`` call.

- :func:`keep_best`: Keras' ``EarlyStopping``, used only to keep and restore the weights of the
  epoch with the best held-out accuracy;
- :class:`TimeBudget`: ends training at the end of a batch once a deadline has passed;
- :class:`StopFlag`: ends training at the end of a batch when someone asks (the studio's stop);
- :class:`ProgressReport`: one :class:`~smartlens.progress.ProgressEvent` per epoch.

Keras still validates the epoch that a stop cuts short and calls ``on_train_end`` afterwards,
so the best weights are restored whoever ended training.
"""

from __future__ import annotations

import time
from typing import Any

import keras

from ..progress import Progress, ProgressEvent, StopSignal, within


def keep_best(epochs: int) -> keras.callbacks.EarlyStopping:
    """Keeps the weights of the epoch with the best ``val_accuracy`` and restores them at the end.

    The patience equals the number of epochs, so this callback never ends training itself (the
    learning-rate schedule was planned for all of them); only the budget and the user do.
    """
    return keras.callbacks.EarlyStopping(
        monitor="val_accuracy", mode="max", patience=epochs, restore_best_weights=True
    )


class _BatchStopper(keras.callbacks.Callback):
    """Ends training at the end of a batch when :meth:`should_stop` says so.

    Overriding ``on_train_batch_end`` also keeps Keras from dispatching batch callbacks to a
    thread pool, so ``stop_training`` is set before the next batch starts.
    """

    def __init__(self) -> None:
        super().__init__()
        #: True when this callback ended training before its last batch.
        self.stopped = False
        self._epoch = 0

    def should_stop(self) -> bool:
        raise NotImplementedError

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.stopped = False

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self.model.stop_training or not self.should_stop():
            return
        epochs, steps = self.params.get("epochs"), self.params.get("steps")
        if epochs is not None and steps is not None and self._epoch + 1 >= epochs and batch + 1 >= steps:
            return  # the last batch of the last epoch: there is nothing left to cut
        self.model.stop_training = True
        self.stopped = True


class TimeBudget(_BatchStopper):
    """Ends training at the end of the first batch that finishes past ``deadline``.

    ``deadline`` is a :func:`time.monotonic` time. Keras validates the epoch cut short before it
    returns, so the time the last validation pass took is kept in reserve: training stops once
    the time left would no longer cover that pass.
    """

    def __init__(self, deadline: float) -> None:
        super().__init__()
        self.deadline = deadline
        self.reserve = 0.0
        self._test_start: float | None = None

    def should_stop(self) -> bool:
        return time.monotonic() + self.reserve >= self.deadline

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._test_start = time.monotonic()

    def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._test_start is not None:
            self.reserve = time.monotonic() - self._test_start


class StopFlag(_BatchStopper):
    """Ends training at the end of the first batch after ``signal.is_set()`` turns true."""

    def __init__(self, signal: StopSignal) -> None:
        super().__init__()
        self.signal = signal

    def should_stop(self) -> bool:
        return bool(self.signal.is_set())


class ProgressReport(keras.callbacks.Callback):
    """Reports each finished epoch as stage "training", mapped into ``lo..hi`` of the whole job."""

    def __init__(self, progress: Progress, epochs: int, lo: float = 0.0, hi: float = 1.0) -> None:
        super().__init__()
        self.epochs = epochs
        self._report = within(progress, lo, hi, "training")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        metrics: dict[str, float] = {
            name: round(float(logs[name]), 4) for name in ("val_accuracy", "loss") if name in logs
        }
        done = epoch + 1
        self._report(ProgressEvent("training", done / self.epochs, f"epoch {done}/{self.epochs}", metrics))


#: Keras history key -> the curve's name in metrics.json (and the studio's chart).
CURVES = {
    "loss": "train loss",
    "val_loss": "val loss",
    "accuracy": "train accuracy",
    "val_accuracy": "val accuracy",
}


def curves(history: Any, keys: tuple[str, ...] = tuple(CURVES)) -> dict[str, list[float]]:
    """The training curves a model folder's metrics.json keeps, from a Keras ``History``."""
    return {CURVES[k]: [float(v) for v in history.history[k]] for k in keys if k in history.history}
