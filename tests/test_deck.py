"""Slide decks: one 16:9 slide per key half-step, the caption as the title (.pptx) or as text (.pdf)."""

import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def cli(*args, timeout=300):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def long_run():
    from engine.scenario import Scenario
    rng = np.random.default_rng(4)
    X = np.vstack([m + rng.normal(size=(80, 2)) for m in rng.normal(scale=6, size=(8, 2))])
    run = Scenario(points=X, algorithm="kmeans", n_clusters=8, init="random", seed=2).start().run()
    assert len(run.history) > 8
    return run


def test_pptx_deck_one_slide_per_key_frame(qapp, tmp_path, long_run):
    from pptx import Presentation
    from pptx.util import Inches

    from gui.deck import export_deck
    from gui.export import ExportOptions, FrameRenderer, key_half_steps
    renderer = FrameRenderer(long_run, ExportOptions(width=1280, height=720, cost_plot=True))
    keys = key_half_steps(long_run)
    path = export_deck(renderer, tmp_path / "run.pptx", keys)
    assert renderer.options.caption  # restored after the slides
    prs = Presentation(str(path))
    assert abs(prs.slide_width / prs.slide_height - 16 / 9) < 0.01
    assert prs.slide_width == Inches(13.333)
    slides = list(prs.slides)
    assert len(slides) == len(keys) <= 8
    for slide, index in zip(slides, keys):
        title = slide.shapes.title
        assert title is not None and title.text == renderer.caption(index)
        pictures = [s for s in slide.shapes if s.shape_type == 13]  # MSO_SHAPE_TYPE.PICTURE
        assert len(pictures) == 1
        pic = pictures[0]
        assert pic.top >= title.top + title.height - 10 and pic.left + pic.width <= prs.slide_width
        assert pic.image.content_type == "image/png" and len(pic.image.blob) > 10_000
    assert slides[-1].shapes.title.text.startswith("Converged after")
    assert slides[0].shapes.title.text == "Initialisation"
    assert not list(tmp_path.glob(".*tmp*"))  # written atomically, nothing left beside it


def _pdf_pages(data):
    return data.count(b"/Type /Page\n") + data.count(b"/Type /Page\r") + data.count(b"/Type /Page/")


def test_pdf_deck_vector_pages_with_caption_text(qapp, tmp_path, long_run):
    from gui.deck import export_deck
    from gui.export import ExportOptions, FrameRenderer, key_half_steps
    renderer = FrameRenderer(long_run, ExportOptions(cost_plot=True))
    keys = key_half_steps(long_run, 5)
    path = export_deck(renderer, tmp_path / "run.pdf", keys)
    data = path.read_bytes()
    assert data.startswith(b"%PDF") and _pdf_pages(data) == len(keys) == 5
    assert b"/Subtype /Image" not in data or data.count(b"/Subtype /Image") < len(keys)  # points as vectors
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: page count checked only")
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    pages = unicodedata.normalize("NFKC", text).split("\f")  # "ﬁ" ligatures back to "fi"
    for page, index in zip(pages, keys):
        assert renderer.caption(index) in page.replace("\n", " ")
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    if info:
        assert "960 x 540 pts" in info  # 13.333 x 7.5 in: 16:9


def test_cli_deck_em_pdf_and_pptx(tmp_path):
    scenario = ["--sample", "blobs", "--n", "300", "--algorithm", "em", "--k", "3", "--seed", "1"]
    pdf, pptx = tmp_path / "run.pdf", tmp_path / "run.pptx"
    result = cli("export", *scenario, "--deck", str(pdf), "--cost-plot", "--regions", "--panels", "4")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "(4 slides)" in result.stdout
    assert _pdf_pages(pdf.read_bytes()) == 4
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "Initialisation" in text and "Converged after" in text
        # the EM cost plot names both objectives of the description
        assert "lower bound L" in text and "log-likelihood log p(D)" in text
    result = cli("export", *scenario, "--deck", str(pptx))
    assert result.returncode == 0, result.stderr[-2000:]
    from pptx import Presentation
    titles = [s.shapes.title.text for s in Presentation(str(pptx)).slides]
    assert len(titles) <= 8 and titles[0].startswith("Initialisation") and titles[-1].startswith("Converged after")
    assert all("log p(D) = " in t for t in titles)


def test_deck_keeps_the_old_file_on_failure(qapp, tmp_path, long_run):
    import threading

    from gui.deck import export_deck
    from gui.export import ExportCancelled, ExportOptions, FrameRenderer
    path = tmp_path / "run.pptx"
    path.write_bytes(b"old deck")
    cancel = threading.Event()
    calls = []

    def progress(done, total):
        calls.append(done)
        if done == 2:
            cancel.set()
    with pytest.raises(ExportCancelled):
        export_deck(FrameRenderer(long_run, ExportOptions(width=640, height=360)), path, [0, 1, 2, 3],
                    progress, cancel)
    assert path.read_bytes() == b"old deck" and calls == [0, 1, 2]
    assert not [p for p in tmp_path.iterdir() if p.name != "run.pptx"]
