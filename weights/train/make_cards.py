#!/usr/bin/python3
"""Write the model cards weights/demo_{denoiser,classifier,segmenter}.md. The results sections
are copied from the metrics JSON the training scripts wrote (weights/train/out/*.metrics.json);
no number in a card is typed by hand.
Run: /usr/bin/python3 weights/train/make_cards.py [--src weights/train/out] [--dst weights]
"""
import argparse
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

COMMON_DATA = """## Training data
Synthetic examinations made by `weights/train/data.py` (deterministic from the seed) from the
real volumes in `examples/data/` (see `examples/data/SOURCES.md` for sources and licences):
random crops resampled (trilinear) to 16 x 64 x 64 (D x H x W), two sequences per examination
(T1 and a STIR stand-in: the real T2 of the cervical-spine pair; for single-sequence volumes a
SYNTHESISED STIR, a monotone decreasing transform of the T1 inside the body mask with its own
Rician noise), with probability 0.5 one smooth ellipsoidal oedema-like lesion with a known mask
(radii 5-10 voxels in-plane, 2-3.5 in depth; on STIR raised to the larger of 1.5-3 x the local
tissue and 1.1-1.4 x the body's 99th percentile, on T1 10-40 % darker).
**Held-out split by source volume**: training (and validation) crops come from the cervical
spine (T1/T2 pair) and the brain T1 (chris); test crops come only from the ICBM152 template
(six voxel orientations, burned-in orientation markers in-painted) and the abdominal MRI,
which training never sees. No real lesion and no sacroiliac-joint or hip scan is involved.

## Intended use
Demonstration and testing of the voxinfer engine (conversion, parity, Grad-CAM, pipelines)
only. **Not a medical device; not for diagnosis or any clinical decision.** The lesions are
synthetic and the test set is tiny; the numbers say that the nets learned the synthetic task,
nothing about real pathology.
"""


def status_note(t):
    def gain(r):
        return r["psnr_after"] > r["psnr_before"] and r["ssim_after"] > r["ssim_before"]

    rows = [t["all"]] + list(t["by_sequence"].values()) + list(t["by_source"].values())
    if all(gain(r) for r in rows):
        return ("Status: on the held-out volumes the output is closer to the clean target than the input, "
                "in PSNR and SSIM, overall and in every sequence and source row of the table below.")
    if gain(t["all"]):
        return ("**Status: overall the output is closer to the clean target than the input, but NOT in "
                "every row of the table below (see the rows where 'after' is not above 'before').**")
    return ("**Status: UNDERTRAINED. On the held-out volumes the output is NOT better than the input "
            "(see the table). The training budget (a few minutes on a shared, oversubscribed 2-core "
            "machine) was too small; the weights are shipped to exercise conversion and parity only.**")


def card_denoiser(m):
    t = m["test"]
    rows = [("all", t["all"])] + [(f"sequence {k}", v) for k, v in t["by_sequence"].items()] + \
           [(f"source {k}", v) for k, v in t["by_source"].items()]
    table = "\n".join(f"| {n} | {r['n_volumes']} | {r['psnr_before']:.2f} | {r['psnr_after']:.2f} | "
                      f"{r['ssim_before']:.4f} | {r['ssim_after']:.4f} |" for n, r in rows)
    tr, v = m["train"], m.get("val")
    val_line = (f"Validation (new crops of the training sources, {v['all']['n_volumes']} volumes; used to choose the "
                f"schedule, so not an independent estimate): PSNR {v['all']['psnr_before']:.2f} -> "
                f"{v['all']['psnr_after']:.2f} dB, SSIM {v['all']['ssim_before']:.4f} -> {v['all']['ssim_after']:.4f}.\n"
                if v else "")
    return f"""# demo_denoiser — demonstration 3D U-Net denoiser / homogeniser

## Architecture
`weights/models/unet3d_denoiser.py` (the published A2 design: fastai-style dynamic U-Net on a
3D ResNet encoder, stem padding 0, transposed-conv + nearest-resize decoder blocks, input
concatenated before a residual block and a 1x1x1 conv + BN head; no output activation) built
with `{json.dumps(m['config']['kwargs'])}`: {m['params']} parameters.
Input and output `[1, 1, 16, 64, 64]` (any size the strides allow works; trained on
{' x '.join(map(str, tr['patch']))} patches). Intensities: z-score the input over the whole volume (as published); the
output is in the same units.

{COMMON_DATA}
Denoiser task: input = clean sequence x smooth multiplicative bias field (+-25 %) + Rician noise
(sigma 0.03-0.10 of the normalised range); target = the clean, bias-free sequence (both z-scored
with the mean and SD of the degraded input; PSNR and SSIM are invariant to this common affine map).
The output is the net's own, as published (no added global input skip). Loss MSE, Adam +
one-cycle (max lr {tr.get('lr_max', 2e-3)}), {tr['iterations']} iterations of {tr['batch']} patches,
{tr['examinations']} training examinations (x2 sequences); fresh noise and bias every iteration.

{status_note(t)}

## Measured results (held-out sources, `out/demo_denoiser.metrics.json`)
PSNR (dB, data range of the target) and SSIM ({t['ssim']}) of input vs target ("before")
and output vs target ("after"), mean over {t['all']['n_volumes']} held-out volumes
({t['examinations']} examinations x T1/STIR):

| subset | volumes | PSNR before | PSNR after | SSIM before | SSIM after |
|---|---|---|---|---|---|
{table}

{val_line}
Training time: {m['train_seconds']} s (whole script {m['wall_seconds_total']} s) on
{m['env']['cpu_count']} shared CPU cores, torch {m['env']['torch']}, {m['env']['threads']} threads.

## Reproduce
`/usr/bin/python3 weights/train/train_denoiser.py --threads {m['env']['threads']}` (seed 0; `--smoke` for a 30 s CI
run), then `/usr/bin/python3 weights/train/convert_demo.py` for `weights/demo_denoiser.vxm`.
Tolerance: with the same torch build and thread count ({m['env']['threads']}; `--threads`) the
run is deterministic (seeded numpy Generator for data, `torch.use_deterministic_algorithms`); on
another CPU, thread count or torch version expect PSNR within +-0.5 dB and SSIM within +-0.02
of the table.
"""


def classifier_status(g):
    if g["faithful_fraction_stir_map"] >= 0.9:
        return ("Status: the Grad-CAM faithfulness target (>= 0.90, STIR map) is met on the held-out "
                "true positives (below); `tests/models/test_demo_gradcam_faithfulness.py` checks it "
                "again through the engine on other held-out examinations.")
    return ("**Status: Grad-CAM faithfulness is below the 0.90 target (STIR map, below). Shipped to "
            "exercise conversion, parity and the Grad-CAM plumbing, not as a working detector.**")


def card_classifier(m):
    t = m["test"]
    g = t["gradcam"]
    src = "\n".join(f"| {k} | {v['n']} | {v['auc']} | {v['sensitivity']} | {v['specificity']} |"
                    for k, v in t["by_source"].items())
    return f"""# demo_classifier — demonstration dual-encoder 3D ResNet lesion classifier

## Architecture
`weights/models/dual_encoder.py` (the published A3 design) built with
`{json.dumps(m['config']['kwargs'])}`: {m['params']} parameters.
One 3D ResNet encoder with shared weights runs on T1 and on STIR (inputs `t1`, `stir`, each
`[1, 1, 16, 64, 64]`, each divided by its own maximum); per-sequence global max pool; the two
results concatenated along depth; adaptive concat pooling (max || avg); head BN1d ->
Dropout(0.25) -> Linear -> ReLU -> BN1d -> Dropout(0.5) -> Linear; softmax over
{m['config']['class_names']} (index 1 = lesion). The encoder is the published stem
(Conv3d kernel 2x5x5, stride 1x3x3) followed by basic-block stages [2, 2] and two EMPTY stages
(layers [2, 2, 0, 0]): the last encoder stage's output is 9x11x11, fine enough for a
Grad-CAM that has to fall inside a lesion a few voxels wide (with four stages it would be
3x3x3). Grad-CAM layer: `{g['layer']}` (in the .vxm: the encoder output tensor of each
sequence, `gradcam_layers_per_sequence`).

{COMMON_DATA}
Training: cross-entropy, AdamW + one-cycle, {m['train']['epochs']} epochs of
{m['train']['examinations']} examinations, batch {m['train']['batch']},
{m['train'].get('augmentation', 'no augmentation')}; cut-off fixed by Youden's J on
{m['train']['validation']} validation examinations (new crops of the training sources).

## Measured results (held-out sources, `out/demo_classifier.metrics.json`)
{t['n']} test examinations ({t['n_pos']} with a lesion).

| metric | value | 95 % CI |
|---|---|---|
| AUC | {t['auc']} | {t['auc_ci95_bootstrap']} (bootstrap) |
| sensitivity | {t['sensitivity']} | {t['sensitivity_ci95']} (Clopper-Pearson) |
| specificity | {t['specificity']} | {t['specificity_ci95']} (Clopper-Pearson) |
| accuracy | {t['accuracy']} | |

Cut-off (from validation): {t['cutoff_from_validation']}. Confusion: {t['confusion']}.

| test source | n | AUC | sensitivity | specificity |
|---|---|---|---|---|
{src}

{classifier_status(g)}

**Grad-CAM faithfulness** ({g['rule']}; over the {g['n_true_positives']} held-out true positives;
Grad-CAM as the published code: raw logit of the lesion class, gradient mean over D, H, W,
ReLU, trilinear align-corners resize): STIR map {g['faithful_fraction_stir_map']},
T1 map {g['faithful_fraction_t1_map']}, sum of both maps {g['faithful_fraction_sum_of_maps']}
(target >= 0.90). The criterion uses the STIR map: the lesion is defined by its STIR
hyperintensity (on T1 it is only 10-40 % darker); the T1 map and the sum are reported alongside.

Training time: {m['train_seconds']} s (whole script {m['wall_seconds_total']} s) on
{m['env']['cpu_count']} CPU cores shared with other jobs (builds, other trainings), torch
{m['env']['torch']}, {m['env']['threads']} threads.

## Reproduce
`/usr/bin/python3 weights/train/train_classifier.py --threads {m['env']['threads']}` (seed 0; `--smoke` for CI), then
`/usr/bin/python3 weights/train/convert_demo.py`. Tolerance: deterministic with the same torch
build and thread count; elsewhere expect AUC within +-0.03, sensitivity/specificity within
+-0.06 and Grad-CAM fractions within +-0.06 (small test set: one examination moves a
fraction by 1/n).
"""


def card_segmenter(m):
    t = m["test"]
    return f"""# demo_segmenter — demonstration 2D U-Net lesion segmenter (slice-wise)

## Architecture
`weights/models/unet2d.py` (the published hip design B: two 3x3 conv + BN + ReLU per level,
2x2 max-pool, 2x2 transposed-conv up, skip concatenation, 1x1 head) built with
`{json.dumps(m['config']['kwargs'])}`: {m['params']} parameters. Input one STIR slice
`[1, 1, 64, 64]` (the volume divided by its maximum), output logits over
{m['config']['class_names']} (softmax). "body" (the body mask) plays the part of the femoral
head in the hip model: the reference area for a lesion-fraction score.

{COMMON_DATA}
Training: every lesion-bearing slice of {m['train']['examinations']} training examinations plus
twice as many random lesion-free slices ({m['train']['slices']} slices), cross-entropy (lesion weight 5) + soft Dice on
the lesion class, AdamW + one-cycle, {m['train']['epochs']} epochs, batch {m['train']['batch']},
random in-plane flips.

## Measured results (held-out sources, `out/demo_segmenter.metrics.json`)
Every slice of {t['volumes']} held-out examinations segmented and stacked back into volumes;
{t['positive_volumes']} contain a lesion.

| metric | value |
|---|---|
| lesion Dice, mean over positive volumes | {t['lesion_dice_mean_per_volume']} |
| lesion Dice, median over positive volumes | {t['lesion_dice_median_per_volume']} |
| lesion Dice, pooled over all voxels of positive volumes | {t['lesion_dice_pooled']} |
| lesion Dice by test source | {t['lesion_dice_by_source']} |
| body Dice, mean over all volumes | {t['body_dice_mean']} |
| lesion-free volumes with any voxel called lesion | {t['negative_volumes_with_any_lesion_voxel']} |

Training time: {m['train_seconds']} s (whole script {m['wall_seconds_total']} s) on
{m['env']['cpu_count']} shared CPU cores, torch {m['env']['torch']}, {m['env']['threads']} threads.

## Reproduce
`/usr/bin/python3 weights/train/train_segmenter.py --threads {m['env']['threads']}` (seed 0; `--smoke` for CI), then
`/usr/bin/python3 weights/train/convert_demo.py`. Tolerance: deterministic with the same torch
build and thread count; elsewhere expect Dice within +-0.05.
"""


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--src", default=os.path.join(HERE, "out"))
    p.add_argument("--dst", default=os.path.dirname(HERE))
    a = p.parse_args()
    for name, fn in (("demo_denoiser", card_denoiser), ("demo_classifier", card_classifier),
                     ("demo_segmenter", card_segmenter)):
        path = os.path.join(a.src, f"{name}.metrics.json")
        if not os.path.exists(path):
            print("missing", path)
            continue
        with open(path) as f:
            m = json.load(f)
        with open(os.path.join(a.dst, f"{name}.md"), "w") as f:
            f.write(fn(m))
        print("wrote", os.path.join(a.dst, f"{name}.md"))


if __name__ == "__main__":
    main()
