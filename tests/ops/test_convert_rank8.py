"""Ranks above 5 through view and transpose ops (issue 18): SwinUNETR's window partition and
reverse (MONAI's window_partition / window_reverse: a rank-8 view, a rank-8 permute, a view back),
with shifted windows (torch.roll) and window attention between them, exported at opset 13,
converted and run through the Python binding, equal to PyTorch eager within max abs err
<= 1e-4 * max(1, max |ref|). A compute op on a rank-6 tensor, or a rank-9 tensor anywhere, is a
clear error naming the node."""
import pytest
import torch
import torch.nn as nn

import convert
import voxinfer
from torch_parity import check_against_torch, export_onnx

torch.set_num_threads(2)


def window_partition(x, ws):
    """MONAI swin_unetr.window_partition, 3-D: [b, d, h, w, c] -> [b * windows, ws^3, c]."""
    b, d, h, w, c = x.shape
    x = x.view(b, d // ws[0], ws[0], h // ws[1], ws[1], w // ws[2], ws[2], c)
    return x.permute(0, 1, 3, 5, 2, 4, 6, 7).contiguous().view(-1, ws[0] * ws[1] * ws[2], c)


def window_reverse(windows, ws, dims):
    b, d, h, w = dims
    x = windows.view(b, d // ws[0], h // ws[1], w // ws[2], ws[0], ws[1], ws[2], -1)
    return x.permute(0, 1, 4, 2, 5, 3, 6, 7).contiguous().view(b, d, h, w, -1)


class SwinWindowBlock(nn.Module):
    """Shifted-window attention as SwinUNETR's SwinTransformerBlock computes it (no norm)."""

    def __init__(self, c=8, heads=2, ws=(2, 2, 2), shift=(1, 1, 1)):
        super().__init__()
        self.ws, self.shift, self.heads = ws, shift, heads
        # q, k, v by three Linears: MONAI's qkv(x)[0] is a Gather on a computed tensor (not supported)
        self.q, self.k, self.v, self.proj = nn.Linear(c, c), nn.Linear(c, c), nn.Linear(c, c), nn.Linear(c, c)
        self.scale = (c // heads) ** -0.5

    def forward(self, x):
        b, c, d, h, w = x.shape
        t = x.permute(0, 2, 3, 4, 1)
        t = torch.roll(t, shifts=tuple(-s for s in self.shift), dims=(1, 2, 3))
        win = window_partition(t, self.ws)
        n = win.shape[1]
        q, k, v = (f(win).reshape(-1, n, self.heads, c // self.heads).permute(0, 2, 1, 3)
                   for f in (self.q, self.k, self.v))
        attn = torch.softmax((q * self.scale) @ k.transpose(-2, -1), dim=-1)
        o = self.proj((attn @ v).transpose(1, 2).reshape(-1, n, c))
        t = window_reverse(o, self.ws, (b, d, h, w))
        t = torch.roll(t, shifts=self.shift, dims=(1, 2, 3))
        return x + t.permute(0, 4, 1, 2, 3)


@pytest.mark.parametrize("shape", [(1, 8, 4, 6, 4), (2, 8, 4, 4, 6)])
def test_swin_window_partition_rank8(shape, tmp_path):
    torch.manual_seed(0)
    ops = check_against_torch(SwinWindowBlock().eval(), torch.randn(*shape), tmp_path, threads=2)
    assert "Transpose" in ops and "Reshape" in ops, ops


def test_partition_roundtrip_rank8(tmp_path):
    class RoundTrip(nn.Module):
        def forward(self, x):
            t = x.permute(0, 2, 3, 4, 1)
            win = window_partition(t, (2, 3, 2)) * 2.0
            return window_reverse(win, (2, 3, 2), t.shape[:4]).permute(0, 4, 1, 2, 3) + x

    check_against_torch(RoundTrip().eval(), torch.randn(2, 3, 4, 6, 8), tmp_path, threads=2)


def test_compute_op_at_rank6_is_a_clear_error(tmp_path):
    class Rank6Add(nn.Module):
        def forward(self, x):
            return (x.view(1, 2, 3, 2, 2, 2) + 1.0).view(1, 2, 3, 8)

    x = torch.randn(1, 2, 3, 8)
    out = tmp_path / "m.vxm"
    convert.convert_onnx(export_onnx(Rank6Add(), x), str(out), input_shapes={"input": list(x.shape)})
    with pytest.raises(voxinfer.VoxinferError, match=r"\(Add\).*rank 6.*rank <= 5"):
        voxinfer.Model(str(out))


def test_rank9_is_a_clear_error(tmp_path):
    class Rank9(nn.Module):
        def forward(self, x):
            return x.view(1, 1, 2, 1, 2, 1, 2, 1, 2).permute(0, 1, 2, 3, 4, 5, 6, 8, 7).reshape(1, 16)

    x = torch.randn(1, 16)
    out = tmp_path / "m.vxm"
    convert.convert_onnx(export_onnx(Rank9(), x), str(out), input_shapes={"input": list(x.shape)})
    with pytest.raises(voxinfer.VoxinferError, match=r"Reshape.*1 to 8 values"):
        voxinfer.Model(str(out))
