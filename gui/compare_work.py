"""Side by side (the lecture's "relation to k-means"): the runs and their pictures.

``Comparison`` holds one run per algorithm, all on the same points (one Dataset, so k-means'
point blocks are sorted once) from the same initial centres.  It lives on the engine worker
(``EngineClient.call``): ``advance`` steps its runs to the end a slice at a time, ``render``
draws each pane at one iteration with the exports' ``FrameRenderer``, ``frame_image`` and
``strip_image`` paint the two exports.  Only the worker touches a Comparison, so numba's
kernels never run from two threads at once; the window gets back ``PaneState`` (immutable
histories) and QImages.

The shared timeline counts iterations: iteration i shows each run after its i-th refit /
M-step, or its last state once it has stopped earlier ("converged at iteration n").
"""

import dataclasses
import itertools
import math
import time
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPen

from engine.captions import completed_iterations, format_value, short_caption, stop_text
from engine.data import Dataset
from engine.description import INIT_PHASE
from engine.registry import ALGORITHMS, describe
from engine.run import FAILED

from .export import ExportOptions, FrameRenderer, fit_view, write_qimage_png
from .palette import PATH_HEX, REFIT_STEP_HEX, RESPONSIBILITY_STEP_HEX

STEP_SLICE_S = 0.1  # stepping time per call before the progress so far is shown
STRIP_COLUMNS = 5  # key iterations in a strip
# A pane: its title on top, the points, and the cost plot under them (or beside them when the
# panes are wide and low, as for data in a row): these fractions of the pane go to the plot
COST_UNDER, COST_BESIDE = 0.26, 0.3
MARKER_FLOOR = 0.7  # FrameRenderer's scale floor: markers stay readable in a small pane
TEXT_HEX = "#191919"
# The settings that tell the panes apart, as the lecture writes them (shown where an algorithm takes one)
SETTING_LABELS = (("beta", "β = {}"), ("covariance_type", "{} covariance"))


def settings_text(name, settings):
    """What ``name`` is run with that matters to the comparison: "β = 2", "full covariance"."""
    taken = settings.for_algorithm(ALGORITHMS[name])
    parts = []
    for key, pattern in SETTING_LABELS:
        if key in taken:
            value = taken[key]
            parts.append(pattern.format(format_value(value) if isinstance(value, float) else value))
    return ", ".join(parts)


@dataclass(frozen=True)
class PaneState:
    """One algorithm's run as the window sees it: its whole history so far, never the run itself."""

    name: str
    history: tuple
    finished: bool
    stop_reason: str = None
    error: str = None
    settings: str = ""  # settings_text

    @property
    def description(self):
        return describe(self.name)

    @property
    def last_iteration(self):
        """Iterations the run completed (its last refit / M-step); the timeline's end for this pane."""
        return completed_iterations(self.description, self.history[-1]) if self.history else 0

    def index_at(self, iteration):
        """The half-step shown at ``iteration``: the run after its iteration-th refit / M-step, its
        initialisation at 0, its last half-step once it stopped at or before ``iteration``."""
        if not self.history:
            return 0
        last = len(self.history) - 1
        if iteration <= 0:
            return 0
        if self.finished and self.last_iteration <= iteration:
            return last
        refit = self.description.refit_phase
        return next((i for i, s in enumerate(self.history) if s.phase == refit and s.iteration == iteration),
                    last)

    def heading(self):
        """"soft k-means · β = 2"."""
        name = self.description.display_name
        return f"{name} · {self.settings}" if self.settings else name

    def caption_parts(self, iteration):
        """(state, objective) at ``iteration``: ("Refitting step 3", "J = 560.8"), ("Converged at
        iteration 7", "log p(D) = −1,234"); the objective is "" where it is not defined yet."""
        if self.error:
            return self.error, ""
        if not self.history:
            return "Computing…", ""
        description, index = self.description, self.index_at(iteration)
        snap = self.history[index]
        value = description.objective(snap)
        objective = "" if value is None else f"{description.primary.symbol} = {format_value(value)}"
        if not (self.finished and index == len(self.history) - 1 and index > 0):
            return short_caption(description, snap), objective
        n = completed_iterations(description, snap)
        if snap.converged:
            return f"Converged at iteration {n}", objective
        reason = stop_text(self.stop_reason)
        return f"Stopped at iteration {n}" + (f" ({reason})" if reason else ""), objective

    def caption(self, iteration):
        """The state at ``iteration`` in one line, as ``export.panel_title`` writes a panel's:
        "Refitting step 3 — J = 560.8", "Converged at iteration 7 — log p(D) = −1,234"."""
        return " — ".join(part for part in self.caption_parts(iteration) if part)

    def cost_points(self, index):
        """(half-steps, values) of the primary objective up to half-step ``index``."""
        return self.description.objective_points(self.history[:index + 1], self.description.primary)


def last_iteration(states):
    """The shared timeline's last iteration: where the slowest pane stops."""
    return max((s.last_iteration for s in states), default=0)


def strip_iterations(last, columns=STRIP_COLUMNS):
    """Key iterations for a strip: the initialisation, the first, the last, evenly between."""
    if last + 1 <= columns:
        return list(range(last + 1))
    picks = {0, last}
    picks.update(round(float(v)) for v in np.linspace(1, last, columns - 1))
    return sorted(picks)


def pane_grid(n, width, height, aspect, title_h):
    """(cols, rows, cost_beside) for ``n`` panes in width x height: the arrangement that gives
    each pane's points (data of width / height ``aspect``) the most room, with the cost plot
    under the points, or beside them when that leaves more (wide, low data)."""
    best = None
    for cols in range(1, n + 1):
        rows = math.ceil(n / cols)
        pw, ph = width / cols, height / rows - title_h
        for beside in (False, True):
            iw, ih = (pw * (1 - COST_BESIDE), ph) if beside else (pw, ph * (1 - COST_UNDER))
            side = max(min(iw / aspect, ih), 0.0)
            score = side * side * aspect
            if best is None or score > best[0] * 1.0001:
                best = (score, cols, rows, beside)
    return best[1:]


def split_pane(rect, title_h, cost_beside):
    """(title, points, cost) rectangles of one pane."""
    title = QRectF(rect.left(), rect.top(), rect.width(), title_h)
    body = QRectF(rect.left(), rect.top() + title_h, rect.width(), rect.height() - title_h)
    if cost_beside:
        cw = body.width() * COST_BESIDE
        return title, QRectF(body.left(), body.top(), body.width() - cw, body.height()), \
            QRectF(body.right() - cw, body.top(), cw, body.height())
    ch = body.height() * COST_UNDER
    return title, QRectF(body.left(), body.top(), body.width(), body.height() - ch), \
        QRectF(body.left(), body.bottom() - ch, body.width(), ch)


def _font(pixels, bold=False):
    font = QFont()
    font.setPixelSize(max(int(pixels), 7))
    font.setBold(bold)
    return font


def paint_cost_sketch(painter, rect, state, index, n_half_steps, font_px=12.0, marks=()):
    """A small plot of the pane's primary objective after each half-step up to ``index``, as the
    window's cost plot draws it (a grey path, dots coloured by phase), on axes fixed for the
    whole timeline (0 to ``n_half_steps``, the run's whole range), so nothing moves as it is
    revealed; a line at ``index`` and light lines at ``marks``."""
    description, primary = state.description, state.description.primary
    _, all_values = description.objective_points(state.history, primary)
    x, y = state.cost_points(index)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    font = _font(font_px)
    painter.setFont(font)
    metrics = QFontMetricsF(font)
    finite = all_values[np.isfinite(all_values)]
    lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    if hi - lo <= 1e-12 * max(abs(lo), abs(hi), 1.0):
        lo, hi = lo - 0.5 * (abs(lo) or 1.0), hi + 0.5 * (abs(hi) or 1.0)
    tick_text = [format_value(hi), format_value(lo)]
    line = metrics.height()
    left = max(metrics.horizontalAdvance(t) for t in tick_text) + 8
    plot = QRectF(rect).adjusted(left, 1.6 * line + 6, -10, -(line + 6))
    if plot.width() < 10 or plot.height() < 8:
        painter.restore()
        return
    painter.setPen(QColor(TEXT_HEX))
    painter.drawText(QRectF(rect.left() + 2, rect.top() + 2, rect.width() - 4, line),
                     Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                     metrics.elidedText(f"{primary.name} per half-step", Qt.TextElideMode.ElideRight,
                                        rect.width() - 4))
    n = max(n_half_steps, 1)

    def at(i, v):
        return QPointF(plot.left() + plot.width() * i / n, plot.bottom() - plot.height() * (v - lo) / (hi - lo))

    painter.setPen(QPen(QColor(150, 150, 150), 1.0))
    painter.drawLine(plot.bottomLeft(), plot.bottomRight())
    painter.drawLine(plot.bottomLeft(), plot.topLeft())
    painter.setPen(QColor(70, 70, 70))
    for value, text in zip((hi, lo), tick_text):
        painter.drawText(QRectF(rect.left(), at(0, value).y() - line / 2, left - 5, line),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
    below = QRectF(plot.left(), plot.bottom() + 3, plot.width(), line)
    painter.drawText(below, Qt.AlignmentFlag.AlignLeft, "0")
    painter.drawText(below, Qt.AlignmentFlag.AlignHCenter, "half-step")
    painter.drawText(below, Qt.AlignmentFlag.AlignRight, str(n))
    for m in marks:
        painter.setPen(QPen(QColor(200, 200, 200), 1.0))
        mx = at(m, lo).x()
        painter.drawLine(QPointF(mx, plot.top()), QPointF(mx, plot.bottom()))
    shown = [(int(i), at(i, v)) for i, v in zip(x, y) if np.isfinite(v)]
    painter.setPen(QPen(QColor(PATH_HEX), 1.3))
    for (_, a), (_, b) in itertools.pairwise(shown):
        painter.drawLine(a, b)
    r = max(font_px * 0.27, 2.0)
    painter.setPen(QPen(QColor("white"), 0.6))
    for i, p in shown:
        phase = state.history[i].phase
        colour = PATH_HEX if phase == INIT_PHASE else (
            REFIT_STEP_HEX if phase == description.refit_phase else RESPONSIBILITY_STEP_HEX)
        painter.setBrush(QColor(colour))
        painter.drawEllipse(p, r, r)
    painter.setPen(QPen(QColor(30, 30, 30), 1.6))
    ix = at(index, lo).x()
    painter.drawLine(QPointF(ix, plot.top()), QPointF(ix, plot.bottom()))
    painter.restore()


def _text(painter, rect, text, pixels, bold=False, colour=TEXT_HEX, flags=Qt.AlignmentFlag.AlignLeft):
    """``text`` in one line in ``rect``, shrunk a little to fit, then elided."""
    size = max(int(pixels), 8)
    font = _font(size, bold)
    while size > max(int(pixels * 0.7), 8) and QFontMetricsF(font).horizontalAdvance(text) > rect.width():
        size -= 1
        font = _font(size, bold)
    painter.setFont(font)
    painter.setPen(QColor(colour))
    text = QFontMetricsF(font).elidedText(text, Qt.TextElideMode.ElideRight, rect.width())
    painter.drawText(rect, flags | Qt.AlignmentFlag.AlignVCenter, text)


def _white_page(width, height):
    """(an opaque white QImage, an anti-aliasing QPainter on it): the caller ends the painter."""
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
    return image, painter


class Comparison:
    """One run per algorithm in ``names`` on the same points from the same initial centres.

    scenario : the session's ``engine.Scenario``; its placed centres (or those its
    initialisation draws) start every run, its settings give β and the covariance type.
    Worker thread only.
    """

    def __init__(self, scenario, names, projection=None):
        self.projection = projection  # the plane the session shows (None: the first two columns)
        data = scenario.points if isinstance(scenario.points, Dataset) else Dataset(scenario.points)
        base = dataclasses.replace(scenario, points=data)
        centres = base.initial_centres()
        self.scenario = dataclasses.replace(base, centres=centres, n_clusters=len(centres))
        self.runs = {}
        self.errors = {}
        self._renderers = {}
        self.include(names)

    @property
    def n_points(self):
        return self.scenario.points.n_samples

    @property
    def n_clusters(self):
        return len(self.scenario.centres)

    def include(self, names):
        """Start the runs of ``names`` not started yet (at their initialisation)."""
        for name in names:
            if name not in self.runs and name not in self.errors:
                try:
                    self.runs[name] = dataclasses.replace(self.scenario, algorithm=name).start()
                except ValueError as exc:
                    self.errors[name] = str(exc)

    def advance(self, names, budget_s=STEP_SLICE_S):
        """Step the runs of ``names`` towards their end, a half-step each in turn, for about
        ``budget_s`` seconds; their states afterwards."""
        self.include(names)
        t0 = time.perf_counter()
        running = [self.runs[n] for n in names if n in self.runs and not self.runs[n].finished]
        while running and time.perf_counter() - t0 < budget_s:
            for run in running:
                try:
                    run.step()
                except ValueError as exc:  # numbers the engine refuses: said, never a crash
                    run.stop_reason = FAILED
                    self.errors[run.description.name] = str(exc)
            running = [run for run in running if not run.finished]
        return self.states(names)

    def states(self, names):
        out = []
        for name in names:
            run = self.runs.get(name)
            settings = settings_text(name, self.scenario.settings)
            if run is None:
                out.append(PaneState(name, (), True, FAILED, self.errors.get(name), settings))
            else:
                out.append(PaneState(name, tuple(run.history), run.finished, run.stop_reason,
                                     self.errors.get(name), settings))
        return tuple(out)

    def view(self, names):
        """(x0, x1, y0, y1) that holds every pane's points and centres: the panes line up."""
        views = [fit_view(self.runs[n], projection=self.projection) for n in names if n in self.runs]
        if not views:
            return (-1.0, 1.0, -1.0, 1.0)
        v = np.array(views)
        return (float(v[:, 0].min()), float(v[:, 1].max()), float(v[:, 2].min()), float(v[:, 3].max()))

    def _renderer(self, name, view, display):
        key = (name, view, display)
        if key not in self._renderers:
            if len(self._renderers) > 12:
                self._renderers.clear()
            options = ExportOptions(caption=False, legend=False, cost_plot=False, display=display, view=view,
                                    projection=self.projection)
            self._renderers[key] = FrameRenderer(self.runs[name], options)
        return self._renderers[key]

    def pane_image(self, name, index, width, height, display, view, floor=MARKER_FLOOR):
        """Pane ``name`` at half-step ``index``: its points coloured by that half-step's
        responsibilities, its centres (EM: ellipses), at width x height (None: no run)."""
        if name not in self.runs or width < 16 or height < 16:
            return None
        renderer = self._renderer(name, view, display)
        renderer.scale_floor = floor
        return renderer.image(index, width, height)

    def render(self, names, iteration, width, height, display, ratio=1.0):
        """{name: QImage} of every pane at ``iteration`` (width x height device pixels each)."""
        view = self.view(names)
        states = self.states(names)
        images = {s.name: self.pane_image(s.name, s.index_at(iteration), width, height, display, view,
                                          MARKER_FLOOR * ratio) for s in states}
        return images

    # -- exports -------------------------------------------------------------------------
    def frame_image(self, names, iteration, width, height, display):
        """One picture of every pane at ``iteration``: a title, then the panes as the window lays
        them out (each titled, its points, its cost plot)."""
        unit = max(height / 1080.0, 0.4)
        states, view = self.states(names), self.view(names)
        n_half_steps = max(s.index_at(last_iteration(states)) for s in states)
        image, painter = _white_page(width, height)
        try:
            head_h = 64 * unit
            pad = 16 * unit
            _text(painter, QRectF(pad, 0, width - 2 * pad, head_h),
                  f"Iteration {iteration} of {last_iteration(states)} — the same {self.n_points:,} points "
                  f"from the same {self.n_clusters} initial centres", 32 * unit, bold=True)
            title_h = 84 * unit
            area = QRectF(pad, head_h, width - 2 * pad, height - head_h - pad)
            aspect = (view[1] - view[0]) / (view[3] - view[2])
            cols, rows, beside = pane_grid(len(states), area.width(), area.height(), aspect, title_h)
            pw, ph = area.width() / cols, area.height() / rows
            for i, state in enumerate(states):
                r, c = divmod(i, cols)
                cell = QRectF(area.left() + c * pw, area.top() + r * ph, pw, ph).adjusted(
                    6 * unit, 6 * unit, -6 * unit, -6 * unit)
                title, points, cost = split_pane(cell, title_h, beside)
                _text(painter, QRectF(title.left(), title.top(), title.width(), title_h * 0.5),
                      state.heading(), 30 * unit, bold=True)
                _text(painter, QRectF(title.left(), title.top() + title_h * 0.5, title.width(), title_h * 0.5),
                      state.caption(iteration), 24 * unit)
                index = state.index_at(iteration)
                pane = self.pane_image(state.name, index, int(points.width()), int(points.height()), display,
                                       view, max(unit * 0.9, MARKER_FLOOR))
                if pane is not None:
                    painter.drawImage(points.topLeft(), pane)
                if state.history:
                    paint_cost_sketch(painter, cost.adjusted(0, 6 * unit, 0, 0), state, index, n_half_steps,
                                      18 * unit)
        finally:
            painter.end()
        return image

    def strip_image(self, names, iterations, width, height, display):
        """One picture: a row per algorithm, a column per iteration in ``iterations``, and each
        row's cost plot over the whole run (the columns marked) at its end."""
        unit = max(height / 1080.0, 0.4)
        states, view = self.states(names), self.view(names)
        n_half_steps = max(s.index_at(last_iteration(states)) for s in states)
        image, painter = _white_page(width, height)
        try:
            pad = 12 * unit
            head_h, label_w = 56 * unit, 210 * unit
            cost_w = (width - label_w - 2 * pad) / (len(iterations) + 1.4) * 1.4
            cell_w = (width - label_w - 2 * pad - cost_w) / len(iterations)
            row_h = (height - head_h - pad) / len(states)
            cell_title = 56 * unit  # two lines: the state, the objective
            for j, it in enumerate(iterations):
                _text(painter, QRectF(pad + label_w + j * cell_w, 0, cell_w, head_h), f"Iteration {it}",
                      28 * unit, bold=True, flags=Qt.AlignmentFlag.AlignHCenter)
            _text(painter, QRectF(width - pad - cost_w, 0, cost_w, head_h), "The whole run", 28 * unit,
                  bold=True, flags=Qt.AlignmentFlag.AlignHCenter)
            for r, state in enumerate(states):
                top = head_h + r * row_h
                painter.setPen(QPen(QColor(205, 205, 205), 1.0))
                painter.drawLine(QPointF(pad, top), QPointF(width - pad, top))
                painter.setPen(QColor(TEXT_HEX))
                label = QRectF(pad, top, label_w - 8 * unit, row_h)
                painter.setFont(_font(26 * unit, bold=True))
                painter.drawText(label.adjusted(0, 0, 0, -row_h / 2),
                                 Qt.AlignmentFlag.AlignBottom | Qt.TextFlag.TextWordWrap,
                                 state.description.display_name.replace("-", "\u2011"))  # never "k-" / "means"
                painter.setFont(_font(20 * unit))
                painter.drawText(label.adjusted(0, row_h / 2 + 6 * unit, 0, 0),
                                 Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap, state.settings)
                for j, it in enumerate(iterations):
                    cell = QRectF(pad + label_w + j * cell_w, top, cell_w, row_h).adjusted(
                        4 * unit, 4 * unit, -4 * unit, -4 * unit)
                    words, objective = state.caption_parts(it)
                    _text(painter, QRectF(cell.left(), cell.top(), cell.width(), cell_title / 2), words, 20 * unit)
                    _text(painter, QRectF(cell.left(), cell.top() + cell_title / 2, cell.width(), cell_title / 2),
                          objective, 20 * unit, bold=True)
                    pane = self.pane_image(state.name, state.index_at(it), int(cell.width()),
                                           int(cell.height() - cell_title), display, view,
                                           max(unit * 0.8, MARKER_FLOOR))
                    if pane is not None:
                        painter.drawImage(QPointF(cell.left(), cell.top() + cell_title), pane)
                if state.history:
                    last = state.index_at(iterations[-1])
                    marks = [state.index_at(it) for it in iterations]
                    paint_cost_sketch(painter, QRectF(width - pad - cost_w, top, cost_w, row_h).adjusted(
                        8 * unit, 10 * unit, 0, -6 * unit), state, last, n_half_steps, 17 * unit, marks)
        finally:
            painter.end()
        return image


# -- the worker's jobs (``EngineClient.call``) ------------------------------------------------
def start_job(scenario, names, budget_s=STEP_SLICE_S, projection=None):
    """A new Comparison, its runs stepped for one slice: (comparison, states, view)."""
    comparison = Comparison(scenario, names, projection)
    states = comparison.advance(names, budget_s)
    return comparison, states, comparison.view(names)


def advance_job(comparison, names, budget_s=STEP_SLICE_S):
    """The runs stepped for one more slice: (comparison, states, view)."""
    states = comparison.advance(names, budget_s)
    return comparison, states, comparison.view(names)


def render_job(comparison, names, iteration, width, height, display, ratio=1.0):
    return comparison.render(names, iteration, width, height, display, ratio)


def export_frame_job(comparison, names, iteration, path, width, height, display):
    write_qimage_png(comparison.frame_image(names, iteration, width, height, display), path)
    return path


def export_strip_job(comparison, names, iterations, path, width, height, display):
    write_qimage_png(comparison.strip_image(names, iterations, width, height, display), path)
    return path
