"""Handing freed memory back to the operating system after a big operation.

Arrow's allocator (mimalloc) and glibc keep freed blocks for reuse, so a process that pulled a
million edges or built the search index stays that much bigger for good: at 1M companies the
analytics left ~400 MB and the index build ~120 MB behind, which the next big operation (a saved
query's share of Ladybug's buffer pool) then came on top of. `release()` is cheap (milliseconds)
next to the operations that call it.
"""
from __future__ import annotations

import ctypes

import pyarrow as pa


def release() -> None:
    """Return Arrow's and glibc's unused memory to the OS (no-op where unsupported)."""
    try:
        pa.default_memory_pool().release_unused()
    except (AttributeError, NotImplementedError):
        pass
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
