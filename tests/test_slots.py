"""The lens' inference slots alone: N jobs in parallel, turns in order, nothing kept per visitor."""

from __future__ import annotations

import threading
import time

import pytest

from smartlens.lens.slots import FairSlots


def _wait(cond, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


def test_two_slots_run_two_visitors_at_once():
    slots = FairSlots(2, idle_s=1.0)
    both = threading.Barrier(2, timeout=5)  # passes only when two jobs run at the same time
    met = []
    for v in ("a", "b"):
        assert slots.submit(v, lambda: met.append(both.wait()))
    assert _wait(lambda: len(met) == 2), "the two jobs never ran at the same time"
    assert slots.threads == 2


def test_one_slot_serves_visitors_in_the_order_they_asked():
    slots = FairSlots(1, idle_s=1.0)
    held = slots.hold(5)
    assert held is not None
    order: list[str] = []
    for v in ("a", "b", "c"):
        assert slots.submit(v, lambda v=v: order.append(v))
    # a visitor asking again keeps its place in the queue (its newer job replaces the older one)
    assert slots.submit("a", lambda: order.append("a2"))
    assert slots.waiting == 3
    held.release()
    assert _wait(lambda: len(order) == 3)
    assert order == ["a2", "b", "c"]


def test_visitors_take_turns_under_load():
    slots = FairSlots(1, idle_s=1.0)
    served = {"a": 0, "b": 0, "c": 0}
    stop = time.monotonic() + 1.0
    done = {v: threading.Event() for v in served}

    def visitor(name: str) -> None:
        while time.monotonic() < stop:
            finished = threading.Event()

            def job(name=name, finished=finished) -> None:
                served[name] += 1
                time.sleep(0.01)  # inference
                finished.set()

            slots.submit(name, job)
            finished.wait(2)
        done[name].set()

    threads = [threading.Thread(target=visitor, args=(n,)) for n in served]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert min(served.values()) >= 0.6 * max(served.values()), served


def test_a_confirmation_never_makes_anyone_wait():
    slots = FairSlots(1, idle_s=1.0)
    held = slots.hold(5)
    assert held is not None
    ran: list[str] = []
    assert not slots.submit("tracked", lambda: ran.append("confirm"), urgent=False)  # no slot free
    assert slots.submit("new", lambda: ran.append("first"))  # an urgent one queues
    assert not slots.submit("tracked", lambda: ran.append("confirm"), urgent=False)  # someone waits
    held.release()
    assert _wait(lambda: ran == ["first"])
    assert _wait(lambda: slots.busy() == 0)
    assert slots.submit("tracked", lambda: ran.append("confirm"), urgent=False)  # a slot is idle now
    assert _wait(lambda: ran == ["first", "confirm"])


def test_withdrawn_jobs_never_run_and_nothing_is_kept_per_visitor():
    slots = FairSlots(1, idle_s=0.3)
    held = slots.hold(5)
    assert held is not None
    ran: list[str] = []
    for i in range(50):  # visitors who asked and left before their turn
        slots.submit(f"v{i}", lambda i=i: ran.append(f"v{i}"))
    for i in range(50):
        assert slots.withdraw(f"v{i}")
    assert not slots.withdraw("v0") and slots.waiting == 0
    held.release()
    assert _wait(lambda: slots.threads == 0), "the slot thread did not end after idle_s"
    assert ran == []
    assert not vars(slots)["_waiting"]  # no trace of the 50 visitors


def test_slot_threads_end_when_idle_and_come_back_with_work():
    before = threading.active_count()
    slots = FairSlots(2, idle_s=0.2)
    ran = threading.Event()
    slots.submit("a", ran.set)
    assert ran.wait(5)
    assert _wait(lambda: slots.threads == 0 and threading.active_count() <= before)
    again = threading.Event()
    slots.submit("a", again.set)
    assert again.wait(5)


def test_a_failing_job_does_not_kill_its_slot():
    slots = FairSlots(1, idle_s=1.0)
    slots.submit("bad", lambda: 1 / 0)
    ok = threading.Event()
    slots.submit("good", ok.set)
    assert ok.wait(5)


def test_slots_must_be_positive():
    with pytest.raises(ValueError):
        FairSlots(0)
