"""Host (NumPy) buffers for transports that move bytes between processes (MPI in
autograd.distributed): the engine above this seam never touches NumPy itself."""
from __future__ import annotations

import numpy as np


def buffer(be, arr):
    """(a C-contiguous writable NumPy array holding arr's values, whether it IS arr's memory): a
    contiguous NumPy array goes to the transport as it is; a strided view, or another library's
    array, is staged through a host copy that the caller writes back."""
    if isinstance(arr, np.ndarray) and arr.flags.c_contiguous and arr.flags.writeable:
        return arr, True
    return np.array(be.to_numpy(arr), order="C", copy=True), False


def empty(shape, like):
    return np.empty(tuple(shape), dtype=like.dtype)


def stack(be, arrays):
    """One contiguous host array of several backend arrays, stacked along a new dim 0."""
    return np.ascontiguousarray(np.stack([be.to_numpy(a) for a in arrays]))


def is_bool(arr):
    return arr.dtype == np.bool_


def is_float(arr):
    return arr.dtype.kind == "f"


def average_(arr, n):
    """arr / n in place: true division for floats, floor division for integers (NCCL's AVG)."""
    if arr.dtype.kind == "f":
        arr /= n
    elif arr.dtype.kind in "iu":
        np.floor_divide(arr, n, out=arr)
