"""What the small-cohort probes of issue 19 share: their command-line arguments and their loop over demo seeds.

A probe compares configurations of SurvConvMixer on the demo's 300-patient problems at 3 and 5 years (2 x 3-fold
CV through the validation engine, every configuration on the same folds; IV chooses, EV is only printed) and
writes every fold to a CSV that the training notebook (04a) tabulates."""
from __future__ import annotations
import argparse, sys, time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
PROBLEM_NAMES = {1.0: 'short', 3.0: 'mid', 5.0: 'long'}   # the presets' problem names by horizon


def seed_list(text: str) -> list[int]:
    "'0,1,2' -> [0, 1, 2] (an argparse type: a wrong list is one line of usage, not a traceback)."
    try: return [int(s) for s in text.split(',')]
    except ValueError: raise argparse.ArgumentTypeError(f"seeds must be whole numbers separated by commas, not {text!r}") from None


def writes_default_out(parser: argparse.ArgumentParser, args: argparse.Namespace) -> bool:
    "Whether `args.out` names the parser's default table (a notebook's evidence), however the path is spelt."
    return Path(args.out).resolve() == Path(parser.get_default('out')).resolve()


def probe_arguments(description: str, out_name: str) -> argparse.ArgumentParser:
    "The arguments every probe takes; `out_name`: its CSV in nbs/evidence."
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument('--n-train', type=int, default=300)
    ap.add_argument('--seeds', default='0,1', type=seed_list, help='demo seeds, comma-separated')
    ap.add_argument('--repeats', type=int, default=2)
    ap.add_argument('--folds', type=int, default=3)
    ap.add_argument('--horizons', default='3,5', help='years, comma-separated (the 300-patient problems: 3 and 5)')
    ap.add_argument('--steps-scale', type=float, default=1.0, help='multiply every step budget (tiny test runs)')
    ap.add_argument('--n-jobs', type=int, default=2)
    ap.add_argument('--out', default=str(ROOT / 'nbs' / 'evidence' / out_name))
    return ap


def scaled_steps(steps: int | None, scale: float) -> int:
    "A step budget (None: the recipe's) times `scale`, at least 1."
    from survconvmixer.model import SurvConvMixerClassifier
    return max(1, round((steps or SurvConvMixerClassifier.DEFAULT_STEPS) * scale))


def run_probe(a: argparse.Namespace, methods_for: Callable) -> 'pd.DataFrame':
    """For each demo seed of `a.seeds`: simulate the demo, make its problems (`a.horizons`, 3 and 5 years by default)
    and run every method of `methods_for(demo)` (name -> factory) on the same folds. Writes the folds to `a.out`, prints the mean AUCs."""
    import pandas as pd
    from survconvmixer.demo import simulate_demo
    from survconvmixer.validation import make_problems, run_validation
    rows = []
    horizons = {PROBLEM_NAMES.get(h, f'{h:g}y'): h for h in map(float, a.horizons.split(','))}
    for seed in a.seeds:
        demo = simulate_demo(n_train=a.n_train, n_external=170, seed=seed)
        problems = make_problems(demo.train, demo.external, horizons, prefix='demo')
        start = time.time()
        folds = run_validation(problems, methods_for(demo), n_repeats=a.repeats, n_splits=a.folds, n_jobs=a.n_jobs,
                               progress=False).folds
        rows.append(folds.assign(demo_seed=seed))
        print(f"demo seed {seed}: {time.time() - start:.0f} s", file=sys.stderr, flush=True)
    table = pd.concat(rows, ignore_index=True)
    table.to_csv(a.out, index=False)
    print(table.groupby(['method', 'demo_seed', 'problem'])[['iv_auc', 'ev_auc']].mean().round(3).to_string())
    return table
