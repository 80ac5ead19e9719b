"""`Parameter`: a leaf Tensor that requires grad and that a Module registers when assigned.

It shares its storage with the tensor it was made from (as PyTorch's does); only its class
differs, which is what `Module.__setattr__` looks at. Every op on a Parameter returns a plain
Tensor, so the class never leaks into results.
"""
from __future__ import annotations

from autograd.tensor import Tensor


class Parameter(Tensor):
    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from autograd import empty
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter: expected a Tensor, got {type(data).__name__}")
        p = object.__new__(cls)
        p._data = data._data
        p._backend = data._backend
        p._rg = False
        p.grad_fn = None
        p._idx = 0
        p.grad = None
        p._vc = data._vc
        p._hooks = None
        if requires_grad:
            p.requires_grad_(True)
        return p

    def __init__(self, data=None, requires_grad=True):
        pass                      # everything is done in __new__ (Tensor.__init__ would copy)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, proto):
        raise TypeError("Parameter objects are not picklable; save a state_dict with nn.save instead")

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        p = Parameter(self.detach().clone(), self.requires_grad)
        memo[id(self)] = p
        return p
