"""Runs a .vxm graph with PyTorch's functional ops: an oracle for what the converter wrote,
independent of the C++ engine (which lacks InstanceNormalization until issue 18). Covers the ops
nnU-Net's networks convert to; any other op is an error."""
import numpy as np
import torch
import torch.nn.functional as F


def _attr(a, key, default=None):
    v = a.get(key)
    if v is None:
        return default
    if isinstance(v, dict):
        v = v.get("ints", v.get("floats", v.get("str")))
    return v


def _conv_pads(p):
    """ONNX pads [b0, b1, ..., e0, e1, ...] -> symmetric per-axis padding (what torch exports)."""
    n = len(p) // 2
    if list(p[:n]) != list(p[n:]):
        raise ValueError(f"asymmetric conv pads {p}")
    return list(p[:n])


def run(model, inputs):
    """model: vxm.read() dict; inputs: {name: ndarray}. Returns {output name: ndarray}."""
    t = {k: torch.from_numpy(np.ascontiguousarray(v, np.float32)) for k, v in inputs.items()}
    t.update({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in model["tensors"].items()})
    pending = list(model["graph"]["nodes"])
    with torch.no_grad():
        while pending:
            ready = [n for n in pending if all(i == "" or i in t for i in n["inputs"])]
            if not ready:
                raise ValueError("graph has unresolved inputs")
            for n in ready:
                pending.remove(n)
                ins = [t[i] if i else None for i in n["inputs"]]
                t[n["outputs"][0]] = _op(n["op"], n.get("attrs", {}), ins)
    return {o: t[o].numpy() for o in model["graph"]["outputs"]}


def _op(op, a, ins):
    x = ins[0]
    if op == "Conv":
        fn = {3: F.conv1d, 4: F.conv2d, 5: F.conv3d}[x.dim()]
        return fn(x, ins[1], ins[2] if len(ins) > 2 else None, stride=_attr(a, "strides", 1),
                  padding=_conv_pads(_attr(a, "pads", [0] * (2 * (x.dim() - 2)))), dilation=_attr(a, "dilations", 1),
                  groups=_attr(a, "group", [1])[0])
    if op == "ConvTranspose":
        fn = {3: F.conv_transpose1d, 4: F.conv_transpose2d, 5: F.conv_transpose3d}[x.dim()]
        return fn(x, ins[1], ins[2] if len(ins) > 2 else None, stride=_attr(a, "strides", 1),
                  padding=_conv_pads(_attr(a, "pads", [0] * (2 * (x.dim() - 2)))),
                  output_padding=_attr(a, "output_padding", 0), groups=_attr(a, "group", [1])[0])
    if op == "InstanceNormalization":
        return F.instance_norm(x, weight=ins[1], bias=ins[2], eps=_attr(a, "epsilon", [1e-5])[0])
    if op == "LeakyRelu":
        return F.leaky_relu(x, _attr(a, "alpha", [0.01])[0])
    if op == "Relu":
        return F.relu(x)
    if op == "Concat":
        return torch.cat(ins, dim=_attr(a, "axis")[0])
    if op == "Add":
        return ins[0] + ins[1]
    if op == "Identity":
        return x
    if op == "Pad":
        p = _attr(a, "pads")
        n = len(p) // 2
        torch_pads = []
        for d in reversed(range(n)):
            torch_pads += [p[d], p[n + d]]
        return F.pad(x, torch_pads, mode="constant", value=_attr(a, "value", [0.0])[0])
    if op == "AveragePool":
        fn = {3: F.avg_pool1d, 4: F.avg_pool2d, 5: F.avg_pool3d}[x.dim()]
        return fn(x, _attr(a, "kernel_shape"), _attr(a, "strides"), _conv_pads(_attr(a, "pads", [0] * (2 * (x.dim() - 2)))),
                  ceil_mode=bool(_attr(a, "ceil_mode", [0])[0]), count_include_pad=bool(_attr(a, "count_include_pad", [0])[0]))
    raise ValueError(f"vxm_torch_runner: op {op} is not covered")
