"""nnU-Net v2's networks (dynamic-network-architectures' PlainConvUNet and ResidualEncoderUNet),
rebuilt from a plans.json configuration with the same module tree, so that a real checkpoint's
`network_weights` loads with strict=True: the key names follow dynamic-network-architectures
exactly, including its double registrations (`conv` and `all_modules.0` are one Conv, and the
decoder keeps a reference to the encoder, hence the `decoder.encoder.*` keys).

    from models.nnunet_networks import build_from_plans
    net = build_from_plans(plans, "3d_fullres", num_input_channels=1, num_output_channels=3)

Only the classes nnU-Net's own planners write are built; anything else (a custom network, norm
or activation class) is an NnunetArchitectureError naming it. Deep supervision is off: the
network returns the full-resolution segmentation head only, as nnU-Net's predictor builds it.
"""
import copy

import torch
from torch import nn


class NnunetArchitectureError(ValueError):
    pass


PLAIN = "PlainConvUNet"
RESENC = "ResidualEncoderUNet"
# network_class_name values nnU-Net writes (v2 >= 2.4, and the old residual_unet module path)
NETWORK_CLASSES = {
    "dynamic_network_architectures.architectures.unet.PlainConvUNet": PLAIN,
    "dynamic_network_architectures.architectures.unet.ResidualEncoderUNet": RESENC,
    "dynamic_network_architectures.architectures.residual_unet.ResidualEncoderUNet": RESENC,
}


def _torch_classes(kind, names):
    out = {}
    for n in names:
        cls = getattr(nn, n)
        out[f"torch.nn.{n}"] = cls
        out[f"{cls.__module__}.{n}"] = cls
    return out


# What `_kw_requires_import` entries may name (nnU-Net resolves them with pydoc.locate; we do not import).
IMPORTABLE = {
    "conv_op": _torch_classes("conv", ["Conv1d", "Conv2d", "Conv3d"]),
    "norm_op": _torch_classes("norm", ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
                                       "BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]),
    "dropout_op": _torch_classes("dropout", ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d"]),
    "nonlin": _torch_classes("nonlin", ["LeakyReLU", "ReLU", "PReLU", "ELU", "GELU"]),
}
_CONVT = {nn.Conv1d: nn.ConvTranspose1d, nn.Conv2d: nn.ConvTranspose2d, nn.Conv3d: nn.ConvTranspose3d}
_AVGPOOL = {nn.Conv1d: nn.AvgPool1d, nn.Conv2d: nn.AvgPool2d, nn.Conv3d: nn.AvgPool3d}
_DIM = {nn.Conv1d: 1, nn.Conv2d: 2, nn.Conv3d: 3}


def _as_list(v, n):
    """dynamic-network-architectures' maybe_convert_scalar_to_list: an int becomes n copies."""
    return [v] * n if isinstance(v, int) else list(v)


def _per_stage(v, n):
    return [v] * n if isinstance(v, int) else list(v)


class ConvDropoutNormReLU(nn.Module):
    """conv -> [dropout] -> [norm] -> [nonlin] (norm and nonlin swapped when nonlin_first), 'same'
    padding (k-1)//2. Registered as conv/dropout/norm/nonlin and again inside all_modules."""

    def __init__(self, conv_op, cin, cout, kernel_size, stride, conv_bias, norm_op, norm_op_kwargs, dropout_op,
                 dropout_op_kwargs, nonlin, nonlin_kwargs, nonlin_first=False):
        super().__init__()
        dim = _DIM[conv_op]
        self.input_channels, self.output_channels = cin, cout
        self.stride = _as_list(stride, dim)
        kernel_size = _as_list(kernel_size, dim)
        ops = []
        self.conv = conv_op(cin, cout, kernel_size, self.stride, padding=[(k - 1) // 2 for k in kernel_size],
                            dilation=1, bias=conv_bias)
        ops.append(self.conv)
        if dropout_op is not None:
            self.dropout = dropout_op(**(dropout_op_kwargs or {}))
            ops.append(self.dropout)
        if norm_op is not None:
            self.norm = norm_op(cout, **(norm_op_kwargs or {}))
            ops.append(self.norm)
        if nonlin is not None:
            self.nonlin = nonlin(**(nonlin_kwargs or {}))
            ops.append(self.nonlin)
        if nonlin_first and norm_op is not None and nonlin is not None:
            ops[-1], ops[-2] = ops[-2], ops[-1]
        self.all_modules = nn.Sequential(*ops)

    def forward(self, x):
        return self.all_modules(x)


def _stack(n, cin, cout, make, initial_stride):
    """n blocks in a Sequential, the first with `initial_stride`; `cout` an int or one per block."""
    couts = list(cout) if isinstance(cout, (list, tuple)) else [cout] * n
    blocks, c = [], cin
    for i in range(n):
        blocks.append(make(c, couts[i], initial_stride if i == 0 else 1))
        c = couts[i]
    return nn.Sequential(*blocks), couts[-1]


class StackedConvBlocks(nn.Module):
    def __init__(self, num_convs, conv_op, cin, cout, kernel_size, initial_stride, conv_bias, norm_op, norm_op_kwargs,
                 dropout_op, dropout_op_kwargs, nonlin, nonlin_kwargs, nonlin_first=False):
        super().__init__()
        self.convs, self.output_channels = _stack(
            num_convs, cin, cout, lambda c, o, stride: ConvDropoutNormReLU(
                conv_op, c, o, kernel_size, stride, conv_bias, norm_op, norm_op_kwargs, dropout_op, dropout_op_kwargs,
                nonlin, nonlin_kwargs, nonlin_first), initial_stride)

    def forward(self, x):
        return self.convs(x)


class BasicBlockD(nn.Module):
    """ResNet-D basic block: conv1 (conv-norm-nonlin, strided), conv2 (conv-norm), skip = [AvgPool
    kernel=stride] + [1x1 conv-norm when channels change] or identity; nonlin2 after the sum."""

    def __init__(self, conv_op, cin, cout, kernel_size, stride, conv_bias, norm_op, norm_op_kwargs, dropout_op,
                 dropout_op_kwargs, nonlin, nonlin_kwargs):
        super().__init__()
        dim = _DIM[conv_op]
        self.input_channels, self.output_channels = cin, cout
        self.stride = _as_list(stride, dim)
        self.conv1 = ConvDropoutNormReLU(conv_op, cin, cout, kernel_size, self.stride, conv_bias, norm_op,
                                         norm_op_kwargs, dropout_op, dropout_op_kwargs, nonlin, nonlin_kwargs)
        self.conv2 = ConvDropoutNormReLU(conv_op, cout, cout, kernel_size, 1, conv_bias, norm_op, norm_op_kwargs,
                                         None, None, None, None)
        self.nonlin2 = nonlin(**(nonlin_kwargs or {})) if nonlin is not None else nn.Identity()
        has_stride = any(s != 1 for s in self.stride)
        ops = []
        if has_stride:
            ops.append(_AVGPOOL[conv_op](self.stride, self.stride))
        if cin != cout:
            ops.append(ConvDropoutNormReLU(conv_op, cin, cout, 1, 1, False, norm_op, norm_op_kwargs,
                                           None, None, None, None))
        self.skip = nn.Sequential(*ops) if ops else None  # no module (and no keys) for the identity

    def forward(self, x):
        residual = x if self.skip is None else self.skip(x)
        out = self.conv2(self.conv1(x))
        return self.nonlin2(out + residual)


class StackedResidualBlocks(nn.Module):
    def __init__(self, n_blocks, conv_op, cin, cout, kernel_size, initial_stride, conv_bias, norm_op, norm_op_kwargs,
                 dropout_op, dropout_op_kwargs, nonlin, nonlin_kwargs):
        super().__init__()
        self.blocks, self.output_channels = _stack(
            n_blocks, cin, cout, lambda c, o, stride: BasicBlockD(
                conv_op, c, o, kernel_size, stride, conv_bias, norm_op, norm_op_kwargs, dropout_op, dropout_op_kwargs,
                nonlin, nonlin_kwargs), initial_stride)

    def forward(self, x):
        return self.blocks(x)


class _EncoderSettings(nn.Module):
    def _keep(self, conv_op, kernel_sizes, strides, features, conv_bias, norm_op, norm_op_kwargs, dropout_op,
              dropout_op_kwargs, nonlin, nonlin_kwargs):
        dim = _DIM[conv_op]
        self.output_channels = list(features)
        self.strides = [_as_list(s, dim) for s in strides]
        self.kernel_sizes = list(kernel_sizes)
        self.conv_op, self.conv_bias = conv_op, conv_bias
        self.norm_op, self.norm_op_kwargs = norm_op, norm_op_kwargs
        self.dropout_op, self.dropout_op_kwargs = dropout_op, dropout_op_kwargs
        self.nonlin, self.nonlin_kwargs = nonlin, nonlin_kwargs


class PlainConvEncoder(_EncoderSettings):
    """stages[s] = Sequential(StackedConvBlocks) with the stage's stride on its first conv."""

    def __init__(self, input_channels, n_stages, features_per_stage, conv_op, kernel_sizes, strides, n_conv_per_stage,
                 conv_bias, norm_op, norm_op_kwargs, dropout_op, dropout_op_kwargs, nonlin, nonlin_kwargs,
                 nonlin_first=False):
        super().__init__()
        ks, fs = _per_stage(kernel_sizes, n_stages), _per_stage(features_per_stage, n_stages)
        nc, st = _per_stage(n_conv_per_stage, n_stages), _per_stage(strides, n_stages)
        stages, c = [], input_channels
        for s in range(n_stages):
            stages.append(nn.Sequential(StackedConvBlocks(nc[s], conv_op, c, fs[s], ks[s], st[s], conv_bias, norm_op,
                                                          norm_op_kwargs, dropout_op, dropout_op_kwargs, nonlin,
                                                          nonlin_kwargs, nonlin_first)))
            c = fs[s]
        self.stages = nn.Sequential(*stages)
        self._keep(conv_op, ks, st, fs, conv_bias, norm_op, norm_op_kwargs, dropout_op, dropout_op_kwargs, nonlin,
                   nonlin_kwargs)

    def forward(self, x):
        skips = []
        for s in self.stages:
            x = s(x)
            skips.append(x)
        return skips


class ResidualEncoder(_EncoderSettings):
    """stem = StackedConvBlocks(1 conv, stride 1); stages[s] = StackedResidualBlocks."""

    def __init__(self, input_channels, n_stages, features_per_stage, conv_op, kernel_sizes, strides, n_blocks_per_stage,
                 conv_bias, norm_op, norm_op_kwargs, dropout_op, dropout_op_kwargs, nonlin, nonlin_kwargs,
                 stem_channels=None):
        super().__init__()
        ks, fs = _per_stage(kernel_sizes, n_stages), _per_stage(features_per_stage, n_stages)
        nb, st = _per_stage(n_blocks_per_stage, n_stages), _per_stage(strides, n_stages)
        stem_channels = fs[0] if stem_channels is None else stem_channels
        self.stem = StackedConvBlocks(1, conv_op, input_channels, stem_channels, ks[0], 1, conv_bias, norm_op,
                                      norm_op_kwargs, dropout_op, dropout_op_kwargs, nonlin, nonlin_kwargs)
        stages, c = [], stem_channels
        for s in range(n_stages):
            stages.append(StackedResidualBlocks(nb[s], conv_op, c, fs[s], ks[s], st[s], conv_bias, norm_op,
                                                norm_op_kwargs, dropout_op, dropout_op_kwargs, nonlin, nonlin_kwargs))
            c = fs[s]
        self.stages = nn.Sequential(*stages)
        self._keep(conv_op, ks, st, fs, conv_bias, norm_op, norm_op_kwargs, dropout_op, dropout_op_kwargs, nonlin,
                   nonlin_kwargs)

    def forward(self, x):
        x = self.stem(x)
        skips = []
        for s in self.stages:
            x = s(x)
            skips.append(x)
        return skips


class UNetDecoder(nn.Module):
    """Per stage from the bottleneck up: transpconv (kernel = stride = the encoder stage's stride),
    concat with the skip, StackedConvBlocks, and a 1x1 seg layer (only the last runs without deep
    supervision). Keeps `self.encoder`, as dynamic-network-architectures does (its keys appear twice)."""

    def __init__(self, encoder, num_classes, n_conv_per_stage, deep_supervision, nonlin_first=False):
        super().__init__()
        self.deep_supervision = deep_supervision
        self.encoder = encoder
        self.num_classes = num_classes
        n = len(encoder.output_channels)
        nc = _per_stage(n_conv_per_stage, n - 1)
        if len(nc) != n - 1:
            raise NnunetArchitectureError(f"n_conv_per_stage_decoder has {len(nc)} entries; {n - 1} expected")
        transp = _CONVT[encoder.conv_op]
        stages, transpconvs, seg_layers = [], [], []
        for s in range(1, n):
            below, skip = encoder.output_channels[-s], encoder.output_channels[-(s + 1)]
            stride = encoder.strides[-s]
            transpconvs.append(transp(below, skip, stride, stride, bias=encoder.conv_bias))
            stages.append(StackedConvBlocks(nc[s - 1], encoder.conv_op, 2 * skip, skip, encoder.kernel_sizes[-(s + 1)],
                                            1, encoder.conv_bias, encoder.norm_op, encoder.norm_op_kwargs,
                                            encoder.dropout_op, encoder.dropout_op_kwargs, encoder.nonlin,
                                            encoder.nonlin_kwargs, nonlin_first))
            seg_layers.append(encoder.conv_op(skip, num_classes, 1, 1, 0, bias=True))
        self.stages = nn.ModuleList(stages)
        self.transpconvs = nn.ModuleList(transpconvs)
        self.seg_layers = nn.ModuleList(seg_layers)

    def forward(self, skips):
        x = skips[-1]
        outs = []
        for s in range(len(self.stages)):
            x = self.transpconvs[s](x)
            x = torch.cat((x, skips[-(s + 2)]), 1)
            x = self.stages[s](x)
            if self.deep_supervision:
                outs.append(self.seg_layers[s](x))
            elif s == len(self.stages) - 1:
                outs.append(self.seg_layers[-1](x))
        outs = outs[::-1]
        return outs if self.deep_supervision else outs[0]


class PlainConvUNet(nn.Module):
    def __init__(self, input_channels, n_stages, features_per_stage, conv_op, kernel_sizes, strides, n_conv_per_stage,
                 num_classes, n_conv_per_stage_decoder, conv_bias=False, norm_op=None, norm_op_kwargs=None,
                 dropout_op=None, dropout_op_kwargs=None, nonlin=None, nonlin_kwargs=None, deep_supervision=False,
                 nonlin_first=False):
        super().__init__()
        self.encoder = PlainConvEncoder(input_channels, n_stages, features_per_stage, conv_op, kernel_sizes, strides,
                                        n_conv_per_stage, conv_bias, norm_op, norm_op_kwargs, dropout_op,
                                        dropout_op_kwargs, nonlin, nonlin_kwargs, nonlin_first)
        self.decoder = UNetDecoder(self.encoder, num_classes, n_conv_per_stage_decoder, deep_supervision, nonlin_first)

    def forward(self, x):
        return self.decoder(self.encoder(x))


class ResidualEncoderUNet(nn.Module):
    def __init__(self, input_channels, n_stages, features_per_stage, conv_op, kernel_sizes, strides, n_blocks_per_stage,
                 num_classes, n_conv_per_stage_decoder, conv_bias=False, norm_op=None, norm_op_kwargs=None,
                 dropout_op=None, dropout_op_kwargs=None, nonlin=None, nonlin_kwargs=None, deep_supervision=False,
                 block="BasicBlockD", bottleneck_channels=None, stem_channels=None):
        super().__init__()
        if block not in ("BasicBlockD", None) and not str(block).endswith(".BasicBlockD"):
            raise NnunetArchitectureError(f"ResidualEncoderUNet block {block!r} is not supported (only BasicBlockD)")
        if bottleneck_channels is not None:
            raise NnunetArchitectureError("ResidualEncoderUNet bottleneck_channels is not supported (BottleneckD)")
        self.encoder = ResidualEncoder(input_channels, n_stages, features_per_stage, conv_op, kernel_sizes, strides,
                                       n_blocks_per_stage, conv_bias, norm_op, norm_op_kwargs, dropout_op,
                                       dropout_op_kwargs, nonlin, nonlin_kwargs, stem_channels)
        self.decoder = UNetDecoder(self.encoder, num_classes, n_conv_per_stage_decoder, deep_supervision)

    def forward(self, x):
        return self.decoder(self.encoder(x))


def resolve_configuration(plans, configuration):
    """The configuration dict with `inherits_from` resolved (parent's keys, overridden by the child's)."""
    confs = plans.get("configurations", {})
    seen = []
    name = configuration
    chain = []
    while True:
        if name not in confs:
            raise NnunetArchitectureError(f"configuration {name!r} is not in the plans (have: {', '.join(confs)})")
        if name in seen:
            raise NnunetArchitectureError(f"configurations inherit in a circle: {' -> '.join(seen + [name])}")
        seen.append(name)
        chain.append(confs[name])
        if "inherits_from" not in confs[name]:
            break
        name = confs[name]["inherits_from"]
    out = {}
    for c in reversed(chain):
        out.update(copy.deepcopy(c))
    return out


def architecture_of(conf):
    """(network_class_name, arch_kwargs, _kw_requires_import) from a configuration, converting the
    layout of plans written before the `architecture` block (UNet_class_name, n_conv_per_stage_encoder,
    ...) as nnU-Net's ConfigurationManager does."""
    if "architecture" in conf:
        a = conf["architecture"]
        return a["network_class_name"], copy.deepcopy(a["arch_kwargs"]), list(a.get("_kw_requires_import", []))
    name = conf.get("UNet_class_name")
    if name not in (PLAIN, RESENC):
        raise NnunetArchitectureError(f"network class {name!r} is not supported (PlainConvUNet or ResidualEncoderUNet)")
    n = len(conf["n_conv_per_stage_encoder"])
    dim = len(conf["patch_size"])
    kwargs = {
        "n_stages": n,
        "features_per_stage": [min(conf["UNet_base_num_features"] * 2 ** i, conf["unet_max_num_features"])
                               for i in range(n)],
        "conv_op": f"torch.nn.modules.conv.Conv{dim}d",
        "kernel_sizes": copy.deepcopy(conf["conv_kernel_sizes"]),
        "strides": copy.deepcopy(conf["pool_op_kernel_sizes"]),
        ("n_conv_per_stage" if name == PLAIN else "n_blocks_per_stage"): list(conf["n_conv_per_stage_encoder"]),
        "n_conv_per_stage_decoder": list(conf["n_conv_per_stage_decoder"]),
        "conv_bias": True,
        "norm_op": f"torch.nn.modules.instancenorm.InstanceNorm{dim}d",
        "norm_op_kwargs": {"eps": 1e-05, "affine": True},
        "dropout_op": None, "dropout_op_kwargs": None,
        "nonlin": "torch.nn.LeakyReLU", "nonlin_kwargs": {"inplace": True},
    }
    cls = ("dynamic_network_architectures.architectures.unet.PlainConvUNet" if name == PLAIN else
           "dynamic_network_architectures.architectures.residual_unet.ResidualEncoderUNet")
    return cls, kwargs, ["conv_op", "norm_op", "dropout_op", "nonlin"]


def build_from_architecture(network_class_name, arch_kwargs, kw_requires_import, num_input_channels,
                            num_output_channels):
    kind = NETWORK_CLASSES.get(network_class_name)
    if kind is None:
        raise NnunetArchitectureError(f"network class {network_class_name!r} is not supported: only nnU-Net's "
                                      f"PlainConvUNet and ResidualEncoderUNet are ({', '.join(NETWORK_CLASSES)})")
    kwargs = dict(arch_kwargs)
    for key in kw_requires_import:
        v = kwargs.get(key)
        if v is None:
            continue
        table = IMPORTABLE.get(key)
        if table is None or v not in table:
            raise NnunetArchitectureError(f"{network_class_name}: {key} = {v!r} is not supported "
                                          f"(known: {', '.join(sorted(table or {}))})")
        kwargs[key] = table[v]
    if isinstance(kwargs.get("nonlin_kwargs"), dict):  # in-place activations would break exported graphs' reuse
        kwargs["nonlin_kwargs"] = {k: v for k, v in kwargs["nonlin_kwargs"].items() if k != "inplace"}
    kwargs["deep_supervision"] = False
    cls = PlainConvUNet if kind == PLAIN else ResidualEncoderUNet
    try:
        return cls(input_channels=num_input_channels, num_classes=num_output_channels, **kwargs)
    except TypeError as e:
        raise NnunetArchitectureError(f"{network_class_name}: arch_kwargs do not fit: {e}") from None


def build_from_plans(plans, configuration, num_input_channels, num_output_channels):
    conf = resolve_configuration(plans, configuration)
    name, kwargs, req = architecture_of(conf)
    return build_from_architecture(name, kwargs, req, num_input_channels, num_output_channels)


def build(**kwargs):
    """weights/models' factory convention: build(plans=..., configuration=..., num_input_channels=...,
    num_output_channels=...)."""
    return build_from_plans(**kwargs)
