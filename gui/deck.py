"""Slide decks of a run: one 16:9 slide per key half-step, its caption as the slide's title.

``.pptx`` through python-pptx: each slide holds the frame as a picture and the caption as an
editable title.  ``.pdf`` through Qt's QPdfWriter with the exporter's own painter code
(``FrameRenderer.paint`` with ``vector=True``): points, centres, ellipses, regions and the
cost plot as vector shapes (the points as one image above 5,000), the caption as real text.
Both are written through ``engine.files.atomic_output``.
"""

import io
from pathlib import Path

from PySide6.QtCore import QMarginsF, QSizeF
from PySide6.QtGui import QPageLayout, QPageSize, QPainter, QPdfWriter

from engine.files import atomic_output

from .export import _check_writable, _progress, qimage_png_pieces

DECK_SUFFIXES = (".pptx", ".pdf")
# 16:9 slides, PowerPoint's widescreen size: 13.333 x 7.5 inches
SLIDE_W_IN, SLIDE_H_IN = 13.333, 7.5
TITLE_TOP_IN, TITLE_H_IN, SIDE_IN = 0.2, 0.9, 0.35  # the title box; the picture fills the rest
PDF_DPI = 144  # a page is 1920 x 1080 device units: the frame's own layout and font sizes


def check_deck_path(path):
    """ValueError unless ``path`` ends in .pptx or .pdf."""
    suffix = Path(path).suffix.lower()
    if suffix not in DECK_SUFFIXES:
        raise ValueError(f"a deck must be a .pptx or a .pdf file, got {Path(path).name!r}")
    return suffix


def export_deck(renderer, path, indices, progress=None, cancel=None):
    """One slide per half-step in ``indices`` (see ``export.key_half_steps``), as .pptx or .pdf."""
    suffix = check_deck_path(path)
    if not len(indices):
        raise ValueError("a deck needs at least one half-step")
    _check_writable(Path(path).parent)
    if suffix == ".pptx":
        return export_pptx(renderer, path, indices, progress, cancel)
    return export_pdf(renderer, path, indices, progress, cancel)


def export_pptx(renderer, path, indices, progress=None, cancel=None):
    """A PowerPoint deck: per slide, the frame as a picture and its caption as the title."""
    from pptx import Presentation
    from pptx.util import Inches, Pt

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(SLIDE_W_IN), Inches(SLIDE_H_IN)
    layout = next((lay for lay in prs.slide_layouts if lay.name == "Title Only"), prs.slide_layouts[5])
    pic_top = TITLE_TOP_IN + TITLE_H_IN
    pic_w_in, pic_h_in = SLIDE_W_IN - 2 * SIDE_IN, SLIDE_H_IN - pic_top - 0.15
    o = renderer.options
    width = o.width
    height = max(int(round(width * pic_h_in / pic_w_in)), 16)
    saved = o.caption
    o.caption = False  # the slide's title carries it, as text the lecturer can edit
    try:
        for i, index in enumerate(indices):
            _progress(progress, i, len(indices), cancel)
            slide = prs.slides.add_slide(layout)
            title = slide.shapes.title
            title.left, title.top = Inches(SIDE_IN), Inches(TITLE_TOP_IN)
            title.width, title.height = Inches(SLIDE_W_IN - 2 * SIDE_IN), Inches(TITLE_H_IN)
            title.text = renderer.caption(index)
            for paragraph in title.text_frame.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(24)
                    run.font.bold = True
            picture = io.BytesIO(b"".join(qimage_png_pieces(renderer.image(index, width, height))))
            slide.shapes.add_picture(picture, Inches(SIDE_IN), Inches(pic_top), Inches(pic_w_in), Inches(pic_h_in))
    finally:
        o.caption = saved
    with atomic_output(path) as tmp:
        prs.save(str(tmp))
    _progress(progress, len(indices), len(indices), cancel)
    return Path(path)


def export_pdf(renderer, path, indices, progress=None, cancel=None):
    """A PDF deck: one 16:9 page per half-step, drawn as vectors with the caption as text."""
    o = renderer.options
    saved = o.caption, o.transparent
    o.caption, o.transparent = True, False
    with atomic_output(path) as tmp:
        writer = QPdfWriter(str(tmp))
        writer.setResolution(PDF_DPI)
        writer.setPageLayout(QPageLayout(QPageSize(QSizeF(SLIDE_W_IN, SLIDE_H_IN), QPageSize.Unit.Inch,
                                                   "ClusterLab 16:9", QPageSize.SizeMatchPolicy.ExactMatch),
                                         QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0)))
        writer.setTitle(f"ClusterLab: {renderer.run.description.display_name}")
        writer.setCreator("ClusterLab")
        w, h = int(round(SLIDE_W_IN * PDF_DPI)), int(round(SLIDE_H_IN * PDF_DPI))
        painter = QPainter(writer)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
            for i, index in enumerate(indices):
                _progress(progress, i, len(indices), cancel)
                if i:
                    writer.newPage()
                renderer.paint(painter, index, w, h, vector=True)
        finally:
            painter.end()
            o.caption, o.transparent = saved
    _progress(progress, len(indices), len(indices), cancel)
    return Path(path)
