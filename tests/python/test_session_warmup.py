"""A CPU session warms up when it is created (vx_session_create runs the model once on zeros):
the convolution weights are already packed for oneDNN then, so the model file's plain weight
pages have been given back before the first run; VX_WARMUP=0 skips it (pages still resident).
Results equal PyTorch's either way (1e-4 x max(1, max|ref|))."""
import pytest

import voxinfer
from test_weight_pages import check, mapping_rss_kb, net

torch = pytest.importorskip("torch")
from convert import convert_torch  # noqa: E402


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    x = torch.randn(1, 1, 8, 12, 12)
    m = net(3)
    p = str(tmp_path_factory.mktemp("warmup") / "net.vxm")
    convert_torch(m, x, p)
    with torch.no_grad():
        return p, x.numpy(), m(x).numpy()


@pytest.mark.parametrize("warmup", ["1", "0"])
def test_session_creation_warms_up_unless_disabled(model_file, warmup, monkeypatch):
    path, x, ref = model_file
    monkeypatch.setenv("VX_WARMUP", warmup)
    with voxinfer.Model(path, threads=1) as m:
        resident = mapping_rss_kb(path)
        print(f"VX_WARMUP={warmup}: model-file mapping resident after session creation: {resident} kB")
        if warmup == "1":
            assert resident < 200  # the four 64x64x3x3x3 weights (432 kB) packed and given back
        else:
            assert resident > 400
        check(m.run(x), ref)
        check(m.run(x), ref)
