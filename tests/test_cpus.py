"""Thread counts follow the CPUs this process may use."""

from __future__ import annotations

import os

import pytest


@pytest.mark.parametrize(("allowed", "counted"), [({0}, 8), ({0, 1, 2}, None)])
def test_thread_counts_follow_the_cpus_this_process_may_use(
    monkeypatch: pytest.MonkeyPatch, allowed: set[int], counted: int | None
) -> None:
    """`taskset -c 0` on a 2-core machine: USE had 2 BLAS threads on 1 CPU, 6x slower."""
    from policyqa.index.embed import UseMultilingualEmbeddings
    from policyqa.llm.backends import default_threads

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: allowed)
    monkeypatch.setattr(os, "cpu_count", lambda: counted)
    assert UseMultilingualEmbeddings()._threads == len(allowed)
    assert default_threads() == max(1, len(allowed) - 1)
    monkeypatch.delattr(os, "sched_getaffinity")  # not on every platform
    assert UseMultilingualEmbeddings()._threads == (counted or 1)
