"""Keras callbacks that every training route passes to its one ``model.fit`` call.

- :func:`keep_best`: Keras' ``EarlyStopping``, used only to keep and restore the weights of the
  epoch with the best held-out accuracy;
- :class:`TimeBudget`: ends training at the end of a batch once a deadline has passed;
- :class:`StopFlag`: ends training at the end of a batch when someone asks (the studio's stop);
- :class:`ProgressReport`: one :class:`~smartlens.progress.ProgressEvent` per epoch.

Keras still validates the epoch that a stop cuts short and calls ``on_train_end`` afterwards,
so the best weights are restored whoever ended training. :func:`best_epoch` says which epoch
they are from.
"""

from __future__ import annotations

import time
from typing import Any

import keras

from ..progress import Progress, ProgressEvent, StopSignal, within


def keep_best(epochs: int, monitor: str = "val_accuracy") -> keras.callbacks.EarlyStopping:
    """Keeps the weights of the epoch with the best ``monitor`` (a figure on the validation
    views, higher is better) and restores them at the end.

    The patience equals the number of epochs, so this callback never ends training itself (the
    learning-rate schedule was planned for all of them); only the budget and the user do.
    """
    return keras.callbacks.EarlyStopping(
        monitor=monitor, mode="max", patience=epochs, restore_best_weights=True
    )


def best_epoch(history: dict[str, list[float]], monitor: str) -> int | None:
    """The (1-based) epoch whose ``monitor`` was best, as :func:`keep_best` restored it."""
    values = history.get(monitor) or []
    return int(max(range(len(values)), key=lambda i: (values[i], -i))) + 1 if values else None


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

    ``deadline`` is a :func:`time.monotonic` time. Keras validates the epoch cut short and calls
    every callback's ``on_epoch_end`` (a detector's validation mAP is one) before it returns, so
    the time that took last time (from the epoch's last batch to this callback's
    ``on_epoch_end``: put it after the callbacks whose time counts) is kept in reserve: training
    stops once the time left would no longer cover it.
    """

    def __init__(self, deadline: float) -> None:
        super().__init__()
        self.deadline = deadline
        self.reserve = 0.0
        self._batch_end: float | None = None

    def should_stop(self) -> bool:
        return time.monotonic() + self.reserve >= self.deadline

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._batch_end = time.monotonic()
        super().on_train_batch_end(batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._batch_end is not None:
            self.reserve = time.monotonic() - self._batch_end


class StopFlag(_BatchStopper):
    """Ends training at the end of the first batch after ``signal.is_set()`` turns true."""

    def __init__(self, signal: StopSignal) -> None:
        super().__init__()
        self.signal = signal

    def should_stop(self) -> bool:
        return bool(self.signal.is_set())


class ProgressReport(keras.callbacks.Callback):
    """Reports training as stage "training", mapped into ``lo..hi`` of the whole job: each finished
    epoch with its figures, and the batches of the epoch under way every ``every_s`` seconds.

    With a ``clock`` (:class:`~smartlens.training.clock.Clock`) it also tells the clock the pace:
    the epochs left at the mean time of those done, plus ``after_s`` for what follows training.
    """

    def __init__(
        self,
        progress: Progress,
        epochs: int,
        lo: float = 0.0,
        hi: float = 1.0,
        names: tuple[str, ...] = ("val_accuracy", "loss"),
        clock: Any = None,
        after_s: float = 0.0,
        every_s: float = 2.0,
    ) -> None:
        super().__init__()
        self.epochs, self.names, self.clock, self.after_s, self.every_s = (
            epochs,
            names,
            clock,
            after_s,
            every_s,
        )
        self._report = within(progress, lo, hi, "training")
        self._start = self._last = 0.0
        self._epoch = 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._start = self._last = time.monotonic()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        now = time.monotonic()
        if now - self._last < self.every_s:
            return
        self._last = now
        steps = self.params.get("steps") or 0
        part = (batch + 1) / steps if steps else 0.0
        message = f"epoch {self._epoch + 1}/{self.epochs}" + (f", batch {batch + 1}/{steps}" if steps else "")
        self._report(ProgressEvent("training", (self._epoch + min(part, 1.0)) / self.epochs, message))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        metrics: dict[str, float] = {name: round(float(logs[name]), 4) for name in self.names if name in logs}
        done = epoch + 1
        if self.clock is not None:
            pace = (time.monotonic() - self._start) / done
            self.clock.expect(pace * (self.epochs - done) + self.after_s)
        self._last = time.monotonic()
        self._report(ProgressEvent("training", done / self.epochs, f"epoch {done}/{self.epochs}", metrics))


def training_callbacks(
    epochs: int,
    deadline: float | None,
    stop: StopSignal | None,
    progress: Progress,
    clock: Any = None,
    after_s: float = 0.0,
    monitor: str = "val_accuracy",
    before: list[keras.callbacks.Callback] | None = None,
    lo: float = 0.3,
    hi: float = 0.9,
) -> tuple[list[keras.callbacks.Callback], list[_BatchStopper]]:
    """(every callback of a trainer's ``fit``, those among them that may end training early).

    ``before``: callbacks that compute a validation figure at each epoch's end (a detector's
    mAP): they run before :func:`keep_best` reads ``monitor`` and before the budget measures
    what an epoch's end costs.
    """
    stoppers: list[_BatchStopper] = [TimeBudget(deadline)] if deadline is not None else []
    stoppers += [StopFlag(stop)] if stop is not None else []
    names = (monitor, "loss") if monitor != "val_accuracy" else ("val_accuracy", "loss")
    report = ProgressReport(progress, epochs, lo, hi, names, clock, after_s)
    return [*(before or []), keep_best(epochs, monitor), report, *stoppers], stoppers


#: Keras history key -> the curve's name in metrics.json (and the studio's chart).
CURVES = {
    "loss": "train loss",
    "val_loss": "val loss",
    "accuracy": "train accuracy",
    "val_accuracy": "val accuracy",
    "val_map50": "val mAP@0.5",
}


def curves(history: Any, keys: tuple[str, ...] = tuple(CURVES)) -> dict[str, list[float]]:
    """The training curves a model folder's metrics.json keeps, from a Keras ``History``."""
    return {CURVES[k]: [float(v) for v in history.history[k]] for k in keys if k in history.history}
