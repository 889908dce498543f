"""Reads a torch.save checkpoint (the zip format of torch >= 1.6) without executing pickled code.

torch.load runs whatever callables the pickle names; an nnU-Net checkpoint is a file a user
downloads. This reader unpickles `<archive>/data.pkl` with an allow-list: each global the pickle
names must be one of ALLOWED, and each resolves to a constructor of our own (tensors rebuilt
with torch.as_strided over bytes read from `<archive>/data/<key>`), so nothing the file names
is imported or called. Anything else raises CheckpointError naming the module.class.

    from nnunet.checkpoint import load_checkpoint
    ckpt = load_checkpoint("fold_0/checkpoint_final.pth")   # dict, tensors on the CPU
"""
import collections
import io
import pickle
import sys
import zipfile

import numpy as np


class CheckpointError(ValueError):
    pass


# torch's legacy typed storage names -> element dtype name (resolved to torch dtypes lazily).
_STORAGES = {"FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16",
             "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32",
             "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool"}


class _StorageType:
    """What the pickle's `torch.FloatStorage` (etc.) resolves to: only its element type."""

    def __init__(self, dtype_name):
        self.dtype_name = dtype_name


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, backward_hooks=None, *rest):
    """torch._utils._rebuild_tensor_v2's meaning: a view of `storage` (a 1-D tensor) at element
    `offset` with `size` and `stride`; copied so the result owns contiguous memory."""
    import torch
    if size and all(s > 0 for s in size):
        last = offset + sum((s - 1) * st for s, st in zip(size, stride))
        if offset < 0 or any(st < 0 for st in stride) or last >= storage.numel():
            raise CheckpointError(f"tensor view (offset {offset}, size {tuple(size)}, stride {tuple(stride)}) "
                                  f"reaches outside its storage of {storage.numel()} elements")
    elif offset < 0 or offset > storage.numel():
        raise CheckpointError(f"tensor offset {offset} outside its storage of {storage.numel()} elements")
    t = torch.as_strided(storage, tuple(size), tuple(stride), offset).clone()
    return t.requires_grad_(bool(requires_grad)) if t.is_floating_point() else t


def _rebuild_parameter(data, requires_grad, backward_hooks, *rest):
    return data  # a Parameter's data; inference needs only the values


def _device(*args):
    import torch
    return torch.device(*args)


def _numpy_scalar(dtype, data=None):
    if not isinstance(dtype, np.dtype) or dtype.hasobject:
        raise CheckpointError(f"numpy scalar of dtype {dtype!r} is not allowed")
    return np.frombuffer(data, dtype=dtype, count=1)[0] if data is not None else dtype.type()


def _numpy_dtype(obj, align=False, copy=False):
    dt = np.dtype(obj, align, copy)
    if dt.hasobject:
        raise CheckpointError(f"numpy dtype {dt} holds Python objects and is not allowed")
    return dt


def _codecs_encode(text, encoding="utf-8"):
    # protocol-2 pickles write bytes as _codecs.encode(str, "latin1")
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise CheckpointError(f"_codecs.encode with {type(text).__name__}, {encoding!r} is not allowed")
    return text.encode("latin1")


class _NumpyArray:
    """numpy.core.multiarray._reconstruct(ndarray, shape, b'b') then __setstate__: our own."""

    def __init__(self):
        self.array = None

    def __setstate__(self, state):
        _version, shape, dtype, fortran, data = state
        if not isinstance(dtype, np.dtype) or dtype.hasobject or not isinstance(data, (bytes, bytearray)):
            raise CheckpointError("numpy array of Python objects is not allowed")
        a = np.frombuffer(bytes(data), dtype=dtype).copy()
        self.array = a.reshape(shape, order="F" if fortran else "C")


def _numpy_reconstruct(cls, shape, dtype_code):
    return _NumpyArray()


def _allowed():
    table = {("collections", "OrderedDict"): collections.OrderedDict,
             ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
             ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
             ("torch", "device"): _device,
             ("_codecs", "encode"): _codecs_encode,
             ("builtins", "set"): set, ("builtins", "frozenset"): frozenset,
             ("__builtin__", "set"): set}
    for mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
        table[(mod, "scalar")] = _numpy_scalar
        table[(mod, "_reconstruct")] = _numpy_reconstruct
    table[("numpy", "dtype")] = _numpy_dtype
    table[("numpy", "ndarray")] = np.ndarray  # only as _reconstruct's first argument, never called
    for name, dt in _STORAGES.items():
        table[("torch", name)] = _StorageType(dt)
    return table


ALLOWED = _allowed()


class _Unpickler(pickle.Unpickler):
    def __init__(self, data, zf, prefix):
        super().__init__(io.BytesIO(data))
        self.zf, self.prefix, self.storages = zf, prefix, {}

    def find_class(self, module, name):
        obj = ALLOWED.get((module, name))
        if obj is None:
            raise CheckpointError(f"checkpoint refers to {module}.{name}, which is not on the allow-list of "
                                  f"what an nnU-Net checkpoint holds; refusing to load it")
        return obj

    def persistent_load(self, pid):
        import torch
        if not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage":
            raise CheckpointError(f"unknown persistent id {pid!r:.80}")
        stype, key, _location, numel = pid[1], str(pid[2]), pid[3], int(pid[4])
        if not isinstance(stype, _StorageType):
            raise CheckpointError(f"storage type {stype!r:.80} is not a tensor storage")
        if key in self.storages:
            return self.storages[key]
        dtype = getattr(torch, stype.dtype_name)
        try:
            raw = self.zf.read(f"{self.prefix}data/{key}")
        except KeyError:
            raise CheckpointError(f"storage {key} is missing from the checkpoint") from None
        itemsize = torch.empty((), dtype=dtype).element_size()
        if len(raw) != numel * itemsize:
            raise CheckpointError(f"storage {key}: {len(raw)} bytes, expected {numel} x {itemsize}")
        t = torch.frombuffer(bytearray(raw), dtype=dtype) if numel else torch.empty(0, dtype=dtype)
        if sys.byteorder != "little":  # torch's zip format stores little-endian
            t = t.byteswap() if hasattr(t, "byteswap") else t
        self.storages[key] = t
        return t


def _unwrap(obj):
    """Replaces the numpy array placeholders with their arrays, everywhere in the loaded object."""
    if isinstance(obj, _NumpyArray):
        return obj.array
    if isinstance(obj, dict):
        for k in list(obj):
            obj[k] = _unwrap(obj[k])
        return obj
    if isinstance(obj, list):
        return [_unwrap(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_unwrap(v) for v in obj)
    return obj


def load_checkpoint(path):
    """The object torch.save wrote to `path`, with tensors on the CPU, read through the allow-list."""
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path}: not a torch zip checkpoint (the legacy pre-1.6 torch.save format "
                              f"is not supported; re-save it with a current torch)")
    with zipfile.ZipFile(path) as zf:
        pkls = [n for n in zf.namelist() if n == "data.pkl" or n.endswith("/data.pkl")]
        if len(pkls) != 1:
            raise CheckpointError(f"{path}: expected one data.pkl in the archive, found {len(pkls)}")
        prefix = pkls[0][:-len("data.pkl")]
        try:
            order = zf.read(prefix + "byteorder").decode().strip()
        except KeyError:
            order = "little"
        if order != "little":
            raise CheckpointError(f"{path}: byte order {order!r} is not supported")
        try:
            obj = _Unpickler(zf.read(pkls[0]), zf, prefix).load()
        except CheckpointError as e:
            raise CheckpointError(f"{path}: {e}") from None
        except (pickle.UnpicklingError, EOFError, TypeError, ValueError, AttributeError, IndexError) as e:
            raise CheckpointError(f"{path}: malformed checkpoint pickle: {e}") from None
    return _unwrap(obj)
