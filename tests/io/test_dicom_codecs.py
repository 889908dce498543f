"""Compressed DICOM decodes pixel-exact through voxinfer's GDCM codec path (lib/io/dicom_codec.cpp).

Oracles, none of them voxinfer:
- lossless series made at test time from the real 3-slice T1 series in tests/data/mri with dcmtk
  (dcmcjpeg +e1 / +el, dcmcjpls, dcmcrle) and GDCM's gdcmconv (--jpeg, --jpegls, --j2k) must give
  exactly the voxels pydicom reads from the uncompressed original;
- pydicom's own compressed test files (python3-pydicom): MR_small in JPEG 2000 / JPEG-LS lossless
  against pydicom's uncompressed MR_small.dcm; the others against pydicom's Pillow decoder (JPEG
  baseline, JPEG 2000) or dcmtk's dcmdjpeg (12-bit JPEG extended, which Pillow cannot decode).
  Files without patient geometry get ImagePositionPatient / ImageOrientationPatient /
  PixelSpacing added by pydicom (pixel data untouched) so the series reader accepts them;
- lossy syntaxes (JPEG extended, JPEG-LS near-lossless, JPEG 2000 irreversible) decode to what
  dcmtk's decoder gives (JPEG-LS: dcmdjpls; tolerance 0: both are IJG / CharLS-style exact
  decoders) and the volume carries a lossy-compression warning; lossless ones carry none;
- colour and deflated files are refused with a message naming the reason.
Tolerance: 0 (integers stored in float32) except where stated."""
import os
import pathlib
import shutil
import subprocess

import numpy as np
import pydicom
import pydicom.data
import pytest

import voxinfer as vx
from dicom_oracle import read_series, series_voxels

DATA = pathlib.Path(os.environ.get("VX_TEST_DATA_DIR", pathlib.Path(__file__).resolve().parents[1] / "data"))
T1 = DATA / "mri" / "dicom-brain-t1-vsseg-3sl"
PYDICOM_FILES = pathlib.Path(os.path.dirname(pydicom.data.__file__)) / "test_files"


def need(tool):
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} not installed")


def to_ijk(vox_sjr):
    """pydicom's [slice, row, column] as voxinfer's data [i = column, j = row, k = slice]."""
    return np.transpose(vox_sjr, (2, 1, 0))


def compress_series(src, dst, cmd):
    dst.mkdir()
    for f in sorted(src.glob("*.dcm")):
        subprocess.run([*cmd, str(f), str(dst / f.name)], check=True, capture_output=True, timeout=120)
    return dst


def syntax_of(folder):
    return str(pydicom.dcmread(str(next(folder.glob("*.dcm"))), stop_before_pixels=True).file_meta.TransferSyntaxUID)


@pytest.fixture(scope="module")
def t1_reference():
    return to_ijk(series_voxels(read_series(T1)))


LOSSLESS = [
    (["dcmcjpeg", "+e1"], "1.2.840.10008.1.2.4.70"),
    (["dcmcjpeg", "+el"], "1.2.840.10008.1.2.4.57"),
    (["dcmcjpls"], "1.2.840.10008.1.2.4.80"),
    (["dcmcrle"], "1.2.840.10008.1.2.5"),
    (["gdcmconv", "--jpeg"], "1.2.840.10008.1.2.4.70"),
    (["gdcmconv", "--jpegls"], "1.2.840.10008.1.2.4.80"),
]


@pytest.mark.parametrize("cmd,syntax", LOSSLESS, ids=[" ".join(c) for c, _ in LOSSLESS])
def test_lossless_series_equals_uncompressed(tmp_path, t1_reference, cmd, syntax):
    need(cmd[0])
    folder = compress_series(T1, tmp_path / "c", cmd)
    assert syntax_of(folder) == syntax
    v = vx.read_volume(folder)
    assert v.data.shape == t1_reference.shape
    np.testing.assert_array_equal(v.data, t1_reference)
    assert not any("lossy" in w for w in v.warnings)


def decompressed(tmp_path, tool, src):
    """An uncompressed copy made by dcmtk (independent of GDCM), read by pydicom."""
    need(tool)
    out = tmp_path / ("raw-" + pathlib.Path(src).name)
    subprocess.run([tool, str(src), str(out)], check=True, capture_output=True, timeout=120)
    return out


LOSSY = [
    (["dcmcjpeg", "+ee"], "1.2.840.10008.1.2.4.51", "dcmdjpeg"),
    (["dcmcjpls", "+en"], "1.2.840.10008.1.2.4.81", "dcmdjpls"),
]


@pytest.mark.parametrize("cmd,syntax,decoder", LOSSY, ids=[" ".join(c) for c, _, _ in LOSSY])
def test_lossy_series_decodes_as_dcmtk_and_warns(tmp_path, t1_reference, cmd, syntax, decoder):
    need(cmd[0])
    folder = compress_series(T1, tmp_path / "c", cmd)
    assert syntax_of(folder) == syntax
    ref_dir = tmp_path / "ref"
    ref_dir.mkdir()
    for f in folder.glob("*.dcm"):
        shutil.move(str(decompressed(tmp_path, decoder, f)), str(ref_dir / f.name))
    ref = to_ijk(series_voxels(read_series(ref_dir)))
    assert not np.array_equal(ref, t1_reference)  # it really is lossy
    v = vx.read_volume(folder)
    np.testing.assert_array_equal(v.data, ref)
    assert any("lossy" in w for w in v.warnings), v.warnings


def with_geometry(src, dst):
    """A copy of a pydicom test file with patient geometry added when it has none."""
    ds = pydicom.dcmread(str(src))
    if "ImagePositionPatient" not in ds:
        ds.ImagePositionPatient = [0, 0, 0]
    if "ImageOrientationPatient" not in ds:
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    if "PixelSpacing" not in ds:
        ds.PixelSpacing = [1, 1]
    ds.save_as(str(dst), write_like_original=True)
    return dst


def pydicom_ijk(path):
    ds = pydicom.dcmread(str(path))
    arr = ds.pixel_array.astype(np.float64)
    arr = arr * float(ds.get("RescaleSlope", 1) or 1) + float(ds.get("RescaleIntercept", 0) or 0)
    return to_ijk(arr[None].astype(np.float32))


def j2k_irreversible(path):
    """JPEG 2000 wavelet of the first frame from its COD marker (0 = 9-7 irreversible)."""
    from pydicom.encaps import generate_pixel_data_frame
    frame = next(generate_pixel_data_frame(pydicom.dcmread(str(path)).PixelData))
    cod = frame.find(b"\xff\x52")
    assert cod > 0
    return frame[cod + 13] == 0


# (file, oracle, lossy; None = told by the stream's wavelet or LossyImageCompression): "MR_small.dcm" = pydicom's uncompressed original, "pydicom" = pydicom's own
# decoder (Pillow) on the compressed file, "dcmdjpeg" = dcmtk's decompressed copy.
PYDICOM_CASES = [
    ("MR_small_jpeg_ls_lossless.dcm", "MR_small.dcm", False),
    ("JPGExtended.dcm", "dcmdjpeg", True),
    ("JPEG-lossy.dcm", "dcmdjpeg", True),
]


@pytest.mark.parametrize("name,oracle,lossy", PYDICOM_CASES, ids=[c[0] for c in PYDICOM_CASES])
def test_pydicom_compressed_files(tmp_path, name, oracle, lossy):
    src = PYDICOM_FILES / name
    if not src.exists():
        pytest.skip(f"{src} not shipped by this pydicom")
    f = with_geometry(src, tmp_path / name)
    if oracle == "pydicom":
        ref = pydicom_ijk(src)
    elif oracle == "dcmdjpeg":
        ref = pydicom_ijk(decompressed(tmp_path, "dcmdjpeg", src))
    else:
        ref = pydicom_ijk(PYDICOM_FILES / oracle)
    if lossy is None:  # JPEG 2000 (.91): lossy when its wavelet or its header says so
        lossy = j2k_irreversible(src) or pydicom.dcmread(str(src)).get("LossyImageCompression") == "01"
    v = vx.read_volume(f)
    assert v.data.shape == ref.shape
    np.testing.assert_array_equal(v.data, ref)
    assert any("lossy" in w for w in v.warnings) == lossy, v.warnings


@pytest.mark.parametrize("name,message", [
    ("SC_rgb_jpeg_gdcm.dcm", "SamplesPerPixel"),
    ("SC_rgb_gdcm_KY.dcm", "SamplesPerPixel"),
    ("SC_rgb_jpeg_dcmtk.dcm", "SamplesPerPixel"),
])
def test_colour_refused(tmp_path, name, message):
    src = PYDICOM_FILES / name
    if not src.exists():
        pytest.skip(f"{src} not shipped by this pydicom")
    with pytest.raises(vx.VoxinferError, match=message):
        vx.read_volume(with_geometry(src, tmp_path / name))


def test_stream_size_must_match_header(tmp_path):
    """A JPEG-LS stream whose frame header disagrees with Rows/Columns is refused before decoding."""
    ds = pydicom.dcmread(str(PYDICOM_FILES / "MR_small_jpeg_ls_lossless.dcm"))
    ds.Rows = 128
    f = tmp_path / "lie.dcm"
    ds.save_as(str(f), write_like_original=True)
    with pytest.raises(vx.VoxinferError, match="stream declares 64 x 64"):
        vx.read_volume(f)


@pytest.mark.parametrize("name", ["MR_small_jp2klossless.dcm", "JPEG2000.dcm", "693_J2KI.dcm"])
def test_jpeg2000_is_refused_clearly(tmp_path, name):
    """JPEG 2000 is refused (GDCM's decoder crashed on a fuzzed stream), with a message that says
    how to decompress the series: never a crash, never pixels."""
    src = PYDICOM_FILES / name
    if not src.exists():
        pytest.skip(f"{src} not shipped by this pydicom")
    f = with_geometry(src, tmp_path / name)
    with pytest.raises(vx.VoxinferError, match="JPEG 2000 pixel data .* is not read.*gdcmconv --raw"):
        vx.read_volume(f)
