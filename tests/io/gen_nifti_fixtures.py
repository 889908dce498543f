#!/usr/bin/python3
"""Writes nibabel's view of every NIfTI under tests/data/mri plus synthetic and hostile
NIfTI files into OUTDIR, with manifest.json: for each valid file its shape (i, j, k), affine
(nibabel img.affine, row-major) and voxels (get_fdata as float32, raw little-endian, file
order); for hostile files the expected failure. Also nibabel's closest-canonical (RAS)
affine for the orientation set, and a pydicom-free write round-trip input."""
import gzip
import json
import os
import pathlib
import struct
import sys

import nibabel as nib
import numpy as np

out = pathlib.Path(sys.argv[1])
(out / "synth").mkdir(parents=True, exist_ok=True)
(out / "ref").mkdir(parents=True, exist_ok=True)
data_dir = pathlib.Path(os.environ.get("VX_TEST_DATA_DIR", pathlib.Path(__file__).resolve().parents[1] / "data"))
mri = data_dir / "mri"
rng = np.random.default_rng(1234)
manifest = {"valid": [], "hostile": [], "canonical": {}}


def add_valid(path, name):
    img = nib.load(str(path))
    data = np.asarray(img.get_fdata(dtype=np.float64))
    while data.ndim > 3 and data.shape[-1] == 1:
        data = data[..., 0]
    ref = out / "ref" / (name.replace("/", "__") + ".f32")
    # file order = i fastest = Fortran order of the (i, j, k) array
    np.asarray(data, dtype="<f4").ravel(order="F").tofile(ref)
    manifest["valid"].append({"name": name, "path": str(path), "shape": list(data.shape[:3]),
                              "affine": img.affine.ravel().tolist(), "ref": str(ref),
                              "axcodes": "".join(nib.aff2axcodes(img.affine))})


for p in sorted(mri.rglob("*.nii*")):
    add_valid(p, str(p.relative_to(mri)))
for p in sorted((mri / "orientation-icbm152-48").glob("*.nii.gz")):
    can = nib.as_closest_canonical(nib.load(str(p)))
    manifest["canonical"][p.name.split(".")[0]] = {"path": str(p), "affine": can.affine.ravel().tolist()}

# --- synthetic valid files
shape = (7, 6, 5)
theta = 0.3
rot = np.array([[np.cos(theta), -np.sin(theta), 0], [np.sin(theta), np.cos(theta), 0], [0, 0, 1]])
aff = np.eye(4)
aff[:3, :3] = rot @ np.diag([1.5, 0.8, 3.0])
aff[:3, 3] = [-20.5, 11.25, 7.0]
synth = out / "synth"


def save(img, name):
    nib.save(img, str(synth / name))
    add_valid(synth / name, "synth/" + name)


for dt, lo, hi in [("uint8", 0, 255), ("int16", -3000, 3000), ("uint16", 0, 60000),
                   ("int32", -100000, 100000), ("float32", -5, 5), ("float64", -5, 5)]:
    arr = rng.uniform(lo, hi, shape).astype(dt)
    for ext in (".nii", ".nii.gz"):
        save(nib.Nifti1Image(arr, aff), f"dtype_{dt}{ext}")

arr = rng.integers(-200, 200, shape).astype(np.int16)
img = nib.Nifti1Image(arr, aff)
img.header.set_slope_inter(2.5, -10.0)
save(img, "scl_int16.nii.gz")
# slope 0 = no scaling (nibabel refuses to write it, so patch the stored header)
nib.save(nib.Nifti1Image(rng.integers(0, 255, shape).astype(np.uint8), aff), str(synth / "scl_zero_slope.nii"))
b = bytearray((synth / "scl_zero_slope.nii").read_bytes())
b[112:120] = struct.pack("<2f", 0.0, 3.0)
(synth / "scl_zero_slope.nii").write_bytes(bytes(b))
add_valid(synth / "scl_zero_slope.nii", "synth/scl_zero_slope.nii")

hdr = nib.Nifti1Header(endianness=">")
img = nib.Nifti1Image(rng.integers(-500, 500, shape).astype(">i2"), aff, header=hdr)
save(img, "bigendian_int16.nii")
img = nib.Nifti1Image(rng.uniform(-1, 1, shape).astype(">f4"), aff, header=nib.Nifti1Header(endianness=">"))
save(img, "bigendian_float32.nii.gz")

save(nib.Nifti2Image(rng.uniform(0, 9, shape).astype(np.float32), aff), "nifti2_float32.nii")
save(nib.Nifti2Image(rng.integers(0, 900, shape).astype(np.int16), aff), "nifti2_int16.nii.gz")

flip = aff.copy()
flip[:3, 2] *= -1  # negative determinant -> qfac = -1
img = nib.Nifti1Image(rng.uniform(0, 1, shape).astype(np.float32), None)
img.set_qform(flip, code=1)
img.set_sform(None, code=0)
save(img, "qform_only_qfac.nii")
img = nib.Nifti1Image(rng.uniform(0, 1, shape).astype(np.float32), None)
img.header.set_zooms((1.2, 2.0, 3.5))
img.set_qform(None, code=0)
img.set_sform(None, code=0)
save(img, "no_xform_fallback.nii.gz")

# a 4-D file with a singleton 4th dimension is a 3-D volume
save(nib.Nifti1Image(rng.uniform(0, 1, shape + (1,)).astype(np.float32), aff), "singleton_4d.nii")

# extension + odd vox_offset: write with an extension, then move the data 13 bytes further
img = nib.Nifti1Image(rng.integers(0, 1000, shape).astype(np.int16), aff)
img.header.extensions.append(nib.nifti1.Nifti1Extension("comment", b"voxinfer test extension" * 3))
nib.save(img, str(synth / "tmp_ext.nii"))
raw = (synth / "tmp_ext.nii").read_bytes()
(synth / "tmp_ext.nii").unlink()
off = int(struct.unpack("<f", raw[108:112])[0])
new_off = off + 13
patched = bytearray(raw[:off]) + bytes(13) + raw[off:]
patched[108:112] = struct.pack("<f", float(new_off))
for name, opener in (("ext_odd_offset.nii", open), ("ext_odd_offset.nii.gz", gzip.open)):
    with opener(synth / name, "wb") as f:
        f.write(bytes(patched))
    add_valid(synth / name, "synth/" + name)

# --- hostile files (expected: vx::Error with the given status name)
hostile = out / "hostile"
hostile.mkdir(exist_ok=True)


def add_hostile(name, status, what):
    manifest["hostile"].append({"path": str(hostile / name), "status": status, "what": what})


good = nib.Nifti1Image(rng.uniform(0, 1, (20, 20, 20)).astype(np.float32), aff)
nib.save(good, str(hostile / "good.nii.gz"))
gzbytes = (hostile / "good.nii.gz").read_bytes()
(hostile / "truncated.nii.gz").write_bytes(gzbytes[: len(gzbytes) // 2])
add_hostile("truncated.nii.gz", "corrupt_file", "truncated gzip stream")
nib.save(good, str(hostile / "good.nii"))
nii = (hostile / "good.nii").read_bytes()
(hostile / "truncated.nii").write_bytes(nii[: len(nii) - 1000])
add_hostile("truncated.nii", "corrupt_file", "truncated uncompressed data")
(hostile / "tiny.nii").write_bytes(nii[:100])
add_hostile("tiny.nii", "corrupt_file", "shorter than a header")


def patched_header(src_bytes, edits, name, gz):
    b = bytearray(src_bytes)
    for off, fmt, val in edits:
        b[off:off + struct.calcsize(fmt)] = struct.pack(fmt, *val) if isinstance(val, tuple) else struct.pack(fmt, val)
    data = bytes(b)
    if gz:
        data = gzip.compress(data)
    (hostile / name).write_bytes(data)


n1 = nii[:352 + 64]  # header + a little data only
patched_header(n1, [(40, "<8h", (3, 32767, 32767, 32767, 1, 1, 1, 1))], "huge_n1.nii", False)
add_hostile("huge_n1.nii", "limit_exceeded", "header claims 32767^3 voxels, file tiny")
patched_header(n1, [(40, "<8h", (3, 32767, 32767, 32767, 1, 1, 1, 1))], "huge_n1.nii.gz", True)
add_hostile("huge_n1.nii.gz", "limit_exceeded", "gz header claims 32767^3 voxels")
n2img = nib.Nifti2Image(np.zeros((4, 4, 4), np.float32), aff)
nib.save(n2img, str(hostile / "n2.nii"))
n2 = (hostile / "n2.nii").read_bytes()
patched_header(n2, [(16, "<8q", (3, 100000, 100000, 100000, 1, 1, 1, 1))], "huge_100000_cubed.nii.gz", True)
add_hostile("huge_100000_cubed.nii.gz", "limit_exceeded", "NIfTI-2 header claims 100000^3 voxels")
patched_header(n2, [(16, "<8q", (3, 100000, 100000, 100000, 1, 1, 1, 1))], "huge_100000_cubed.nii", False)
add_hostile("huge_100000_cubed.nii", "limit_exceeded", "NIfTI-2 header claims 100000^3 voxels")
for tag, val in (("zero", 0.0), ("negative", -1.0), ("nan", float("nan"))):
    patched_header(nii, [(76 + 8, "<f", val)], f"spacing_{tag}.nii", False)
    add_hostile(f"spacing_{tag}.nii", "corrupt_file", f"{tag} pixdim[2]")
patched_header(nii, [(40, "<8h", (3, 20, -20, 20, 1, 1, 1, 1))], "negative_dim.nii", False)
add_hostile("negative_dim.nii", "corrupt_file", "negative dim")
patched_header(nii, [(70, "<h", 128)], "rgb_datatype.nii", False)
add_hostile("rgb_datatype.nii", "unsupported", "RGB24 datatype")
bad = rng.uniform(0, 1, (8, 8, 8)).astype(np.float32)
bad[1, 2, 3] = np.nan
bad[4, 4, 4] = np.inf
nib.save(nib.Nifti1Image(bad, aff), str(hostile / "nan_inf.nii.gz"))
add_hostile("nan_inf.nii.gz", "corrupt_file", "NaN and Inf voxels")
nib.save(nib.Nifti1Image(rng.uniform(0, 1, (6, 6, 6, 3)).astype(np.float32), aff), str(hostile / "four_d.nii.gz"))
add_hostile("four_d.nii.gz", "unsupported", "4-D with 3 volumes")
(hostile / "not_nifti.nii").write_bytes(b"hello world" * 100)
add_hostile("not_nifti.nii", "corrupt_file", "not a NIfTI file")
add_hostile("does_not_exist.nii.gz", "io_error", "missing file")

(out / "manifest.json").write_text(json.dumps(manifest, indent=1))
print(f"nifti fixtures: {len(manifest['valid'])} valid, {len(manifest['hostile'])} hostile")
