"""The machine a benchmark ran on, as its JSON ``meta`` records it."""

from __future__ import annotations

import platform

from threadpoolctl import threadpool_info


def machine_meta() -> dict:
    """Python, machine, processor and the BLAS libraries with their thread counts.

    Call it inside the benchmark's ``threadpool_limits`` block, so that the
    thread counts recorded are the ones the figures were measured with.
    """
    return dict(
        python=platform.python_version(),
        machine=platform.machine(),
        processor=platform.processor(),
        blas=[
            {k: i.get(k) for k in ("internal_api", "version", "num_threads")}
            for i in threadpool_info()
        ],
    )
