"""PyTorch reference modules of the networks voxinfer runs.

Each module has a `build(**kwargs)` factory. Defaults are the published designs
(see shared/reference/published-systems.md); width factors and depth options give
small variants for tests.
"""
ARCHITECTURES = ["unet3d_denoiser", "resnet3d", "dual_encoder", "unet2d", "unetpp2d", "nnunet_networks",
                 "attention_unet2d", "hrnet2d", "resnet2d", "monai_unet", "segresnet"]


def build(arch, **kwargs):
    """Builds architecture `arch` (a name in ARCHITECTURES) with its factory's kwargs."""
    import importlib
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(ARCHITECTURES)}")
    return importlib.import_module(f"models.{arch}").build(**kwargs)
