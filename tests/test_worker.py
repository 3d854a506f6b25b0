"""A visitor's recognition worker alone, with stand-in recognitions: newest frame, one at a time."""

from __future__ import annotations

import threading
import time

import numpy as np

from smartlens.lens.slots import FairSlots
from smartlens.lens.worker import RecognitionWorker
from smartlens.recognition.result import Recognition


def _frame(k: int) -> np.ndarray:
    return np.full((4, 4, 3), k, np.uint8)


def _named(bgr: np.ndarray) -> Recognition:
    return Recognition(f"frame-{int(bgr[0, 0, 0])}")


def test_the_newest_frame_asked_for_is_recognised_when_the_turn_comes():
    slots = FairSlots(1, idle_s=1.0)
    worker = RecognitionWorker(slots, "v", _named)
    held = slots.hold(5)
    assert held is not None
    for k in range(5):  # frames keep coming while another visitor has the slot
        worker.ask(_frame(k), None)
    assert worker.busy and worker.take() is None
    held.release()
    assert worker.settle(5)
    done = worker.take()
    assert done is not None and done[0].artwork == "frame-4"  # the newest, not the first
    assert worker.take() is None  # once
    assert slots.ran == 2  # the held slot and one recognition, not five


def test_one_recognition_at_a_time_and_an_unread_result_waits():
    slots = FairSlots(2, idle_s=1.0)
    running = []
    gate = threading.Event()

    def slow(bgr: np.ndarray) -> Recognition:
        running.append(1)
        gate.wait(5)
        return _named(bgr)

    worker = RecognitionWorker(slots, "v", slow)
    worker.ask(_frame(1), None)
    time.sleep(0.1)
    worker.ask(_frame(2), None)  # under way: not asked again (even with a slot free)
    gate.set()
    assert worker.settle(5)
    worker.ask(_frame(3), None)  # a result waits unread: nothing new is asked
    assert worker.settle(5) and len(running) == 1
    assert worker.take()[0].artwork == "frame-1"  # type: ignore[index]


def test_a_confirmation_without_a_free_slot_is_skipped():
    slots = FairSlots(1, idle_s=1.0)
    worker = RecognitionWorker(slots, "v", _named)
    held = slots.hold(5)
    assert held is not None
    worker.ask(_frame(1), None, urgent=False)
    assert not worker.busy and worker.skipped == 1
    held.release()


def test_cancel_forgets_the_waiting_turn_and_any_result():
    slots = FairSlots(1, idle_s=1.0)
    worker = RecognitionWorker(slots, "v", _named)
    held = slots.hold(5)
    assert held is not None
    worker.ask(_frame(1), None)
    worker.cancel()  # the visitor left before its turn
    assert slots.waiting == 0 and not worker.busy
    held.release()
    worker.ask(_frame(2), None)
    assert worker.settle(5)
    worker.cancel()
    assert worker.take() is None


def test_a_visitor_who_stopped_sending_frames_does_not_take_a_slot():
    slots = FairSlots(1, idle_s=1.0)
    calls = []
    worker = RecognitionWorker(slots, "v", lambda bgr: calls.append(1) or _named(bgr), give_up_s=0.1)
    held = slots.hold(5)
    assert held is not None
    worker.ask(_frame(1), None)
    time.sleep(0.3)  # no newer frame: the visitor's video stopped
    held.release()
    assert worker.settle(5)
    assert calls == [] and worker.take() is None and worker.skipped == 1


def test_a_failed_recognition_leaves_the_worker_usable():
    slots = FairSlots(1, idle_s=1.0)
    answers = iter([None, Recognition("a")])
    worker = RecognitionWorker(slots, "v", lambda bgr: next(answers))
    worker.ask(_frame(1), None)
    assert worker.settle(5) and worker.take() is None
    worker.ask(_frame(2), None)
    assert worker.settle(5) and worker.take()[0].artwork == "a"  # type: ignore[index]
