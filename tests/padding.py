"""Step vectors padded to a fixed length, shared by the test files that jit a schedule with its steps
as an argument: one length per file means one compiled program per schedule structure there (the
library's own padding serves eager calls only)."""

import numpy as np


def padded(steps, length: int, dtype=np.int32) -> np.ndarray:
    """`steps` (at most `length` of them) as a `dtype` vector of `length`, zeros after them."""
    steps = np.asarray(steps)
    assert steps.size <= length, (steps.size, length)
    out = np.zeros(length, dtype)
    out[: steps.size] = steps.astype(dtype)
    return out
