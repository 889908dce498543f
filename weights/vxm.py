#!/usr/bin/python3
"""Writer and reader of the .vxm model file (spec: weights/FORMAT.md), with numpy.

    vxm.write(path, graph, tensors, metadata=None, compress=False)
    model = vxm.read(path)   # -> dict(metadata=..., graph=..., tensors={name: ndarray})

`graph` is {"inputs": [{"name", "shape"}], "outputs": [names], "nodes": [{"name", "op",
"inputs", "outputs", "attrs": {key: int | float | str | [ints] | [floats]}}]}; attrs given as
plain Python values are encoded as {"ints": [...]}, {"floats": [...]} or {"str": ...}.
"""
import json
import struct
import zlib

import numpy as np

MAGIC = b"VOXINFER"
MAJOR, MINOR = 1, 0
PREAMBLE = 32
DTYPES = {"f32": np.float32, "f16": np.float16, "i8": np.int8, "u8": np.uint8, "i16": np.int16,
          "u16": np.uint16, "i32": np.int32, "i64": np.int64, "f64": np.float64}
NP_TO_VXM = {np.dtype(v).str: k for k, v in DTYPES.items()}


class VxmError(ValueError):
    pass


def _align64(n):
    return (n + 63) // 64 * 64


def encode_attr(value):
    """A Python value -> the format's typed attribute object."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in ("ints", "floats", "str"):
            return value
        raise VxmError(f"attribute value {value!r} is not a typed attribute")
    if isinstance(value, str):
        return {"str": value}
    if isinstance(value, (bool, int, np.integer)):
        return {"ints": [int(value)]}
    if isinstance(value, (float, np.floating)):
        return {"floats": [float(value)]}
    vals = list(value)
    if all(isinstance(v, (bool, int, np.integer)) for v in vals):
        return {"ints": [int(v) for v in vals]}
    return {"floats": [float(v) for v in vals]}


def encode(graph, tensors, metadata=None, compress=False):
    """Returns the bytes of a .vxm file."""
    g = {"inputs": [{"name": i["name"], "shape": [int(d) for d in i["shape"]]} for i in graph["inputs"]],
         "outputs": list(graph["outputs"]),
         "nodes": [{"name": n["name"], "op": n["op"], "inputs": list(n["inputs"]), "outputs": list(n["outputs"]),
                    "attrs": {k: encode_attr(v) for k, v in n.get("attrs", {}).items()}} for n in graph["nodes"]]}
    table, blobs, offset, end = [], [], 0, 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        if arr.dtype.str not in NP_TO_VXM:
            raise VxmError(f"tensor {name!r}: dtype {arr.dtype} is not storable")
        if arr.ndim > 5:
            raise VxmError(f"tensor {name!r}: rank {arr.ndim} > 5")
        raw = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        blob = zlib.compress(raw, 9) if compress else raw
        table.append({"name": name, "dtype": NP_TO_VXM[arr.dtype.str], "shape": list(arr.shape), "offset": offset,
                      "size": len(blob), "compression": "zlib" if compress else "none",
                      "crc32": zlib.crc32(blob) & 0xFFFFFFFF})
        blobs.append(blob)
        end = offset + len(blob)
        offset += _align64(len(blob))
    header = json.dumps({"metadata": metadata or {}, "graph": g, "tensors": table},
                        separators=(",", ":")).encode("utf-8")
    start = _align64(PREAMBLE + len(header))
    out = bytearray(max(PREAMBLE + len(header), start + end))  # ends right after the last tensor
    out[0:PREAMBLE] = MAGIC + struct.pack("<HHIQII", MAJOR, MINOR, 0, len(header),
                                          zlib.crc32(header) & 0xFFFFFFFF, 0)
    out[PREAMBLE:PREAMBLE + len(header)] = header
    at = start
    for blob in blobs:
        out[at:at + len(blob)] = blob
        at += _align64(len(blob))
    return bytes(out)


def write(path, graph, tensors, metadata=None, compress=False):
    data = encode(graph, tensors, metadata, compress)
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


def decode(data):
    """Parses .vxm bytes; raises VxmError on anything the spec forbids."""
    if len(data) < PREAMBLE:
        raise VxmError("file shorter than the 32-byte preamble")
    if data[:8] != MAGIC:
        raise VxmError("wrong magic")
    major, minor, _flags, hlen, hcrc, _res = struct.unpack("<HHIQII", data[8:PREAMBLE])
    if major != MAJOR:
        raise VxmError(f"unsupported version {major}.{minor}")
    if hlen > len(data) - PREAMBLE:
        raise VxmError("header length exceeds the file")
    header = data[PREAMBLE:PREAMBLE + hlen]
    if zlib.crc32(header) & 0xFFFFFFFF != hcrc:
        raise VxmError("header CRC-32 mismatch")
    root = json.loads(header.decode("utf-8"))
    start = _align64(PREAMBLE + hlen)
    tensors = {}
    for t in root["tensors"]:
        off, size = int(t["offset"]), int(t["size"])
        if off % 64 or off < 0 or size < 0 or start + off + size > len(data):
            raise VxmError(f"tensor {t['name']!r}: bytes outside the file")
        blob = data[start + off:start + off + size]
        if zlib.crc32(blob) & 0xFFFFFFFF != t["crc32"]:
            raise VxmError(f"tensor {t['name']!r}: CRC-32 mismatch")
        raw = zlib.decompress(blob) if t.get("compression", "none") == "zlib" else blob
        dt = np.dtype(DTYPES[t["dtype"]]).newbyteorder("<")
        arr = np.frombuffer(raw, dtype=dt)
        if arr.size != int(np.prod(t["shape"], dtype=np.int64)):
            raise VxmError(f"tensor {t['name']!r}: size does not match its shape")
        tensors[t["name"]] = arr.reshape(t["shape"]).astype(dt.newbyteorder("="))
    return {"version": (major, minor), "metadata": root.get("metadata", {}), "graph": root["graph"],
            "tensors": tensors}


def read(path):
    with open(path, "rb") as f:
        return decode(f.read())


if __name__ == "__main__":
    import sys
    m = read(sys.argv[1])
    print(json.dumps(m["metadata"], indent=2))
    print(f"{len(m['graph']['nodes'])} nodes, {len(m['tensors'])} tensors, "
          f"{sum(a.size for a in m['tensors'].values())} weights")
    ops = {}
    for n in m["graph"]["nodes"]:
        ops[n["op"]] = ops.get(n["op"], 0) + 1
    print(", ".join(f"{k} x{v}" for k, v in sorted(ops.items())))
