"""Checkpoints: `nn.save(obj, path)` / `nn.load(path)` in the safetensors format, never pickle.

A model's state_dict (names -> tensors) is written with its own keys, so `safetensors.torch.load_file`
reads a tapegrad file and a torch file loads here. Nested objects (an optimizer's state_dict with
int keys, floats, tuples, None) are flattened: each tensor is stored under its dotted path
("state.0.exp_avg") and the structure with every non-tensor value goes, as JSON, into the
safetensors `metadata` field, with a SHA-256 of the tensor bytes. Loading only parses JSON and raw
arrays, so a hostile file can fail but cannot run code; every failure is a ValueError naming the
path. Writes are atomic: a temporary file in the same directory, fsync, then os.replace.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile

from backends import host as _host

_TREE = "tapegrad.tree"
_HASH = "tapegrad.sha256"


def _safetensors():
    try:
        import safetensors
        import safetensors.numpy
    except ImportError as e:
        raise ImportError("nn.save / nn.load need the 'safetensors' package: pip install 'tapegrad[checkpoint]' "
                          "(or pip install safetensors)") from e
    return safetensors


def _encode(obj, path, tensors):
    from autograd.tensor import Tensor
    if isinstance(obj, Tensor):
        name = path or "tensor"
        if name in tensors:
            raise ValueError(f"nn.save: two entries flatten to the same tensor name {name!r}")
        tensors[name] = _host.asarray(obj._backend.to_numpy(obj.detach()._data), order="C")   # keeps 0-d
        return {"T": name}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"nn.save: dict keys must be str or int, got {type(k).__name__} at {path or '<root>'}")
            items.append([k, _encode(v, f"{path}.{k}" if path else str(k), tensors)])
        return {"D": items}
    if isinstance(obj, (list, tuple)):
        kids = [_encode(v, f"{path}.{i}" if path else str(i), tensors) for i, v in enumerate(obj)]
        return {"L" if isinstance(obj, list) else "U": kids}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"V": obj}
    raise TypeError(f"nn.save: cannot store a value of type {type(obj).__name__} at {path or '<root>'} "
                    f"(tensors, dicts, lists, tuples, numbers, strings and None only)")


def _digest(tensors):
    h = hashlib.sha256()
    for k in sorted(tensors):
        h.update(k.encode())
        h.update(str(tensors[k].dtype).encode())
        h.update(str(tuple(tensors[k].shape)).encode())
        h.update(tensors[k].tobytes())
    return h.hexdigest()


def save(obj, path):
    """Write obj (a tensor, or dicts/lists/tuples of tensors and plain values) to path atomically."""
    st = _safetensors()
    tensors = {}
    tree = _encode(obj, "", tensors)
    meta = {_TREE: json.dumps(tree), _HASH: _digest(tensors), "format": "pt"}
    blob = st.numpy.save(tensors, metadata=meta)
    path = os.fspath(path)
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:                                    # make the rename itself durable (POSIX)
        dfd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def _decode(node, tensors, used, path, make):
    if not isinstance(node, dict) or len(node) != 1:
        raise ValueError(f"malformed structure entry at {path or '<root>'}")
    (kind, val), = node.items()
    if kind == "T":
        if not isinstance(val, str) or val not in tensors:
            raise ValueError(f"structure refers to a tensor {val!r} that the file does not hold")
        used.add(val)
        return make(tensors[val])
    if kind == "D":
        if not isinstance(val, list):
            raise ValueError(f"malformed dict entry at {path or '<root>'}")
        out = {}
        for item in val:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], (str, int))):
                raise ValueError(f"malformed dict item at {path or '<root>'}")
            out[item[0]] = _decode(item[1], tensors, used, f"{path}.{item[0]}", make)
        return out
    if kind in ("L", "U"):
        if not isinstance(val, list):
            raise ValueError(f"malformed sequence entry at {path or '<root>'}")
        seq = [_decode(v, tensors, used, f"{path}.{i}", make) for i, v in enumerate(val)]
        return seq if kind == "L" else tuple(seq)
    if kind == "V":
        if val is not None and not isinstance(val, (bool, int, float, str)):
            raise ValueError(f"malformed value at {path or '<root>'}")
        return val
    raise ValueError(f"unknown structure tag {kind!r} at {path or '<root>'}")


def load(path, device=None):
    """Read what `save` wrote (or any safetensors file: then a dict name -> tensor)."""
    st = _safetensors()
    import autograd as _ag
    path = os.fspath(path)
    try:
        with st.safe_open(path, framework="numpy") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except FileNotFoundError:
        raise
    except Exception as e:     # SafetensorError, OSError, dtype errors: all mean a bad file
        raise ValueError(f"nn.load: {path!r} is not a readable safetensors checkpoint "
                         f"({type(e).__name__}: {e})") from None
    if _HASH in meta and meta[_HASH] != _digest(tensors):
        raise ValueError(f"nn.load: {path!r} is corrupted: the tensor data does not match its recorded SHA-256")

    names = {id(v): k for k, v in tensors.items()}

    def make(arr):
        try:
            return _ag.tensor(arr, device=device)
        except TypeError as e:      # a dtype safetensors stores but tapegrad lacks (uint16, complex64, ...)
            raise ValueError(f"nn.load: {path!r}: tensor {names.get(id(arr), '?')!r} has dtype {arr.dtype}, which "
                             f"tapegrad does not support ({e})") from None
    if _TREE not in meta:
        return {k: make(v) for k, v in tensors.items()}
    try:
        used = set()
        out = _decode(json.loads(meta[_TREE]), tensors, used, "", make)
    except (ValueError, RecursionError, TypeError) as e:
        if str(e).startswith("nn.load:"):
            raise
        raise ValueError(f"nn.load: {path!r} has a malformed structure record: {e}") from None
    if used != set(tensors):
        raise ValueError(f"nn.load: {path!r} holds tensors its structure does not mention: "
                         f"{sorted(set(tensors) - used)[:5]}")
    return out
