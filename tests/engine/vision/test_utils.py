"""engine.vision.utils: make_grid and save_image, checked against torchvision's documented layout by hand."""

import io
import os

import numpy as np
import pytest
from PIL import Image

import engine
from engine.vision.utils import make_grid, save_image


def _t(arr):
    return engine.from_numpy(np.asarray(arr))


def _batch(b=5, c=3, h=2, w=3, seed=0):
    return np.random.default_rng(seed).random((b, c, h, w)).astype(np.float32)


def _grid_by_hand(batch, nrow, padding, pad_value):
    """torchvision's layout: image k at row k // nrow, column k % nrow, each cell (H + p) x (W + p), the
    image at offset p inside its cell, and one more p of padding after the last row and column."""
    b, c, h, w = batch.shape
    cols = min(nrow, b)
    rows = -(-b // cols)
    out = np.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding), pad_value, np.float32)
    for k in range(b):
        top = (k // cols) * (h + padding) + padding
        left = (k % cols) * (w + padding) + padding
        out[:, top:top + h, left:left + w] = batch[k]
    return out


def test_make_grid_literal_example():
    # two 1x1 RGB images, padding 1: [pad, img0, pad, img1, pad] in a 3-pixel-high band
    batch = np.array([1.0, 2.0], np.float32).reshape(2, 1, 1, 1).repeat(3, axis=1)
    grid = make_grid(_t(batch), padding=1, pad_value=0.5)
    row = [0.5, 1.0, 0.5, 2.0, 0.5]
    expected = np.array([[[0.5] * 5, row, [0.5] * 5]] * 3, np.float32)
    assert tuple(grid.shape) == (3, 3, 5) and grid.dtype == engine.float32
    np.testing.assert_array_equal(grid.numpy(), expected)


@pytest.mark.parametrize(("b", "nrow", "padding", "pad_value"),
                         [(5, 2, 1, -1.0), (8, 8, 2, 0.0), (7, 3, 0, 0.25), (3, 8, 4, 1.0), (4, 1, 2, 0.0)])
def test_make_grid_layout(b, nrow, padding, pad_value):
    batch = _batch(b)
    grid = make_grid(_t(batch), nrow=nrow, padding=padding, pad_value=pad_value)
    np.testing.assert_array_equal(grid.numpy(), _grid_by_hand(batch, nrow, padding, pad_value))


def test_make_grid_shapes_of_its_inputs():
    batch = _batch(4)
    # a list of tensors is stacked
    np.testing.assert_array_equal(make_grid([_t(x) for x in batch], nrow=3).numpy(),
                                  make_grid(_t(batch), nrow=3).numpy())
    # a single C x H x W image comes back unchanged (no padding)
    np.testing.assert_array_equal(make_grid(_t(batch[0])).numpy(), batch[0])
    assert tuple(make_grid(_t(batch[:1])).shape) == (3, 2, 3)
    # single-channel images are repeated to 3 channels; a 2-D image is one single-channel image
    gray = _batch(3, c=1)
    np.testing.assert_array_equal(make_grid(_t(gray)).numpy(), _grid_by_hand(gray.repeat(3, 1), 8, 2, 0.0))
    assert tuple(make_grid(_t(gray[0, 0])).shape) == (3, 2, 3)
    np.testing.assert_array_equal(make_grid(_t(gray[0])).numpy(), gray[0].repeat(3, 0))
    # other channel counts are kept
    assert tuple(make_grid(_t(_batch(2, c=4)), padding=0).shape) == (4, 2, 6)


def test_make_grid_normalize():
    batch = _batch(3) * 10 - 3
    original = batch.copy()
    t = _t(batch)
    grid = make_grid(t, normalize=True, padding=0).numpy()
    lo, hi = batch.min(), batch.max()
    np.testing.assert_allclose(grid, _grid_by_hand((batch - lo) / (hi - lo), 8, 0, 0.0), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(t.numpy(), original)  # the input is not modified

    grid = make_grid(t, normalize=True, value_range=(0.0, 4.0), padding=0).numpy()
    np.testing.assert_allclose(grid, _grid_by_hand(np.clip(batch, 0, 4) / 4, 8, 0, 0.0), atol=1e-6)

    grid = make_grid(t, normalize=True, scale_each=True, padding=0).numpy()
    per_image = np.stack([(x - x.min()) / (x.max() - x.min()) for x in batch])
    np.testing.assert_allclose(grid, _grid_by_hand(per_image, 8, 0, 0.0), atol=1e-6)
    assert grid.dtype == np.float32

    # a constant image divides by 1e-5, not by zero
    np.testing.assert_array_equal(make_grid(_t(np.full((1, 3, 2, 2), 7, np.float32)), normalize=True).numpy(),
                                  np.zeros((3, 2, 2), np.float32))
    # scale_each without normalize does nothing
    np.testing.assert_array_equal(make_grid(t, scale_each=True).numpy(), make_grid(t).numpy())


def test_make_grid_errors():
    with pytest.raises(TypeError, match="tensor or list of tensors expected"):
        make_grid(np.zeros((2, 3, 4, 4)))
    with pytest.raises(TypeError, match="got a list containing"):
        make_grid([_t(np.zeros((3, 2, 2))), np.zeros((3, 2, 2))])
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        make_grid(_t(_batch(2)), normalize=True, value_range=[0, 1])


def test_make_grid_keeps_the_device(fake_cuda):
    batch = _batch(3)
    grid = make_grid(_t(batch).cuda(), nrow=2, normalize=True)
    assert grid.device.type == "cuda"
    lo, hi = batch.min(), batch.max()
    np.testing.assert_allclose(grid.cpu().numpy(), _grid_by_hand((batch - lo) / (hi - lo), 2, 2, 0.0), atol=1e-6)


def _image_values(shape, seed=0):
    """Floats that are exact byte values / 255, so a round trip through uint8 is lossless."""
    return (np.random.default_rng(seed).integers(0, 256, shape) / 255).astype(np.float32)


def test_save_image_round_trip(tmp_path):
    batch = _image_values((3, 3, 4, 5))
    path = tmp_path / "grid.png"
    save_image(_t(batch), path, nrow=2, padding=1, pad_value=1.0)
    with Image.open(path) as im:
        assert im.format == "PNG" and im.mode == "RGB"
        pixels = np.asarray(im)
    expected = np.round(_grid_by_hand(batch, 2, 1, 1.0) * 255).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(pixels, expected)
    assert sorted(os.listdir(tmp_path)) == ["grid.png"]  # no temporary file left


def test_save_image_rounding_and_clamping(tmp_path):
    # torchvision: uint8(clamp(x * 255 + 0.5, 0, 255)), i.e. round half up, values clamped to [0, 1]
    values = np.array([-0.5, 0.0, 0.4 / 255, 0.6 / 255, 0.5, 1.0, 3.0], np.float32)
    img = np.tile(values, (3, 1, 1))
    save_image(_t(img), str(tmp_path / "v.png"))
    with Image.open(tmp_path / "v.png") as im:
        row = np.asarray(im)[0, :, 0]
    assert row.tolist() == [0, 0, 0, 1, 128, 255, 255]


def test_save_image_formats_and_file_objects(tmp_path):
    img = _image_values((1, 6, 7))  # one grayscale image: saved as RGB, as torchvision does
    buf = io.BytesIO()
    save_image(_t(img), buf, format="BMP")
    buf.seek(0)
    with Image.open(buf) as im:
        assert im.format == "BMP" and im.mode == "RGB" and im.size == (7, 6)
        np.testing.assert_array_equal(np.asarray(im)[..., 1], np.round(img[0] * 255).astype(np.uint8))
    save_image(_t(img), tmp_path / "x.jpg")
    with Image.open(tmp_path / "x.jpg") as im:
        assert im.format == "JPEG"
    save_image(_t(img), tmp_path / "noext", format="PNG")
    with Image.open(tmp_path / "noext") as im:
        assert im.format == "PNG"
    four = _image_values((4, 2, 2))
    save_image(_t(four), tmp_path / "rgba.png")
    with Image.open(tmp_path / "rgba.png") as im:
        assert im.mode == "RGBA"


def test_save_image_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "keep.png"
    target.write_bytes(b"previous contents")
    with pytest.raises(ValueError, match="unknown file extension"):
        save_image(_t(_image_values((3, 2, 2))), tmp_path / "bad.notanext")
    assert sorted(os.listdir(tmp_path)) == ["keep.png"]

    real_save = Image.Image.save

    def failing_save(self, fp, format=None, **params):
        fp.write(b"half an image")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        save_image(_t(_image_values((3, 2, 2))), target)
    assert target.read_bytes() == b"previous contents"
    assert sorted(os.listdir(tmp_path)) == ["keep.png"]
    monkeypatch.setattr(Image.Image, "save", real_save)
    save_image(_t(_image_values((3, 2, 2))), target)
    with Image.open(target) as im:
        assert im.size == (2, 2)
    assert sorted(os.listdir(tmp_path)) == ["keep.png"]


def test_save_image_needs_float_images(tmp_path):
    with pytest.raises(RuntimeError, match="Float"):
        save_image(_t(np.zeros((3, 2, 2), np.uint8)), tmp_path / "u.png")
    assert not os.listdir(tmp_path)
