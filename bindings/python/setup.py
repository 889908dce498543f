"""Installs the voxinfer Python package against an installed libvoxinfer, offline:

    PKG_CONFIG_PATH=PREFIX/lib/pkgconfig /usr/bin/python3 -m pip install --no-build-isolation bindings/python

At build time the library is located through pkg-config (`pkg-config --variable=libdir voxinfer`,
or $VOXINFER_LIBDIR, a folder holding libvoxinfer.so.0) and its full path is recorded in
voxinfer/_installed_library.py, so the installed package loads it with no environment variable.
Without either, nothing is recorded and the dynamic loader's search path is used at run time.
"""
import os
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

SONAME = "libvoxinfer.so.0"


def installed_library():
    libdir = os.environ.get("VOXINFER_LIBDIR")
    if not libdir:
        try:
            libdir = subprocess.run(["pkg-config", "--variable=libdir", "voxinfer"], check=True,
                                    capture_output=True, text=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None
    path = os.path.join(os.path.realpath(libdir), SONAME)
    if not os.path.exists(path):
        raise SystemExit(f"voxinfer setup.py: {path} does not exist (VOXINFER_LIBDIR or pkg-config's libdir)")
    return path


class BuildPyRecordingLibrary(build_py):
    def run(self):
        super().run()
        path = installed_library()
        target = os.path.join(self.build_lib, "voxinfer", "_installed_library.py")
        with open(target, "w") as f:
            f.write('"""Written by setup.py: the libvoxinfer this package was installed against."""\n')
            f.write(f"PATH = {path!r}\n")
        print(f"voxinfer: recorded library {path}")


setup(
    name="voxinfer",
    version="0.3.0",
    description="Run voxinfer medical-imaging models (.vxm) on numpy arrays (ctypes over libvoxinfer)",
    packages=["voxinfer"],
    python_requires=">=3.9",
    install_requires=["numpy"],
    cmdclass={"build_py": BuildPyRecordingLibrary},
)
