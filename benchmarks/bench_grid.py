"""The quick grid with 1 vs 2 workers: prints wall-clock seconds and the speed-up, measured in one run.

    python benchmarks/bench_grid.py            # SurvConvMixer + two baselines (quick preset), demo cohorts
    python benchmarks/bench_grid.py --models SurvConvMixer --n-train 800

Seeded fits give identical metrics whatever the number of workers; the script prints the largest difference.
"""
import argparse, os, time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--models', default='SurvConvMixer,LogisticRegression,RandomForest')
    ap.add_argument('--n-train', type=int, default=800)
    ap.add_argument('--folds', type=int, default=3)
    ap.add_argument('--workers', type=int, nargs='+', default=[1, 2])
    args = ap.parse_args()
    from survconvmixer.demo import simulate_demo
    from survconvmixer.methods import method_factories
    from survconvmixer.validation import make_problems, run_validation
    demo = simulate_demo(n_train=args.n_train, n_external=170, n_background_genes=100, seed=0)
    problems = make_problems(demo.train, demo.external, {'short': 1.0, 'mid': 3.0, 'long': 5.0}, prefix='demo')
    methods = method_factories(args.models.split(','), demo.pathways, quick=True)
    times, results = {}, {}
    for n in args.workers:
        start = time.perf_counter()
        results[n] = run_validation(problems, methods, n_repeats=1, n_splits=args.folds, n_jobs=n, progress=False).folds
        times[n] = time.perf_counter() - start
        print(f'{n} worker(s): {times[n]:.1f} s for {len(results[n])} fits')
    base = args.workers[0]
    for n in args.workers[1:]:
        metrics = [c for c in results[base].columns if c.startswith(('iv_', 'ev_'))]
        diff = (results[n][metrics] - results[base][metrics]).abs().max().max()
        print(f'speed-up {n} vs {base} worker(s): {times[base] / times[n]:.2f}x   (largest metric difference '
              f'{diff:.1e}; 0 = identical results)')


if __name__ == '__main__':
    main()
