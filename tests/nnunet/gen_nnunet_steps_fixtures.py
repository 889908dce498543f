#!/usr/bin/python3
"""Reference for lib/nnunet's network-free steps (issue 19), from tests/nnunet/nnunet_reference.py
(written from nnU-Net v2's code) on the real TotalSegmentator abdomen MR: the reader's array,
crop_to_nonzero, every normalisation scheme, tile steps, Gaussian maps, and the float16 (and
float32) sliding-window aggregation of tile logits from small fixed-weight convolutions (3-D and
2-D patches, two folds). Arrays are float32 raw little-endian; manifest.json lists them."""
import json
import os
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import nnunet_reference as ref  # noqa: E402

torch.set_num_threads(1)
torch.manual_seed(19)
out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
data_dir = pathlib.Path(os.environ.get("VX_TEST_DATA_DIR", pathlib.Path(__file__).resolve().parents[1] / "data"))
img_path = data_dir / "mri/abdomen-lumbar-totalseg/example_mr_sm.nii.gz"
man = {"image": str(img_path), "arrays": {}, "steps": [], "gaussians": [], "aggregations": []}


def put(name, arr):
    arr = np.ascontiguousarray(np.asarray(arr, dtype=np.float32)).astype("<f4")
    arr.tofile(out / f"{name}.f32")
    man["arrays"][name] = {"shape": list(arr.shape), "file": str(out / f"{name}.f32")}


data, spacing = ref.read_images_nibabel([str(img_path)])
put("input", data)
man["spacing"] = spacing
cropped, seg, box = ref.crop_to_nonzero(data)
put("cropped", cropped)
put("seg", seg)
man["box"] = box

flat = data[0][data[0] != 0]
ct_props = {"percentile_00_5": float(np.percentile(flat, 0.5)), "percentile_99_5": float(np.percentile(flat, 99.5)),
            "mean": float(flat.mean()), "std": float(flat.std())}
man["ct_props"] = ct_props
for name, scheme, use_mask in [("zscore_mask", "ZScoreNormalization", True), ("zscore", "ZScoreNormalization", False),
                               ("ct", "CTNormalization", False), ("rescale", "RescaleTo01Normalization", False),
                               ("none", "NoNormalization", False)]:
    put("norm_" + name, ref.normalize_channel(cropped[0], scheme, use_mask, ct_props, seg[0]))

for size, tile, step in [((110,), (64,), 0.5), ((99, 64, 200), (64, 64, 32), 0.5), ((37, 41), (16, 16), 0.25),
                         ((100, 30), (30, 30), 1.0), ((77, 120, 95), (20, 48, 40), 0.5), ((65,), (64,), 0.33)]:
    man["steps"].append({"size": list(size), "tile": list(tile), "step": step,
                         "steps": ref.compute_steps(size, tile, step)})

for patch in [(8, 48, 40), (16, 32, 32), (56, 40), (20, 24, 28), (7, 9, 11)]:
    name = "gauss_" + "x".join(map(str, patch))
    put(name, ref.compute_gaussian(patch).float().numpy())
    man["gaussians"].append({"patch": list(patch), "array": name})


def conv_net(dim, heads):
    conv = (torch.nn.Conv3d if dim == 3 else torch.nn.Conv2d)(1, heads, 3, padding=1)
    with torch.no_grad():
        conv.weight.normal_(0, 0.5)
        conv.bias.normal_(0, 1)
    return conv


# Preprocessed-like input: the z-score (mask) crop.
pre = ref.normalize(cropped, seg, [{"normalization": "ZScoreNormalization", "use_mask_for_norm": True,
                                    "intensity_properties": {}}])
pre = np.ascontiguousarray(pre[:, :12, 20:80, 20:100])  # small enough for CI
put("pre", pre)
for tag, patch, dim in [("3d", [16, 32, 40], 3), ("2d", [40, 48], 2)]:
    heads = 3
    nets = [conv_net(dim, heads), conv_net(dim, heads)]
    meta = {"patch_size": patch, "num_segmentation_heads": heads}
    for kind, acc in [("fp16", torch.half), ("fp32", torch.float32)]:
        folds = []
        total = None
        for f, net in enumerate(nets):
            rec = {}
            lg = ref.sliding_window_logits(net.eval(), pre, meta, heads, [], 0.5, rec, acc)
            tiles = torch.stack(rec["tiles"]).float().numpy()
            starts = [[s.start if isinstance(s, slice) else s for s in sl[1:]] for sl in rec["slicers"]]
            if kind == "fp16":  # the same tiles for both kinds
                put(f"tiles_{tag}_f{f}", tiles)
            put(f"logits_{tag}_{kind}_f{f}", lg.float().numpy())
            folds.append({"tiles": f"tiles_{tag}_f{f}", "logits": f"logits_{tag}_{kind}_f{f}", "starts": starts})
            total = lg if total is None else total + lg
            man["padded_" + tag] = list(rec["padded_shape"][1:])
        total /= len(nets)
        check = ref.predict_logits(nets, pre, {**meta, "allowed_mirroring_axes": []}, None, 0.5, None, acc)
        assert torch.equal(check, total), "fold average reconstructed differently from predict_logits"
        put(f"avg_{tag}_{kind}", total.float().numpy())
        man["aggregations"].append({"tag": tag, "kind": kind, "patch": patch, "heads": heads, "folds": folds,
                                    "average": f"avg_{tag}_{kind}", "padded": man["padded_" + tag]})

# Resampling: skimage-style zoom (order 3, 3-D), the separate-z rule on one channel (order 3
# in-plane, order 0 along axis 0), and the export's order 1 on float16 logits (float16 out).
man["resamples"] = []
vol = np.ascontiguousarray(ref.normalize_channel(cropped[0], "ZScoreNormalization", True, {}, seg[0])[:, 10:50, 20:70])
put("rs_in", vol)
put64 = lambda name, arr: put(name, arr) if arr.dtype != np.float64 else (
    np.ascontiguousarray(arr, "<f8").tofile(out / f"{name}.f64"),
    man["arrays"].__setitem__(name, {"shape": list(arr.shape), "file": str(out / f"{name}.f64"), "f64": True}))
put64("rs_zoom3", ref.resize_like_skimage(vol, (13, 57, 31), 3))
put64("rs_zoom3_2d", ref.resize_like_skimage(vol[5], (57, 31), 3))
put("rs_sepz", ref.resample_data_or_seg(vol[None], (9, 60, 75), 0, 3, True, 0)[0])
put("rs_sepz_same_z", ref.resample_data_or_seg(vol[None], (20, 31, 77), 0, 3, True, 0)[0])
put("rs_up_z", ref.resample_data_or_seg(vol[None], (47, 40, 50), 0, 3, True, 0)[0])
lg16 = np.fromfile(out / "avg_3d_fp16.f32", "<f4").reshape(man["arrays"]["avg_3d_fp16"]["shape"]).astype(np.float16)
put("rs_logits_in", lg16.astype(np.float32))
put("rs_logits_back", ref.resample_data_or_seg(lg16, (20, 45, 97), None, 1, False, 0).astype(np.float32))
man["sep_z_cases"] = [{"force": f, "cur": c, "new": n, "axis": (lambda r: r[1] if r[0] else None)(
    ref.determine_do_sep_z_and_axis(f, c, n))} for f, c, n in [
    (None, [3, 3, 3], [6.5, 2, 2]), (None, [6.5, 1, 1], [3, 3, 3]), (None, [3, 3, 3], [2, 2, 2]), (True, [5, 5, 1], [1, 1, 1]),
    (None, [5, 5, 1], [1, 1, 1]), (False, [6.5, 1, 1], [1, 1, 1]), (None, [1, 1, 4], [1, 1, 1])]]
man["new_shapes"] = [{"shape": s, "cur": c, "new": n, "out": [int(x) for x in ref.compute_new_shape(s, c, n)]}
                     for s, c, n in [([20, 91, 116], [3, 3, 3], [6.5, 2, 2]), ([9, 10, 11], [1.5, 1.5, 1.5], [1, 1, 1]),
                                     ([7, 13, 5], [0.7, 0.9, 2.5], [1.1, 0.3, 1.0])]]

# DefaultPreprocessor end to end on the reader's array: separate z (target 6.5 x 2 x 2, z-score with
# mask), a transposed 3-D order-3 zoom with CT normalisation, and a 2d configuration.
def meta_for(tf, spacing, patch, scheme, use_mask):
    return {"transpose_forward": tf, "transpose_backward": [tf.index(i) for i in range(3)], "spacing": spacing,
            "patch_size": patch, "num_segmentation_heads": 3, "labels": {"background": 0, "a": 1, "b": 2},
            "channels": [{"index": 0, "name": "MR", "normalization": scheme, "use_mask_for_norm": use_mask,
                          "intensity_properties": ct_props}],
            "resampling": {k: {"fn": "resample_data_or_seg_to_shape",
                               "kwargs": {"is_seg": False, "order": 3 if k == "data" else 1, "order_z": 0,
                                          "force_separate_z": None}} for k in ("data", "probabilities")}}


man["preprocess"] = []
for name, meta in [("sepz", meta_for([0, 1, 2], [6.5, 2.0, 2.0], [16, 32, 40], "ZScoreNormalization", True)),
                   ("ct_t", meta_for([2, 1, 0], [4.0, 4.5, 3.3], [16, 32, 40], "CTNormalization", False)),
                   ("2d", meta_for([0, 1, 2], [2.5, 2.5], [40, 48], "ZScoreNormalization", False))]:
    pre_case, props = ref.preprocess(data, spacing, meta)
    put("pp_" + name, pre_case)
    man["preprocess"].append({"name": name, "meta": meta, "array": "pp_" + name,
                              "box": props["bbox_used_for_cropping"]})

# Export: the float16 fold average (network resolution 12 x 60 x 80 at 6.5 x 2 x 2 mm) back to a
# 26 x 40 x 53 crop at 3 mm (separate z: order 1 in-plane, order 0 along axis 0) in a transposed
# 30 x 45 x 60 volume; labels and the float16 resampled logits.
meta_e = meta_for([0, 2, 1], [6.5, 2.0, 2.0], [16, 32, 40], "ZScoreNormalization", True)
props_e = {"spacing": [3.0, 3.0, 3.0], "shape_before_cropping": (30, 45, 60),
           "bbox_used_for_cropping": [[2, 28], [3, 43], [5, 58]], "shape_after_cropping_and_before_resampling": (26, 40, 53)}
seg_e, back_e = ref.export(torch.from_numpy(lg16), props_e, meta_e)
put("ex_labels", seg_e)
put("ex_back", back_e.astype(np.float32))
man["export"] = {"meta": meta_e, "props": {k: list(v) for k, v in props_e.items()}, "logits": "rs_logits_in"}

(out / "manifest.json").write_text(json.dumps(man, indent=1))
print("wrote", out)
