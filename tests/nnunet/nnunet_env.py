"""Makes fetched nnU-Net v2 sources importable on Debian's torch 1.13 with stubs only for packages
inference never calls. Usage: import nnunet_env; nnunet_env.setup(src_root)."""
import os
import sys
import types


class _StubMeta(type):
    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return cls


class _Stub(metaclass=_StubMeta):
    def __init__(self, *a, **k):
        raise RuntimeError(f"stub {type(self).__name__} instantiated: inference should not need it")


class _Tqdm:
    def __init__(self, iterable=None, *a, **k):
        self.iterable = iterable

    def __iter__(self):
        return iter(self.iterable)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False

    def update(self, *a):
        pass

    def close(self):
        pass


def setup(src_root):
    for repo in ("MIC-DKFZ+nnUNet", "MIC-DKFZ+dynamic-network-architectures", "MIC-DKFZ+acvl_utils",
                 "MIC-DKFZ+batchgenerators", "MIC-DKFZ+batchgeneratorsv2"):
        sys.path.insert(0, os.path.join(src_root, repo))
    import torch
    dyn = types.ModuleType("torch._dynamo")

    class OptimizedModule:  # torch >= 2 only; nnU-Net uses it in isinstance checks
        pass
    dyn.OptimizedModule = OptimizedModule
    sys.modules["torch._dynamo"] = dyn
    torch._dynamo = dyn
    tq = types.ModuleType("tqdm")
    tq.tqdm = _Tqdm
    tq.trange = lambda *a, **k: _Tqdm(range(*a))
    sys.modules["tqdm"] = tq
    sys.meta_path.append(_StubFinder())


STUBBED = []
# Packages nnU-Net imports at module level for training, planning, or file formats we do not read
# (SimpleITK: NibabelIO is used instead; blosc2: preprocessed-data storage; cc3d: postprocessing).
# Only absent packages are stubbed, and a submodule only below a stubbed package: an optional
# submodule of a real package (scipy's, skimage's) must stay an ImportError.
STUBBABLE = {"SimpleITK", "blosc2", "cc3d", "threadpoolctl", "sklearn", "timm", "einops", "fft_conv_pytorch",
             "dicom2nifti", "tifffile", "imagecodecs", "batchviewer", "seaborn", "graphviz"}


class _StubFinder:
    """Last on sys.meta_path: a module no real finder has becomes a stub (listed in STUBBED);
    a stub used at inference raises, so a wrong stub cannot pass silently."""

    def find_spec(self, name, path=None, target=None):
        import importlib.machinery
        top = name.split(".")[0]
        if top not in STUBBABLE:
            return None
        if "." in name and not getattr(sys.modules.get(top), "__voxinfer_stub__", False):
            return None
        return importlib.machinery.ModuleSpec(name, self, is_package=True)

    def create_module(self, spec):
        STUBBED.append(spec.name)
        m = types.ModuleType(spec.name)
        m.__voxinfer_stub__ = True
        m.__getattr__ = _module_getattr
        m.__path__ = []
        return m

    def exec_module(self, module):
        pass


def _module_getattr(attr):
    if attr.startswith("__"):
        raise AttributeError(attr)
    return _Stub
