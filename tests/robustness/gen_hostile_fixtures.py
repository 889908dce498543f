#!/usr/bin/python3
"""Writes hostile input files into OUTDIR for the robustness tests, plus manifest.json.

Every file must be refused with a non-OK status (and, through the `voxinfer` command, a
non-zero exit, a message on stderr and no output files). Kinds:
  - NIfTI-1 truncated at every header-field boundary and inside the data,
  - absurd or inconsistent header values (huge, zero, negative dims; 4-D; bad datatype;
    vox_offset past the end; zero/negative/NaN spacing; bad magic; wrong sizeof_hdr),
  - NaN / Inf voxels, singular affines,
  - gzip streams cut short or corrupted,
  - .vxm model files: empty, random, wrong magic, truncated, flipped bytes.
"""
import gzip
import json
import os
import struct
import sys

import numpy as np

# (offset, name) of every NIfTI-1 header field, in file order.
FIELDS = [(0, "sizeof_hdr"), (4, "data_type"), (14, "db_name"), (32, "extents"), (36, "session_error"),
          (38, "regular"), (39, "dim_info"), (40, "dim"), (56, "intent_p1"), (60, "intent_p2"), (64, "intent_p3"),
          (68, "intent_code"), (70, "datatype"), (72, "bitpix"), (74, "slice_start"), (76, "pixdim"),
          (108, "vox_offset"), (112, "scl_slope"), (116, "scl_inter"), (120, "slice_end"), (122, "slice_code"),
          (123, "xyz_units"), (124, "cal_max"), (128, "cal_min"), (132, "slice_duration"), (136, "toffset"),
          (140, "glmax"), (144, "glmin"), (148, "descrip"), (228, "aux_file"), (252, "qform_code"),
          (254, "sform_code"), (256, "quatern_b"), (268, "qoffset_x"), (280, "srow_x"), (296, "srow_y"),
          (312, "srow_z"), (328, "intent_name"), (344, "magic"), (348, "extension")]


def valid_nifti(shape=(9, 8, 7)) -> bytes:
    """A small valid little-endian NIfTI-1 (.nii) volume, int16, 1.5 mm, sform and qform set."""
    hdr = bytearray(348)
    struct.pack_into("<i", hdr, 0, 348)
    struct.pack_into("<8h", hdr, 40, 3, *shape, 1, 1, 1, 1)
    struct.pack_into("<hh", hdr, 70, 4, 16)  # DT_INT16, 16 bits
    struct.pack_into("<8f", hdr, 76, 1.0, 1.5, 1.5, 1.5, 0, 0, 0, 0)
    struct.pack_into("<ff", hdr, 108, 352.0, 1.0)  # vox_offset, scl_slope
    hdr[123] = 2  # mm
    struct.pack_into("<hh", hdr, 252, 1, 1)
    struct.pack_into("<3f", hdr, 268, -6.0, -6.0, -5.0)
    struct.pack_into("<4f", hdr, 280, 1.5, 0, 0, -6.0)
    struct.pack_into("<4f", hdr, 296, 0, 1.5, 0, -6.0)
    struct.pack_into("<4f", hdr, 312, 0, 0, 1.5, -5.0)
    hdr[344:348] = b"n+1\0"
    rng = np.random.default_rng(0)
    data = rng.integers(0, 1000, size=shape[::-1], dtype=np.int16).tobytes()
    return bytes(hdr) + b"\0\0\0\0" + data


def patched(base: bytes, offset: int, fmt: str, *values) -> bytes:
    b = bytearray(base)
    struct.pack_into(fmt, b, offset, *values)
    return bytes(b)


def float32_nifti(values_fn) -> bytes:
    base = bytearray(valid_nifti())
    struct.pack_into("<hh", base, 70, 16, 32)  # DT_FLOAT32
    n = 9 * 8 * 7
    data = np.linspace(0, 1, n, dtype=np.float32)
    values_fn(data)
    return bytes(base[:352]) + data.tobytes()


def main(out: str) -> None:
    os.makedirs(out, exist_ok=True)
    cases = []

    def add(name: str, data: bytes, why: str, kind: str = "volume"):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        cases.append({"file": name, "kind": kind, "why": why})

    base = valid_nifti()
    with open(os.path.join(out, "valid.nii"), "wb") as f:  # control: must load
        f.write(base)
    for off, field in FIELDS:
        add(f"trunc_at_{field}.nii", base[:off], f"file ends where field '{field}' starts (byte {off})")
    for frac in (0.1, 0.5, 0.99):
        cut = 352 + int((len(base) - 352) * frac)
        add(f"trunc_data_{int(frac * 100)}pct.nii", base[:cut], f"voxel data cut at {int(frac * 100)}%")
    add("huge_dims.nii", patched(base, 40, "<4h", 3, 32767, 32767, 32767), "header claims 32767^3 voxels")
    add("dims_negative.nii", patched(base, 40, "<4h", 3, 9, -8, 7), "negative dimension")
    add("dims_zero.nii", patched(base, 40, "<4h", 3, 9, 0, 7), "zero dimension")
    add("rank_zero.nii", patched(base, 40, "<h", 0), "dim[0] = 0")
    add("rank_nine.nii", patched(base, 40, "<h", 9), "dim[0] = 9 (over 7)")
    add("four_d.nii", patched(base, 40, "<5h", 4, 9, 8, 7, 2) + base[352:], "4-D volume (2 frames) where 3-D is expected")
    add("datatype_unknown.nii", patched(base, 70, "<h", 999), "unknown datatype code")
    add("datatype_complex.nii", patched(base, 70, "<hh", 32, 64), "complex64 datatype (unsupported)")
    add("bitpix_mismatch.nii", patched(base, 72, "<h", 64), "bitpix disagrees with datatype")
    add("vox_offset_past_end.nii", patched(base, 108, "<f", 1e9), "vox_offset far past the end of the file")
    add("vox_offset_negative.nii", patched(base, 108, "<f", -400.0), "negative vox_offset")
    add("vox_offset_nan.nii", patched(base, 108, "<f", float("nan")), "NaN vox_offset")
    for name, sp in (("zero", 0.0), ("negative", -1.5), ("nan", float("nan")), ("inf", float("inf"))):
        b = patched(base, 80, "<3f", sp, 1.5, 1.5)
        b = patched(b, 252, "<hh", 0, 0)  # no qform/sform: spacing comes from pixdim alone
        add(f"spacing_{name}.nii", b, f"{name} voxel spacing, no qform/sform")
    add("sform_singular.nii", patched(patched(base, 280, "<12f", *([0.0] * 12)), 252, "<hh", 0, 1),
        "sform with code 1 but an all-zero (singular) matrix")
    add("sform_nan.nii", patched(patched(base, 280, "<f", float("nan")), 252, "<hh", 0, 1), "NaN in the sform")
    add("bad_magic.nii", patched(base, 344, "<4s", b"xyz\0"), "wrong magic")
    add("bad_sizeof_hdr.nii", patched(base, 0, "<i", 540), "sizeof_hdr of NIfTI-2 in a NIfTI-1 header")
    add("sizeof_hdr_garbage.nii", patched(base, 0, "<i", 123456), "nonsense sizeof_hdr")
    add("nan_voxels.nii", float32_nifti(lambda d: d.__setitem__(17, np.nan)), "a NaN voxel")
    add("inf_voxels.nii", float32_nifti(lambda d: d.__setitem__(5, np.inf)), "an Inf voxel")
    add("empty.nii", b"", "empty file")
    add("random.nii", np.random.default_rng(1).bytes(4096), "random bytes")
    gz = gzip.compress(base)
    add("trunc_gzip_half.nii.gz", gz[: len(gz) // 2], "gzip stream cut in half")
    add("trunc_gzip_header.nii.gz", gz[:20], "gzip stream cut inside the NIfTI header")
    bad = bytearray(gz)
    bad[len(bad) // 2] ^= 0xFF
    add("corrupt_gzip.nii.gz", bytes(bad), "flipped byte inside the deflate stream")
    add("gzip_huge_dims.nii.gz", gzip.compress(patched(base, 40, "<4h", 3, 32767, 32767, 32767)),
        "gzip file whose header claims 32767^3 voxels")

    rng = np.random.default_rng(2)
    add("empty.vxm", b"", "empty model file", "model")
    add("random.vxm", rng.bytes(10000), "random bytes as a model", "model")
    add("nifti_as_model.vxm", base, "a NIfTI file passed as a model", "model")
    add("magic_only.vxm", b"VXM", "three bytes", "model")

    # A small image-to-image model for the command-line test: 1 channel in, 1 out, any size.
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "weights"))
    import vxm
    w = np.random.default_rng(3).normal(size=(1, 1, 3, 3, 3)).astype(np.float32) / 27
    graph = {"inputs": [{"name": "image", "shape": [1, 1, -1, -1, -1]}], "outputs": ["out"],
             "nodes": [{"name": "smooth", "op": "Conv", "inputs": ["image", "w"], "outputs": ["out"],
                        "attrs": {"pads": [1, 1, 1, 1, 1, 1]}}]}
    vxm.write(os.path.join(out, "smooth3d.vxm"), graph, {"w": w},
              {"name": "smooth3d", "inputs": [{"name": "image", "normalisation": {"method": "max"}}],
               "outputs": [{"name": "out", "kind": "image"}]})
    with open(os.path.join(out, "smooth3d.vxm"), "rb") as f:
        model = f.read()
    add("truncated_model.vxm", model[: len(model) // 2], "a valid model cut in half", "model")
    flipped = bytearray(model)
    flipped[len(flipped) - 8] ^= 0xFF
    add("flipped_weight_model.vxm", bytes(flipped), "a flipped byte in the weights (CRC mismatch)", "model")

    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"valid": "valid.nii", "model": "smooth3d.vxm", "cases": cases}, f, indent=1)
    print(f"wrote {len(cases)} hostile files to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "hostile")
