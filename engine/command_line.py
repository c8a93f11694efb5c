"""The command line's data, algorithm and initialisation flags, and the Scenario they describe.

Shared by ``main.py`` (run, export, the window) and the window's start-up, so
the flags mean the same thing everywhere.  Defaults and limits come from
``settings``: a bad value is refused by argparse with exit code 2 and one line.
"""

import argparse
from pathlib import Path

import numpy as np

from .agreement import MAX_TRUE_COMPONENTS
from .formats import load_matrix, load_mixture, load_points
from .registry import ALGORITHM_NAMES
from .presets import PRESET_NAMES, PRESETS, old_faithful
from .scenario import Scenario
from .settings import (COVARIANCE_TYPES, DEFAULT_INIT, DEFAULT_N_CLUSTERS, DEFAULT_SAMPLE_N,
                       DEFAULT_SEED, INIT, N_CLUSTERS, SAMPLE_N, SEED, AlgorithmSettings)


def limited(limit):
    """An argparse ``type`` that checks a value against ``limit`` (one clear line when it fails)."""
    def parse(text):
        try:
            return limit.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc).replace("value must", "must")) from None
    return parse


def add_scenario_arguments(p):
    """The data / algorithm / initialisation flags shared by the window, run and export."""
    defaults = AlgorithmSettings()

    def setting(name):
        return limited(AlgorithmSettings.limit(name))

    data = p.add_argument_group("data")
    data.add_argument("--data", metavar="FILE", help=".csv (two or more numeric columns, optional header) or .npy")
    data.add_argument("--sample", metavar="SPEC",
                      help=f"sample from a mixture: a preset name ({', '.join(PRESET_NAMES)}) "
                           "or a JSON file with weights, means, covariances")
    data.add_argument("--n", type=limited(SAMPLE_N), default=DEFAULT_SAMPLE_N,
                      help=f"points to sample (default {DEFAULT_SAMPLE_N}, {SAMPLE_N.describe()})")
    data.add_argument("--seed", type=limited(SEED), default=DEFAULT_SEED,
                      help=f"seed for sampling and initialisation (default {DEFAULT_SEED})")
    alg = p.add_argument_group("algorithm")
    alg.add_argument("--algorithm", choices=ALGORITHM_NAMES, default=ALGORITHM_NAMES[0])
    alg.add_argument("--k", type=limited(N_CLUSTERS),
                     help=f"number of clusters K (default {DEFAULT_N_CLUSTERS}, or the number of --centres)")
    alg.add_argument("--beta", type=setting("beta"), default=defaults.beta,
                     help=f"soft k-means stiffness beta (default {defaults.beta:g})")
    alg.add_argument("--covariance", choices=COVARIANCE_TYPES, default=defaults.covariance_type,
                     help="EM covariance type")
    alg.add_argument("--reg-covar", type=setting("reg_covar"), default=defaults.reg_covar,
                     help="EM: added to covariance diagonals")
    alg.add_argument("--fixed-weights", action="store_true", help="EM: keep pi_k = 1/K")
    alg.add_argument("--max-iter", type=setting("max_iter"), default=defaults.max_iter,
                     help=f"iteration limit (default {defaults.max_iter})")
    alg.add_argument("--tol", type=setting("tol"), default=defaults.tol,
                     help="relative change of the objective")
    init = p.add_argument_group("initialisation")
    init.add_argument("--init", choices=INIT.choices, default=DEFAULT_INIT)
    init.add_argument("--centres", metavar="FILE.csv", help="manual initial centres (overrides --init)")
    init.add_argument("--weights", metavar="FILE.csv", help="EM: initial weights pi_k")
    init.add_argument("--covariances", metavar="FILE.npy", help="EM: initial covariances (K, D, D)")


def settings_from_args(args):
    return AlgorithmSettings(beta=args.beta, covariance_type=args.covariance, reg_covar=args.reg_covar,
                             learn_weights=not args.fixed_weights, max_iter=args.max_iter, tol=args.tol)


def mixture_from_args(args):
    """The mixture ``--sample`` names (a preset or a JSON file), or None for data without one."""
    if not args.sample or args.sample == "old-faithful":
        return None
    if args.sample in PRESETS:
        return PRESETS[args.sample][1]
    if not Path(args.sample).exists():
        raise ValueError(f"--sample {args.sample}: not a preset ({', '.join(PRESET_NAMES)}) and not a file")
    return load_mixture(args.sample)


def input_paths(args):
    """Every file the flags read (an output must never be one of them)."""
    paths = [args.data, args.centres, args.weights, args.covariances]
    if args.sample and args.sample not in PRESET_NAMES:
        paths.append(args.sample)
    return [p for p in paths if p]


def scenario_from_args(args, with_truth=False):
    """Build an engine Scenario from parsed flags; ValueError on bad data.

    With ``with_truth``: (scenario, z), z the true component of each point when the
    points were sampled from a mixture (``--sample``), None otherwise.
    """
    if args.data and args.sample:
        raise ValueError("give either --data or --sample, not both")
    truth = None
    if args.data:
        points = load_points(args.data)
    elif args.sample == "old-faithful":
        points = old_faithful()
    elif args.sample:
        mixture = mixture_from_args(args)
        points, truth = mixture.sample(args.n, seed=args.seed)
        if mixture.n_components > MAX_TRUE_COMPONENTS:
            truth = None  # more components than z may name: no agreement to show
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
    scenario = Scenario(points=np.asarray(points), algorithm=args.algorithm,
                        settings=settings_from_args(args), centres=centres, weights=weights,
                        covariances=covariances, n_clusters=DEFAULT_N_CLUSTERS if k is None else k,
                        init=args.init, seed=args.seed)
    return (scenario, truth) if with_truth else scenario
