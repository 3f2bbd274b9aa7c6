"""Freed activation memory stays in the process: a training thread's steps do not page-fault."""

from __future__ import annotations

import platform
import resource
import threading

import pytest
import torch

from gdw.host_memory import retain_freed_memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="tunes glibc's malloc only")
def test_a_thread_reuses_freed_blocks_instead_of_faulting_them_back_in() -> None:
    assert retain_freed_memory()
    faults: list[int] = []

    def steps() -> None:
        for _ in range(8):
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            blocks = [torch.ones(1 << 20) for _ in range(12)]  # 12 x 4 MiB, as activations
            del blocks
            faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)

    thread = threading.Thread(target=steps)
    thread.start()
    thread.join()
    # glibc's defaults hand blocks back and fault them in again: about 30,000 pages over the
    # seven later steps here; kept, at most a block or two is faulted in after the first step.
    assert sum(faults[1:]) < 3 * 1024, faults
