"""The paper's protocol for one problem, timed by phase, and a projection of the whole `--preset paper` (issue 16).

    python benchmarks/bench_protocol.py                  # 10 x 5-fold CV of SurvConvMixer at 3 years, 2 workers
    python benchmarks/bench_protocol.py --repeats 2      # a shorter measurement (the projection scales it)

Measured in one run, on the demo cohorts of the presets (2,200 training and 170 external patients):

1. the phases of one problem: the data, the problems (labels and scaling), the images of every patient, the
   validation grid (wall time against the summed fit time: what is left is start-up, tracing and scoring), GSVA
   and the interpretation of the problem's fold models;
2. one fit of every method at its paper settings on the same training fold (a survival method once for every
   horizon, as the engine fits it);
3. the projection of the paper preset: per method, (repeats x folds x horizons, or x 1 for a survival method)
   fits x its one-fit time, scaled for the workers: a Keras network's one fit already uses every core, so it is
   scaled by the grid's wall time per SurvConvMixer fit / SurvConvMixer's one-fit time; a single-threaded
   scikit-learn fit is divided by the workers. Plus the interpretation of three problems. A projection, not a
   measurement of the whole preset: `benchmarks/README.md` says which numbers were measured end to end;
4. the folds trained as one stacked network against one at a time (`bench_stacked.py`: its equivalence check
   and its per-round ratios at batches 16 and 64; `--stacked-rounds 0` skips it).
"""
import argparse, os, tempfile, time, warnings

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

HORIZONS = {'short': 1.0, 'mid': 3.0, 'long': 5.0}


def clock(label: str, fn, rows: list):
    "Run `fn()`, add (label, seconds) to `rows`, return its result."
    start = time.perf_counter()
    out = fn()
    rows.append((label, time.perf_counter() - start))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--n-train', type=int, default=2200)
    ap.add_argument('--n-external', type=int, default=170)
    ap.add_argument('--repeats', type=int, default=10)
    ap.add_argument('--folds', type=int, default=5)
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--methods', default='all', help="methods fitted once each for the projection ('all': every registered one)")
    ap.add_argument('--quick-settings', action='store_true', help="the quick preset's settings (a smoke test, not the paper's)")
    ap.add_argument('--stacked-rounds', type=int, default=3, help='rounds of the stacked-folds timing (0: skip it)')
    ap.add_argument('--stacked-steps', type=int, default=0, help='steps timed per stacked-folds fit (0: 200 at batch 16, 60 at 64)')
    args = ap.parse_args()
    warnings.simplefilter('ignore')
    from survconvmixer.demo import simulate_demo
    from survconvmixer.images import PathwayImageLayout
    from survconvmixer.interpretation import gsva_scores, interpret_run
    from survconvmixer.methods import METHODS, method_factories
    from survconvmixer.validation import _fit_fold, fold_tasks, make_problems, run_validation
    from survconvmixer.baselines import is_survival_estimator
    quick = args.quick_settings
    phases: list[tuple[str, float]] = []
    demo = clock('data (demo cohorts)', lambda: simulate_demo(n_train=args.n_train, n_external=args.n_external, seed=0), phases)
    problems = clock('problems (labels, scaling; 3 horizons)',
                     lambda: make_problems(demo.train, demo.external, HORIZONS, prefix='demo'), phases)
    layout = PathwayImageLayout.from_collection(demo.pathways)
    clock('images of every patient (once)', lambda: layout.transform(problems[0].X_train[layout.genes]), phases)
    mid = [p for p in problems if p.name == 'demo-mid']
    factory = method_factories(['SurvConvMixer'], demo.pathways, quick=quick)
    n_fits = args.repeats * args.folds
    with tempfile.TemporaryDirectory() as out:
        run = clock(f'validation grid: {n_fits} SurvConvMixer fits, {args.workers} workers',
                    lambda: run_validation(mid, factory, args.repeats, args.folds, out_dir=out, n_jobs=args.workers,
                                           save_models=True, progress=False), phases)
        fit_sum = float(run.folds.seconds.sum())
        gsva = clock('GSVA of the training cohort', lambda: gsva_scores(demo.train.expression, demo.pathways), phases)
        clock(f'interpretation of the problem ({n_fits} fold models)',
              lambda: interpret_run(run, demo.pathways, gsva, os.path.join(out, 'figures'), n_jobs=args.workers), phases)
    grid_wall = dict(phases)[f'validation grid: {n_fits} SurvConvMixer fits, {args.workers} workers']
    print(f'# One problem (demo-mid, {args.n_train} training patients), {args.repeats} x {args.folds}-fold CV, '
          f'{args.workers} worker(s)')
    for label, seconds in phases:
        print(f'{label:<62s} {seconds:8.1f} s')
    print(f'{"   summed fit time of the grid":<62s} {fit_sum:8.1f} s  (mean {fit_sum / n_fits:.1f} s per fit)')
    print(f'{"   grid wall time / (summed fit time / workers)":<62s} {grid_wall / (fit_sum / args.workers):8.2f}x  '
          '(1.00x: the workers never wait)')

    names = list(METHODS) if args.methods == 'all' else args.methods.split(',')
    task = next(t for t in fold_tasks(mid, ['x'], 1, args.folds) if t.fold == 0)
    print(f'\n# One fit per method on the same training fold ({len(task.train_index)} patients), '
          f'{"quick" if quick else "paper"} settings')
    fit_seconds, survival, keras_fit = {}, {}, {}
    for name in names:
        make = method_factories([name], demo.pathways, quick=quick)[name]
        start = time.perf_counter()
        estimator, _ = _fit_fold(task, mid[0], make, 'cohort')
        fit_seconds[name] = time.perf_counter() - start
        survival[name] = is_survival_estimator(estimator)
        keras_fit[name] = hasattr(estimator, 'model_')           # a Keras network: one fit uses every core
        print(f'{name:<28s} {fit_seconds[name]:8.1f} s{"  (survival: one fit for every horizon)" if survival[name] else ""}')

    per_fit_interp = dict(phases)[f'interpretation of the problem ({n_fits} fold models)'] / n_fits
    print(f'\n# Projection of --preset paper (10 x 5-fold CV, 3 horizons, {args.workers} workers)')
    # one fit above uses every core; in the grid the workers share them: scale by what the grid achieved per fit
    scale = (grid_wall / n_fits) / fit_seconds['SurvConvMixer'] if 'SurvConvMixer' in fit_seconds else 1 / args.workers
    print(f'(a Keras fit x {scale:.2f}: the grid\'s wall time per SurvConvMixer fit / one SurvConvMixer fit; '
          f'a scikit-learn fit / {args.workers} workers)')
    total = 0.0
    for name in names:
        fits = 50 * (1 if survival[name] else len(HORIZONS))
        seconds = fits * fit_seconds[name] * (scale if keras_fit[name] else 1 / args.workers)
        total += seconds
        print(f'{name:<28s} {fits:4d} fits  {seconds / 60:7.1f} min')
    interp = 3 * 50 * per_fit_interp + 2 * dict(phases)['GSVA of the training cohort']
    print(f'{"interpretation (3 problems)":<28s} {"":10s} {interp / 60:7.1f} min')
    print(f'{"projected total":<28s} {"":10s} {(total + interp) / 60:7.1f} min  (one fit per method measured)')
    if args.stacked_rounds: stacked_folds(layout, args.folds, args.stacked_rounds, args.stacked_steps)


def stacked_folds(layout, folds: int, rounds: int, steps: int):
    "Item 2 of the issue: the problem's folds as one stacked network against one at a time (bench_stacked.py)."
    import bench_stacked   # beside this script
    print(f'\n# The {folds} folds of a problem as one stacked network, against one fold at a time (paper width)')
    worst = bench_stacked.check_equivalence(layout, folds, 64, 'einsum')
    print(f'stacked network = {folds} SurvConvMixers: largest probability difference {worst:.1e}')
    batches = [16, 64]
    ratios = bench_stacked.time_rounds(layout, folds, 256, batches, bench_stacked.default_steps(batches, steps), rounds,
                                       'einsum')
    bench_stacked.report(ratios, folds)
    print('(above 1x stacking is faster; the engine trains one fold at a time: benchmarks/README.md says why)')


if __name__ == '__main__':
    main()
