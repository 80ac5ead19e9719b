"""Floating-point warnings off for the library's own computations, user's NumPy state untouched.

PyTorch never warns on overflow, division by zero or an invalid operation: it returns inf or
nan. NumPy warns (or raises, after `np.seterr(all="raise")`). The engine runs each computation
between `enter()` and `exit(token)`, which switch NumPy's error state to "ignore" for the
current thread and context only and put back exactly what was there, so a user's `np.seterr`
and `np.errstate` keep governing the user's own NumPy code.

NumPy 2 keeps its error state in a `ContextVar` (`numpy._core.umath._extobj_contextvar`);
`np.errstate` is a `set`/`reset` on it. Setting it to the value captured once inside
`np.errstate(all="ignore")` costs 0.1-0.25 us for the pair (idle vs loaded machine), against
0.8-1.7 us for entering and leaving a fresh `np.errstate`. The variable is private; where it is missing, `np.errstate`
does the same job, slower. The captured state also carries NumPy's default buffer size and no
error callback (`np.seterrcall`), which are what the engine's computations should see anyway.
"""
from __future__ import annotations

import functools

import numpy as np

try:
    from numpy._core.umath import _extobj_contextvar as _ERRSTATE
except ImportError:                                  # a NumPy without the private name
    _ERRSTATE = None

if _ERRSTATE is not None and hasattr(_ERRSTATE, "set") and hasattr(_ERRSTATE, "reset"):
    with np.errstate(all="ignore"):
        _QUIET = _ERRSTATE.get()
    #: enter() -> token: NumPy's floating-point errors ignored in this context from now on
    enter = functools.partial(_ERRSTATE.set, _QUIET)
    #: exit(token): the error state from before the matching enter() (LIFO, same context)
    exit = _ERRSTATE.reset                           # noqa: A001 - the pair reads enter/exit
else:                                                # pragma: no cover - depends on NumPy's internals
    def enter():
        es = np.errstate(all="ignore")
        es.__enter__()
        return es

    def exit(token):                                 # noqa: A001
        token.__exit__(None, None, None)


class quiet:
    """`with quiet():` enter/exit as a context manager, for backends/' own host computations
    (a fresh object per `with`, so it nests; ~0.4 us, against ~2 us for a contextlib one)."""
    __slots__ = ("_token",)

    def __enter__(self):
        self._token = enter()

    def __exit__(self, *exc_info):
        exit(self._token)
