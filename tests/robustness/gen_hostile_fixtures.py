#!/usr/bin/python3
"""Writes hostile input files into OUTDIR for the robustness tests, plus manifest.json.

Every file must be refused with a non-OK status (and, through the `voxinfer` command, a
non-zero exit, a message on stderr and no output files). Kinds:
  - NIfTI-1 truncated at every header-field boundary and inside the data,
  - absurd or inconsistent header values (huge, zero, negative dims; 4-D; bad datatype;
    vox_offset past the end; zero/negative/NaN spacing; bad magic; wrong sizeof_hdr),
  - NaN / Inf voxels, singular affines,
  - gzip streams cut short or corrupted,
  - NIfTI-2: header cut short, data cut short, huge / negative dims, vox_offset near 2^63,
  - DICOM (from the small files of tests/fuzz/corpus/dicom_read): truncated, absurd
    rows/columns/frames that the pixel data cannot hold, non-finite geometry, not DICOM,
  - .vxm model files: empty, random, wrong magic, truncated, flipped bytes.
"""
import gzip
import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DICOM_SEEDS = os.path.join(HERE, "..", "fuzz", "corpus", "dicom_read")

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


def valid_nifti2(shape=(5, 4, 3)) -> bytes:
    """A small valid little-endian NIfTI-2 volume, uint8, 1 mm, sform set."""
    hdr = bytearray(540)
    struct.pack_into("<i", hdr, 0, 540)
    hdr[4:12] = b"n+2\0\r\n\x1a\n"
    struct.pack_into("<hh", hdr, 12, 2, 8)  # DT_UINT8
    struct.pack_into("<8q", hdr, 16, 3, *shape, 1, 1, 1, 1)
    struct.pack_into("<8d", hdr, 104, 1.0, 1.0, 1.0, 1.0, 0, 0, 0, 0)
    struct.pack_into("<qdd", hdr, 168, 544, 1.0, 0.0)  # vox_offset, scl_slope, scl_inter
    struct.pack_into("<ii", hdr, 344, 0, 1)  # qform_code, sform_code
    struct.pack_into("<12d", hdr, 400, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0)
    return bytes(hdr) + b"\0\0\0\0" + bytes(range(int(np.prod(shape))))


def dicom_cases(add) -> None:
    """Hostile DICOM files, made from the tiny valid seeds of the DICOM fuzz target."""
    import warnings

    import pydicom
    warnings.filterwarnings("ignore", message="Invalid value for VR")  # the point of some cases
    from pydicom.dataset import Dataset

    single = pydicom.dcmread(os.path.join(DICOM_SEEDS, "single_implicit.dcm"))
    with open(os.path.join(DICOM_SEEDS, "enhanced_2frames.dcm"), "rb") as f:
        enh_bytes = f.read()

    def write(name, ds, why):
        import io
        buf = io.BytesIO()
        ds.save_as(buf)
        add(name, buf.getvalue(), why, "dicom")

    add("dicom_enhanced_trunc_half.dcm", enh_bytes[: len(enh_bytes) // 2], "enhanced DICOM cut in half", "dicom")
    add("dicom_enhanced_trunc_pixels.dcm", enh_bytes[:-40], "enhanced DICOM with the last pixels cut off", "dicom")
    add("dicom_trunc_preamble.dcm", enh_bytes[:200], "DICOM cut inside the file meta information", "dicom")
    add("dicom_random.dcm", np.random.default_rng(3).bytes(2048), "random bytes named .dcm", "dicom")
    add("dicom_empty.dcm", b"", "empty .dcm file", "dicom")
    for name, rows, cols, why in (("dicom_rows_cols_absurd.dcm", 30000, 30000, "30000 x 30000 pixels claimed, 8 x 8 stored"),
                                  ("dicom_rows_max.dcm", 65535, 8, "65535 rows claimed, 8 stored"),
                                  ("dicom_rows_zero.dcm", 0, 8, "zero rows")):
        ds = single.copy()
        ds.Rows, ds.Columns = rows, cols
        write(name, ds, why)
    enh = pydicom.dcmread(os.path.join(DICOM_SEEDS, "enhanced_2frames.dcm"))
    ds = enh.copy()
    ds.NumberOfFrames = 100000
    write("dicom_frames_absurd.dcm", ds, "100000 frames claimed, 2 stored")
    ds = enh.copy()
    ds.PerFrameFunctionalGroupsSequence = ds.PerFrameFunctionalGroupsSequence[:1]
    write("dicom_enhanced_missing_frame_group.dcm", ds, "2 frames but one per-frame functional group")
    ds = single.copy()
    ds.PixelSpacing = ["1e999", "1"]
    write("dicom_spacing_inf.dcm", ds, "PixelSpacing overflows to infinity")
    ds = single.copy()
    ds.ImagePositionPatient = ["nan", "0", "0"]
    write("dicom_position_nan.dcm", ds, "NaN in ImagePositionPatient")
    ds = single.copy()
    ds.ImageOrientationPatient = [0, 0, 0, 0, 0, 0]
    write("dicom_orientation_zero.dcm", ds, "all-zero ImageOrientationPatient (no slice normal)")
    ds = single.copy()
    del ds.PixelData
    write("dicom_no_pixels.dcm", ds, "DICOM without Pixel Data")


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
    with open(os.path.join(out, "valid_n2.nii"), "wb") as f:  # control: must load
        f.write(valid_nifti2())
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
    with open(os.path.join(out, "not_gzip.nii.gz"), "wb") as f:  # misnamed but intact: read by content
        f.write(base)

    n2 = valid_nifti2()
    add("n2_trunc_header.nii", n2[:400], "NIfTI-2 header cut at byte 400")
    add("n2_trunc_data.nii", n2[:-10], "NIfTI-2 voxel data cut short")
    add("n2_huge_dims.nii", patched(n2, 16, "<4q", 3, 1 << 40, 1 << 40, 1 << 40), "NIfTI-2 claims (2^40)^3 voxels")
    add("n2_dims_negative.nii", patched(n2, 16, "<4q", 3, 5, -4, 3), "NIfTI-2 negative dimension")
    add("n2_vox_offset_huge.nii", patched(n2, 168, "<q", (1 << 63) - 16), "NIfTI-2 vox_offset near 2^63 (overflow bait)")
    add("n2_vox_offset_negative.nii", patched(n2, 168, "<q", -1 << 40), "NIfTI-2 negative vox_offset")
    add("n2_vox_offset_huge.nii.gz", gzip.compress(patched(n2, 168, "<q", (1 << 62))), "gzip NIfTI-2, vox_offset 2^62")
    add("n2_bad_magic.nii", patched(n2, 4, "<4s", b"n+3\0"), "NIfTI-2 with magic n+3")
    add("n2_spacing_nan.nii", patched(patched(n2, 112, "<d", float("nan")), 344, "<ii", 0, 0),
        "NIfTI-2 NaN spacing, no qform/sform")
    dicom_cases(add)

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
        json.dump({"valid": "valid.nii", "valid_nifti2": "valid_n2.nii", "valid_misnamed": "not_gzip.nii.gz",
                   "model": "smooth3d.vxm", "cases": cases}, f, indent=1)
    print(f"wrote {len(cases)} hostile files to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "hostile")
