"""The PNG writer every export uses: files that Pillow and Qt read back pixel for pixel."""

import io

import numpy as np
import pytest
from PIL import Image

from engine.png import png_bytes, png_pieces, write_png


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 1, 4), (3, 5, 3), (7, 2, 4), (300, 1001, 3)])
def test_pillow_reads_back_the_same_pixels(shape):
    pixels = np.random.default_rng(sum(shape)).integers(0, 256, shape, dtype=np.uint8)
    with Image.open(io.BytesIO(png_bytes(pixels))) as image:
        assert image.mode == ("RGB" if shape[2] == 3 else "RGBA")
        np.testing.assert_array_equal(np.asarray(image), pixels)


def test_large_images_go_in_bands_and_several_idat_chunks_and_keep_their_density(monkeypatch, tmp_path):
    import engine.png as png
    monkeypatch.setattr(png, "_IDAT_BYTES", 1000)
    monkeypatch.setattr(png, "_BAND_BYTES", 5000)  # 11 rows a band: 19 bands, the last one short
    pixels = np.random.default_rng(1).integers(0, 256, (200, 150, 3), dtype=np.uint8)
    data = b"".join(png_pieces(pixels, dots_per_metre=(3780, 7559.6)))
    assert data.count(b"IDAT") > 50
    with Image.open(io.BytesIO(data)) as image:
        np.testing.assert_array_equal(np.asarray(image), pixels)
        assert image.info["dpi"] == pytest.approx((96.0, 192.0), abs=0.05)
    write_png(tmp_path / "a.png", pixels)
    assert (tmp_path / "a.png").read_bytes() == png_bytes(pixels)
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]  # nothing else left beside it


@pytest.mark.parametrize("bad", [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 2), np.uint8),
                                 np.zeros((4, 4, 3), np.float64), np.zeros((0, 4, 3), np.uint8)])
def test_what_is_not_8_bit_rgb_or_rgba_is_refused_and_nothing_is_written(bad, tmp_path):
    with pytest.raises(ValueError):
        write_png(tmp_path / "bad.png", bad)
    assert list(tmp_path.iterdir()) == []


def test_qt_reads_back_an_exported_qimage_opaque_and_transparent(qapp, tmp_path):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QImage

    from gui.export import qimage_pixels, write_qimage_png as write_qimage
    opaque = QImage(31, 17, QImage.Format.Format_ARGB32_Premultiplied)
    opaque.fill(QColor(10, 200, 30))
    opaque.setPixelColor(3, 4, QColor(255, 0, 128))
    assert qimage_pixels(opaque).shape == (17, 31, 3)  # every pixel opaque: written as RGB
    clear = QImage(31, 17, QImage.Format.Format_ARGB32_Premultiplied)
    clear.fill(Qt.GlobalColor.transparent)
    clear.setPixelColor(5, 6, QColor(0, 0, 255, 128))
    assert qimage_pixels(clear).shape == (17, 31, 4)
    for name, image in (("opaque.png", opaque), ("clear.png", clear)):
        write_qimage(image, tmp_path / name)
        back = QImage(str(tmp_path / name))
        assert not back.isNull()
        for x, y in ((0, 0), (3, 4), (5, 6), (30, 16)):
            a, b = image.pixelColor(x, y), back.pixelColor(x, y)
            assert (a.red(), a.green(), a.blue(), a.alpha()) == pytest.approx(
                (b.red(), b.green(), b.blue(), b.alpha()), abs=1), (name, x, y)


def _chunks(data):
    """(type, body) of every chunk, each CRC checked as the PNG specification defines it."""
    import struct
    import zlib
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, out = 8, []
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length:at + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        out.append((kind, body))
        at += 12 + length
    return out


@pytest.mark.parametrize("photo", [False, True])
def test_every_chunk_is_well_formed_and_the_rows_decode(monkeypatch, photo):
    import zlib

    import engine.png as png
    monkeypatch.setattr(png, "_IDAT_BYTES", 777)
    monkeypatch.setattr(png, "_BAND_BYTES", 3000)
    pixels = np.random.default_rng(3).integers(0, 256, (57, 40, 4), dtype=np.uint8)
    chunks = _chunks(png_bytes(pixels, dots_per_metre=(0, 0), photo=photo))
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"pHYs" not in kinds  # density unknown: left out
    assert set(kinds[1:-1]) == {b"IDAT"} and len(kinds) > 10
    raw = np.frombuffer(zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT")), np.uint8)
    rows = raw.reshape(57, 1 + 40 * 4)
    assert set(rows[:, 0]) == {2 if photo else 0}  # one filter type for every row
    decoded = rows[:, 1:].copy()
    if photo:  # "Up": each row adds the decoded row above, modulo 256
        decoded = np.cumsum(decoded, axis=0, dtype=np.uint64).astype(np.uint8)
    np.testing.assert_array_equal(decoded.reshape(57, 40, 4), pixels)


def test_qimage_pixels_are_a_copy_that_outlives_the_conversion(qapp):
    """The converted image's memory is freed once the pixels are taken: they must be a copy
    (a view of it crashed the GIF export, the frames being 1080p)."""
    from PySide6.QtGui import QImage

    from gui.export import qimage_pixels
    expected = np.random.default_rng(4).integers(0, 256, (1080, 1920, 3), dtype=np.uint8)
    image = QImage(expected.tobytes(), 1920, 1080, 3 * 1920, QImage.Format.Format_RGB888).convertToFormat(
        QImage.Format.Format_RGB32)
    for _ in range(3):
        pixels = qimage_pixels(image)
        churn = [QImage(1920, 1080, QImage.Format.Format_RGB32) for _ in range(4)]  # reuse freed memory
        for other in churn:
            other.fill(0)
        np.testing.assert_array_equal(pixels, expected)
