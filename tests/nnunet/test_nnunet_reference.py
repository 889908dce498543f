"""Self-consistency of nnunet_reference.py on small inputs (CI cannot fetch nnU-Net; the
comparison with nnU-Net itself is crosscheck_nnunet.py, results in README.md). Each property
fails when the step it checks is wrong."""
import numpy as np
import pytest
import torch
from scipy import ndimage
from skimage.transform import resize as sk_resize

import nnunet_reference as ref

torch.set_num_threads(1)
RNG = np.random.default_rng(7)


# --- tile steps
@pytest.mark.parametrize("size,tile,step", [(110, 64, 0.5), (64, 64, 0.5), (65, 64, 0.5), (200, 32, 0.5),
                                            (37, 16, 0.25), (100, 30, 1.0)])
def test_steps_cover_the_volume(size, tile, step):
    (steps,) = ref.compute_steps((size,), (tile,), step)
    assert steps[0] == 0 and steps[-1] == size - tile
    covered = np.zeros(size, bool)
    for s in steps:
        covered[s:s + tile] = True
    assert covered.all()
    assert all(b - a <= tile * step + 0.5 for a, b in zip(steps, steps[1:]))  # never a wider step than asked
    assert steps == sorted(set(steps))


def test_steps_example_from_nnunet():
    # compute_steps_for_sliding_window's own comment: image 110, patch 64, step 0.5 -> 0, 23, 46
    assert ref.compute_steps((110,), (64,), 0.5) == [[0, 23, 46]]
    # by hand from its formula: 35 / 2 = 17.5 voxels a step (rounded half to even); 168 / 11 = 15.27
    assert ref.compute_steps((99, 64, 200), (64, 64, 32), 0.5) == [[0, 18, 35], [0], [0, 15, 31, 46, 61, 76, 92, 107,
                                                                                   122, 137, 153, 168]]
    with pytest.raises(ValueError):
        ref.compute_steps((10,), (16,), 0.5)


def test_tile_slicers_2d_patch_on_3d_image():
    sl = ref.tile_slicers((3, 40, 32), [32, 32], 0.5)
    assert len(sl) == 3 * 2 * 1 and sl[0] == (slice(None), 0, slice(0, 32), slice(0, 32))
    assert sl[1] == (slice(None), 0, slice(8, 40), slice(0, 32))
    sl3 = ref.tile_slicers((20, 40, 32), [16, 32, 32], 0.5)
    assert [s[1].start for s in sl3] == [0, 0, 4, 4] and [s[2].start for s in sl3] == [0, 8, 0, 8]  # x, then y


# --- Gaussian
@pytest.mark.parametrize("tile", [(16, 32, 32), (32, 32), (20, 24, 28)])
def test_gaussian(tile):
    g = ref.compute_gaussian(tile)
    assert g.dtype == torch.float16 and tuple(g.shape) == tuple(tile)
    c = tuple(t // 2 for t in tile)
    assert float(g[c]) == 10.0 and float(g.max()) == 10.0
    assert float(g.min()) > 0
    # separable: the outer product of 1-D filtered deltas, normalised to peak 10, cast to float16
    sep = np.ones(())
    for t in tile:
        d = np.zeros(t)
        d[t // 2] = 1
        sep = np.multiply.outer(sep, ndimage.gaussian_filter1d(d, t / 8, mode="constant", cval=0))
    sep = torch.from_numpy(sep / sep.max() * 10).half()
    nz = sep != 0
    assert torch.equal(g[nz], sep[nz])
    if (~nz).any():  # underflow to 0 in float16 is replaced by the smallest non-zero value
        assert torch.all(g[~nz] == sep[nz].min())


def test_gaussian_underflow_clamped():
    g = ref.compute_gaussian((64, 64, 64), sigma_scale=1 / 32)
    plain = ndimage.gaussian_filter(np.pad(np.ones((1, 1, 1)), 32)[:64, :64, :64], 2, 0, mode="constant")
    assert (torch.from_numpy(plain / plain.max() * 10).half() == 0).any()
    assert float(g.min()) > 0 and float(g.min()) == float(g[g > 0].min())


# --- resampling
@pytest.mark.parametrize("order", [0, 1, 3])
@pytest.mark.parametrize("new", [(7, 30, 19), (25, 10, 40)])
def test_resize_equals_skimage(order, new):
    x = RNG.standard_normal((12, 17, 23)).cumsum(0)
    mine = ref.resize_like_skimage(x, new, order)
    theirs = sk_resize(x, new, order, mode="edge", anti_aliasing=False)
    np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-12)


def test_separate_z_rules():
    f = ref.determine_do_sep_z_and_axis
    assert f(None, [3.0, 1.0, 1.0], [1.0, 1.0, 1.0]) == (False, None)  # ratio 3 is not above 3
    assert f(None, [3.5, 1.0, 1.0], [1.0, 1.0, 1.0]) == (True, 0)
    assert f(None, [1.0, 1.0, 1.0], [1.0, 4.0, 1.0]) == (True, 1)  # from the target spacing
    assert f(None, [3.5, 3.5, 1.0], [1.0, 1.0, 1.0]) == (False, None)  # two coarse axes
    assert f(True, [1.0, 1.0, 2.0], [1.0, 1.0, 1.0]) == (True, 2)
    assert f(False, [5.0, 1.0, 1.0], [1.0, 1.0, 1.0]) == (False, None)


def test_separate_z_is_in_plane_order_3_then_nearest_along_z():
    x = RNG.standard_normal((1, 6, 20, 22)).astype(np.float32)
    out = ref.resample_data_or_seg(x, (13, 31, 15), axis=0, order=3, do_separate_z=True, order_z=0)
    assert out.dtype == np.float32 and out.shape == (1, 13, 31, 15)
    planes = np.stack([sk_resize(x[0, z].astype(float), (31, 15), 3, mode="edge", anti_aliasing=False)
                       for z in range(6)])
    src = np.clip(np.floor((np.arange(13) + 0.5) * 6 / 13 - 0.5 + 0.5), 0, 5).astype(int)  # nearest, half-pixel
    np.testing.assert_allclose(out[0], planes[src].astype(np.float32), rtol=0, atol=1e-6)
    # order_z 1 along the axis: linear between the in-plane resized slices
    lin = ref.resample_data_or_seg(x, (13, 31, 15), axis=0, order=3, do_separate_z=True, order_z=1)
    grid = np.clip((np.arange(13) + 0.5) * 6 / 13 - 0.5, 0, 5)
    lo, w = np.floor(grid).astype(int), grid - np.floor(grid)
    hi = np.minimum(lo + 1, 5)
    expect = planes[lo] * (1 - w)[:, None, None] + planes[hi] * w[:, None, None]
    np.testing.assert_allclose(lin[0], expect.astype(np.float32), rtol=0, atol=1e-5)


def test_order1_reproduces_a_linear_ramp_and_round_trips():
    z, y, x = np.meshgrid(np.arange(10.0), np.arange(12.0), np.arange(14.0), indexing="ij")
    ramp = (0.5 * z + 0.25 * y - 0.1 * x)[None].astype(np.float32)
    up = ref.resample_data_or_seg(ramp, (20, 24, 28), order=1)
    # half-pixel-aligned upsampling of a linear function is linear inside the edge voxels
    zz, yy, xx = np.meshgrid((np.arange(20) + 0.5) / 2 - 0.5, (np.arange(24) + 0.5) / 2 - 0.5,
                             (np.arange(28) + 0.5) / 2 - 0.5, indexing="ij")
    expect = 0.5 * zz + 0.25 * yy - 0.1 * xx
    inner = (slice(1, -1),) * 3
    np.testing.assert_allclose(up[0][inner], expect[inner], rtol=0, atol=1e-5)
    back = ref.resample_data_or_seg(up, (10, 12, 14), order=1)
    np.testing.assert_allclose(back[0][inner], ramp[0][inner], rtol=0, atol=1e-5)


def test_same_shape_is_returned_untouched():
    x = RNG.standard_normal((2, 4, 5, 6)).astype(np.float16)
    assert ref.resample_data_or_seg(x, (4, 5, 6)) is x


def test_float16_logits_stay_float16_when_resampled():
    x = torch.randn(3, 4, 5, 6).half().numpy()
    out = ref.resample_to_shape(x, (8, 5, 6), [2.0, 1.0, 1.0], [1.0, 1.0, 1.0],
                                {"is_seg": False, "order": 1, "order_z": 0, "force_separate_z": None})
    assert out.dtype == np.float16 and out.shape == (3, 8, 5, 6)


# --- crop, normalise, pad
def test_crop_to_nonzero_and_paste_back():
    d = np.zeros((2, 10, 12, 14), np.float32)
    d[0, 2:7, 3:9, 4:12] = RNG.random((5, 6, 8)) + 1
    d[0, 4, 5, 6] = 0  # a hole: filled, so inside the mask
    d[1, 8, 1, 1] = 5  # channel union
    crop, seg, box = ref.crop_to_nonzero(d)
    assert box == [[2, 9], [1, 9], [1, 12]]
    assert crop.shape == (2, 7, 8, 11) and seg.shape == (1, 7, 8, 11) and seg.dtype == np.int8
    assert seg[0, 4 - 2, 5 - 1, 6 - 1] == 0 and seg[0, 0, 0, 0] == -1
    back = ref.paste_crop(d.shape[1:], crop[0], box, np.float32)
    np.testing.assert_array_equal(back, d[0])
    empty = np.zeros((1, 3, 4, 5), np.float32)
    assert ref.crop_to_nonzero(empty)[2] == [[0, 3], [0, 4], [0, 5]]


def test_normalisation_schemes():
    x = (RNG.standard_normal((6, 7, 8)) * 50 + 200).astype(np.float32)
    seg = np.zeros_like(x, np.int8)
    seg[:2] = -1
    z = ref.normalize_channel(x, "ZScoreNormalization", False, None)
    assert abs(z.mean()) < 1e-5 and abs(z.std() - 1) < 1e-5 and z.dtype == np.float32
    zm = ref.normalize_channel(x, "ZScoreNormalization", True, None, seg)
    inside = seg >= 0
    assert abs(zm[inside].mean()) < 1e-5 and abs(zm[inside].std() - 1) < 1e-5
    np.testing.assert_array_equal(zm[~inside], x[~inside])  # outside the mask untouched
    props = {"mean": 190.0, "std": 40.0, "percentile_00_5": 120.0, "percentile_99_5": 260.0}
    ct = ref.normalize_channel(x, "CTNormalization", False, props)
    np.testing.assert_allclose(ct, (np.clip(x, 120, 260) - 190) / 40, rtol=0, atol=1e-5)
    r = ref.normalize_channel(x, "RescaleTo01Normalization", False, None)
    assert r.min() == 0 and abs(r.max() - 1) < 1e-6
    np.testing.assert_array_equal(ref.normalize_channel(x, "NoNormalization", False, None), x)
    with pytest.raises(ValueError, match="Fancy"):
        ref.normalize_channel(x, "FancyNormalization", False, None)


def test_pad_to_patch_centres_with_the_extra_voxel_above():
    x = RNG.standard_normal((2, 5, 40, 7)).astype(np.float32)
    p, sl = ref.pad_to_patch(x, [8, 32, 10])
    assert p.shape == (2, 8, 40, 10)
    assert sl == (slice(0, 2), slice(1, 6), slice(0, 40), slice(1, 8))  # 3 -> 1 below, 2 above
    np.testing.assert_array_equal(p[sl], x)
    assert p[:, 0].max() == 0 and p[:, 6:].max() == 0


# --- mirroring and the float16 aggregation
class Asym(torch.nn.Module):
    """Not flip-equivariant, so every mirror matters."""

    def __init__(self, dim, heads=2):
        super().__init__()
        conv = torch.nn.Conv3d if dim == 3 else torch.nn.Conv2d
        torch.manual_seed(0)
        self.c = conv(1, heads, 3, padding=1)

    def forward(self, x):
        return self.c(x) * 3


def test_mirroring_is_the_mean_over_every_axis_combination():
    net = Asym(3).eval()
    x = torch.randn(1, 1, 6, 7, 8)
    assert len(ref.mirror_combinations([0, 1, 2])) == 7
    with torch.no_grad():
        expect = sum(torch.flip(net(torch.flip(x, a)), a) if a else net(x)
                     for a in [()] + ref.mirror_combinations([0, 1, 2])) / 8
        got = ref.predict_tile(net, x.clone(), [0, 1, 2])
    torch.testing.assert_close(got, expect, rtol=0, atol=1e-5)
    assert (got - net(x)).abs().max() > 1e-3


def _meta(patch, heads=2):
    return {"patch_size": patch, "num_segmentation_heads": heads, "allowed_mirroring_axes": None,
            "sliding_window": {"gaussian_sigma_scale": 0.125, "gaussian_value_scaling_factor": 10}}


def test_float16_accumulation_rounds_after_every_add():
    net = Asym(3).eval()
    data = RNG.standard_normal((1, 12, 20, 24)).astype(np.float32)
    rec = {}
    got = ref.sliding_window_logits(net, data, _meta([8, 16, 16]), 2, None, 0.5, rec)
    g = rec["gaussian"].numpy()
    acc = np.zeros((2, 12, 20, 24), np.float16)
    w = np.zeros((12, 20, 24), np.float16)
    for sl, tile in zip(rec["slicers"], rec["tiles"]):
        weighted = tile.numpy().astype(np.float32) * g.astype(np.float32)  # float32 tile x float16 map
        acc[sl] = (acc[sl].astype(np.float32) + weighted).astype(np.float16)
        w[sl[1:]] = (w[sl[1:]].astype(np.float32) + g.astype(np.float32)).astype(np.float16)
    emul = (acc.astype(np.float32) / w.astype(np.float32)).astype(np.float16)
    assert got.dtype == torch.float16
    np.testing.assert_array_equal(got.numpy(), emul)
    # and it is not fp32 accumulation: the two differ somewhere
    acc32 = np.zeros((2, 12, 20, 24), np.float32)
    w32 = np.zeros((12, 20, 24), np.float32)
    for sl, tile in zip(rec["slicers"], rec["tiles"]):
        acc32[sl] += tile.numpy() * g.astype(np.float32)
        w32[sl[1:]] += g.astype(np.float32)
    assert np.any((acc32 / w32).astype(np.float16) != emul)


def test_fold_average_in_float16():
    nets = [Asym(3).eval(), Asym(3).eval()]
    with torch.no_grad():
        nets[1].c.weight.mul_(-0.5)
    data = RNG.standard_normal((1, 8, 16, 16)).astype(np.float32)
    m = _meta([8, 16, 16])
    a = ref.sliding_window_logits(nets[0], data, m, 2, None)
    b = ref.sliding_window_logits(nets[1], data, m, 2, None)
    got = ref.predict_logits(nets, data, m, mirror_axes=[])
    assert torch.equal(got, (a + b) / 2)


# --- the whole chain on a model whose labels are known: logits [-x, x] -> label 1 where z-score(x) > 0
class SignNet(torch.nn.Module):
    def __init__(self, dim):
        super().__init__()
        conv = torch.nn.Conv3d if dim == 3 else torch.nn.Conv2d
        self.c = conv(1, 2, 1, bias=False)
        with torch.no_grad():
            self.c.weight[:] = torch.tensor([-1.0, 1.0]).reshape(2, 1, *([1] * dim))

    def forward(self, x):
        return self.c(x)


@pytest.mark.parametrize("tf,patch", [([0, 1, 2], [8, 16, 16]), ([2, 0, 1], [16, 8, 16]), ([1, 2, 0], [16, 16, 8])])
def test_predict_end_to_end_with_transpose_and_crop(tf, patch):
    tb = list(np.argsort(tf))
    vol = np.zeros((1, 10, 26, 30), np.float32)
    vol[0, 1:9, 2:24, 3:28] = (RNG.standard_normal((8, 22, 25)) * 30 + 100).astype(np.float32)
    spacing = [2.0, 1.0, 1.5]
    meta = {"transpose_forward": tf, "transpose_backward": tb, "spacing": [spacing[i] for i in tf],
            "patch_size": patch, "num_segmentation_heads": 2, "allowed_mirroring_axes": [0, 1, 2],
            "labels": {"background": 0, "x": 1}, "has_regions": False,
            "channels": [{"normalization": "ZScoreNormalization", "use_mask_for_norm": True,
                          "intensity_properties": None}],
            "resampling": {k: {"fn": "resample_data_or_seg_to_shape",
                               "kwargs": {"is_seg": False, "order": o, "order_z": 0, "force_separate_z": None}}
                           for k, o in (("data", 3), ("probabilities", 1))},
            "sliding_window": {"gaussian_sigma_scale": 0.125, "gaussian_value_scaling_factor": 10}}
    rec = {}
    seg = ref.predict([SignNet(3).eval()], vol, spacing, meta, record=rec)
    assert seg.shape == vol.shape[1:] and seg.dtype == np.uint8
    inside = vol[0] != 0
    v = vol[0][inside]
    expect = np.zeros(vol.shape[1:], np.uint8)
    expect[inside] = ((v - v.mean()) / v.std() > 0).astype(np.uint8)
    # nnU-Net's float16 aggregation underflows where only a tile's corner (Gaussian ~1e-7) covers a
    # voxel: both logits become 0 and argmax says 0. Only those voxels may differ.
    zero = (rec["logits"].float().numpy() == 0).all(0)
    zero_full = ref.paste_crop(rec["props"]["shape_before_cropping"], zero, rec["props"]["bbox_used_for_cropping"],
                               bool).transpose(tb)
    assert not np.any((seg != expect) & ~zero_full)
    assert zero_full.mean() < 0.01
    crop = [8, 22, 25]  # the non-zero box, in the network's (transposed) axis order
    assert rec["preprocessed"].shape[1:] == tuple(crop[i] for i in tf)


def test_regions_are_thresholded_in_class_order():
    logits = np.zeros((2, 3, 1, 1), np.float32)
    logits[0, :, 0, 0] = [5, 5, -5]  # voxel 0 in both regions: the later class in regions_class_order wins
    logits[1, :, 0, 0] = [5, -5, -5]
    seg = ref.logits_to_segmentation(logits, {"has_regions": True, "regions_class_order": [1, 2]})
    assert seg[:, 0, 0].tolist() == [2, 1, 0]
