"""Compressed DICOM decodes pixel-exact through voxinfer's GDCM codec path (lib/io/dicom_codec.cpp).

Oracles, none of them voxinfer:
- lossless series made at test time from the real 3-slice T1 series in tests/data/mri with dcmtk
  (dcmcjpeg +e1 / +el, dcmcjpls, dcmcrle) and GDCM's gdcmconv (--jpeg, --jpegls, --j2k) must give
  exactly the voxels pydicom reads from the uncompressed original;
- pydicom's own compressed test files (python3-pydicom): MR_small in JPEG 2000 / JPEG-LS lossless
  against pydicom's uncompressed MR_small.dcm; the others against pydicom's Pillow decoder (JPEG
  baseline, JPEG 2000) or dcmtk's dcmdjpeg (12-bit JPEG extended, which Pillow cannot decode);
- JPEG 2000 (decoded by voxinfer with OpenJPEG directly, lib/io/dicom_j2k.cpp): lossless series
  made by gdcmconv --j2k equal the uncompressed voxels; lossy ones (gdcmconv --j2k --lossy
  --irreversible) equal both pydicom's Pillow decoder on the compressed files and pydicom reading
  gdcmconv --raw's decompressed copy (GDCM's JPEG2000Codec). Tolerance 0 there too: every one of
  these decoders runs OpenJPEG's inverse 9-7 wavelet, so only our wrapping (stream, checks, copy,
  sign and bit handling) differs, and that must not change a value;
  Files without patient geometry get ImagePositionPatient / ImageOrientationPatient /
  PixelSpacing added by pydicom (pixel data untouched) so the series reader accepts them;
- lossy syntaxes (JPEG extended, JPEG-LS near-lossless) decode to what dcmtk's decoder gives
  (JPEG-LS: dcmdjpls; tolerance 0: both are IJG / CharLS-style exact decoders); the volume of
  every lossy syntax (JPEG 2000 .91 included, whatever its wavelet) carries a lossy-compression
  warning; lossless ones carry none;
- Deflated Explicit VR Little Endian (inflated and walked by our pre-check, parsed by GDCM): the
  T1 series deflated by dcmtk's dcmconv +td equals the uncompressed voxels, pydicom's image_dfl.dcm
  equals pydicom's reading of it; a damaged deflate stream and a deflate bomb are refused;
- colour files are refused with a message naming the reason; damaged or lying JPEG 2000 streams
  (wrong size, values outside BitsStored, cut short, the fuzzer's old GDCM crash) are refused.
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
    (["gdcmconv", "--j2k"], "1.2.840.10008.1.2.4.90"),
    (["dcmconv", "+td"], "1.2.840.10008.1.2.1.99"),  # deflated data set, not a pixel codec
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


# (file, oracle, lossy): "MR_small.dcm" = pydicom's uncompressed original, "pydicom" = pydicom's
# own decoder (Pillow) on the compressed file, "dcmdjpeg" = dcmtk's decompressed copy.
# J2K_pixelrep_mismatch: an unsigned 13-bit stream in a signed 13-bit image, read as signed (as
# pydicom does); 693_J2KI: a 16-bit stream in a 14-bit image, every value within 14 bits.
PYDICOM_CASES = [
    ("MR_small_jp2klossless.dcm", "MR_small.dcm", False),
    ("J2K_pixelrep_mismatch.dcm", "pydicom", False),
    ("JPEG2000.dcm", "pydicom", True),
    ("693_J2KI.dcm", "pydicom", True),
    ("image_dfl.dcm", "pydicom", False),  # deflated Explicit VR Little Endian
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
    v = vx.read_volume(f)
    assert v.data.shape == ref.shape
    np.testing.assert_array_equal(v.data, ref)
    assert any("lossy" in w for w in v.warnings) == lossy, v.warnings


@pytest.mark.parametrize("name,message", [
    ("SC_rgb_jpeg_gdcm.dcm", "SamplesPerPixel"),
    ("SC_rgb_gdcm_KY.dcm", "SamplesPerPixel"),
    ("SC_rgb_jpeg_dcmtk.dcm", "SamplesPerPixel"),
    ("GDCMJ2K_TextGBR.dcm", "SamplesPerPixel"),
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


def test_lossy_j2k_series_equals_other_decoders_and_warns(tmp_path, t1_reference):
    """A lossy (9-7 irreversible) JPEG 2000 series made by gdcmconv from the real T1 series decodes
    to what pydicom's Pillow decoder and GDCM's own JPEG2000Codec (gdcmconv --raw) give."""
    need("gdcmconv")
    folder = compress_series(T1, tmp_path / "c", ["gdcmconv", "--j2k", "--lossy", "--irreversible", "-r", "20"])
    assert syntax_of(folder) == "1.2.840.10008.1.2.4.91"
    pillow = to_ijk(series_voxels(read_series(folder)))  # pydicom decodes the compressed files
    raw = compress_series(folder, tmp_path / "raw", ["gdcmconv", "--raw"])
    gdcm = to_ijk(series_voxels(read_series(raw)))
    v = vx.read_volume(folder)
    assert not np.array_equal(gdcm, t1_reference)  # it really is lossy
    np.testing.assert_array_equal(v.data, gdcm)
    np.testing.assert_array_equal(v.data, pillow)
    assert any("lossy" in w for w in v.warnings), v.warnings


def j2k_file(tmp_path, name, **changes):
    """pydicom's MR_small_jp2klossless.dcm with geometry, header attributes changed by `changes`."""
    ds = pydicom.dcmread(str(with_geometry(PYDICOM_FILES / "MR_small_jp2klossless.dcm", tmp_path / "g.dcm")))
    for k, val in changes.items():
        if k == "frame":  # a function of the frame's codestream
            from pydicom.encaps import encapsulate, generate_pixel_data_frame
            frame = val(next(generate_pixel_data_frame(ds.PixelData)))
            ds.PixelData = encapsulate([frame + b"\x00" * (len(frame) % 2)])
        else:
            setattr(ds, k, val)
    f = tmp_path / name
    ds.save_as(str(f), write_like_original=True)
    return f


@pytest.mark.parametrize("changes,message", [
    ({"Rows": 32}, "stream declares 64 x 64"),
    ({"BitsStored": 8, "HighBit": 7}, "outside the signed 8-bit range"),  # MR_small's values reach 2145
    ({"frame": lambda b: b[:len(b) // 2]}, "cannot decode .* OpenJPEG could not decode"),
], ids=["rows", "bits-stored", "cut-short"])
def test_j2k_stream_disagreeing_with_header_is_refused(tmp_path, changes, message):
    with pytest.raises(vx.VoxinferError, match=message):
        vx.read_volume(j2k_file(tmp_path, "lie.dcm", **changes))


def test_fuzzer_gdcm_crash_input_decodes_as_opj_decompress(tmp_path):
    """tests/fuzz/regressions/dicom_codec/j2k_segv_in_gdcm.bin (SEGV inside GDCM's JPEG2000Codec)
    as the DICOM file dicom_codec_fuzz describes: byte 0 = syntax (.90), rows 8, columns 8,
    BitsAllocated 16 / BitsStored 12 unsigned, then the fragment. Its codestream is a valid 8 x 8
    16-bit (values within 12 bits) image: read in this process (no crash), it must give exactly
    what OpenJPEG's own command-line decoder gives, and a copy cut short must be refused."""
    need("opj_decompress")
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.encaps import encapsulate
    from pydicom.uid import generate_uid
    blob = (pathlib.Path(__file__).resolve().parents[1] / "fuzz" / "regressions" / "dicom_codec" /
            "j2k_segv_in_gdcm.bin").read_bytes()
    assert blob[0] % 8 == 6 and 1 + blob[1] % 64 == 8 and 1 + blob[2] % 64 == 8 and blob[3] == 0x8A
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.90"
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID, ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.SeriesInstanceUID = "MR", generate_uid()
    ds.ImagePositionPatient, ds.ImageOrientationPatient, ds.PixelSpacing = [0, 0, 0], [1, 0, 0, 0, 1, 0], [1, 1]
    ds.Rows = ds.Columns = 8
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    frag = blob[4:] + (b"\x00" if len(blob[4:]) % 2 else b"")
    ds.PixelData = encapsulate([frag])
    ds["PixelData"].VR = "OB"
    ds.is_little_endian, ds.is_implicit_VR = True, False
    f = tmp_path / "segv.dcm"
    ds.save_as(str(f), write_like_original=False)
    (tmp_path / "s.j2k").write_bytes(blob[4:])
    subprocess.run(["opj_decompress", "-i", str(tmp_path / "s.j2k"), "-o", str(tmp_path / "s.rawl")], check=True,
                   capture_output=True, timeout=60)
    ref = np.frombuffer((tmp_path / "s.rawl").read_bytes(), "<u2").reshape(8, 8).astype(np.float32)
    v = vx.read_volume(f)
    np.testing.assert_array_equal(v.data, to_ijk(ref[None]))
    ds.PixelData = encapsulate([frag[:100]])
    ds.save_as(str(f), write_like_original=False)
    with pytest.raises(vx.VoxinferError, match="cannot decode 1.2.840.10008.1.2.4.90"):
        vx.read_volume(f)


def deflated_file(tmp_path, data_set):
    """A Part 10 file: image_dfl.dcm's preamble and file meta group, then `data_set` as given."""
    raw = (PYDICOM_FILES / "image_dfl.dcm").read_bytes()
    assert raw[128:132] == b"DICM" and raw[132:136] == b"\x02\x00\x00\x00"
    meta_end = 144 + int.from_bytes(raw[140:144], "little")
    f = tmp_path / "dfl.dcm"
    f.write_bytes(raw[:meta_end] + data_set)
    return f, raw[meta_end:]


def test_damaged_deflate_stream_is_refused(tmp_path):
    _, stream = deflated_file(tmp_path, b"")
    f, _ = deflated_file(tmp_path, stream[: len(stream) // 2])
    with pytest.raises(vx.VoxinferError, match="damaged deflate stream"):
        vx.read_volume(f)
    f, _ = deflated_file(tmp_path, stream + b"\x00" * 16)
    with pytest.raises(vx.VoxinferError, match="bytes after the end of a deflated"):
        vx.read_volume(f)


def test_deflate_bomb_is_refused(tmp_path):
    """A 70 KiB file whose data set inflates to 72 MiB (one private OB element of zeros): refused
    before GDCM inflates it (the limit for a file this small is 64 MiB)."""
    import zlib
    n = 72 << 20
    element = b"\x09\x00\x10\x10OB\x00\x00" + n.to_bytes(4, "little")
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = z.compress(element) + b"".join(z.compress(bytes(1 << 20)) for _ in range(n >> 20)) + z.flush()
    f, _ = deflated_file(tmp_path, body + b"\x00" * (len(body) % 2))
    assert f.stat().st_size < 1 << 20
    with pytest.raises(vx.VoxinferError, match="inflates to more than 64 MiB"):
        vx.read_volume(f)
