"""Training callbacks on a tiny Keras model: budget, stop request, best weights, progress."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from smartlens.progress import ProgressEvent
from smartlens.training import callbacks as cb
from smartlens.training.callbacks import ProgressReport, StopFlag, TimeBudget, keep_best

BATCH = 8
N_TRAIN = 160  # 20 batches an epoch
STEPS = N_TRAIN // BATCH


def _data(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Three linearly separable classes in 8 dimensions (a fixed rule, so train and val agree)."""
    rule = np.random.default_rng(0).normal(size=(8, 3))
    x = np.random.default_rng(seed).normal(size=(n, 8)).astype(np.float32)
    return x, (x @ rule).argmax(axis=1).astype(np.int32)


TRAIN, VAL = _data(1, N_TRAIN), _data(2, 96)


def _model(learning_rate: float = 0.1) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(
        keras.optimizers.SGD(learning_rate), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model


def _fit(model: keras.Model, epochs: int, callbacks: list) -> keras.callbacks.History:
    return model.fit(
        *TRAIN,
        batch_size=BATCH,
        epochs=epochs,
        verbose=0,
        shuffle=False,
        validation_data=VAL,
        callbacks=callbacks,
    )


class Batches(keras.callbacks.Callback):
    """Counts training batches; optionally sleeps in each (a slow batch, without overriding batch_end)."""

    def __init__(self, sleep: float = 0.0):
        super().__init__()
        self.count, self.sleep = 0, sleep

    def on_train_batch_begin(self, batch, logs=None):
        self.count += 1
        time.sleep(self.sleep)


class Recorder(keras.callbacks.Callback):
    """The weights and held-out accuracy at the end of every epoch."""

    def __init__(self):
        super().__init__()
        self.weights: list[list[np.ndarray]] = []
        self.val_accuracy: list[float] = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append([w.copy() for w in self.model.get_weights()])
        self.val_accuracy.append(float(logs["val_accuracy"]))


class At(keras.callbacks.Callback):
    """Calls ``action()`` at the end of training batch ``batch`` of epoch ``epoch``."""

    def __init__(self, epoch: int, batch: int, action):
        super().__init__()
        self.epoch, self.batch, self.action, self._now = epoch, batch, action, -1

    def on_epoch_begin(self, epoch, logs=None):
        self._now = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self._now, batch) == (self.epoch, self.batch):
            self.action()


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


# --- the time budget ------------------------------------------------------------------------------
def test_budget_stops_mid_epoch_soon_after_the_deadline():
    model, slow = _model(), Batches(sleep=0.05)  # 1 s an epoch: 3 epochs would take 3 s
    _fit(model, 1, [])  # compile the train and test functions before the clock starts
    t0 = time.monotonic()
    budget = TimeBudget(t0 + 0.3)
    h = _fit(model, 3, [slow, budget])
    elapsed = time.monotonic() - t0
    assert budget.stopped
    assert len(h.history["loss"]) == 1  # stopped inside the first epoch (which is still validated)
    assert 3 <= slow.count < STEPS, slow.count
    assert elapsed < 1.5, elapsed  # 3 s without the budget


def test_budget_far_away_lets_every_epoch_run():
    model, batches = _model(), Batches()
    budget = TimeBudget(time.monotonic() + 600)
    h = _fit(model, 3, [batches, budget])
    assert not budget.stopped and len(h.history["loss"]) == 3 and batches.count == 3 * STEPS


def test_deadline_in_the_last_batch_is_no_early_stop():
    model = _model()
    budget = TimeBudget(time.monotonic() - 1)  # already past, but only one batch in all
    model.fit(TRAIN[0][:BATCH], TRAIN[1][:BATCH], batch_size=BATCH, epochs=1, verbose=0, callbacks=[budget])
    assert not budget.stopped


def test_budget_keeps_the_validation_time_in_reserve(monkeypatch):
    """On a fake clock (a training batch costs 1 s, a validation batch 10 s), training stops
    once the time left no longer covers a validation pass."""
    clock = SimpleNamespace(now=0.0)
    monkeypatch.setattr(cb, "time", SimpleNamespace(monotonic=lambda: clock.now))

    class Tick(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            clock.now += 1

        def on_test_batch_begin(self, batch, logs=None):
            clock.now += 10

    val_batches = -(-len(VAL[1]) // BATCH)  # 12: a validation pass costs 120 s
    budget, batches = TimeBudget(deadline=200.0), Batches()
    model = _model()
    model.fit(
        *TRAIN,
        batch_size=BATCH,
        epochs=5,
        verbose=0,
        validation_data=VAL,
        callbacks=[Tick(), batches, budget],
    )
    # epoch 1: 20 s of batches + 120 s of validation = 140 s; then 200 - 120 = 80 s of budget is
    # left for training batches, so epoch 2 stops at its first batch (141 + 120 >= 200)
    assert budget.reserve == pytest.approx(10.0 * val_batches)
    assert budget.stopped and batches.count == STEPS + 1
    assert clock.now <= 140 + 1 + 120


# --- the stop flag --------------------------------------------------------------------------------
def test_stop_flag_stops_within_the_batch_it_is_set_in():
    model, batches, event = _model(), Batches(), threading.Event()
    flag = StopFlag(event)
    h = _fit(model, 4, [At(1, 6, event.set), batches, flag])
    assert flag.stopped
    assert batches.count == STEPS + 7  # all of epoch 1, then batches 0..6 of epoch 2
    assert len(h.history["loss"]) == 2


def test_stop_flag_set_from_another_thread():
    model, slow, event = _model(), Batches(sleep=0.05), threading.Event()
    _fit(model, 1, [])  # compile first, so the timing below is the training's
    flag = StopFlag(event)
    timer = threading.Timer(0.3, event.set)
    timer.start()
    t0 = time.monotonic()
    h = _fit(model, 5, [slow, flag])  # 5 s without the stop
    timer.join()
    assert flag.stopped and len(h.history["loss"]) == 1 and slow.count < STEPS
    assert time.monotonic() - t0 < 1.5


def test_stop_flag_takes_any_object_with_is_set():
    class Job:
        stop = False

        def is_set(self) -> bool:
            return self.stop

    job, batches = Job(), Batches()
    flag = StopFlag(job)
    _fit(_model(), 2, [batches, flag])
    assert not flag.stopped and batches.count == 2 * STEPS
    job.stop = True
    _fit(_model(), 2, [batches, flag])
    assert flag.stopped and batches.count == 2 * STEPS + 1


# --- the best weights -----------------------------------------------------------------------------
def _peak_then_fall(epoch: int, lr: float) -> float:
    """Learn for three epochs, then climb the loss (a negative step): held-out accuracy falls."""
    return 0.1 if epoch < 3 else -0.5


@pytest.mark.parametrize("stopper", [None, "budget", "flag"])
def test_best_epoch_weights_are_restored(stopper):
    epochs = 8
    model, record = _model(), Recorder()
    callbacks: list = [keras.callbacks.LearningRateScheduler(_peak_then_fall), keep_best(epochs), record]
    stop = None
    if stopper == "budget":
        stop = TimeBudget(time.monotonic() + 600)
        callbacks += [At(5, 3, lambda: setattr(stop, "deadline", 0.0)), stop]
    elif stopper == "flag":
        event = threading.Event()
        stop = StopFlag(event)
        callbacks += [At(5, 3, event.set), stop]
    h = _fit(model, epochs, callbacks)

    ran = len(record.weights)
    assert ran == (6 if stopper else epochs)  # patience never ends training: only the stoppers do
    assert len(h.history["val_accuracy"]) == ran
    if stop is not None:
        assert stop.stopped
    best = int(np.argmax(record.val_accuracy))  # the first of equal bests, as Keras keeps
    assert best < 3 and record.val_accuracy[-1] < record.val_accuracy[best] - 0.2, record.val_accuracy
    assert not _same(record.weights[-1], record.weights[best])
    assert _same(model.get_weights(), record.weights[best])


# --- progress -------------------------------------------------------------------------------------
def test_progress_report_per_epoch_with_increasing_fractions():
    events: list[ProgressEvent] = []
    _fit(_model(), 4, [ProgressReport(events.append, 4, 0.3, 0.95)])
    assert [e.message for e in events] == [f"epoch {k}/4" for k in range(1, 5)]
    assert {e.stage for e in events} == {"training"}
    fractions = [e.fraction for e in events]
    assert all(a < b for a, b in zip(fractions, fractions[1:]))
    assert fractions[0] == pytest.approx(0.3 + 0.65 / 4) and fractions[-1] == pytest.approx(0.95)
    assert all(set(e.metrics) == {"val_accuracy", "loss"} for e in events)
    assert all(0 <= e.metrics["val_accuracy"] <= 1 and e.metrics["loss"] > 0 for e in events)


# --- training views shown small -------------------------------------------------------------------
def test_small_views_paste_artworks_into_views_without_one_and_move_their_boxes():
    from smartlens.training.small_views import small_views

    x = np.zeros((10, 100, 100, 3), np.uint8)
    x[:5] = 200  # five views of an artwork (bright), five without one (dark)
    sv = small_views(x, np.arange(5), np.arange(10) >= 5, seed=0, share=0.6)
    assert len(sv.images) == 3 and set(sv.sources) <= set(range(5))
    for k, (left, top, side) in enumerate(sv.placements):
        assert 35 <= side <= 75 and left + side <= 100 and top + side <= 100
        inside = sv.images[k, top : top + side, left : left + side]
        assert (inside == 200).all() and (sv.images[k] == 0).sum() > 0  # pasted into a dark view
        box = sv.boxes(np.array([0.0, 0.0, 1.0, 1.0]), k)  # the whole view's box lands where it was pasted
        np.testing.assert_allclose(box, [left / 100, top / 100, (left + side) / 100, (top + side) / 100])
    none = small_views(x[:5], np.arange(5), np.zeros(5, bool), seed=0)
    assert len(none.images) == 0  # nothing to paste into
