"""nnU-Net v2's inference steps (nnUNetPredictor.predict_single_npy_array / predict_from_files
with the default preprocessor, on the CPU), written from nnU-Net's code with NumPy, SciPy and
PyTorch: the reference the engine's `voxinfer segment` is compared with (issue 19). Each step is a
function of its own so that each can be compared. Semantics and their source in nnU-Net v2:

read_images_nibabel   imageio/nibabel_reader_writer.py NibabelIO: get_fdata().transpose(2,1,0),
                      spacing = zooms reversed (the SimpleITK axis order), float32
crop_to_nonzero       preprocessing/cropping: union of channels != 0, binary_fill_holes, bbox
                      [start, end); seg = 0 inside, -1 outside
normalize             preprocessing/normalization/default_normalization_schemes.py, float32
compute_new_shape     round(old_spacing / new_spacing * old_shape)
resample_data_or_seg  preprocessing/resampling/default_resampling.py: skimage resize (mode edge,
                      no anti-aliasing) = scipy.ndimage.zoom(grid_mode=True, mode='nearest') clipped
                      to the input's range; separate z: 2-D resize per slice, then order_z
                      map_coordinates along the anisotropic axis
pad_to_patch          acvl_utils pad_nd_image: constant 0, centred (extra voxel above)
compute_steps         inference/sliding_window_prediction.py compute_steps_for_sliding_window
compute_gaussian      same file: sigma = patch/8, peak = 10, float16, zeros -> min non-zero
predict_logits        predict_from_raw_data.py: tiles in x-y-z order, mirroring over every
                      combination of allowed axes (mean in float32), prediction *= gaussian,
                      float16 += into the logits and weights (torch half on the CPU: rounding after
                      each add), float16 division; folds summed in float16 and divided
export                inference/export_prediction.py: float16 logits resampled back with the
                      probabilities' function (order 1), argmax (or sigmoid > 0.5 in
                      regions_class_order), pasted into zeros of the uncropped shape, transpose back
"""
from itertools import combinations

import numpy as np
import torch
from scipy import ndimage

ANISO_THRESHOLD = 3


# --- reading
def read_images_nibabel(paths):
    import nibabel
    images, spacing = [], None
    for p in paths:
        img = nibabel.load(p)
        if img.ndim != 3:
            raise ValueError(f"{p}: only 3-D images (NibabelIO)")
        sp = [float(z) for z in img.header.get_zooms()[::-1]]
        if spacing is not None and sp != spacing:
            raise ValueError(f"{p}: spacing {sp} differs from {spacing}")
        spacing = sp
        images.append(img.get_fdata().transpose((2, 1, 0))[None])
    return np.vstack(images).astype(np.float32), spacing


# --- cropping
def create_nonzero_mask(data):
    mask = data[0] != 0
    for c in range(1, data.shape[0]):
        mask |= data[c] != 0
    return ndimage.binary_fill_holes(mask)


def bbox_from_mask(mask):
    """[start, end) per axis; the whole extent on an axis with no voxel set."""
    box = []
    for ax in range(mask.ndim):
        other = tuple(a for a in range(mask.ndim) if a != ax)
        idx = np.flatnonzero(mask.any(axis=other))
        box.append([int(idx[0]), int(idx[-1]) + 1] if idx.size else [0, mask.shape[ax]])
    return box


def crop_to_nonzero(data):
    mask = create_nonzero_mask(data)
    box = bbox_from_mask(mask)
    sl = tuple(slice(a, b) for a, b in box)
    seg = np.where(mask[sl], np.int8(0), np.int8(-1))[None]
    return data[(slice(None),) + sl], seg, box


def paste_crop(shape, crop, box, dtype):
    out = np.zeros(shape, dtype=dtype)
    out[tuple(slice(a, b) for a, b in box)] = crop
    return out


# --- normalisation (float32 in place, as the schemes do)
def normalize_channel(image, scheme, use_mask, props, seg=None):
    image = image.astype(np.float32, copy=True)
    eps = 1e-8
    if scheme == "ZScoreNormalization":
        if use_mask:
            mask = seg >= 0
            mean, std = image[mask].mean(), image[mask].std()
            image[mask] = (image[mask] - mean) / max(std, eps)
        else:
            mean, std = image.mean(), image.std()
            image -= mean
            image /= max(std, eps)
    elif scheme == "CTNormalization":
        np.clip(image, props["percentile_00_5"], props["percentile_99_5"], out=image)
        image -= props["mean"]
        image /= max(props["std"], eps)
    elif scheme == "RescaleTo01Normalization":
        image -= image.min()
        image /= np.clip(image.max(), a_min=eps, a_max=None)
    elif scheme == "NoNormalization":
        pass
    else:
        raise ValueError(f"normalization scheme {scheme!r} is not in the reference")
    return image


def normalize(data, seg, channels):
    """channels: metadata.nnunet.channels (normalization, use_mask_for_norm, intensity_properties)."""
    out = np.empty_like(data, dtype=np.float32)
    for c, ch in enumerate(channels):
        out[c] = normalize_channel(data[c], ch["normalization"], ch["use_mask_for_norm"], ch["intensity_properties"],
                                   seg[0])
    return out


# --- resampling
def compute_new_shape(old_shape, old_spacing, new_spacing):
    return np.array([int(round(i / j * k)) for i, j, k in zip(old_spacing, new_spacing, old_shape)])


def _lowres_axis(spacing):
    return np.where(max(spacing) / np.array(spacing) == 1)[0]


def determine_do_sep_z_and_axis(force_separate_z, current_spacing, new_spacing, threshold=ANISO_THRESHOLD):
    if force_separate_z is not None:
        do, axis = force_separate_z, (_lowres_axis(current_spacing) if force_separate_z else None)
    elif np.max(current_spacing) / np.min(current_spacing) > threshold:
        do, axis = True, _lowres_axis(current_spacing)
    elif np.max(new_spacing) / np.min(new_spacing) > threshold:
        do, axis = True, _lowres_axis(new_spacing)
    else:
        do, axis = False, None
    if axis is not None:
        if len(axis) != 1:  # two or three equally coarse axes: no single anisotropic axis
            return False, None
        axis = int(axis[0])
    return do, axis


def resize_like_skimage(image, new_shape, order):
    """skimage.transform.resize(image, new_shape, order, mode='edge', anti_aliasing=False) on a float
    image: zoom with grid_mode (pixel areas aligned), edge values beyond, clipped to the input range."""
    image = np.asarray(image, dtype=np.float64)
    lo, hi = image.min(), image.max()
    zoom = [n / o for n, o in zip(new_shape, image.shape)]
    out = ndimage.zoom(image, zoom, order=order, mode="nearest", grid_mode=True)
    return np.clip(out, lo, hi)


def resample_data_or_seg(data, new_shape, axis=None, order=3, do_separate_z=False, order_z=0):
    """The image (is_seg=False) branch of nnU-Net's resample_data_or_seg; keeps data's dtype."""
    shape, new_shape = np.array(data[0].shape), np.array(new_shape)
    if not np.any(shape != new_shape):
        return data
    dtype_out = data.dtype
    data = data.astype(float)
    out = np.zeros((data.shape[0], *new_shape), dtype=dtype_out)
    if not do_separate_z:
        for c in range(data.shape[0]):
            out[c] = resize_like_skimage(data[c], new_shape, order)
        return out
    plane = [d for d in range(3) if d != axis]
    for c in range(data.shape[0]):
        tmp = new_shape.copy()
        tmp[axis] = shape[axis]
        here = np.zeros(tmp)
        for s in range(shape[axis]):
            idx = [slice(None)] * 3
            idx[axis] = s
            here[tuple(idx)] = resize_like_skimage(data[c][tuple(idx)], new_shape[plane], order)
        if shape[axis] != new_shape[axis]:
            grid = np.mgrid[:new_shape[0], :new_shape[1], :new_shape[2]].astype(float)
            for d in range(3):
                grid[d] = here.shape[d] / new_shape[d] * (grid[d] + 0.5) - 0.5
            out[c] = ndimage.map_coordinates(here, grid, order=order_z, mode="nearest")
        else:
            out[c] = here
    return out


def resample_to_shape(data, new_shape, current_spacing, new_spacing, kwargs):
    """resample_data_or_seg_to_shape with the plans' kwargs (order, order_z, force_separate_z)."""
    if kwargs.get("is_seg"):
        raise ValueError("segmentation resampling is not part of inference")
    do, axis = determine_do_sep_z_and_axis(kwargs.get("force_separate_z"), current_spacing, new_spacing)
    return resample_data_or_seg(data, new_shape, axis, kwargs.get("order", 3), do, kwargs.get("order_z", 0))


# --- preprocessing as DefaultPreprocessor.run_case_npy
def preprocess(data, spacing, meta):
    """data [C, *spatial] float32 in the reader's axis order; meta: metadata.nnunet."""
    tf = meta["transpose_forward"]
    data = data.astype(np.float32).transpose([0, *[i + 1 for i in tf]])
    original_spacing = [spacing[i] for i in tf]
    props = {"spacing": list(spacing), "shape_before_cropping": data.shape[1:]}
    data, seg, box = crop_to_nonzero(data)
    props["bbox_used_for_cropping"] = box
    props["shape_after_cropping_and_before_resampling"] = data.shape[1:]
    target = list(meta["spacing"])
    if len(target) < len(data.shape[1:]):  # 2d configuration: the first axis keeps its spacing
        target = [original_spacing[0]] + target
    new_shape = compute_new_shape(data.shape[1:], original_spacing, target)
    data = normalize(data, seg, meta["channels"])
    data = resample_to_shape(data, new_shape, original_spacing, target, meta["resampling"]["data"]["kwargs"])
    return data, props


# --- sliding window
def pad_to_patch(data, patch):
    """pad_nd_image(data, patch, 'constant', value 0, return_slicer=True) on [C, *spatial]."""
    old = np.array(data.shape)
    new = list(old[:len(old) - len(patch)]) + list(patch)
    new = np.maximum(new, old)
    diff = new - old
    below, above = diff // 2, diff // 2 + diff % 2
    if np.any(diff):
        data = np.pad(data, list(zip(below, above)), "constant", constant_values=0)
    slicer = tuple(slice(int(b), int(b + o)) for b, o in zip(below, old))
    return data, slicer


def compute_steps(image_size, tile_size, tile_step_size):
    if not all(i >= t for i, t in zip(image_size, tile_size)):
        raise ValueError("image smaller than the tile")
    if not 0 < tile_step_size <= 1:
        raise ValueError("tile_step_size must be in (0, 1]")
    target = [t * tile_step_size for t in tile_size]
    n = [int(np.ceil((i - t) / s)) + 1 for i, s, t in zip(image_size, target, tile_size)]
    steps = []
    for d in range(len(tile_size)):
        top = image_size[d] - tile_size[d]
        actual = top / (n[d] - 1) if n[d] > 1 else 99999999999
        steps.append([int(np.round(actual * i)) for i in range(n[d])])
    return steps


def tile_slicers(image_size, patch, tile_step_size):
    """Slicers over [C, *image_size] in nnU-Net's order; a 2-D patch on a 3-D image tiles each slice."""
    if len(patch) < len(image_size):
        steps = compute_steps(image_size[1:], patch, tile_step_size)
        return [(slice(None), d, slice(sx, sx + patch[0]), slice(sy, sy + patch[1]))
                for d in range(image_size[0]) for sx in steps[0] for sy in steps[1]]
    steps = compute_steps(image_size, patch, tile_step_size)
    grids = np.meshgrid(*steps, indexing="ij")
    starts = np.stack([g.ravel() for g in grids], 1)
    return [(slice(None),) + tuple(slice(int(s), int(s) + p) for s, p in zip(st, patch)) for st in starts]


def compute_gaussian(tile_size, sigma_scale=1. / 8, value_scaling_factor=10, dtype=torch.float16):
    tmp = np.zeros(tile_size)
    tmp[tuple(i // 2 for i in tile_size)] = 1
    g = ndimage.gaussian_filter(tmp, [i * sigma_scale for i in tile_size], 0, mode="constant", cval=0)
    g /= np.max(g) / value_scaling_factor
    g = torch.from_numpy(g).to(dtype=dtype)
    zero = g == 0
    g[zero] = torch.min(g[~zero])
    return g


def mirror_combinations(axes):
    axes = [a + 2 for a in axes]
    return [c for i in range(len(axes)) for c in combinations(axes, i + 1)]


@torch.no_grad()
def predict_tile(net, x, mirror_axes):
    pred = net(x)
    if mirror_axes:
        combos = mirror_combinations(mirror_axes)
        for axes in combos:
            pred += torch.flip(net(torch.flip(x, axes)), axes)
        pred /= len(combos) + 1
    return pred


@torch.no_grad()
def sliding_window_logits(net, data, meta, heads, mirror_axes, tile_step_size=0.5, record=None,
                          accumulation_dtype=torch.half):
    """One fold: float16 aggregation of Gaussian-weighted tiles, as nnU-Net on the CPU
    (accumulation_dtype=torch.float32: the fp32 variant, Gaussian still nnU-Net's float16 map)."""
    patch = list(meta["patch_size"])
    data_t = torch.from_numpy(np.ascontiguousarray(data, np.float32))
    padded, revert = pad_to_patch(data_t.numpy(), patch)
    padded = torch.from_numpy(padded)
    slicers = tile_slicers(padded.shape[1:], patch, tile_step_size)
    sw = meta.get("sliding_window", {})
    gaussian = compute_gaussian(tuple(patch), sw.get("gaussian_sigma_scale", 1. / 8),
                                sw.get("gaussian_value_scaling_factor", 10))
    logits = torch.zeros((heads, *padded.shape[1:]), dtype=accumulation_dtype)
    weights = torch.zeros(padded.shape[1:], dtype=accumulation_dtype)
    for sl in slicers:
        tile = torch.clone(padded[sl][None], memory_format=torch.contiguous_format)
        pred = predict_tile(net, tile, mirror_axes)[0]
        if record is not None:
            record.setdefault("tiles", []).append(pred.clone())
        pred *= gaussian
        logits[sl] += pred
        weights[sl[1:]] += gaussian
    torch.div(logits, weights, out=logits)
    if torch.any(torch.isinf(logits)):
        raise RuntimeError("inf in the aggregated logits")
    if record is not None:
        record.update(slicers=slicers, gaussian=gaussian, padded_shape=tuple(padded.shape))
    return logits[(slice(None), *revert[1:])]


def predict_logits(nets, data, meta, mirror_axes=None, tile_step_size=0.5, record=None,
                   accumulation_dtype=torch.half):
    """Folds summed in float16 and divided by their number (predict_logits_from_preprocessed_data)."""
    heads = meta["num_segmentation_heads"]
    mirror_axes = meta.get("allowed_mirroring_axes") if mirror_axes is None else mirror_axes
    pred = None
    for net in nets:
        net.eval()
        p = sliding_window_logits(net, data, meta, heads, mirror_axes, tile_step_size,
                                  record if pred is None else None, accumulation_dtype)
        pred = p if pred is None else pred + p
    if len(nets) > 1:
        pred /= len(nets)
    return pred


# --- export
def logits_to_segmentation(logits, meta):
    if meta.get("has_regions"):
        probs = torch.sigmoid(torch.from_numpy(np.asarray(logits)).float()).numpy()
        seg = np.zeros(probs.shape[1:], dtype=np.uint16)
        for i, c in enumerate(meta["regions_class_order"]):
            seg[probs[i] > 0.5] = c
        return seg
    return np.asarray(logits).argmax(0)


def export(logits, props, meta):
    """Logits (float16 torch, network resolution) -> labels on the input's grid and axis order."""
    tf, tb = meta["transpose_forward"], meta["transpose_backward"]
    spacing_t = [props["spacing"][i] for i in tf]
    target = list(meta["spacing"])
    shape = props["shape_after_cropping_and_before_resampling"]
    current = target if len(target) == len(shape) else [spacing_t[0], *target]
    logits = logits.numpy() if isinstance(logits, torch.Tensor) else logits
    back = resample_to_shape(logits, shape, current, spacing_t, meta["resampling"]["probabilities"]["kwargs"])
    seg = logits_to_segmentation(back, meta)
    fg = {int(x) for k, v in meta["labels"].items() if k != "ignore"
          for x in (v if isinstance(v, (list, tuple)) else [v])} - {0}
    dtype = np.uint8 if len(fg) < 255 else np.uint16  # export_prediction.py's rule
    full = paste_crop(props["shape_before_cropping"], seg, props["bbox_used_for_cropping"], dtype)
    return full.transpose(tb), back


def predict(nets, data, spacing, meta, mirror_axes=None, tile_step_size=0.5, record=None):
    """Every step; `record` (a dict) receives the intermediates."""
    pre, props = preprocess(data, spacing, meta)
    logits = predict_logits(nets, pre, meta, mirror_axes, tile_step_size, record)
    seg, back = export(logits, props, meta)
    if record is not None:
        record.update(preprocessed=pre, props=props, logits=logits, logits_resampled=back)
    return seg
