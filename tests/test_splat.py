"""The point image: the fused colour + stamp pass against a plain reference, its colour modes
against each other, its bands against one band, and its pooled images against reuse."""

import numpy as np
import pytest

from gui import splat
from gui.palette import cluster_rgb, pack_argb


def reference_image(points, colours, transform, width, height, radius):
    """Every point's stamp blended in order, pixel by pixel, in the same 8.8 fixed point."""
    cover, tint = splat.stamp_tables(radius)
    R = cover.shape[0] // 2
    out = np.zeros((height, width), dtype=np.int64)
    (a, b, c), (d, e, f) = transform
    for (x, y), col in zip(points, colours):
        with np.errstate(invalid="ignore", over="ignore"):  # the NaN and infinite points: skipped
            px, py = a * x + b * y + c, d * x + e * y + f
        if not (np.isfinite(px) and np.isfinite(py)):
            continue
        cx, cy = int(np.floor(px + 0.5)), int(np.floor(py + 0.5))
        channels = [(int(col) >> s) & 255 for s in (24, 16, 8, 0)]
        for sy in range(cover.shape[0]):
            for sx in range(cover.shape[1]):
                yy, xx = cy + sy - R, cx + sx - R
                if not (0 <= yy < height and 0 <= xx < width) or cover[sy, sx] == 0:
                    continue
                if cover[sy, sx] > 256:
                    out[yy, xx] = (255 << 24) | (int(col) & 0xFFFFFF)
                    continue
                A, K = int(cover[sy, sx]), int(tint[sy, sx])
                dst = [(int(out[yy, xx]) >> s) & 255 for s in (24, 16, 8, 0)]
                alpha = (dst[0] * (256 - A) + 255 * A + 128) >> 8
                rgb = [(dst[i] * (256 - A) + channels[i] * K + 128) >> 8 for i in (1, 2, 3)]
                out[yy, xx] = (alpha << 24) | (rgb[0] << 16) | (rgb[1] << 8) | rgb[2]
    return out.astype(np.uint32)


@pytest.mark.parametrize("radius", [0.5, 2.0, 3.5, 5.5])
def test_the_fused_pass_equals_a_plain_reference(rng, radius):
    W, H = 97, 71  # bands of a few rows: many points cross a band's edge
    points = rng.uniform(-1.2, 1.2, size=(400, 2))
    points[:5] = [[np.nan, 0.0], [0.0, np.inf], [1e300, 0.0], [-1.0, -1.0], [1.0, 1.0]]
    colours = pack_argb(rng.integers(0, 256, size=(400, 3))).astype(np.uint32)
    transform = ((W / 2.0, 0.0, W / 2.0), (0.0, -H / 2.0, H / 2.0))
    got = splat.PointImage(points).render(transform, W, H, radius, argb=colours)
    want = reference_image(points, colours, transform, W, H, radius)
    assert np.count_nonzero(want) > 100  # something was drawn
    np.testing.assert_array_equal(got, want)


def test_the_two_colour_modes_draw_the_same_pixels(rng):
    K, N = 4, 3000
    points = rng.normal(size=(N, 2))
    labels = rng.integers(0, K, size=N).astype(np.int32)
    palette = pack_argb(cluster_rgb(K)).astype(np.uint32)
    transform = ((60.0, 0.0, 200.0), (0.0, -60.0, 150.0))
    image = splat.PointImage(points)
    by_argb = image.render(transform, 400, 300, 2.0, argb=palette[labels]).copy()
    by_labels = image.render(transform, 400, 300, 2.0, labels=labels, palette=palette).copy()
    np.testing.assert_array_equal(by_argb, by_labels)
    assert len(np.unique(by_argb)) > K  # colours, rims and blends, not a blank image


def test_one_band_or_many_the_same_image(rng, monkeypatch):
    points = rng.normal(size=(5000, 2))
    colours = pack_argb(rng.integers(0, 256, size=(5000, 3))).astype(np.uint32)
    transform = ((50.0, 0.0, 160.0), (0.0, -50.0, 120.0))
    many = splat.PointImage(points).render(transform, 320, 240, 3.5, argb=colours).copy()
    monkeypatch.setattr(splat, "BAND_TASKS", 1)
    one = splat.PointImage(points).render(transform, 320, 240, 3.5, argb=colours)
    np.testing.assert_array_equal(many, one)


def test_one_thread_or_many_the_same_image(rng):
    """Bands go to whichever thread is free (engine.task_queue): the pixels must not care."""
    import numba
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("one thread only: nothing to compare")
    points = rng.normal(size=(20_000, 2))
    colours = pack_argb(rng.integers(0, 256, size=(20_000, 3))).astype(np.uint32)
    transform = ((50.0, 0.0, 160.0), (0.0, -50.0, 120.0))
    many = splat.PointImage(points).render(transform, 320, 240, 2.0, argb=colours).copy()
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        one = splat.PointImage(points).render(transform, 320, 240, 2.0, argb=colours)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(many, one)
    assert len(np.unique(one)) > 100


def test_an_image_to_draw_into_must_fit(rng):
    """``out`` is drawn into row by row as one flat array: a strided view or a wrong size would be
    written past its rows, so it is refused."""
    transform = ((40.0, 0.0, 100.0), (0.0, -40.0, 100.0))
    image = splat.PointImage(rng.normal(size=(100, 2)))
    colours = np.full(100, 0xFFFF0000, dtype=np.uint32)
    for bad in (np.zeros((200, 400), np.uint32)[:, ::2], np.zeros((100, 200), np.uint32),
                np.zeros((200, 200), np.int64)):
        with pytest.raises(ValueError, match="C-contiguous"):
            image.render(transform, 200, 200, 2.0, argb=colours, out=bad)
    good = np.zeros((200, 200), np.uint32)
    assert image.render(transform, 200, 200, 2.0, argb=colours, out=good) is good and good.any()


def test_an_image_still_held_is_never_drawn_over(rng):
    points = rng.normal(size=(2000, 2))
    transform = ((40.0, 0.0, 100.0), (0.0, -40.0, 100.0))
    image = splat.PointImage(points)
    red = np.full(2000, 0xFFFF0000, dtype=np.uint32)
    blue = np.full(2000, 0xFF0000FF, dtype=np.uint32)
    held = image.render(transform, 200, 200, 2.0, argb=red)
    kept = held.copy()
    for _ in range(splat.POOL_SIZE + 2):
        newer = image.render(transform, 200, 200, 2.0, argb=blue)
        assert newer is not held
    np.testing.assert_array_equal(held, kept)
    del held, newer
    again = image.render(transform, 200, 200, 2.0, argb=blue)  # released images are reused
    assert any(again is pooled for pooled in image._pool)
