"""ClusterLab: k-means, soft k-means and EM, one half-step at a time.

    python main.py [SESSION.json] [--data FILE] [--algorithm ...] [--play]   open the window
    python main.py run ...       run headless, write a JSON trace
    python main.py export ...    render frames / GIF / strip headless
    python main.py bench         measure speed
"""

import argparse
import json
import sys

COMMANDS = ("run", "export", "bench")


class _Parser(argparse.ArgumentParser):
    """Bad arguments: exit code 2 and one clear line on stderr."""

    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def add_scenario_arguments(p):
    """The data / algorithm / initialisation flags shared by the window, run and export."""
    from engine.gmm import COVARIANCE_TYPES
    from engine.initialisation import INIT_METHODS
    from engine.scenario import ALGORITHM_NAMES
    data = p.add_argument_group("data")
    data.add_argument("--data", metavar="FILE", help=".csv (two or more numeric columns, optional header) or .npy")
    data.add_argument("--sample", metavar="SPEC",
                      help="sample from a mixture: a preset name (blobs, unequal, anisotropic, "
                           "local-optimum) or a JSON file with weights, means, covariances")
    data.add_argument("--n", type=int, default=500, help="points to sample (default 500)")
    data.add_argument("--seed", type=int, default=0, help="seed for sampling and initialisation (default 0)")
    alg = p.add_argument_group("algorithm")
    alg.add_argument("--algorithm", choices=ALGORITHM_NAMES, default="kmeans")
    alg.add_argument("--k", type=int, help="number of clusters K (default 3, or the number of --centres)")
    alg.add_argument("--beta", type=float, default=1.0, help="soft k-means stiffness beta (default 1)")
    alg.add_argument("--covariance", choices=COVARIANCE_TYPES, default="full", help="EM covariance type")
    alg.add_argument("--reg-covar", type=float, default=1e-6, help="EM: added to covariance diagonals")
    alg.add_argument("--fixed-weights", action="store_true", help="EM: keep pi_k = 1/K")
    alg.add_argument("--max-iter", type=int, default=300)
    alg.add_argument("--tol", type=float, default=1e-6, help="relative change of the objective")
    init = p.add_argument_group("initialisation")
    init.add_argument("--init", choices=INIT_METHODS, default="kmeans++")
    init.add_argument("--centres", metavar="FILE.csv", help="manual initial centres (overrides --init)")
    init.add_argument("--weights", metavar="FILE.csv", help="EM: initial weights pi_k")
    init.add_argument("--covariances", metavar="FILE.npy", help="EM: initial covariances (K, D, D)")


def scenario_from_args(args):
    """Build an engine Scenario from parsed flags; ValueError on bad data."""
    import numpy as np

    from engine.formats import load_matrix, load_points
    from engine.sampling import PRESETS, Mixture, old_faithful
    from engine.scenario import Scenario
    if args.data and args.sample:
        raise ValueError("give either --data or --sample, not both")
    if args.data:
        points = load_points(args.data)
    elif args.sample == "old-faithful":
        points = old_faithful()
    elif args.sample:
        if args.sample in PRESETS:
            mixture = PRESETS[args.sample][1]
        else:
            try:
                with open(args.sample, encoding="utf-8") as fh:
                    mixture = Mixture.from_dict(json.load(fh))
            except OSError as exc:
                raise ValueError(f"--sample {args.sample}: not a preset and not a readable file ({exc.strerror})") from None
            except json.JSONDecodeError as exc:
                raise ValueError(f"{args.sample}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
        points, _ = mixture.sample(args.n, seed=args.seed)
    else:
        raise ValueError("no data: give --data FILE or --sample SPEC")
    centres = load_matrix(args.centres, "centres") if args.centres else None
    k = args.k
    if centres is not None:
        if k is not None and k != len(centres):
            raise ValueError(f"--k {k} but {args.centres} holds {len(centres)} centres")
        k = len(centres)
    weights = load_matrix(args.weights, "weights").ravel() if args.weights else None
    covariances = load_matrix(args.covariances, "covariances") if args.covariances else None
    settings = {"max_iter": args.max_iter, "tol": args.tol}
    if args.algorithm == "soft-kmeans":
        settings["beta"] = args.beta
    if args.algorithm == "em":
        settings.update(covariance_type=args.covariance, reg_covar=args.reg_covar,
                        learn_weights=not args.fixed_weights)
    return Scenario(points=np.asarray(points), algorithm=args.algorithm, settings=settings,
                    centres=centres, weights=weights, covariances=covariances,
                    n_clusters=3 if k is None else k, init=args.init, seed=args.seed)


def build_parser():
    parser = _Parser(prog="main.py", description="ClusterLab: k-means, soft k-means and EM, "
                     "one half-step at a time. With no command, opens the window.")
    sub = parser.add_subparsers(dest="command", metavar="{run,export,bench}",
                                parser_class=_Parser)
    run = sub.add_parser("run", help="run an algorithm headless and write a JSON trace")
    add_scenario_arguments(run)
    run.add_argument("--out", metavar="TRACE.json", help="trace file (default: standard output)")
    export = sub.add_parser("export", help="render the frames of a run headless (PNG/SVG/GIF/strip)")
    add_scenario_arguments(export)
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
    return parser


def cmd_run(args):
    from engine.formats import trace, write_json
    scenario = scenario_from_args(args)
    run = scenario.start().run()
    result = trace(run, {"init": "manual" if scenario.centres is not None else scenario.init,
                         "seed": scenario.seed})
    if args.out:
        write_json(args.out, result)
    else:
        json.dump(result, sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
    return 0


def cmd_bench(args):
    if args.only != "gui":
        from engine.benchmark import run_benchmark
        run_benchmark(n=args.n, k=args.k, repeats=args.repeats, sklearn=not args.no_sklearn)
    if args.only != "engine":
        from gui.benchmark import run_gui_benchmark
        run_gui_benchmark()
    return 0


def cmd_window(args):
    from gui.app import main as gui_main
    return gui_main(args)


def cmd_export(args):
    raise ValueError("export is not available yet")


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS + ("window", "-h", "--help"):
        argv = ["window"] + argv
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a bad argument (2), already reported
        return exc.code
    handler = {"run": cmd_run, "export": cmd_export, "bench": cmd_bench, "window": cmd_window}[args.command]
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
