#!/usr/bin/python3
"""ONNX / PyTorch -> .vxm converter.

    /usr/bin/python3 weights/convert.py MODEL.onnx OUT.vxm [--name NAME] [--metadata meta.json]
                                        [--compress] [--input-shape NAME=1,1,20,192,192 ...]
    /usr/bin/python3 weights/convert.py --from-nnunet MODEL_FOLDER OUT.vxm [--configuration 3d_fullres]
                                        [--folds 0,1,2,3,4 | all] [--checkpoint checkpoint_final.pth]
                                        (nnU-Net v2 results folders: weights/nnunet/importer.py)

    from convert import convert_torch, convert_onnx
    convert_torch(module, example_inputs, "out.vxm", metadata=None, opset=13)

Reads ONNX opsets 11-18 (torch.onnx.export writes up to 17). Shape computations (Shape, Gather,
Unsqueeze, Concat, Cast, Constant, ...) are folded with the known input shapes; a Resize whose
target size is "the spatial size of tensor T" (F.interpolate(x, size=skip.shape[2:]) with free
dims) becomes Resize with T as its second ("like") input. Where onnx 1.12's shape inference loses
shapes (after a Reshape whose target came from a run-time Shape: torch's GroupNorm export,
x.view(x.shape[0], -1)) the converter infers them node by node (infer_missing_shapes). BatchNormalization is folded into the
preceding Conv/ConvTranspose when that conv's output feeds nothing else; Dropout and Identity
disappear. Anything else unsupported fails with ConvertError naming the op, node and attribute.
"""
import argparse
import io
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vxm  # noqa: E402

PRODUCER = "voxinfer weights/convert.py 1.0"
MIN_OPSET, MAX_OPSET = 11, 18  # 18: Reduce* axes as an input (issue 18); unknown attributes still fail


class ConvertError(ValueError):
    pass


class Dim:
    """A dimension known only at run time: dim `axis` of tensor `tensor`."""

    def __init__(self, tensor, axis):
        self.tensor, self.axis = tensor, axis

    def __repr__(self):
        return f"dim({self.tensor}, {self.axis})"

    def __eq__(self, other):
        return isinstance(other, Dim) and (self.tensor, self.axis) == (other.tensor, other.axis)

    def __hash__(self):
        return hash((self.tensor, self.axis))


def _is_symbolic(a):
    return isinstance(a, np.ndarray) and a.dtype == object


def _attrs(node):
    import onnx
    out = {}
    for a in node.attribute:
        out[a.name] = onnx.helper.get_attribute_value(a)
        if isinstance(out[a.name], bytes):
            out[a.name] = out[a.name].decode("utf-8")
    return out


def _onnx_np_dtype(onnx_type, node):
    """numpy dtype of an ONNX TensorProto element type. onnx.mapping is what onnx 1.12 (Debian's)
    has; onnx.helper.tensor_dtype_to_np_dtype only came in 1.13 (and onnx.mapping is deprecated there)."""
    import onnx.mapping
    dt = onnx.mapping.TENSOR_TYPE_TO_NP_TYPE.get(int(onnx_type))
    if dt is None:
        raise ConvertError(f"Cast node '{node.name}': unsupported target type {onnx_type}")
    return dt


# Ops evaluated with numpy when every input is known at conversion time.
def _fold(op, node, ins, attrs, opset):
    import onnx
    import onnx.helper  # noqa: F401
    from onnx import numpy_helper
    if op == "Constant":
        if "value" in attrs:
            return numpy_helper.to_array(attrs["value"])
        for k, dt in (("value_float", np.float32), ("value_floats", np.float32), ("value_int", np.int64),
                      ("value_ints", np.int64)):
            if k in attrs:
                return np.array(attrs[k], dtype=dt)
        raise ConvertError(f"Constant node '{node.name}': unsupported attribute {list(attrs)}")
    if op in ("Identity", "Dropout"):
        return ins[0]
    if op == "Cast":
        if _is_symbolic(ins[0]):
            return ins[0]
        return ins[0].astype(_onnx_np_dtype(attrs["to"], node))
    if op == "Gather":
        return np.take(ins[0], ins[1].astype(np.int64), axis=attrs.get("axis", 0))
    if op in ("Unsqueeze", "Squeeze"):
        axes = attrs.get("axes") if opset < 13 else (list(ins[1]) if len(ins) > 1 and ins[1] is not None else None)
        x = ins[0]
        if op == "Unsqueeze":
            rank = x.ndim + len(axes)
            for a in sorted(int(a) % rank for a in axes):
                x = np.expand_dims(x, a)
            return x
        if axes is None:
            return np.squeeze(x)
        return np.squeeze(x, axis=tuple(int(a) % x.ndim for a in axes))
    if op == "Concat":
        return np.concatenate([np.atleast_1d(i) for i in ins], axis=attrs["axis"])
    if op == "Slice":
        x = ins[0]
        starts, ends = [int(v) for v in ins[1]], [int(v) for v in ins[2]]
        axes = [int(v) for v in ins[3]] if len(ins) > 3 and ins[3] is not None else list(range(len(starts)))
        steps = [int(v) for v in ins[4]] if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
        sl = [slice(None)] * x.ndim
        for s, e, a, st in zip(starts, ends, axes, steps):
            sl[a % x.ndim] = slice(s, e, st)
        return x[tuple(sl)]
    if op == "Reshape":
        shape = [int(v) for v in ins[1]]
        shape = [ins[0].shape[i] if v == 0 else v for i, v in enumerate(shape)]
        return ins[0].reshape(shape)
    if op == "Transpose":
        return np.transpose(ins[0], attrs.get("perm"))
    if op == "ConstantOfShape":
        val = numpy_helper.to_array(attrs["value"]) if "value" in attrs else np.zeros(1, np.float32)
        return np.full([int(v) for v in ins[0]], val.ravel()[0], dtype=val.dtype)
    if op == "Range":
        return np.arange(ins[0], ins[1], ins[2])
    if op == "Expand":
        return ins[0] * np.ones([int(v) for v in ins[1]], dtype=ins[0].dtype)
    if op == "Where":
        return np.where(ins[0], ins[1], ins[2])
    if op in REDUCE_FOLD:  # on constants (shape arithmetic): numpy, axes from the attribute or input 1
        axes = list(ins[1]) if len(ins) > 1 and ins[1] is not None else attrs.get("axes")
        if not axes and attrs.get("noop_with_empty_axes", 0):
            return ins[0]
        axes = tuple(int(a) % max(1, ins[0].ndim) for a in axes) if axes else None
        return REDUCE_FOLD[op](ins[0], axis=axes, keepdims=bool(attrs.get("keepdims", 1)))
    binary = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Equal": np.equal,
              "Less": np.less, "Greater": np.greater, "Pow": np.power, "Max": np.maximum, "Min": np.minimum}
    if op in binary:
        return binary[op](ins[0], ins[1])
    if op == "Mod":  # fmod=0: the sign of the divisor (Python's %); fmod=1: of the dividend (C's fmod)
        return np.fmod(ins[0], ins[1]) if attrs.get("fmod", 0) else np.mod(ins[0], ins[1])
    if op == "Div":
        if np.issubdtype(ins[0].dtype, np.integer):
            return np.trunc(ins[0] / ins[1]).astype(ins[0].dtype)
        return ins[0] / ins[1]
    unary = {"Floor": np.floor, "Ceil": np.ceil, "Sqrt": np.sqrt, "Neg": np.negative, "Abs": np.abs,
             "Relu": lambda v: np.maximum(v, 0), "Not": np.logical_not}
    if op in unary:
        return unary[op](ins[0])
    return None


REDUCE_FOLD = {"ReduceSum": np.sum, "ReduceMean": np.mean, "ReduceMax": np.max, "ReduceMin": np.min,
               "ReduceProd": np.prod}
FOLDABLE = set(REDUCE_FOLD) | {
            "Constant", "Identity", "Dropout", "Cast", "Gather", "Unsqueeze", "Squeeze", "Concat", "Slice",
            "Reshape", "Transpose", "ConstantOfShape", "Range", "Expand", "Where", "Add", "Sub", "Mul", "Equal",
            "Less", "Greater", "Pow", "Max", "Min", "Mod", "Div", "Floor", "Ceil", "Sqrt", "Neg", "Abs", "Relu", "Not"}
# Ops that accept symbolic (run-time) dims in their inputs while folding.
SYMBOLIC_OK = {"Identity", "Cast", "Gather", "Unsqueeze", "Squeeze", "Concat", "Slice"}


class _Converter:
    def __init__(self, model, input_shapes=None):
        import onnx
        import onnx.numpy_helper  # noqa: F401
        import onnx.shape_inference  # noqa: F401
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
        if self.opset is None or not MIN_OPSET <= self.opset <= MAX_OPSET:
            raise ConvertError(f"ONNX opset {self.opset} is not supported (supported: {MIN_OPSET}-{MAX_OPSET})")
        input_shapes = dict(input_shapes or {})
        g = model.graph
        inits = {t.name for t in g.initializer}
        # Pin requested input shapes before shape inference so every shape folds.
        for i in g.input:
            if i.name in input_shapes:
                dims = i.type.tensor_type.shape.dim
                for d, v in zip(dims, input_shapes[i.name]):
                    if int(v) > 0:
                        d.ClearField("dim_param")
                        d.dim_value = int(v)
        try:
            model = onnx.shape_inference.infer_shapes(model)
        except Exception as e:  # shape inference is an aid; folding reports what it cannot do
            print(f"warning: ONNX shape inference failed: {e}", file=sys.stderr)
        self.g = model.graph
        self.const = {t.name: onnx.numpy_helper.to_array(t) for t in self.g.initializer}
        self.shapes = {}
        for vi in list(self.g.input) + list(self.g.value_info) + list(self.g.output):
            if vi.type.HasField("tensor_type") and vi.type.tensor_type.HasField("shape"):
                self.shapes[vi.name] = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
                                        for d in vi.type.tensor_type.shape.dim]
        self.inputs = []
        for i in self.g.input:
            if i.name in inits:
                continue
            shape = [int(v) if v else -1 for v in self.shapes.get(i.name, [])]
            if i.name in input_shapes:
                shape = [int(v) for v in input_shapes[i.name]]
            if not shape:
                raise ConvertError(f"graph input '{i.name}' has no known rank")
            self.inputs.append({"name": i.name, "shape": shape})
            self.shapes[i.name] = [v if v > 0 else None for v in shape]
        self.outputs = [o.name for o in self.g.output]
        self.consumers = {}
        for n in self.g.node:
            for x in n.input:
                self.consumers[x] = self.consumers.get(x, 0) + 1
        self.alias = {}
        self.nodes = []
        self.producer = {}
        self.weights = {}
        self.names = set()

    # --- helpers
    def res(self, name):
        while name in self.alias:
            name = self.alias[name]
        return name

    def known(self, name):
        return name == "" or self.res(name) in self.const

    def value(self, name):
        return None if name == "" else self.const[self.res(name)]

    def rank(self, name):
        s = self.shapes.get(self.res(name), self.shapes.get(name))
        return None if s is None else len(s)

    def data(self, name, node):
        """A node's data input: a produced tensor, a graph input, or a constant made a weight."""
        if name == "":
            return ""
        r = self.res(name)
        if r in self.const:
            v = self.const[r]
            if _is_symbolic(v):
                raise ConvertError(f"{node.op_type} node '{node.name}': input '{name}' depends on run-time "
                                   f"dimensions {v.tolist()} and cannot be a tensor")
            if r not in self.weights:
                if v.dtype.kind not in "fiu":
                    raise ConvertError(f"{node.op_type} node '{node.name}': constant '{name}' has dtype {v.dtype}")
                self.weights[r] = v.astype(np.float32) if v.dtype.kind == "f" else v.astype(np.float32)
            return r
        return r

    def emit(self, node, op, inputs, attrs=None, outputs=None):
        name = node.name or f"{node.op_type}_{len(self.nodes)}"
        base, k = name, 1
        while name in self.names:
            name = f"{base}_{k}"
            k += 1
        self.names.add(name)
        outs = list(outputs if outputs is not None else node.output[:1])
        n = {"name": name, "op": op, "inputs": [self.data(i, node) for i in inputs], "outputs": outs,
             "attrs": attrs or {}}
        for o in outs:
            self.producer[o] = len(self.nodes)
        self.nodes.append(n)
        return n

    def check_attrs(self, node, attrs, allowed, defaults=None):
        defaults = defaults or {}
        for k, v in attrs.items():
            if k in allowed:
                continue
            if k in defaults and v == defaults[k]:
                continue
            raise ConvertError(f"{node.op_type} node '{node.name}': unsupported attribute '{k}' = {v!r}")

    # --- the conversion
    def run(self):
        for node in self.g.node:
            if node.domain not in ("", "ai.onnx"):
                raise ConvertError(f"node '{node.name}': op '{node.domain}::{node.op_type}' is not supported")
            attrs = _attrs(node)
            self.infer_missing_shapes(node)
            if self.try_fold(node, attrs):
                continue
            fn = getattr(self, "op_" + node.op_type, None)
            if fn is None:
                raise ConvertError(f"op '{node.op_type}' (node '{node.name}') is not supported by voxinfer")
            fn(node, attrs)
        self.nodes = [n for n in self.nodes if not n.pop("dead", False)]  # fused away (_fuse_gelu)
        outputs = []
        for o in self.outputs:
            r = self.res(o)
            if r in self.const:
                raise ConvertError(f"graph output '{o}' is a constant; nothing to compute")
            if r != o and (r in self.producer or any(i["name"] == r for i in self.inputs)):
                n = {"name": f"output_{o}", "op": "Identity", "inputs": [r], "outputs": [o], "attrs": {}}
                self.nodes.append(n)
            outputs.append(o)
        used = {i for n in self.nodes for i in n["inputs"]}
        weights = {k: v for k, v in self.weights.items() if k in used}
        self.share_identical_weights(weights)
        graph = {"inputs": self.inputs, "outputs": outputs, "nodes": self.nodes}
        return graph, weights

    def share_identical_weights(self, weights):
        """Stores a weight once when several nodes read identical copies. torch.onnx.export folds
        BatchNorm into each call site of a shared module separately, so a shared encoder (the A3
        dual encoder) comes out as two sets of equal initializers; sharing them keeps the file at
        one encoder and lets Grad-CAM recognise the applications of a layer by the weights they
        read (lib/explain/gradcam.h)."""
        import hashlib
        first, kept, rename = {}, set(), {}
        for n in self.nodes:
            for i in n["inputs"]:
                if i not in weights or i in rename or i in kept:
                    continue
                v = np.ascontiguousarray(weights[i])
                key = (v.dtype.str, v.shape, hashlib.sha256(v.tobytes()).hexdigest())
                if key in first and np.array_equal(weights[first[key]], v):
                    rename[i] = first[key]
                else:
                    first[key] = i
                    kept.add(i)
        for n in self.nodes:
            n["inputs"] = [rename.get(i, i) for i in n["inputs"]]
        for k in rename:
            del weights[k]

    def infer_missing_shapes(self, node):
        """Our own shape propagation where onnx 1.12's lost it (after a Reshape whose target came from a
        run-time Shape, as torch writes GroupNorm and view(x.shape[0], -1)): a node whose outputs have no
        known shape is inferred alone, in a one-node model whose inputs carry the shapes known here and
        whose folded inputs are initializers. Shapes then reach the Shape nodes downstream, which fold."""
        if node.op_type == "Constant" or all(o == "" or (o in self.shapes and None not in self.shapes[o])
                                             for o in node.output):
            return
        import onnx
        from onnx import TensorProto, helper, numpy_helper
        inputs, inits = [], []
        for name in dict.fromkeys(i for i in node.input if i):
            r = self.res(name)
            if r in self.const and not _is_symbolic(self.const[r]):
                inits.append(numpy_helper.from_array(np.asarray(self.const[r]), name))
                continue
            s = self.shapes.get(r, self.shapes.get(name))
            if s is None:
                return  # nothing to infer from
            dims = [d if d is not None else f"{r}_{k}" for k, d in enumerate(s)]
            inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, dims))
        outs = [helper.make_tensor_value_info(o, TensorProto.UNDEFINED, None) for o in node.output if o]
        g = helper.make_graph([node], "one", inputs, outs, inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", self.opset)])
        try:
            g = onnx.shape_inference.infer_shapes(m).graph
        except Exception:
            return  # an aid only: the node's own rule reports what it cannot do
        for vi in list(g.output) + list(g.value_info):
            if vi.name in node.output and vi.type.tensor_type.HasField("shape"):
                new = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
                       for d in vi.type.tensor_type.shape.dim]
                old = self.shapes.get(vi.name)
                if old is None or (len(old) == len(new) and new.count(None) < old.count(None)):
                    self.shapes[vi.name] = new

    def try_fold(self, node, attrs):
        op = node.op_type
        if op == "Shape":
            src = self.res(node.input[0])
            if src in self.const:
                v = np.array(self.const[src].shape, dtype=np.int64)
            else:
                s = self.shapes.get(src) or self.shapes.get(node.input[0])
                if s is None:
                    return False
                if all(d is not None for d in s):
                    v = np.array(s, dtype=np.int64)
                else:
                    v = np.array([d if d is not None else Dim(src, i) for i, d in enumerate(s)], dtype=object)
            start, end = attrs.get("start", 0), attrs.get("end", None)
            self.const[node.output[0]] = v[start:end]
            return True
        if op not in FOLDABLE:
            return False
        if op == "Dropout" and not self.known(node.input[0]):
            self.alias[node.output[0]] = self.res(node.input[0])
            return True
        if op == "Identity" and not self.known(node.input[0]):
            self.alias[node.output[0]] = self.res(node.input[0])
            return True
        if not all(self.known(i) for i in node.input):
            return False
        ins = [self.value(i) for i in node.input]
        if any(_is_symbolic(i) for i in ins if i is not None) and op not in SYMBOLIC_OK:
            return False
        try:
            out = _fold(op, node, ins, attrs, self.opset)
        except ConvertError:
            raise
        except Exception as e:
            raise ConvertError(f"{op} node '{node.name}': cannot fold constant computation: {e}") from e
        if out is None:
            return False
        if not isinstance(out, np.ndarray):
            out = np.array(out)
        if _is_symbolic(out) and all(not isinstance(v, Dim) for v in out.ravel()):
            out = out.astype(np.int64)
        self.const[node.output[0]] = out
        return True

    def spatial_attrs(self, node, attrs, names):
        return {k: [int(v) for v in attrs[k]] for k in names if k in attrs}

    def op_Conv(self, node, attrs):
        self.check_attrs(node, attrs, {"strides", "pads", "dilations", "group", "kernel_shape"}, {"auto_pad": "NOTSET"})
        if not self.known(node.input[1]):
            raise ConvertError(f"Conv node '{node.name}': weights must be constant")
        a = self.spatial_attrs(node, attrs, ["strides", "pads", "dilations"])
        a["group"] = int(attrs.get("group", 1))
        self.emit(node, "Conv", list(node.input), a)

    def op_ConvTranspose(self, node, attrs):
        self.check_attrs(node, attrs, {"strides", "pads", "dilations", "group", "kernel_shape", "output_padding"},
                         {"auto_pad": "NOTSET"})
        if not self.known(node.input[1]):
            raise ConvertError(f"ConvTranspose node '{node.name}': weights must be constant")
        a = self.spatial_attrs(node, attrs, ["strides", "pads", "dilations", "output_padding"])
        a["group"] = int(attrs.get("group", 1))
        self.emit(node, "ConvTranspose", list(node.input), a)

    def op_BatchNormalization(self, node, attrs):
        self.check_attrs(node, attrs, {"epsilon", "momentum"}, {"training_mode": 0, "spatial": 1})
        if len(node.output) > 1 and any(node.output[1:]):
            raise ConvertError(f"BatchNormalization node '{node.name}': training-mode outputs are not supported")
        if not all(self.known(i) for i in node.input[1:]):
            raise ConvertError(f"BatchNormalization node '{node.name}': parameters must be constant")
        eps = float(attrs.get("epsilon", 1e-5))
        gamma, beta, mean, var = (self.value(i).astype(np.float64) for i in node.input[1:5])
        x = self.res(node.input[0])
        prod = self.nodes[self.producer[x]] if x in self.producer else None
        if (prod is not None and prod["op"] in ("Conv", "ConvTranspose") and self.consumers.get(x, 0) == 1
                and x not in self.outputs and prod["outputs"] == [x]):
            s = gamma / np.sqrt(var + eps)
            w = self.weights[prod["inputs"][1]].astype(np.float64)
            b = (self.weights[prod["inputs"][2]].astype(np.float64) if len(prod["inputs"]) > 2 and prod["inputs"][2]
                 else np.zeros_like(s))
            if prod["op"] == "Conv":
                w = w * s.reshape((-1,) + (1,) * (w.ndim - 1))
            else:  # [IC, OC/group, k...]: output channel oc = g * OC/group + j
                grp = prod["attrs"].get("group", 1)
                ocg = w.shape[1]
                w = (w.reshape((grp, w.shape[0] // grp) + w.shape[1:]) *
                     s.reshape((grp, 1, ocg) + (1,) * (w.ndim - 2))).reshape(w.shape)
            b = (b - mean) * s + beta
            wn, bn = prod["name"] + ".weight", prod["name"] + ".bias"
            self.weights[wn], self.weights[bn] = w.astype(np.float32), b.astype(np.float32)
            prod["inputs"] = [prod["inputs"][0], wn, bn]
            prod["outputs"] = [node.output[0]]
            self.producer[node.output[0]] = self.producer.pop(x)
            return
        self.emit(node, "BatchNormalization", list(node.input[:5]), {"epsilon": eps})

    def _simple(self, op, allowed=(), defaults=None):
        def fn(node, attrs):
            self.check_attrs(node, attrs, set(allowed), defaults)
            a = {k: attrs[k] for k in allowed if k in attrs}
            self.emit(node, op, list(node.input), a)
        return fn

    def __getattr__(self, name):
        table = {
            "op_Relu": ("Relu", ()), "op_Sigmoid": ("Sigmoid", ()), "op_Tanh": ("Tanh", ()),
            "op_LeakyRelu": ("LeakyRelu", ("alpha",)),
            "op_GlobalAveragePool": ("GlobalAveragePool", ()), "op_GlobalMaxPool": ("GlobalMaxPool", ()),
            "op_Sub": ("Sub", ()), "op_Mul": ("Mul", ()),
            "op_MatMul": ("MatMul", ()), "op_Flatten": ("Flatten", ("axis",)),
            # issue 18 (activations/math without attributes; the rest below op_LeakyRelu)
            "op_HardSwish": ("HardSwish", ()), "op_Softplus": ("Softplus", ()), "op_Erf": ("Erf", ()),
            "op_Exp": ("Exp", ()), "op_Log": ("Log", ()), "op_Sqrt": ("Sqrt", ()), "op_Neg": ("Neg", ()),
            "op_Abs": ("Abs", ()),
        }
        if name in table:
            op, allowed = table[name]
            return self._simple(op, allowed)
        raise AttributeError(name)

    def op_InstanceNormalization(self, node, attrs):
        """Written as ONNX gives it (x, scale, B; epsilon). The engine registers it with the field-models
        work (issue 18); until then the loader names it as an unsupported op."""
        self.check_attrs(node, attrs, {"epsilon"})
        if not all(self.known(i) for i in node.input[1:3]):
            raise ConvertError(f"InstanceNormalization node '{node.name}': scale and bias must be constant")
        self.emit(node, "InstanceNormalization", list(node.input[:3]), {"epsilon": float(attrs.get("epsilon", 1e-5))})

    def op_PRelu(self, node, attrs):
        """x and a constant slope: one value, or one per channel (torch writes [C, 1, ...])."""
        self.check_attrs(node, attrs, set())
        if not self.known(node.input[1]):
            raise ConvertError(f"PRelu node '{node.name}': the slope must be constant")
        self.emit(node, "PRelu", list(node.input[:2]))

    def op_LeakyRelu(self, node, attrs):
        self.check_attrs(node, attrs, {"alpha"})
        self.emit(node, "LeakyRelu", list(node.input), {"alpha": float(attrs.get("alpha", 0.01))})

    # --- activations and elementwise math (issue 18; lib/ops/activation.cpp)
    def op_Elu(self, node, attrs):
        self.check_attrs(node, attrs, {"alpha"})
        self.emit(node, "Elu", [node.input[0]], {"alpha": float(attrs.get("alpha", 1.0))})

    def op_Selu(self, node, attrs):
        self.check_attrs(node, attrs, {"alpha", "gamma"})
        self.emit(node, "Selu", [node.input[0]], {"alpha": float(attrs.get("alpha", 1.67326319217681884765625)),
                                                  "gamma": float(attrs.get("gamma", 1.05070102214813232421875))})

    def op_HardSigmoid(self, node, attrs):
        self.check_attrs(node, attrs, {"alpha", "beta"})
        self.emit(node, "HardSigmoid", [node.input[0]], {"alpha": float(attrs.get("alpha", 0.2)),
                                                         "beta": float(attrs.get("beta", 0.5))})

    def op_Gelu(self, node, attrs):  # ONNX opset 20; written here should a newer exporter give it
        self.check_attrs(node, attrs, set(), {"approximate": "none"})
        self.emit(node, "Gelu", [node.input[0]])

    def op_Clip(self, node, attrs):
        """Opset >= 11 gives min and max as optional inputs (constants here, either may be absent);
        before, as attributes. Written as our attributes min/max."""
        a = {}
        if self.opset < 11:
            self.check_attrs(node, attrs, {"min", "max"})
            a = {k: float(attrs[k]) for k in ("min", "max") if k in attrs}
        else:
            self.check_attrs(node, attrs, set())
            for k, name in zip(("min", "max"), list(node.input[1:3])):
                if not name:
                    continue
                if not self.known(name):
                    raise ConvertError(f"Clip node '{node.name}': input '{k}' ('{name}') must be a constant")
                v = np.asarray(self.value(name))
                if _is_symbolic(v) or v.size != 1:
                    raise ConvertError(f"Clip node '{node.name}': input '{k}' must be a scalar, got shape "
                                       f"{list(v.shape)}")
                a[k] = float(v.reshape(()))
        if "min" in a and "max" in a and a["min"] > a["max"]:
            raise ConvertError(f"Clip node '{node.name}': min {a['min']} is greater than max {a['max']}")
        self.emit(node, "Clip", [node.input[0]], a)

    def op_Pow(self, node, attrs):
        self.check_attrs(node, attrs, set())
        if not self.known(node.input[1]):
            raise ConvertError(f"Pow node '{node.name}': the exponent ('{node.input[1]}') must be a constant "
                               f"scalar (a computed exponent is not supported)")
        v = np.asarray(self.value(node.input[1]))
        if _is_symbolic(v) or v.size != 1:
            raise ConvertError(f"Pow node '{node.name}': the exponent must be a scalar, got shape {list(v.shape)}")
        self.emit(node, "Pow", [node.input[0]], {"exponent": float(v.reshape(()))})

    def _scalar_weight(self, name):
        v = self.weights.get(name)
        return None if v is None or v.size != 1 else float(v.reshape(()))

    def _only_use(self, tensor):
        return self.consumers.get(tensor, 0) == 1 and tensor not in self.outputs

    def _fuse_gelu(self, node):
        """torch.onnx.export writes F.gelu (exact) as Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5); the
        five nodes become one Gelu when the intermediates have no other reader. Returns whether it fused."""
        def prod(t, op):
            i = self.producer.get(t)
            n = self.nodes[i] if i is not None else None
            return n if n is not None and n["op"] == op and not n.get("dead") else None
        def split(n, test):  # (the input passing test, the other one) of a binary node
            a, b = n["inputs"]
            return (a, b) if test(a) else (b, a) if test(b) else (None, None)
        ins = [self.data(i, node) for i in node.input]
        half = [t for t in ins if self._scalar_weight(t) == 0.5]
        if len(ins) != 2 or not half:
            return False
        inner = ins[1] if ins[0] == half[0] else ins[0]
        mul = prod(inner, "Mul")
        if mul is None or not self._only_use(inner):
            return False
        for x, add_out in (mul["inputs"], mul["inputs"][::-1]):
            add = prod(add_out, "Add")
            if add is None or not self._only_use(add_out):
                continue
            erf_out, one = split(add, lambda t: prod(t, "Erf") is not None)
            if erf_out is None or self._scalar_weight(one) != 1.0 or not self._only_use(erf_out):
                continue
            erf = prod(erf_out, "Erf")
            div = prod(erf["inputs"][0], "Div")
            if div is None or not self._only_use(erf["inputs"][0]) or div["inputs"][0] != x:
                continue
            r2 = self._scalar_weight(div["inputs"][1])
            if r2 is None or abs(r2 - np.sqrt(2.0)) > 1e-6:
                continue
            for n in (div, erf, add, mul):
                n["dead"] = True
            self.emit(node, "Gelu", [x])
            return True
        return False

    def _fuse_hardswish(self, node):
        """Before opset 14 torch writes hardswish as Mul(x, HardSigmoid(x){alpha 1/6, beta 0.5}): one
        HardSwish node when the HardSigmoid has no other reader. Returns whether it fused."""
        ins = [self.data(i, node) for i in node.input]
        for x, h in (ins, ins[::-1]):
            i = self.producer.get(h)
            n = self.nodes[i] if i is not None else None
            if (n is not None and n["op"] == "HardSigmoid" and not n.get("dead") and n["inputs"] == [x]
                    and self._only_use(h) and abs(n["attrs"]["alpha"] - 1 / 6) < 1e-7
                    and n["attrs"]["beta"] == 0.5):
                n["dead"] = True
                self.emit(node, "HardSwish", [x])
                return True
        return False

    def _fuse_group_norm(self, node):
        """torch.onnx.export (opset <= 17) writes nn.GroupNorm(G, C) as Reshape(x, [0, G, -1]) ->
        InstanceNormalization(scale 1, bias 0) -> Reshape(shape of x) -> Mul(gamma) -> Add(beta); the
        five nodes become one GroupNormalization when the intermediates have no other reader. Returns
        whether it fused."""
        def prod(t, op):
            i = self.producer.get(t)
            n = self.nodes[i] if i is not None else None
            return n if n is not None and n["op"] == op and not n.get("dead") else None
        ins = [self.data(i, node) for i in node.input]
        if len(ins) != 2:
            return False
        for mul_out, beta in (ins, ins[::-1]):
            mul = prod(mul_out, "Mul")
            if mul is None or beta not in self.weights or not self._only_use(mul_out):
                continue
            for back_out, gamma in (mul["inputs"], mul["inputs"][::-1]):
                back = prod(back_out, "Reshape")
                if back is None or gamma not in self.weights or not self._only_use(back_out):
                    continue
                norm = prod(back["inputs"][0], "InstanceNormalization")
                if norm is None or not self._only_use(back["inputs"][0]):
                    continue
                grouped = prod(norm["inputs"][0], "Reshape")
                if grouped is None or not self._only_use(norm["inputs"][0]):
                    continue
                shape, target = back["attrs"]["shape"], grouped["attrs"]["shape"]
                if len(shape) < 3 or len(target) != 3 or min(shape) < 1:
                    continue
                c, groups = shape[1], target[1]
                one, zero = self.weights.get(norm["inputs"][1]), self.weights.get(norm["inputs"][2])
                g, b = self.weights[gamma], self.weights[beta]
                if (groups < 1 or c % groups or target[0] not in (0, shape[0]) or
                        target[2] not in (-1, int(np.prod(shape[2:])) * (c // groups)) or
                        one is None or zero is None or one.size != groups or not np.all(one == 1) or
                        not np.all(zero == 0) or g.size != c or b.size != c or
                        any(d != 1 for d in g.shape[1:]) or any(d != 1 for d in b.shape[1:]) or
                        self.shapes.get(grouped["inputs"][0], shape) != shape):
                    continue
                for n in (grouped, norm, back, mul):
                    n["dead"] = True
                names = []
                for w, what in ((g, "scale"), (b, "bias")):
                    name = f"{node.name or 'GroupNorm'}_{what}"
                    while name in self.const or name in self.weights:
                        name += "_"
                    self.const[name] = self.weights[name] = w.reshape(c).astype(np.float32)
                    names.append(name)
                self.emit(node, "GroupNormalization", [grouped["inputs"][0]] + names,
                          {"num_groups": int(groups), "epsilon": float(norm["attrs"].get("epsilon", 1e-5))})
                return True
        return False

    def op_Add(self, node, attrs):
        self.check_attrs(node, attrs, set())
        if len(node.input) != 2 or not (self._fuse_group_norm(node) or self._absorb_layer_norm_affine(node, "bias")):
            self.emit(node, "Add", list(node.input))

    def op_Mul(self, node, attrs):
        self.check_attrs(node, attrs, set())
        if len(node.input) != 2 or not (self._fuse_gelu(node) or self._fuse_hardswish(node) or
                                        self._absorb_layer_norm_affine(node, "scale")):
            self.emit(node, "Mul", list(node.input))

    def _softmax(self, node, attrs, op):
        """Opset 13: one axis (default -1). Opsets 11-12 (default axis 1): the input is seen as 2-D
        [prod(dims before axis), prod(dims from axis)] and normalised along the second; on the last
        axis that is the same, otherwise it becomes Flatten(axis) -> op(axis 1) -> Reshape(back)."""
        self.check_attrs(node, attrs, {"axis"})
        r = self.rank(node.input[0])
        axis = int(attrs.get("axis", -1 if self.opset >= 13 else 1))
        if self.opset >= 13 or (r is not None and axis % r == r - 1 and -r <= axis < r):
            self.emit(node, op, [node.input[0]], {"axis": axis})
            return
        shape = self.shapes.get(self.res(node.input[0]), self.shapes.get(node.input[0]))
        if r is None or shape is None:
            raise ConvertError(f"{op} node '{node.name}': opset {self.opset} {op} over axes {axis}.. needs the "
                               f"input's shape, which is not known")
        if not -r <= axis < r:
            raise ConvertError(f"{op} node '{node.name}': attribute axis = {axis} is outside a rank-{r} input")
        if sum(d is None for d in shape) > 1:
            raise ConvertError(f"{op} node '{node.name}': opset {self.opset} {op} over axes {axis}.. of a tensor "
                               f"with several run-time dimensions {shape} is not supported")
        out = node.output[0]
        flat, soft = self._fresh(out + "_2d"), self._fresh(out + "_2d_" + op.lower())
        self.emit(node, "Flatten", [node.input[0]], {"axis": axis % r}, outputs=[flat])
        self.emit(node, op, [flat], {"axis": 1}, outputs=[soft])
        self.emit(node, "Reshape", [soft], {"shape": [-1 if d is None else int(d) for d in shape]}, outputs=[out])

    def _fresh(self, name):
        while name in self.producer or name in self.const or name in self.shapes:
            name += "_"
        return name

    def op_Softmax(self, node, attrs):
        self._softmax(node, attrs, "Softmax")

    def op_LogSoftmax(self, node, attrs):
        self._softmax(node, attrs, "LogSoftmax")

    # --- reductions and layer norm (issue 18; lib/ops/reduce.cpp, lib/ops/layer_norm.cpp)
    def _reduce(self, node, attrs):
        """axes as an attribute (opset <= 17 except ReduceSum 13) or as a constant input 1 (ReduceSum
        opset 13, the others opset 18): written as our attribute `axes`."""
        op = node.op_type
        self.check_attrs(node, attrs, {"axes", "keepdims", "noop_with_empty_axes"})
        axes = attrs.get("axes")
        if len(node.input) > 1 and node.input[1]:
            if not self.known(node.input[1]) or _is_symbolic(self.value(node.input[1])):
                raise ConvertError(f"{op} node '{node.name}': input 'axes' ('{node.input[1]}') must be a constant "
                                   f"(axes computed at run time are not supported)")
            axes = [int(v) for v in np.asarray(self.value(node.input[1])).ravel()]
        a = {"keepdims": int(attrs.get("keepdims", 1))}
        if axes is not None and len(axes):
            a["axes"] = [int(v) for v in axes]
        elif int(attrs.get("noop_with_empty_axes", 0)):
            a["noop_with_empty_axes"] = 1
        self.emit(node, op, [node.input[0]], a)

    op_ReduceMean = op_ReduceSum = op_ReduceMax = op_ReduceMin = op_ReduceProd = _reduce
    op_ReduceL1 = op_ReduceL2 = op_ReduceSumSquare = op_ReduceLogSum = op_ReduceLogSumExp = _reduce

    def _arg_reduce(self, node, attrs):
        """torch.max(x, dim) writes ReduceMax and ArgMax; an index output nobody reads is dropped."""
        if self.consumers.get(node.output[0], 0) or node.output[0] in self.outputs:
            raise ConvertError(f"{node.op_type} node '{node.name}': integer index outputs are not supported")

    op_ArgMax = op_ArgMin = _arg_reduce

    def op_LayerNormalization(self, node, attrs):
        self.check_attrs(node, attrs, {"axis", "epsilon", "stash_type"})
        if not all(self.known(i) for i in node.input[1:3] if i):
            raise ConvertError(f"LayerNormalization node '{node.name}': Scale and B must be constant")
        outs = list(node.output)
        while len(outs) > 1 and (not outs[-1] or not (self.consumers.get(outs[-1], 0) or outs[-1] in self.outputs)):
            outs.pop()
        if any(not o for o in outs):
            raise ConvertError(f"LayerNormalization node '{node.name}': InvStdDev without Mean is not supported")
        ins = list(node.input[:3])
        while ins and not ins[-1]:
            ins.pop()
        if len(ins) == 3 and not ins[1]:
            raise ConvertError(f"LayerNormalization node '{node.name}': B without Scale is not supported")
        self.emit(node, "LayerNormalization", ins, {"axis": int(attrs.get("axis", -1)),
                                                    "epsilon": float(attrs.get("epsilon", 1e-5))}, outputs=outs)

    def _prod_node(self, t, op):
        i = self.producer.get(t)
        n = self.nodes[i] if i is not None else None
        return n if n is not None and n["op"] == op and not n.get("dead") else None

    def _fuse_layer_norm(self, node):
        """torch.onnx.export (opset <= 16) writes nn.LayerNorm as ReduceMean(x) -> Sub(x, mean) -> Pow(2)
        -> ReduceMean -> Add(eps) -> Sqrt -> Div(sub, sqrt) [-> Mul(weight) -> Add(bias), absorbed by
        _absorb_layer_norm_affine]; the seven nodes become one LayerNormalization when the reductions
        run over the trailing axes and the intermediates have no other reader. Returns whether it fused."""
        prod = self._prod_node
        ins = [self.data(i, node) for i in node.input]
        if len(ins) != 2:
            return False
        sub_out, sqrt_out = ins
        sqrt = prod(sqrt_out, "Sqrt")
        sub = prod(sub_out, "Sub")
        if sqrt is None or sub is None or not self._only_use(sqrt_out):
            return False
        if self.consumers.get(sub_out, 0) != 2 or sub_out in self.outputs:  # read by Pow and this Div only
            return False
        add = prod(sqrt["inputs"][0], "Add")
        if add is None or not self._only_use(sqrt["inputs"][0]):
            return False
        var_out, eps_name = add["inputs"] if prod(add["inputs"][0], "ReduceMean") else add["inputs"][::-1]
        var, eps = prod(var_out, "ReduceMean"), self._scalar_weight(eps_name)
        if var is None or eps is None or not self._only_use(var_out):
            return False
        pw = prod(var["inputs"][0], "Pow")
        if pw is None or not self._only_use(var["inputs"][0]) or pw["attrs"].get("exponent") != 2.0:
            return False
        x, mean_out = sub["inputs"]
        mean = prod(mean_out, "ReduceMean")
        if pw["inputs"][0] != sub_out or mean is None or mean["inputs"][0] != x or not self._only_use(mean_out):
            return False
        r = self.rank(x)
        axes = mean["attrs"].get("axes")
        if (r is None or not axes or var["attrs"].get("axes") is None or
                sorted(a % r for a in axes) != sorted(a % r for a in var["attrs"]["axes"]) or
                sorted(a % r for a in axes) != list(range(r - len(axes), r)) or
                mean["attrs"].get("keepdims", 1) != 1 or var["attrs"].get("keepdims", 1) != 1):
            return False
        for n in (mean, sub, pw, var, add, sqrt):
            n["dead"] = True
        self.emit(node, "LayerNormalization", [x], {"axis": r - len(axes), "epsilon": float(eps)})
        return True

    def _absorb_layer_norm_affine(self, node, what):
        """Mul (what = "scale") or Add ("bias") of a fused LayerNormalization's output by a constant
        that broadcasts over the normalised axes only: the constant becomes the node's Scale or B."""
        ins = list(node.input)
        for y, w in (ins, ins[::-1]):
            ln = self._prod_node(self.res(y), "LayerNormalization")
            if ln is None or not self._only_use(self.res(y)) or not self.known(w) or _is_symbolic(self.value(w)):
                continue
            if len(ln["inputs"]) != (1 if what == "scale" else 2) or len(ln["outputs"]) != 1:
                continue
            x = ln["inputs"][0]
            shape, r = self.shapes.get(x), self.rank(x)
            axis = ln["attrs"]["axis"] % r if r else None
            if shape is None or axis is None or any(d is None for d in shape[axis:]):
                continue
            norm = tuple(int(d) for d in shape[axis:])
            v = np.asarray(self.value(w))
            if v.dtype.kind != "f" or v.ndim > r:
                continue
            lead = v.shape[:max(0, v.ndim - len(norm))]
            try:
                if any(d != 1 for d in lead) or np.broadcast_shapes(v.shape[len(lead):], norm) != norm:
                    continue
            except ValueError:
                continue
            name = self._fresh(f"{ln['name']}_{what}")
            self.const[name] = self.weights[name] = np.ascontiguousarray(
                np.broadcast_to(v.reshape(v.shape[len(lead):]), norm), dtype=np.float32)
            ln["inputs"].append(name)
            ln["outputs"] = [node.output[0]]
            self.producer[node.output[0]] = self.producer.pop(self.res(y))
            return True
        return False

    def op_Div(self, node, attrs):
        self.check_attrs(node, attrs, set())
        if len(node.input) != 2 or not self._fuse_layer_norm(node):
            self.emit(node, "Div", list(node.input))

    def _pool(self, node, attrs, op, allowed, defaults):
        self.check_attrs(node, attrs, allowed, defaults)
        if len(node.output) > 1 and node.output[1]:
            raise ConvertError(f"{op} node '{node.name}': the indices output is not supported")
        a = self.spatial_attrs(node, attrs, ["kernel_shape", "strides", "pads", "dilations"])
        for k in ("ceil_mode", "count_include_pad"):
            if k in attrs:
                a[k] = int(attrs[k])
        self.emit(node, op, [node.input[0]], a)

    def op_MaxPool(self, node, attrs):
        self._pool(node, attrs, "MaxPool", {"kernel_shape", "strides", "pads", "dilations", "ceil_mode"},
                   {"auto_pad": "NOTSET", "storage_order": 0})

    def op_AveragePool(self, node, attrs):
        self._pool(node, attrs, "AveragePool", {"kernel_shape", "strides", "pads", "ceil_mode", "count_include_pad"},
                   {"auto_pad": "NOTSET"})

    def op_Concat(self, node, attrs):
        axis = int(attrs["axis"])
        r = self.rank(node.output[0]) or self.rank(node.input[0])
        if axis < 0 and r:
            axis += r
        self.emit(node, "Concat", list(node.input), {"axis": axis})

    def op_Gemm(self, node, attrs):
        self.check_attrs(node, attrs, {"alpha", "beta", "transB"}, {"transA": 0})
        alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))
        ins = list(node.input)
        for idx, f in ((1, alpha), (2, beta)):
            if f != 1.0 and len(ins) > idx and ins[idx]:
                if not self.known(ins[idx]):
                    raise ConvertError(f"Gemm node '{node.name}': alpha/beta with a non-constant operand")
                self.const[ins[idx] + "_scaled"] = self.value(ins[idx]) * f
                ins[idx] = ins[idx] + "_scaled"
        self.emit(node, "Gemm", ins, {"transB": int(attrs.get("transB", 0))})

    def op_Reshape(self, node, attrs):
        self.check_attrs(node, attrs, set(), {"allowzero": 0})
        if not self.known(node.input[1]) or _is_symbolic(self.value(node.input[1])):
            raise ConvertError(f"Reshape node '{node.name}': the target shape is not known at conversion time")
        self.emit(node, "Reshape", [node.input[0]], {"shape": [int(v) for v in self.value(node.input[1])]})

    def op_Pad(self, node, attrs):
        self.check_attrs(node, attrs, {"mode"})
        if not self.known(node.input[1]):
            raise ConvertError(f"Pad node '{node.name}': pads must be constant")
        a = {"pads": [int(v) for v in self.value(node.input[1])], "mode": attrs.get("mode", "constant")}
        if len(node.input) > 2 and node.input[2]:
            a["value"] = float(self.value(node.input[2]).ravel()[0])
        if len(node.input) > 3 and node.input[3]:
            raise ConvertError(f"Pad node '{node.name}': the axes input is not supported")
        self.emit(node, "Pad", [node.input[0]], a)

    def op_Slice(self, node, attrs):
        if not all(self.known(i) for i in node.input[1:]):
            raise ConvertError(f"Slice node '{node.name}': starts/ends/axes/steps must be constant")
        ins = [self.value(i) for i in node.input[1:]]
        a = {"starts": [int(v) for v in ins[0]], "ends": [int(v) for v in ins[1]]}
        if len(ins) > 2 and ins[2] is not None:
            a["axes"] = [int(v) for v in ins[2]]
        if len(ins) > 3 and ins[3] is not None and any(int(v) != 1 for v in ins[3]):
            raise ConvertError(f"Slice node '{node.name}': attribute 'steps' != 1 is not supported")
        self.emit(node, "Slice", [node.input[0]], a)

    # --- view ops (issue 18; lib/ops/view_transform.cpp)
    def _const_ints(self, node, name, what):
        if not self.known(name) or _is_symbolic(self.value(name)):
            raise ConvertError(f"{node.op_type} node '{node.name}': input '{what}' ('{name}') is not known at "
                               f"conversion time")
        return [int(v) for v in np.asarray(self.value(name)).ravel()]

    def op_Transpose(self, node, attrs):
        self.check_attrs(node, attrs, {"perm"})
        r = self.rank(node.input[0])
        perm = [int(v) for v in attrs["perm"]] if "perm" in attrs else (list(range(r))[::-1] if r else None)
        if perm is None:
            raise ConvertError(f"Transpose node '{node.name}': no attribute 'perm' and the input's rank is unknown")
        if sorted(perm) != list(range(len(perm))) or (r is not None and len(perm) != r):
            raise ConvertError(f"Transpose node '{node.name}': attribute 'perm' = {perm} is not a permutation of the "
                               f"axes of a rank-{r if r is not None else len(perm)} input")
        self.emit(node, "Transpose", [node.input[0]], {"perm": perm})

    def op_Expand(self, node, attrs):
        self.check_attrs(node, attrs, set())
        shape = self._const_ints(node, node.input[1], "shape")
        x = self.shapes.get(self.res(node.input[0]))
        if x is not None and all(d is not None for d in x):
            r = max(len(x), len(shape))
            xa, sa = [1] * (r - len(x)) + list(x), [1] * (r - len(shape)) + shape
            if any(a != b and a != 1 and b != 1 for a, b in zip(xa, sa)):
                raise ConvertError(f"Expand node '{node.name}': input of shape {list(x)} cannot expand to {shape}")
            if len(shape) <= len(x) and all(b == 1 or a == b for a, b in zip(xa, sa)):  # torch's repeat: a no-op
                self.alias[node.output[0]] = self.res(node.input[0])
                return
        self.emit(node, "Expand", [node.input[0]], {"shape": shape})

    def op_Tile(self, node, attrs):
        self.check_attrs(node, attrs, set())
        self.emit(node, "Tile", [node.input[0]], {"repeats": self._const_ints(node, node.input[1], "repeats")})

    def op_Split(self, node, attrs):
        """Opset < 13: attribute 'split'; 13+: optional input 'split'; 18: 'num_outputs' (equal parts,
        the last smaller when they do not divide). No split: equal parts, one per output."""
        self.check_attrs(node, attrs, {"axis", "split", "num_outputs"})
        a = {"axis": int(attrs.get("axis", 0))}
        if "split" in attrs:
            a["split"] = [int(v) for v in attrs["split"]]
        elif len(node.input) > 1 and node.input[1]:
            a["split"] = self._const_ints(node, node.input[1], "split")
        elif "num_outputs" in attrs:
            x = self.shapes.get(self.res(node.input[0]))
            n = int(attrs["num_outputs"])
            ext = x[a["axis"] % len(x)] if x else None
            if ext is None:
                raise ConvertError(f"Split node '{node.name}': num_outputs needs the input's extent on axis {a['axis']}")
            part = -(-ext // n)
            a["split"] = [min(part, ext - k * part) for k in range(n)]
        self.emit(node, "Split", [node.input[0]], a, outputs=list(node.output))

    def op_Cast(self, node, attrs):
        """Casts of constants are folded (try_fold). A run-time float tensor cast to float or double is the
        identity; any other cast of a run-time tensor cannot be expressed."""
        to = int(attrs.get("to", 0))
        if to in (1, 11):  # FLOAT, DOUBLE: the engine computes in float
            self.alias[node.output[0]] = self.res(node.input[0])
            return
        raise ConvertError(f"Cast node '{node.name}': attribute 'to' = {to} casts a tensor computed at run time to a "
                           f"non-float type; voxinfer folds such casts only when their input is a constant")

    def op_Where(self, node, attrs):
        """The condition must fold to a constant (torch writes Where for masks of fixed shape); a mask
        that is all true or all false is the matching input, otherwise a select with the 0/1 mask."""
        self.check_attrs(node, attrs, set())
        c, x, y = node.input[:3]
        if not self.known(c) or _is_symbolic(self.value(c)):
            raise ConvertError(f"Where node '{node.name}': the condition ('{c}') is computed at run time; only "
                               f"a condition known at conversion time is supported")
        cond = np.asarray(self.value(c)).astype(bool)
        out_shape = self.shapes.get(node.output[0])
        for keep, t in ((True, x), (False, y)):
            ts = self.shapes.get(self.res(t)) if not self.known(t) else list(np.shape(self.value(t)))
            if (np.all(cond) if keep else not np.any(cond)) and not self.known(t) and ts is not None and \
                    out_shape is not None and list(ts) == list(out_shape) and cond.ndim <= len(ts):
                self.alias[node.output[0]] = self.res(t)
                return
        name = f"{node.name or 'Where'}_condition"
        while name in self.const or name in self.weights:
            name += "_"
        self.const[name] = cond.astype(np.float32)
        self.emit(node, "Where", [name, x, y])

    def op_Resize(self, node, attrs):
        mode = attrs.get("mode", "nearest")
        ctm = attrs.get("coordinate_transformation_mode", "half_pixel")
        self.check_attrs(node, attrs, {"mode", "coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a"},
                         {"exclude_outside": 0, "extrapolation_value": 0.0})
        a = {}
        if mode == "nearest":
            if ctm != "asymmetric" or attrs.get("nearest_mode", "round_prefer_floor") != "floor":
                raise ConvertError(f"Resize node '{node.name}': attribute coordinate_transformation_mode='{ctm}' with "
                                   f"nearest_mode='{attrs.get('nearest_mode')}' is not supported (PyTorch's "
                                   f"'nearest' exports as asymmetric + floor)")
            a["mode"], a["align_corners"] = "nearest", 0
        elif mode == "linear":
            if ctm == "align_corners":
                a["align_corners"] = 1
            elif ctm in ("pytorch_half_pixel", "half_pixel"):
                a["align_corners"] = 0
            else:
                raise ConvertError(f"Resize node '{node.name}': attribute coordinate_transformation_mode='{ctm}' "
                                   f"is not supported")
            a["mode"] = "linear"
        else:
            raise ConvertError(f"Resize node '{node.name}': attribute mode='{mode}' is not supported")
        scales = self.value(node.input[2]) if len(node.input) > 2 and self.known(node.input[2]) else None
        sizes = self.value(node.input[3]) if len(node.input) > 3 and self.known(node.input[3]) else None
        if len(node.input) > 3 and node.input[3] and sizes is None:
            raise ConvertError(f"Resize node '{node.name}': the target sizes are computed at run time in a way "
                               f"voxinfer cannot express")
        inputs = [node.input[0]]
        if sizes is not None and sizes.size:
            if _is_symbolic(sizes):
                spatial = list(sizes.ravel()[2:])
                likes = {d.tensor for d in spatial if isinstance(d, Dim)}
                if len(likes) != 1 or [getattr(d, "axis", None) for d in spatial] != list(range(2, 2 + len(spatial))):
                    raise ConvertError(f"Resize node '{node.name}': sizes {sizes.tolist()} are not the spatial "
                                       f"size of one tensor")
                inputs.append(likes.pop())
            else:
                a["sizes"] = [int(v) for v in sizes.ravel()[2:]]
        elif scales is not None and scales.size:
            sc = [float(v) for v in scales.ravel()]
            if sc[0] != 1.0 or sc[1] != 1.0:
                raise ConvertError(f"Resize node '{node.name}': scaling batch or channel axes is not supported")
            a["scales"] = sc[2:]
        else:
            raise ConvertError(f"Resize node '{node.name}': neither scales nor sizes are known")
        self.emit(node, "Resize", inputs, a)


def convert_onnx(model, out_path=None, metadata=None, name=None, compress=False, input_shapes=None):
    """Converts an ONNX ModelProto (or a path) to .vxm. Returns (graph, weights, metadata)."""
    import onnx
    if isinstance(model, (str, bytes, os.PathLike)) and not isinstance(model, bytes):
        model = onnx.load(model)
    elif isinstance(model, bytes):
        model = onnx.load_from_string(model)
    c = _Converter(model, input_shapes)
    graph, weights = c.run()
    meta = {"name": name or model.graph.name or "model", "producer": PRODUCER,
            "inputs": [{"name": i["name"], "shape": i["shape"]} for i in graph["inputs"]],
            "outputs": [{"name": o} for o in graph["outputs"]]}
    for k, v in (metadata or {}).items():
        meta[k] = v
    if name:
        meta["name"] = name
    if out_path:
        vxm.write(out_path, graph, weights, meta, compress=compress)
    return graph, weights, meta


def convert_torch(module, example_inputs, out_path, metadata=None, opset=13, input_names=None,
                  output_names=None, dynamic_axes=None, compress=False):
    """PyTorch module -> ONNX (in memory) -> .vxm. `example_inputs`: a tensor or a tuple of them.
    The module is exported in eval mode with constant folding. Returns (graph, weights, metadata)."""
    import torch
    if isinstance(example_inputs, torch.Tensor):
        example_inputs = (example_inputs,)
    example_inputs = tuple(example_inputs)
    input_names = input_names or ([f"input{i}" for i in range(len(example_inputs))] if len(example_inputs) > 1
                                  else ["input"])
    output_names = output_names or ["output"]
    was_training = module.training
    module.eval()
    buf = io.BytesIO()
    try:
        with torch.no_grad():
            torch.onnx.export(module, example_inputs, buf, opset_version=opset, do_constant_folding=True,
                              input_names=input_names, output_names=output_names, dynamic_axes=dynamic_axes)
    finally:
        module.train(was_training)
    shapes = None if dynamic_axes else {n: list(t.shape) for n, t in zip(input_names, example_inputs)}
    return convert_onnx(buf.getvalue(), out_path, metadata=metadata, compress=compress, input_shapes=shapes)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if any(a == "--from-nnunet" or a.startswith("--from-nnunet=") for a in argv):
        from nnunet import importer
        return importer.main(argv)
    p = argparse.ArgumentParser(description="Convert an ONNX model (opset 11-18) to voxinfer's .vxm format.")
    p.add_argument("onnx")
    p.add_argument("out")
    p.add_argument("--name")
    p.add_argument("--metadata", help="JSON file merged into the metadata (see weights/FORMAT.md)")
    p.add_argument("--compress", action="store_true", help="zlib-compress the tensors")
    p.add_argument("--input-shape", action="append", default=[], metavar="NAME=D0,D1,...",
                   help="fix a graph input's shape (free dims otherwise stay -1)")
    args = p.parse_args(argv)
    meta = None
    if args.metadata:
        with open(args.metadata) as f:
            meta = json.load(f)
    shapes = {}
    for s in args.input_shape:
        k, v = s.split("=", 1)
        shapes[k] = [int(d) for d in v.split(",")]
    try:
        graph, weights, _ = convert_onnx(args.onnx, args.out, metadata=meta, name=args.name, compress=args.compress,
                                         input_shapes=shapes)
    except ConvertError as e:
        print(f"convert.py: error: {e}", file=sys.stderr)
        return 1
    n = sum(int(np.prod(w.shape)) for w in weights.values())
    print(f"wrote {args.out}: {len(graph['nodes'])} nodes, {len(weights)} tensors, {n} weights")
    return 0


if __name__ == "__main__":
    sys.exit(main())
