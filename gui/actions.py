"""Every action of the window (menus, toolbar, shortcuts), built in one place.

``build_actions`` makes the QActions and connects them to the window's parts;
``build_menus`` and ``build_toolbar`` lay them out.  The control panel and the
transport bar show the same actions, so a shortcut, a menu entry and a button
can never disagree.
"""

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QStyle, QToolBar

from .render import LINES_MAX_POINTS

TOOL_HINTS = {
    "points": "Point tool: click to add a point, drag to move it, right-click to remove it, "
              "Shift+drag to select and Delete. Drag a centre to restart from there. Ctrl+Z undoes.",
    "centres": "Centre tool: click to place an initial centre (K = centres placed), drag to move, "
               "right-click to remove.",
}
# key, menu text, status tip, DisplayOptions field
DISPLAY_ACTIONS = (
    ("show_field", "Voronoi / responsibility &field", "Light background: the nearest centre (k-means) "
     "or the responsibilities everywhere (soft k-means, EM)", "field"),
    ("show_lines", "&Lines to centres", "A line from each point to its most responsible centre "
     f"(up to {LINES_MAX_POINTS:,} points)", "lines"),
    ("show_trails", "Centre &trails", "The path of each centre over the iterations", "trails"),
    ("show_ellipses", "Gaussian &ellipses", "EM: 1σ and 2σ ellipses; line width shows π_k", "ellipses"),
    ("show_true_mixture", "True &mixture (drag to edit)", "The mixture points are sampled from, dashed, "
     "with handles to drag its means and axes", "true_mixture"),
)
# View → Colour by (exclusive): key, menu text, status tip, DisplayOptions.colour_by choice
COLOUR_BY_ACTIONS = (
    ("colour_fit", "Current &fit",
     "Each point blends its clusters' colours by r_k^(n) of the half-step shown", "fit"),
    ("colour_truth", "True component &z",
     ("Each point in the colour of the component it was sampled from (sampled points only): "
      "samples from p(x | z)"), "truth"),
    ("colour_marginal", "&Nothing (p(x))",
     "Every point grey: samples from the marginal p(x), as the algorithm sees them", "marginal"),
    ("colour_true_responsibilities", "&Responsibilities under the true mixture",
     "Each point blends the true components' colours by p(z | x) under the true mixture",
     "true_responsibilities"),
)
MENUS = (
    ("&File", ("new", "open", "recent", "save", "save_as", None, "import", "open_image", None, "export_frame", "export_run",
               "export_points", "export_labels", None, "quit")),
    ("&Edit", ("undo", "redo", None, "tool_points", "tool_centres", None, "delete_selection",
               "clear_points", "clear_centres")),
    ("&View", tuple(key for key, *_ in DISPLAY_ACTIONS) + ("colour_by", None, "show_controls", "presentation",
                                                          "fit", None, "compare")),
    ("&Run", ("play", None, "step_forward", "step_back", "iteration_forward", "iteration_back",
              None, "reset", "run_to_end", "stop", None, "restarts", "choose_k")),
    ("&Help", ("shortcuts", "about")),
)
TOOLBAR = ("open", "save", None, "tool_points", "tool_centres", None, "undo", "redo", None,
           "export_frame", "fit", None, "show_field", "show_ellipses", "presentation")
# What the toolbar shows: short and fixed, so no entry changes width (Undo's menu text
# becomes "Undo Add point") and the last ones stay out of the » overflow on a projector
TOOLBAR_TEXT = {"open": "Open", "save": "Save", "tool_points": "Points", "tool_centres": "Centres",
                "undo": "Undo", "redo": "Redo", "export_frame": "Export", "fit": "Fit",
                "show_field": "Field", "show_ellipses": "Ellipses", "presentation": "Present"}


def _action(window, actions, key, text, slot=None, shortcut=None, tip=None, icon=None,
            checkable=False, checked=False):
    a = QAction(text, window)
    if shortcut:
        a.setShortcut(QKeySequence(shortcut))
        a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    if icon is not None:
        a.setIcon(window.style().standardIcon(icon))
    tip = tip or text.replace("&", "")
    a.setToolTip(f"{tip} ({QKeySequence(shortcut).toString()})" if shortcut else tip)
    a.setStatusTip(tip)
    a.setCheckable(checkable)
    if checkable:
        a.setChecked(checked)
        if slot:
            a.toggled.connect(slot)
    elif slot:
        a.triggered.connect(slot)
    window.addAction(a)
    actions[key] = a
    return a


def build_actions(window):
    """{key: QAction} for ``window`` (a MainWindow whose session, player, files and canvas exist)."""
    s, player, files, SP = window.session, window.player, window.files, QStyle.StandardPixmap
    actions = {}

    def add(*args, **kwargs):
        return _action(window, actions, *args, **kwargs)

    add("reset", "Reset", s.reset, "Home", "Back to the initialisation", SP.SP_MediaSkipBackward)
    add("iteration_back", "Back one iteration", lambda: s.step_iteration(-1), "Shift+Left",
        icon=SP.SP_MediaSeekBackward)
    add("step_back", "Back one half-step", lambda: s.step(-1), "Left", icon=SP.SP_ArrowLeft)
    add("play", "Play", player.toggle, "Space", "Play / pause", SP.SP_MediaPlay)
    add("step_forward", "Forward one half-step", lambda: s.step(1), "Right", icon=SP.SP_ArrowRight)
    add("iteration_forward", "Forward one iteration", lambda: s.step_iteration(1), "Shift+Right",
        icon=SP.SP_MediaSeekForward)
    add("run_to_end", "Run to convergence", s.run_to_end, "End", icon=SP.SP_MediaSkipForward)
    add("stop", "Stop", lambda: (player.pause(), s.stop(), window.leave_presentation()), "Escape",
        "Stop playing or running to the end, at the half-step on screen (and leave presentation mode)")
    undo = s.undo_stack.createUndoAction(window, "&Undo")
    undo.setShortcut(QKeySequence.StandardKey.Undo)
    redo = s.undo_stack.createRedoAction(window, "&Redo")
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence.StandardKey.Redo])
    for key, a in (("undo", undo), ("redo", redo)):
        window.addAction(a)
        actions[key] = a
    tools = QActionGroup(window)
    for key, text, shortcut in (("points", "&Point tool", "P"), ("centres", "&Centre tool", "C")):
        hint = TOOL_HINTS[key]
        a = add(f"tool_{key}", text, None, shortcut, hint.split(":")[0] + ": " + hint.split(": ", 1)[1].split(".")[0],
                checkable=True, checked=key == "points")
        a.toggled.connect(lambda on, k=key: on and window.set_tool(k))
        tools.addAction(a)
    for key, text, tip, option in DISPLAY_ACTIONS:
        add(key, text, lambda on, o=option: s.set_display(o, on), tip=tip, checkable=True,
            checked=getattr(s.display, option))
    colour_by = QActionGroup(window)  # exclusive
    for key, text, tip, choice in COLOUR_BY_ACTIONS:
        a = add(key, text, None, tip=tip, checkable=True, checked=s.display.colour_by == choice)
        a.toggled.connect(lambda on, c=choice: on and s.set_display("colour_by", c))
        colour_by.addAction(a)
    truth = actions["colour_truth"]
    truth.setEnabled(s.truth is not None)  # only sampled points know their component
    s.sigPointsChanged.connect(lambda: truth.setEnabled(s.truth is not None))
    add("presentation", "&Presentation mode", window.set_presentation, "F5",
        "Full screen: the canvas and the cost plot only, large fonts and markers "
        "(F5 or Esc to leave)", checkable=True)
    add("fit", "&Fit view to data", window.canvas.fit_to_data, "F", "Zoom to show every point")
    add("new", "&New session", files.new, QKeySequence.StandardKey.New, "Start from an empty plane")
    add("open", "&Open session…", lambda: files.open(), QKeySequence.StandardKey.Open,
        "Open a saved session (.json)")
    add("save", "&Save session", files.save, QKeySequence.StandardKey.Save,
        "Save points, centres, mixture, settings, view and display options")
    add("save_as", "Save session &as…", lambda: files.save_as(), QKeySequence.StandardKey.SaveAs)
    add("import", "&Import points…", lambda: window.import_points(), "Ctrl+I",
        "Load points from a CSV (two numeric columns, optional header) or .npy file")
    add("open_image", "Open &image…", lambda: window.open_image(), "Ctrl+Shift+I",
        "Image mode: a photo's pixels as points (PNG, JPEG, WebP, TIFF)")
    add("export_points", "Export &points as CSV…", window.export_points, tip="Save the points as CSV")
    add("export_labels", "Export final &labels and responsibilities as CSV…", window.export_labels,
        tip="Run to convergence and save x, y, label, r_1..r_K")
    add("export_frame", "Export current &frame…", lambda: window.export_dialog(False), "Ctrl+E",
        "PNG or SVG of the current half-step, for a slide")
    add("export_run", "Export &run…", lambda: window.export_dialog(True), "Ctrl+Shift+E",
        "Every half-step or iteration as numbered frames, a GIF, an MP4 or a slide strip")
    add("clear_points", "Clear &points", s.clear_points, tip="Remove every point")
    add("delete_selection", "&Delete selected points", window.canvas.delete_selection,
        QKeySequence.StandardKey.Delete, "Remove the points selected with Shift+drag")
    add("clear_centres", "Clear &centres", s.clear_centres, tip="Remove every centre")
    add("quit", "&Quit", window.close, QKeySequence.StandardKey.Quit)
    add("shortcuts", "&Keyboard shortcuts", window.show_shortcuts)
    add("about", "&About ClusterLab", window.show_about)
    add("restarts", "R&estarts…", lambda: show_dialog(window, "restarts_dialog", "restarts_view", "RestartsDialog"),
        tip="Run the algorithm from many starts and compare the local optima they reach")
    add("choose_k", "How many &clusters?…",
        lambda: show_dialog(window, "choose_k_dialog", "choose_k_view", "ChooseKDialog"),
        tip="The best of R restarts for each K: the elbow, BIC and AIC")
    add("compare", "Compa&re k-means, soft k-means and EM…",
        lambda: show_dialog(window, "compare_view", "compare_view", "CompareView"),
        tip="The three algorithms side by side on the same points from the same centres, one iteration at a time")
    return actions


def show_dialog(window, attribute, module, name):
    """Show the window's non-modal dialog ``attribute``, made on first use from gui.``module``.``name``."""
    dialog = getattr(window, attribute, None)
    if dialog is None:
        import importlib
        cls = getattr(importlib.import_module(f"gui.{module}"), name)
        dialog = cls(window.session, window)
        setattr(window, attribute, dialog)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog


def sync_display_actions(actions, display):
    """Tick the View menu's entries as ``display`` says (after a session is loaded)."""
    for key, _, _, option in DISPLAY_ACTIONS:
        actions[key].setChecked(getattr(display, option))
    for key, _, _, choice in COLOUR_BY_ACTIONS:
        if display.colour_by == choice:
            actions[key].setChecked(True)


def build_menus(window, actions):
    """The menu bar from ``MENUS``; returns the Open recent submenu (filled when shown)."""
    recent_menu = None
    for title, keys in MENUS:
        menu = window.menuBar().addMenu(title)
        for key in keys:
            if key is None:
                menu.addSeparator()
            elif key == "recent":
                recent_menu = menu.addMenu("Open &recent")
            elif key == "colour_by":
                submenu = menu.addMenu("&Colour by")
                for colour_key, *_ in COLOUR_BY_ACTIONS:
                    submenu.addAction(actions[colour_key])
            else:
                menu.addAction(actions[key])
    return recent_menu


def build_toolbar(window, actions):
    tb = QToolBar("Main")
    tb.setObjectName("mainToolbar")
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    for key in TOOLBAR:
        if key is None:
            tb.addSeparator()
            continue
        # the toolbar shows the icon text: fixed, whatever the menu text becomes
        actions[key].setIconText(TOOLBAR_TEXT[key])
        tb.addAction(actions[key])
    window.addToolBar(tb)
    for key in TOOLBAR:
        if key is not None:  # a button keeps its first width, whatever happens to its text
            button = tb.widgetForAction(actions[key])
            button.setFixedWidth(button.sizeHint().width())
    return tb
