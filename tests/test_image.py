"""Pixels as data: loading images safely, colour spaces, quantisation and segmentation, `quantise`."""

import io
import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import main
from engine.colour_space import lab_to_srgb, srgb_to_lab
from engine.image import (
    DEFAULT_MAX_PIXELS,
    PixelSpace,
    boundary_mask,
    load_image,
    pixel_dataset,
    quantise,
    quantised_image,
)
from engine.scenario import Scenario
from engine.settings import AlgorithmSettings

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "resources" / "coffee.png"


def run_main(args, capsys):
    code = main.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def photo(tmp_path):
    """A 90 x 60 crop of the shipped sample photo, as a PNG."""
    path = tmp_path / "photo.png"
    with Image.open(SAMPLE) as im:
        im.convert("RGB").crop((250, 150, 340, 210)).save(path)
    return path


def direct_cost(X, centres, labels):
    return float(np.sum((X - centres[labels]) ** 2))


# -- the engine ------------------------------------------------------------------------

@pytest.mark.parametrize("algorithm", ["kmeans", "soft-kmeans", "em"])
def test_J_equals_a_direct_sum_over_the_pixels(photo, algorithm):
    rgb = load_image(photo)
    X = rgb.reshape(-1, 3)
    assert X.min() >= 0.0 and X.max() <= 1.0
    run = Scenario(points=pixel_dataset(rgb, PixelSpace("rgb")), algorithm=algorithm, n_clusters=4, seed=2,
                   settings=AlgorithmSettings(beta=300.0, max_iter=8, covariance_type="diag")).start().run()
    assert len(run.history) > 4
    for index, snap in enumerate(run.history[1:], start=1):
        if algorithm == "kmeans":
            # J = sum_n ||x^(n) - m_k(n)||^2 with the labels shown at this half-step (a refit keeps the
            # assignment before it) and this half-step's centres
            assert snap.cost == pytest.approx(direct_cost(X, snap.centres, run.labels(index)), rel=1e-10)
        elif algorithm == "soft-kmeans":
            r = run.responsibilities(index)
            sq = ((X[:, None, :] - snap.centres[None]) ** 2).sum(axis=2)
            assert snap.cost == pytest.approx(float(np.sum(r * sq)), rel=1e-9)
        else:
            from scipy.stats import multivariate_normal
            density = sum(w * multivariate_normal(m, c).pdf(X)
                          for w, m, c in zip(snap.weights, snap.centres, snap.covariances))
            assert snap.log_likelihood == pytest.approx(float(np.sum(np.log(density))), rel=1e-9)


def test_quantised_image_has_at_most_K_colours_and_the_same_size(photo):
    rgb = load_image(photo)
    for space in (PixelSpace("rgb"), PixelSpace("lab"), PixelSpace("rgb", 2.0)):
        data = pixel_dataset(rgb, space)
        assert data.n_features == space.n_features
        run, labels, image = quantise(data, space, rgb.shape, 5, seed=1)
        assert image.shape == rgb.shape and image.dtype == np.uint8
        colours = np.unique(image.reshape(-1, 3), axis=0)
        assert 1 < len(colours) <= 5
        # each pixel is its centre's colour: the colour part of the centre, back in sRGB
        expected = np.round(space.colours(run.current.centres) * 255).astype(np.uint8)[labels]
        np.testing.assert_array_equal(image.reshape(-1, 3), expected)
        if space.space == "rgb" and not space.segmenting:
            assert run.current.cost == pytest.approx(direct_cost(data.X, run.current.centres,
                                                                 run.labels(len(run.history) - 1)), rel=1e-10)


def test_cielab_matches_scikit_image(rng):
    skimage_color = pytest.importorskip("skimage.color")
    colours = np.r_[rng.random((20_000, 3)),
                    np.repeat(np.arange(256)[:, None] / 255.0, 3, axis=1),  # every grey level
                    np.eye(3), 1.0 - np.eye(3), [[0.04045, 0.0031308, 0.5]]]
    ours = srgb_to_lab(colours)
    np.testing.assert_allclose(ours, skimage_color.rgb2lab(colours), atol=1e-3)
    np.testing.assert_allclose(ours[20_000 + 255], [100.0, 0.0, 0.0], atol=0.01)  # white, the last grey
    np.testing.assert_allclose(lab_to_srgb(ours), colours, atol=1e-7)  # and back (the sRGB curve's pieces meet to 3e-8)
    image = colours[:400].reshape(20, 20, 3)
    np.testing.assert_allclose(srgb_to_lab(image), skimage_color.rgb2lab(image), atol=1e-3)


def test_position_features_are_scaled_by_the_longer_side():
    rgb = np.zeros((3, 5, 3))
    rgb[..., 0] = 0.5
    X = PixelSpace("rgb", 2.0).features(rgb)
    assert X.shape == (15, 5)
    # pixel (row 2, col 4): x = 2 * 4 / 5, y = 2 * 2 / 5; colour first
    np.testing.assert_allclose(X[14], [0.5, 0.0, 0.0, 1.6, 0.8])
    lab = PixelSpace("lab", 2.0).features(rgb)
    np.testing.assert_allclose(lab[14, 3:], [160.0, 80.0])  # CIELAB: times 100 (L* runs 0..100)


def test_boundaries_mark_where_the_segment_changes():
    labels = np.zeros((4, 6), dtype=int)
    labels[:, 3:] = 1
    mask = boundary_mask(labels)
    assert mask[:, 2].all() and mask.sum() == 4
    q = quantised_image(labels.ravel(), np.array([[0, 0, 0], [1, 1, 1.0]]), labels.shape)
    assert q.shape == (4, 6, 3) and (q[:, :3] == 0).all() and (q[:, 3:] == 255).all()


def test_segmentation_against_slic(rng):
    """Both find four flat regions; they differ where the README says: k-means on (colour, lambda x, y)
    puts two far-apart patches of one colour in one cluster (segments need not be connected), SLIC's
    superpixels are connected."""
    segmentation = pytest.importorskip("skimage.segmentation")
    from scipy import ndimage
    from sklearn.metrics import adjusted_rand_score
    truth = np.zeros((60, 80), dtype=int)
    truth[:30, 40:], truth[30:, :40], truth[30:, 40:] = 1, 2, 3
    palette = np.array([[0.9, 0.2, 0.2], [0.2, 0.8, 0.2], [0.2, 0.3, 0.9], [0.9, 0.9, 0.2]])
    rgb = np.clip(palette[truth] + rng.normal(0, 0.02, (60, 80, 3)), 0, 1)
    space = PixelSpace("rgb", 0.3)
    _, labels, _ = quantise(pixel_dataset(rgb, space), space, rgb.shape, 4, init="kmeans++", seed=0)
    slic = segmentation.slic(rgb, n_segments=4, compactness=10, start_label=0, channel_axis=-1)
    assert adjusted_rand_score(truth.ravel(), labels) == pytest.approx(1.0)
    assert adjusted_rand_score(truth.ravel(), slic.ravel()) == pytest.approx(1.0)
    # two patches of the same red, far apart, on a grey ground
    two = np.full((60, 80, 3), 0.5)
    two[5:20, 5:20] = two[40:55, 60:75] = (0.9, 0.1, 0.1)
    space = PixelSpace("rgb", 0.05)
    _, labels, _ = quantise(pixel_dataset(two, space), space, two.shape, 2, seed=0)
    labels = labels.reshape(60, 80)
    assert labels[10, 10] == labels[45, 65] != labels[30, 40]  # one cluster...
    assert ndimage.label(labels == labels[10, 10])[1] == 2  # ...in two pieces
    slic = segmentation.slic(two, n_segments=9, compactness=10, start_label=0, channel_axis=-1)
    assert slic[10, 10] != slic[45, 65]
    assert all(ndimage.label(slic == s)[1] == 1 for s in np.unique(slic))  # every superpixel connected


# -- loading ------------------------------------------------------------------------------

def test_transparency_is_composited_on_white(tmp_path):
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[0, 0] = (255, 0, 0, 255)  # opaque red
    rgba[0, 1] = (255, 0, 0, 0)  # transparent: white
    rgba[1, 0] = (0, 0, 0, 128)  # half-transparent black: grey
    path = tmp_path / "a.png"
    Image.fromarray(rgba, "RGBA").save(path)
    rgb = load_image(path)
    np.testing.assert_allclose(rgb[0, 0], [1, 0, 0])
    np.testing.assert_allclose(rgb[0, 1], [1, 1, 1])
    np.testing.assert_allclose(rgb[1, 0], [1 - 128 / 255] * 3)


@pytest.mark.parametrize("fmt,suffix", [("PNG", ".png"), ("JPEG", ".jpg"), ("WEBP", ".webp"), ("TIFF", ".tif")])
def test_each_format_loads_as_rgb_in_0_1(tmp_path, fmt, suffix):
    from PIL import features
    if fmt == "WEBP" and not features.check("webp"):
        pytest.skip("Pillow built without WebP")
    pixels = np.zeros((16, 24, 3), dtype=np.uint8)
    pixels[:, 12:] = (40, 160, 220)
    path = tmp_path / f"x{suffix}"
    Image.fromarray(pixels).save(path, format=fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    rgb = load_image(path)
    assert rgb.shape == (16, 24, 3) and rgb.dtype == np.float64
    np.testing.assert_allclose(rgb[8, 20], np.array([40, 160, 220]) / 255, atol=0.03)


def test_sixteen_bit_grey_and_exif_orientation(tmp_path):
    grey = np.full((4, 6), 65535 // 2, dtype=np.uint16)
    path = tmp_path / "g16.png"
    Image.fromarray(grey).save(path)
    np.testing.assert_allclose(load_image(path), 0.5, atol=1e-4)
    im = Image.new("RGB", (30, 10), (200, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to display"
    path = tmp_path / "turned.jpg"
    im.save(path, exif=exif)
    assert load_image(path).shape == (30, 10, 3)  # upright, as a viewer shows it


def png_bomb(path, size=30000):
    """A valid 1-bit PNG of size x size pixels, all zero: about 100 kB on disk, 900 megapixels."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    row = b"\0" * (1 + size // 8 + 1)
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(size)) + packer.flush()
    header = struct.pack(">IIBBBBB", size, size, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


def bad_inputs(tmp_path, photo):
    """{name: (path, what the one line says)} for item 7 of the issue, and a FIFO."""
    jpeg = io.BytesIO()
    with Image.open(photo) as im:
        im.save(jpeg, format="JPEG")
    cases = {}
    (tmp_path / "notes.png").write_text("these are not pixels\n")
    cases["not an image"] = (tmp_path / "notes.png", "not an image")
    data = photo.read_bytes()
    (tmp_path / "cut.png").write_bytes(data[:len(data) // 2])
    cases["truncated PNG"] = (tmp_path / "cut.png", "truncated")
    (tmp_path / "cut.jpg").write_bytes(jpeg.getvalue()[:len(jpeg.getvalue()) // 2])
    cases["truncated JPEG"] = (tmp_path / "cut.jpg", "truncated")
    (tmp_path / "empty.png").write_bytes(b"")
    cases["empty"] = (tmp_path / "empty.png", "empty")
    cases["bomb"] = (png_bomb(tmp_path / "bomb.png"), "more than the limit of 25,000,000 (a decompression bomb?)")
    # under Pillow's own limit: refused by ours, with the size from the header
    cases["smaller bomb"] = (png_bomb(tmp_path / "bomb2.png", 12000),
                             "12000 x 12000 = 144,000,000 pixels, more than the limit of 25,000,000")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.png")
        cases["FIFO"] = (tmp_path / "pipe.png", "FIFO")
    cases["folder"] = (tmp_path, "folder")
    return cases


def test_bad_images_exit_2_with_one_line_and_write_nothing(tmp_path, photo, capsys):
    inputs = tmp_path / "in"
    inputs.mkdir()
    photo = Path(photo.rename(inputs / photo.name))
    cases = bad_inputs(inputs, photo)
    assert (inputs / "bomb.png").stat().st_size < 500_000
    out = tmp_path / "out"
    out.mkdir()
    for name, (path, message) in cases.items():
        code, stdout, err = run_main(["quantise", path, "--k", "2,3", "--out", out / "q.png",
                                      "--trace", out / "t.json", "--strip", out / "s.png"], capsys)
        assert code == 2, name
        assert err.count("\n") == 1 and message in err, (name, err)
        assert err.startswith("main.py quantise: error: ") and "Traceback" not in err
        assert stdout == "" and list(out.iterdir()) == [], name
    with pytest.raises(ValueError, match="truncated"):
        load_image(cases["truncated JPEG"][0])


def test_the_pixel_limit_is_stated_and_can_be_raised(photo, tmp_path, capsys):
    assert DEFAULT_MAX_PIXELS >= 4000 * 3000  # a 12-megapixel photo is in
    out = tmp_path / "q.png"
    code, _, err = run_main(["quantise", photo, "--k", "2", "--max-pixels", "5000", "--out", out], capsys)
    assert code == 2 and "90 x 60 = 5,400 pixels, more than the limit of 5,000" in err and "--max-pixels" in err
    assert err.count("\n") == 1
    assert not out.exists()
    code, _, err = run_main(["quantise", photo, "--k", "2", "--max-pixels", "6000", "--out", out], capsys)
    assert code == 0, err
    assert Image.open(out).size == (90, 60)


@pytest.mark.parametrize("args,message", [
    (["--k", "2,0"], "K must be from 1 to 100"),
    (["--k", "2,x"], "K must be an integer"),
    (["--k", "3,3"], "repeated"),
    (["--spatial-weight", "2"], "--spatial-weight needs --segment"),
    (["--space", "hsv"], "invalid choice"),
    (["--out", "/nonexistent-folder/q.png"], "does not exist"),
])
def test_bad_flags_exit_2_with_one_line(photo, tmp_path, capsys, args, message):
    base = ["quantise", photo, "--out", tmp_path / "q.png"]
    code, _, err = run_main(base + args, capsys)
    assert code == 2 and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "q.png").exists()


def test_the_output_may_not_replace_the_input(photo, capsys):
    before = photo.read_bytes()
    code, _, err = run_main(["quantise", photo, "--k", "2", "--out", photo], capsys)
    assert code == 2 and "is the input file" in err
    assert photo.read_bytes() == before


# -- the command -----------------------------------------------------------------------

def test_several_K_write_one_file_each_with_traces_and_a_strip(photo, tmp_path, capsys):
    code, stdout, err = run_main(["quantise", photo, "--k", "2,3,10", "--out", tmp_path / "q.png",
                                  "--trace", tmp_path / "t.json", "--strip", tmp_path / "s.png", "--seed", "3"],
                                 capsys)
    assert code == 0, err
    assert "K = 2: J = " in stdout and "K = 10: J = " in stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["photo.png", "q-k2.png", "q-k3.png", "q-k10.png", "t-k2.json", "t-k3.json", "t-k10.json", "s.png"])
    X = load_image(photo).reshape(-1, 3)
    for k in (2, 3, 10):
        image = np.asarray(Image.open(tmp_path / f"q-k{k}.png"))
        assert image.shape == (60, 90, 3)
        assert len(np.unique(image.reshape(-1, 3), axis=0)) <= k
        trace = json.loads((tmp_path / f"t-k{k}.json").read_text())
        assert (trace["format"], trace["n"], trace["dim"], trace["k"]) == ("clusterlab-trace", 5400, 3, k)
        assert trace["settings"]["space"] == "rgb" and trace["settings"]["width"] == 90
        final = trace["final"]
        centres, labels = np.array(final["centres"]), np.array(final["labels"])
        # J over pixel values in [0, 1]; the final labels are those under the final centres
        last = trace["steps"][-1]
        # converged at an assignment step: its labels are those under its centres, the final ones
        assert last["phase"] == "assign" and last["converged"]
        assert last["cost"] == pytest.approx(direct_cost(X, np.array(last["centres"]), labels), rel=1e-9)
        np.testing.assert_array_equal(image.reshape(-1, 3), np.round(centres * 255).astype(np.uint8)[labels])
    strip = Image.open(tmp_path / "s.png").convert("RGB")
    w, h = strip.size
    assert w > 3 * h  # four panels side by side
    # the last panel is the original photo, at its own size (90 px is under the panel limit)
    original = np.asarray(Image.open(photo).convert("RGB")).astype(int)
    gap, title = 8, 24
    panel = np.asarray(strip).astype(int)[gap + title:gap + title + 60, w - gap - 90:w - gap]
    assert np.abs(panel - original).mean() < 3


def test_segment_and_lab_in_the_trace(photo, tmp_path, capsys):
    code, _, err = run_main(["quantise", photo, "--k", "6", "--space", "lab", "--segment",
                             "--spatial-weight", "0.5", "--out", tmp_path / "seg.png",
                             "--trace", tmp_path / "seg.json"], capsys)
    assert code == 0, err
    trace = json.loads((tmp_path / "seg.json").read_text())
    assert trace["dim"] == 5 and trace["settings"]["features"] == ["L*", "a*", "b*", "λx", "λy"]
    assert trace["settings"]["spatial_weight"] == 0.5
    assert len(np.unique(np.asarray(Image.open(tmp_path / "seg.png")).reshape(-1, 3), axis=0)) <= 6
