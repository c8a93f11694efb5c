"""ClusterLab: k-means, soft k-means and EM, one half-step at a time.

    python main.py [SESSION.json] [--data FILE] [--algorithm ...] [--play]   open the window
    python main.py run ...       run headless, write a JSON trace
    python main.py export ...    render frames / GIF / strip headless
    python main.py restarts ...  many runs from new starts, their distinct local optima
    python main.py choose-k ...  the best of R restarts for each K (BIC, AIC for EM)
    python main.py quantise IMAGE --k 2,3,10 --out q.png   an image's pixels clustered (vector quantisation)
    python main.py bench         measure speed
"""

import argparse
import json
import sys

from engine.command_line import add_scenario_arguments, input_paths, limited, scenario_from_args
from engine.settings import DEFAULT_FPS, DEFAULT_GIF_LOOP, DEFAULT_PANELS, FPS, GIF_LOOP, PANELS, STRIP_COLS


COMMANDS = ("run", "export", "bench", "restarts", "choose-k", "quantise")


class _Parser(argparse.ArgumentParser):
    """Bad arguments: exit code 2 and one clear line on stderr."""

    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def build_parser():
    parser = _Parser(prog="main.py", description="ClusterLab: k-means, soft k-means and EM, "
                     "one half-step at a time. With no command, opens the window.")
    sub = parser.add_subparsers(dest="command", metavar="{run,export,restarts,choose-k,quantise,bench}",
                                parser_class=_Parser)
    run = sub.add_parser("run", help="run an algorithm headless and write a JSON trace")
    add_scenario_arguments(run)
    run.add_argument("--out", metavar="TRACE.json", help="trace file (default: standard output)")
    export = sub.add_parser("export", help="render the frames of a run headless "
                            "(PNG/SVG/GIF/MP4/strip/slide deck)")
    export.add_argument("session", nargs="?", metavar="SESSION.json",
                        help="a saved session (instead of the data and algorithm flags)")
    add_scenario_arguments(export)
    out = export.add_argument_group("output")
    out.add_argument("--frames", metavar="DIR", help="one numbered file per frame in DIR")
    out.add_argument("--format", choices=("png", "svg"), default="png", help="frame format (default png)")
    out.add_argument("--size", default="1920x1080", help="frame size WxH in pixels (default 1920x1080)")
    out.add_argument("--frame-every", choices=("half", "iteration"), default="half",
                     help="every half-step (default) or the initialisation and each iteration's end")
    out.add_argument("--gif", metavar="FILE", help="an animated GIF of the frames")
    out.add_argument("--fps", type=limited(FPS), default=DEFAULT_FPS,
                     help=f"GIF / MP4 frames per second (default {DEFAULT_FPS:g}, {FPS.describe()})")
    out.add_argument("--loop", type=limited(GIF_LOOP), default=DEFAULT_GIF_LOOP,
                     help=f"GIF repeats, 0 = forever (default), {GIF_LOOP.describe()}")
    out.add_argument("--mp4", metavar="FILE", help="an MP4 video (needs the optional video dependency)")
    out.add_argument("--strip", metavar="FILE", help="one image (--size, 16:9 by default) with a grid of "
                     "panels of the key half-steps, one legend")
    out.add_argument("--cols", type=limited(STRIP_COLS), default=None,
                     help=f"strip columns (default: what gives the panels most room; {STRIP_COLS.describe()})")
    out.add_argument("--deck", metavar="FILE", help="a slide deck, .pptx (a picture and an editable title "
                     "per slide) or .pdf (vector, real text): one 16:9 slide per key half-step")
    out.add_argument("--panels", type=limited(PANELS), default=DEFAULT_PANELS,
                     help=f"key half-steps in a strip or deck (default {DEFAULT_PANELS}, {PANELS.describe()}): "
                     "initialisation, first assignment and refit, the biggest changes of the objective, the end")
    out.add_argument("--transparent", action="store_true", help="transparent background")
    out.add_argument("--no-caption", action="store_true", help="leave out the step name and objective")
    out.add_argument("--no-legend", action="store_true", help="leave out the cluster legend")
    out.add_argument("--cost-plot", action="store_true", help="add the objective plot under the canvas")
    out.add_argument("--lines", action="store_true", help="draw lines from points to their centre")
    out.add_argument("--regions", action="store_true", help="the field: nearest-centre regions (k-means) "
                     "or the responsibility colours (soft k-means, EM) under the points")
    out.add_argument("--axes", action="store_true", help="light tick labels along the canvas' edges")
    out.add_argument("--true-mixture", action="store_true",
                     help="draw the mixture the points were sampled from (dotted 1σ and 2σ ellipses)")
    out.add_argument("--saved-view", action="store_true", help="a session's view as on screen "
                     "(default: fit the data and the centres tightly)")
    from engine.restarts import DEFAULT_K_RANGE, DEFAULT_N_RESTARTS, HELD_OUT, N_RESTARTS
    restarts = sub.add_parser("restarts", help="run from R new starts (seeds S..S+R-1, or jittered "
                              "--centres) and write the distinct local optima as JSON")
    add_scenario_arguments(restarts)
    restarts.add_argument("--restarts", type=limited(N_RESTARTS), default=DEFAULT_N_RESTARTS,
                          help=f"how many starts (default {DEFAULT_N_RESTARTS}, {N_RESTARTS.describe()})")
    restarts.add_argument("--out", metavar="RESTARTS.json", required=True, help="the JSON file to write")
    choose = sub.add_parser("choose-k", help="the best of R restarts for each K in a range "
                            "(BIC and AIC for EM) as JSON")
    add_scenario_arguments(choose)
    choose.add_argument("--k-range", metavar="A:B", default=f"{DEFAULT_K_RANGE[0]}:{DEFAULT_K_RANGE[1]}",
                        help=f"K from A to B inclusive (default {DEFAULT_K_RANGE[0]}:{DEFAULT_K_RANGE[1]})")
    choose.add_argument("--restarts", type=limited(N_RESTARTS), default=DEFAULT_N_RESTARTS,
                        help=f"starts per K (default {DEFAULT_N_RESTARTS}, {N_RESTARTS.describe()})")
    choose.add_argument("--held-out", type=limited(HELD_OUT), default=None, metavar="F",
                        help=f"EM: hold out this fraction of the points ({HELD_OUT.describe()}), "
                        "fit on the rest, report the held-out log-likelihood")
    choose.add_argument("--out", metavar="CHOOSE_K.json", required=True, help="the JSON file to write")
    _add_quantise_parser(sub)
    bench = sub.add_parser("bench", help="measure engine and drawing speed")
    bench.add_argument("--n", type=int, default=1_000_000, help="points (default 1,000,000)")
    bench.add_argument("--k", type=int, default=10, help="clusters (default 10)")
    bench.add_argument("--repeats", type=int, default=5)
    bench.add_argument("--no-sklearn", action="store_true", help="skip the scikit-learn comparison")
    bench.add_argument("--only", choices=("engine", "gui"), help="run one half of the benchmark")
    window = sub.add_parser("window", help="open the window (the default)")
    window.add_argument("session", nargs="?", help="a saved session (.json) to open")
    add_scenario_arguments(window)
    window.add_argument("--play", action="store_true", help="start animating at once")
    window.add_argument("--image", metavar="IMAGE", help="open an image in image mode: its pixels as "
                        "points (PNG, JPEG, WebP, TIFF)")
    _add_max_pixels(window, "with --image: ")
    return parser


def _add_max_pixels(parser, when=""):
    from engine.image import DEFAULT_MAX_PIXELS, MAX_PIXELS
    parser.add_argument("--max-pixels", type=limited(MAX_PIXELS), default=None, metavar="P",
                        help=f"{when}refuse larger images, read from the header before decoding "
                        f"(default {DEFAULT_MAX_PIXELS:,}; {MAX_PIXELS.describe()})")


def _add_quantise_parser(sub):
    """``quantise``: the image's pixels as points; its algorithm flags mean what run's mean."""
    from engine.image import (
        DEFAULT_SPATIAL_WEIGHT,
        SPACES,
        SPATIAL_WEIGHT,
    )
    from engine.registry import ALGORITHM_NAMES
    from engine.settings import (
        COVARIANCE_TYPES,
        DEFAULT_INIT,
        DEFAULT_SEED,
        INIT,
        SEED,
        AlgorithmSettings,
    )
    defaults = AlgorithmSettings()

    def setting(name):
        return limited(AlgorithmSettings.limit(name))

    q = sub.add_parser("quantise", help="vector quantisation of an image: its pixels clustered in colour "
                       "space, each replaced by its centre (--segment: colour and position)")
    q.add_argument("image", metavar="IMAGE", help="a PNG, JPEG, WebP or TIFF file")
    q.add_argument("--k", default="2,3,10", metavar="K[,K2,...]",
                   help="clusters; several give one output each, OUT-k2.png, OUT-k3.png, ... (default 2,3,10)")
    q.add_argument("--space", choices=SPACES, default="rgb",
                   help="features: RGB in [0, 1] (default, the lecture's) or CIELAB (D65)")
    q.add_argument("--algorithm", choices=ALGORITHM_NAMES, default=ALGORITHM_NAMES[0])
    q.add_argument("--init", choices=INIT.choices, default=DEFAULT_INIT)
    q.add_argument("--seed", type=limited(SEED), default=DEFAULT_SEED,
                   help=f"seed for the initialisation (default {DEFAULT_SEED})")
    q.add_argument("--beta", type=setting("beta"), default=defaults.beta,
                   help=f"soft k-means stiffness beta, in 1 / squared feature units (default {defaults.beta:g}; "
                   "RGB distances are at most 3, so try 100 or more)")
    q.add_argument("--covariance", choices=COVARIANCE_TYPES, default=defaults.covariance_type,
                   help="EM covariance type")
    q.add_argument("--reg-covar", type=setting("reg_covar"), default=defaults.reg_covar,
                   help="EM: added to covariance diagonals")
    q.add_argument("--fixed-weights", action="store_true", help="EM: keep pi_k = 1/K")
    q.add_argument("--max-iter", type=setting("max_iter"), default=defaults.max_iter,
                   help=f"iteration limit (default {defaults.max_iter})")
    q.add_argument("--tol", type=setting("tol"), default=defaults.tol, help="relative change of the objective")
    q.add_argument("--segment", action="store_true",
                   help="segmentation: cluster (colour, λ·x, λ·y), x and y the column and row over the "
                   "longer side, times 100 in CIELAB")
    q.add_argument("--spatial-weight", type=limited(SPATIAL_WEIGHT), default=None, metavar="λ",
                   help=f"with --segment: the weight λ of position against colour "
                   f"(default {DEFAULT_SPATIAL_WEIGHT:g}, {SPATIAL_WEIGHT.describe()})")
    _add_max_pixels(q)
    q.add_argument("--out", metavar="OUT.png", required=True, help="the quantised image (PNG, full size)")
    q.add_argument("--trace", metavar="T.json", help="the run's trace (several K: T-k2.json, ...)")
    q.add_argument("--strip", metavar="S.png", help="one image: a panel per K, then the original "
                   "(the lecture's figure for K = 2, 3, 10)")


def cmd_run(args):
    from engine.files import check_output_path
    from engine.formats import write_json
    from engine.trace import trace
    check_output_path(args.out, input_paths(args))
    scenario, truth = scenario_from_args(args, with_truth=True)
    run = scenario.start().run()
    result = trace(run, {"init": "manual" if scenario.centres is not None else scenario.init,
                         "seed": scenario.seed}, truth=truth)
    if args.out:
        write_json(args.out, result)
    else:
        json.dump(result, sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
    return 0


def cmd_restarts(args):
    from engine.files import check_output_path
    from engine.formats import write_json
    from engine.restarts import run_restarts
    check_output_path(args.out, input_paths(args))
    scenario = scenario_from_args(args)
    result = run_restarts(scenario, args.restarts, args.seed).to_dict()
    result["settings"]["restarts"] = args.restarts
    write_json(args.out, result)
    return 0


def _k_range(text):
    parts = text.split(":")
    try:
        low, high = (int(p) for p in parts)
    except ValueError:
        raise ValueError(f"--k-range must be A:B with integers A <= B, got {text!r}") from None
    return low, high


def cmd_choose_k(args):
    from engine.files import check_output_path
    from engine.formats import write_json
    from engine.restarts import choose_k, choose_k_document
    check_output_path(args.out, input_paths(args))
    k_range = _k_range(args.k_range)
    if args.k is not None:
        raise ValueError("choose-k takes --k-range A:B, not --k")
    if args.centres or args.weights or args.covariances:
        raise ValueError("choose-k draws the initial parameters with --init: "
                         "leave out --centres, --weights and --covariances")
    scenario = scenario_from_args(args)
    results = choose_k(scenario, k_range, args.restarts, args.seed, held_out=args.held_out)
    write_json(args.out, choose_k_document(scenario, results, args.restarts, args.seed, args.held_out))
    return 0


def cmd_bench(args):
    if args.only != "gui":
        from engine.benchmark import run_benchmark
        run_benchmark(n=args.n, k=args.k, repeats=args.repeats, sklearn=not args.no_sklearn)
    if args.only is None:
        # the drawing half in a process of its own: the window's OpenMP threads sleep when idle
        # (gui/__init__.py), a setting read once, and the engine half has loaded OpenMP already
        import subprocess
        sys.stdout.flush()
        return subprocess.run([sys.executable, __file__, "bench", "--only", "gui"], check=False).returncode
    if args.only == "gui":
        from gui.benchmark import run_gui_benchmark
        run_gui_benchmark()
    return 0


def cmd_quantise(args):
    import time

    from engine.captions import format_value, stop_text
    from engine.command_line import settings_from_args
    from engine.image import (
        DEFAULT_MAX_PIXELS,
        DEFAULT_SPATIAL_WEIGHT,
        PixelSpace,
        check_outputs,
        image_settings,
        load_image,
        output_paths,
        parse_k_list,
        pixel_dataset,
        quantise,
        save_png,
        write_trace,
    )
    from engine.settings import N_CLUSTERS
    from engine.trace import trace
    t0 = time.perf_counter()
    ks = parse_k_list(args.k, N_CLUSTERS)
    if args.spatial_weight is not None and not args.segment:
        raise ValueError("--spatial-weight needs --segment")
    weight = DEFAULT_SPATIAL_WEIGHT if args.spatial_weight is None else args.spatial_weight
    space = PixelSpace(args.space, weight if args.segment else None)
    for flag, path in (("--out", args.out), ("--strip", args.strip)):
        if path is not None and not str(path).lower().endswith(".png"):
            raise ValueError(f"{flag} writes a PNG: give a file name ending in .png, got {path!r}")
    outs, traces = output_paths(args.out, ks), output_paths(args.trace, ks)
    check_outputs(outs + traces + [args.strip], [args.image])
    settings = settings_from_args(args)
    # every bad input fails here, before anything is written
    rgb = load_image(args.image, args.max_pixels or DEFAULT_MAX_PIXELS)
    data = pixel_dataset(rgb, space)
    images, documents, lines = [], [], []
    for k in ks:
        run, _, image = quantise(data, space, rgb.shape, k, args.algorithm, settings, args.init, args.seed)
        images.append(image)
        if args.trace:
            documents.append(trace(run, {"init": args.init, "seed": args.seed,
                                         **image_settings(space, rgb.shape, args.image)}))
        lines.append(f"K = {k}: {run.description.primary.symbol} = "
                     f"{format_value(run.algorithm.objective(run.current), 6).replace(chr(0x2212), '-')} "
                     f"({'converged' if run.converged else stop_text(run.stop_reason)}, {run.n_iter} iterations)")
    strip = None
    if args.strip:
        import os
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no display needed
        from PySide6.QtGui import QGuiApplication

        from gui.image_export import strip_image
        app = QGuiApplication.instance() or QGuiApplication(["clusterlab-quantise"])  # noqa: F841
        strip = strip_image(rgb, [(f"K = {k}", image) for k, image in zip(ks, images)])
    for path, image in zip(outs, images):
        save_png(path, image)
    for path, document in zip(traces, documents):
        write_trace(path, document)
    if strip is not None:
        from gui.export import write_qimage_png
        write_qimage_png(strip, args.strip, photo=True)
    height, width = rgb.shape[:2]
    written = outs + [p for p in traces if p] + ([args.strip] if args.strip else [])
    features = space.describe().replace("λ", "lambda").replace("·", "*")  # stdout may not be UTF-8
    print(f"{args.image}: {width} x {height} = {width * height:,} pixels as points in "
          f"{features}, {run.description.display_name}; " + "; ".join(lines)
          + f"; wrote {', '.join(written)} in {time.perf_counter() - t0:.2f} s")
    return 0


def cmd_window(args):
    from gui.app import main as gui_main
    return gui_main(args)


def cmd_export(args):
    import os
    import time
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no display needed
    from PySide6.QtGui import QGuiApplication

    from engine.agreement import n_true_components
    from engine.command_line import mixture_from_args
    from engine.files import check_output_path
    from engine.session_file import load_session
    from engine.settings import DisplayOptions
    from gui.deck import check_deck_path, export_deck
    from gui.export import (ExportOptions, FrameRenderer, export_frames, export_gif, export_mp4, export_strip,
                            frame_indices, key_half_steps, parse_size)
    if not (args.frames or args.gif or args.mp4 or args.strip or args.deck):
        raise ValueError("nothing to export: give --frames DIR, --gif FILE, --mp4 FILE, --strip FILE "
                         "or --deck FILE")
    width, height = parse_size(args.size)
    if args.deck:
        check_deck_path(args.deck)
    view, display, mixture = None, DisplayOptions(), None
    inputs = [args.session] if args.session else input_paths(args)
    for output in (args.gif, args.mp4, args.strip, args.deck):
        check_output_path(output, inputs)
    if args.session:
        if args.data or args.sample:
            raise ValueError("give a session or --data/--sample, not both")
        data = load_session(args.session)
        scenario, display, mixture = data.scenario(), data.display, data.mixture
        projection = data.projection
        colouring = (data.display.colour_by, data.truth, data.mixture,
                     n_true_components(data.truth, data.mixture))
        view = data.view if args.saved_view else None
        if not len(scenario.points):
            raise ValueError(f"{args.session}: the session has no points")
    else:
        if args.saved_view:
            raise ValueError("--saved-view needs a session file")
        scenario = scenario_from_args(args)
        mixture = mixture_from_args(args)
        projection = None  # the first two columns
        colouring = None  # by the fit
    if args.true_mixture and mixture is None:
        raise ValueError("--true-mixture needs points sampled from a mixture (--sample or a session with one)")
    app = QGuiApplication.instance() or QGuiApplication(["clusterlab-export"])  # noqa: F841
    run = scenario.start().run()
    display = display.replace(lines=args.lines or display.lines, field=args.regions or display.field,
                              true_mixture=args.true_mixture or display.true_mixture, marker_scale=1.0)
    options = ExportOptions(width=width, height=height, transparent=args.transparent,
                            caption=not args.no_caption, legend=not args.no_legend,
                            cost_plot=args.cost_plot, view=view, axes=args.axes, mixture=mixture,
                            display=display, projection=projection, colouring=colouring)
    renderer = FrameRenderer(run, options)
    indices = frame_indices(run, args.frame_every)
    keys = key_half_steps(run, args.panels)
    t0 = time.perf_counter()
    done = []
    if args.frames:
        done.append(f"{len(export_frames(renderer, args.frames, indices, args.format))} frames in {args.frames}")
    if args.gif:
        done.append(str(export_gif(renderer, args.gif, indices, args.fps, args.loop)))
    if args.mp4:
        done.append(str(export_mp4(renderer, args.mp4, indices, args.fps)))
    if args.strip:
        path, (rows, cols) = export_strip(renderer, args.strip, keys, args.cols)
        done.append(f"{path} ({rows}x{cols} panels)")
    if args.deck:
        done.append(f"{export_deck(renderer, args.deck, keys)} ({len(keys)} slides)")
    print(f"exported {len(run.history)} half-steps ({'converged' if run.converged else 'not converged'}, "
          f"{run.n_iter} iterations) in {time.perf_counter() - t0:.2f} s: " + "; ".join(done))
    return 0


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS + ("window", "-h", "--help"):
        argv = ["window"] + argv
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a bad argument (2), already reported
        return exc.code
    handler = {"run": cmd_run, "export": cmd_export, "bench": cmd_bench, "window": cmd_window,
               "restarts": cmd_restarts, "choose-k": cmd_choose_k, "quantise": cmd_quantise}[args.command]
    try:
        return handler(args)
    except ValueError as exc:
        sys.stderr.write(f"main.py {args.command}: error: {exc}\n")
        return 2
    except OSError as exc:
        sys.stderr.write(f"main.py {args.command}: error: {exc.filename or ''}: {exc.strerror}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
