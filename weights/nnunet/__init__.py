"""Import of nnU-Net v2 results folders (plans.json, dataset.json, fold_K/checkpoint_*.pth) into
.vxm: checkpoint.py reads checkpoints without executing pickled code, importer.py builds and
exports the networks (weights/models/nnunet_networks.py) and gathers the inference metadata."""
