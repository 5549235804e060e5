"""engine.vision.io: reading, decoding, encoding and writing images as torchvision.io does (uint8 CHW tensors,
ImageReadMode), checked against Pillow's own decoding (torchvision.io's compiled decoders cannot load beside
CPU torch); untrusted files: truncated, non-image, oversized and special files raise ImageFileError naming
the file and the problem."""

import io

import numpy as np
import pytest
from PIL import Image

import engine
from engine.vision import io as vio
from engine.vision.image_file import ImageFileError


def rgb(h=6, w=9, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def saved(tmp_path, img, name, **options):
    path = tmp_path / name
    img.save(path, **options)
    return path


def test_read_image_modes(tmp_path):
    a = rgb()
    path = saved(tmp_path, Image.fromarray(a), "a.png")
    x = vio.read_image(path)
    assert isinstance(x, engine.Tensor) and x.dtype is engine.uint8 and x.shape == (3, 6, 9)
    np.testing.assert_array_equal(x.numpy(), a.transpose(2, 0, 1))
    gray = np.asarray(Image.fromarray(a).convert("L"))
    np.testing.assert_array_equal(vio.read_image(path, vio.ImageReadMode.GRAY).numpy(), gray[None])
    rgba = vio.read_image(str(path), "RGBA")
    assert rgba.shape == (4, 6, 9) and (rgba.numpy()[3] == 255).all()
    assert vio.read_image(path, vio.ImageReadMode.GRAY_ALPHA).shape == (2, 6, 9)
    assert vio.ImageReadMode.RGBA is vio.ImageReadMode.RGB_ALPHA and vio.ImageReadMode.RGB.value == 3
    # UNCHANGED keeps the stored channels: grey stays one channel, RGBA four, a palette expands to RGB
    la = Image.fromarray(a).convert("LA")
    assert vio.read_image(saved(tmp_path, la, "la.png")).shape == (2, 6, 9)
    assert vio.read_image(saved(tmp_path, Image.fromarray(gray), "g.png")).shape == (1, 6, 9)
    pal = Image.fromarray(a).convert("P")
    np.testing.assert_array_equal(vio.read_image(saved(tmp_path, pal, "p.png")).numpy(),
                                  np.asarray(pal.convert("RGB")).transpose(2, 0, 1))
    bw = vio.read_image(saved(tmp_path, Image.fromarray(gray).convert("1"), "b.png"))
    assert bw.shape == (1, 6, 9) and set(np.unique(bw.numpy())) <= {0, 255}
    with pytest.raises(KeyError):
        vio.read_image(path, "CMYK")


def test_decode_image_from_bytes_and_exif(tmp_path):
    a = rgb()
    buffer = io.BytesIO()
    Image.fromarray(a).save(buffer, format="JPEG", quality=95)
    data = engine.tensor(np.frombuffer(buffer.getvalue(), np.uint8).copy())
    x = vio.decode_image(data)
    np.testing.assert_array_equal(x.numpy(), np.asarray(Image.open(io.BytesIO(buffer.getvalue()))).transpose(2, 0, 1))
    assert vio.decode_jpeg(data, mode="GRAY").shape == (1, 6, 9) and vio.decode_png is vio.decode_image
    # an EXIF orientation of 6 (rotated 90 degrees): applied only when asked
    img = Image.fromarray(a)
    exif = img.getexif()
    exif[0x0112] = 6
    path = tmp_path / "o.jpg"
    img.save(path, exif=exif, quality=95)
    assert vio.read_image(path).shape == (3, 6, 9)
    assert vio.read_image(path, apply_exif_orientation=True).shape == (3, 9, 6)
    assert vio.decode_image(str(path)).shape == (3, 6, 9)


def test_encode_and_write_round_trips(tmp_path):
    x = engine.tensor(rgb().transpose(2, 0, 1).copy())
    png = vio.encode_png(x, compression_level=9)
    assert png.dtype is engine.uint8 and png.ndim == 1 and bytes(png.numpy()[:8]) == b"\x89PNG\r\n\x1a\n"
    np.testing.assert_array_equal(vio.decode_image(png).numpy(), x.numpy())
    vio.write_png(x, tmp_path / "w.png")
    np.testing.assert_array_equal(vio.read_image(tmp_path / "w.png").numpy(), x.numpy())
    np.testing.assert_array_equal(vio.read_file(tmp_path / "w.png").numpy(),
                                  np.frombuffer((tmp_path / "w.png").read_bytes(), np.uint8))
    jpg = vio.encode_jpeg(x, quality=100)
    assert bytes(jpg.numpy()[:2]) == b"\xff\xd8"
    smooth = np.broadcast_to(np.linspace(0, 250, 16, dtype=np.uint8), (3, 16, 16)).copy()
    back = vio.decode_image(vio.encode_jpeg(engine.tensor(smooth), quality=95)).numpy()
    assert np.abs(back.astype(int) - smooth).max() <= 4  # lossy: a smooth image comes back close
    assert [t.shape for t in vio.encode_jpeg([x, x[:1]])] == [vio.encode_jpeg(x).shape, vio.encode_jpeg(x[:1]).shape]
    vio.write_jpeg(x[:1], tmp_path / "g.jpg")
    assert vio.read_image(tmp_path / "g.jpg").shape == (1, 6, 9)
    vio.write_file(tmp_path / "copy.png", png)
    assert (tmp_path / "copy.png").read_bytes() == bytes(png.numpy())
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_encode_errors():
    x = engine.tensor(rgb().transpose(2, 0, 1).copy())
    with pytest.raises(ValueError, match="Image quality should be a positive number between 1 and 100"):
        vio.encode_jpeg(x, quality=0)
    with pytest.raises(ValueError, match="encode_jpeg requires at least one input tensor when a list is passed"):
        vio.encode_jpeg([])
    with pytest.raises(RuntimeError, match="Input tensor dtype should be uint8"):
        vio.encode_png(x.float())
    with pytest.raises(RuntimeError, match="Input data should be a 3-dimensional tensor"):
        vio.encode_png(x[0])
    with pytest.raises(RuntimeError, match="The number of channels should be 1 or 3, got: 2"):
        vio.encode_png(x[:2])
    with pytest.raises(RuntimeError, match="Number of channels should be 1 or 3, got: 2"):
        vio.encode_jpeg(x[:2])
    with pytest.raises(RuntimeError, match="Compression level should be between 0 and 9"):
        vio.encode_png(x, compression_level=10)


def test_untrusted_files_raise_one_error_naming_them(tmp_path):
    good = saved(tmp_path, Image.fromarray(rgb(40, 40)), "good.png")
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[:100])
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    cases = [(truncated, "truncated or corrupt"), (text, "not an image file"),
             (tmp_path / "missing.png", "cannot read the file"), (tmp_path, "it is a folder")]
    for path, problem in cases:
        with pytest.raises(ImageFileError, match=problem) as info:
            vio.read_image(path)
        assert info.value.path == str(path) and isinstance(info.value, ValueError)
    with pytest.raises(ImageFileError, match=r"<image data>: cannot read the image \(OSError"):
        vio.decode_image(engine.tensor(np.frombuffer(truncated.read_bytes(), np.uint8).copy()))
    with pytest.raises(ImageFileError, match="cannot read the file"):
        vio.read_file(tmp_path / "missing.png")


def test_decompression_bomb_is_refused_before_decoding(tmp_path, monkeypatch):
    """A header that claims more pixels than the budget is refused without decoding (here the budget is
    lowered; a real 30000x30000 PNG would trip Pillow's own bomb check the same way)."""
    monkeypatch.setattr(vio, "MAX_PIXELS", 1000)
    path = saved(tmp_path, Image.new("L", (40, 30)), "big.png")
    with pytest.raises(ImageFileError, match="the image is 40x30 pixels, over the 1,000 pixels"):
        vio.read_image(path)
    monkeypatch.setattr(vio, "MAX_PIXELS", 1 << 40)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500)  # Pillow's bomb warning (over 500) becomes the error
    with pytest.raises(ImageFileError, match="the image is too large to open"):
        vio.read_image(path)


def test_bad_arguments():
    with pytest.raises(TypeError, match="Expected a tensor of bytes, got bytes"):
        vio.write_file("unused.bin", b"abc")
    with pytest.raises(RuntimeError, match="Expected a 1-d uint8 tensor of bytes"):
        vio.decode_image(engine.zeros(3))
