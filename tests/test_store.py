"""The in-process store (MemoryStore): each value expires after its own ttl, pop hands a value to
one caller only, and the store never holds more than its maximum."""

from __future__ import annotations

import sys
import threading

from lti_tool.common.store import MemoryStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_value_expires_after_its_ttl():
    clock = Clock()
    store = MemoryStore(clock=clock)
    store.set("nonce", "abc", 10)

    clock.now += 9.9
    assert store.get("nonce") == "abc"
    clock.now += 0.2
    assert store.get("nonce") is None
    assert store.pop("nonce") is None


def test_each_key_has_its_own_ttl():
    clock = Clock()
    store = MemoryStore(clock=clock)
    store.set("state", {"step": 1}, 5)
    store.set("jwks", ["key"], 60)
    store.set("forever", True, None)
    store.set("also-forever", True, 0)  # as Redis: no ttl

    clock.now += 30
    assert store.get("state") is None
    assert store.get("jwks") == ["key"]
    clock.now += 10**6
    assert store.get("jwks") is None
    assert store.get("forever") is True and store.get("also-forever") is True


def test_setting_again_replaces_the_value_and_its_ttl():
    clock = Clock()
    store = MemoryStore(clock=clock)
    store.set("token", "old", 5)
    store.set("token", "new", 100)

    clock.now += 50
    assert store.get("token") == "new"


def test_pop_reads_and_deletes():
    store = MemoryStore()
    store.set("nonce", True, 60)

    assert store.pop("nonce") is True
    assert store.pop("nonce") is None and store.get("nonce") is None
    assert store.pop("never-set") is None


def test_two_callers_never_both_pop_a_value():
    store = MemoryStore()
    keys = [f"nonce-{i}" for i in range(2000)]
    for key in keys:
        store.set(key, key, 60)
    barrier = threading.Barrier(8)
    popped: list[list[str]] = [[] for _ in range(8)]

    def pop_all(mine: list[str]) -> None:
        barrier.wait()
        for key in keys:
            if store.pop(key) is not None:
                mine.append(key)

    threads = [threading.Thread(target=pop_all, args=(mine,)) for mine in popped]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch all the time: a pop made of two steps shows
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)

    everything = [key for mine in popped for key in mine]
    assert sorted(everything) == sorted(keys)  # each key once, by exactly one thread


def test_the_store_keeps_at_most_max_items_dropping_the_least_recently_used():
    store = MemoryStore(max_items=3)
    for key in ("a", "b", "c"):
        store.set(key, key, None)
    assert store.get("a") == "a"  # "a" is now more recent than "b"

    store.set("d", "d", None)

    assert [store.get(key) for key in ("a", "b", "c", "d")] == ["a", None, "c", "d"]
    assert sorted(store.keys()) == ["a", "c", "d"]


def test_when_full_expired_values_go_first():
    clock = Clock()
    store = MemoryStore(max_items=3, clock=clock)
    store.set("b", "b", None)
    store.set("short", "s", 1)  # used last, but expired by the time "d" comes
    store.set("c", "c", None)
    assert store.get("short") == "s"

    clock.now += 2
    store.set("d", "d", None)

    assert [store.get(key) for key in ("b", "c", "d")] == ["b", "c", "d"]


def test_many_threads_setting_and_reading_keep_the_store_consistent():
    store = MemoryStore(max_items=500)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(2000):
                key = f"k{(n * 7919 + i) % 1000}"
                store.set(key, i, 60 if i % 2 else None)
                store.get(key)
                store.pop(f"k{i % 1000}")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert sum(store.get(f"k{i}") is not None for i in range(1000)) <= 500
