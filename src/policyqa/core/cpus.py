"""How many CPUs this process may run on."""

from __future__ import annotations

import os


def available_cpus() -> int:
    """The CPUs this process may run on. A CPU set (taskset, a container's cpuset) can allow
    fewer than os.cpu_count() counts, and BLAS or llama.cpp threads beyond them wait on each
    other: USE on one allowed CPU took 0.7 s per 64 passages with 1 thread, 4.4 s with 2."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
