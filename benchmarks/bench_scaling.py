"""How SurvConvMixer's training cost grows with patients, pathways and genes per pathway (issue 16, item 4).

    python benchmarks/bench_scaling.py                                 # the grid below, about 6 min on 2 cores
    python benchmarks/bench_scaling.py --csv nbs/evidence/scaling.csv  # and keep the table (the performance page)
    python benchmarks/bench_scaling.py --patients 200,400 --pathways 10,20 --genes 10,20 --epochs 2   # a smoke test

One factor at a time around a base (5,000 patients, 40 pathways, 46 genes in the longest pathway, as KEGG's
Pathways in cancer; at 1,000 patients an epoch is a quarter of a second, too short to time the others by): patients 1k / 5k / 20k, pathways 40 / 100 / 200 (MSigDB's 186 KEGG pathways give a 14 x 14
grid of patches), longest pathway 20 / 46 / 100 genes (patches of 5 x 5, 7 x 7, 10 x 10). Each configuration runs
in a fresh process: the demo simulator on synthetic pathways of that shape, then SurvConvMixer at the paper's
width and depth with a fixed batch of 64 and no early stopping, fitted (after a warm-up fit on 256 patients) for
1 epoch and for 1 + `--epochs` epochs; the difference is the time of `--epochs` epochs without start-up and tracing. Printed per configuration: the image
side, the seconds per epoch, patients per second and the process's peak resident memory; per factor, the
log-log slope of the epoch time (1 = linear) and of the peak memory above the process's start-up (Python,
TensorFlow and the package, about 0.8 GiB). Times are of this machine under its current
load: compare rows of one run, not runs on different machines.
"""
import argparse, json, math, os, subprocess, sys, time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

BASE = dict(patients=5000, pathways=40, genes=46)


def measure(patients: int, pathways: int, genes: int, epochs: int) -> dict:
    "Fit time per epoch and peak memory of one configuration, in this process (run it in a fresh one)."
    import resource, warnings
    warnings.simplefilter('ignore')
    from survconvmixer.demo import simulate_demo, synthetic_pathways
    from survconvmixer.images import PathwayImageLayout
    from survconvmixer.labelling import label_cohort
    from survconvmixer.data import minmax_scale_genes
    from survconvmixer.model import SurvConvMixerClassifier
    started = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024         # Python, TensorFlow and the package
    n_genes = max(6 * pathways + 24, round(280 * pathways / 40 * genes / 46))     # KEGG's 280 genes at the base
    collection = synthetic_pathways(n_pathways=pathways, n_genes=n_genes, longest=genes, seed=0)
    demo = simulate_demo(n_train=patients, n_external=20, n_background_genes=20, pathways=collection, seed=0)
    labels = label_cohort(demo.train, 3.0).labels
    X = minmax_scale_genes(demo.train.expression).loc[labels.index]
    y = labels.to_numpy().astype(int)
    layout = PathwayImageLayout.from_collection(collection)
    after_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    SurvConvMixerClassifier(collection, epochs=1, batch_size=64, early_stopping=False).fit(X[:256], y[:256])  # warm-up
    seconds = {}
    for n_epochs in (1, 1 + epochs):
        model = SurvConvMixerClassifier(collection, epochs=n_epochs, batch_size=64, early_stopping=False,
                                        random_state=0)
        start = time.perf_counter()
        model.fit(X, y)
        seconds[n_epochs] = time.perf_counter() - start
    per_epoch = (seconds[1 + epochs] - seconds[1]) / epochs
    return {'patients': patients, 'labelled': len(y), 'pathways': pathways, 'genes': genes, 'unique_genes': n_genes,
            'image_side': int(layout.image_shape[0]), 'first_epoch_s': round(seconds[1], 2),
            'epoch_s': round(per_epoch, 3), 'patients_per_s': round(len(y) / per_epoch, 1) if per_epoch > 0 else math.nan,
            'peak_mib': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            'start_mib': round(started, 1), 'data_mib': round(after_data, 1)}


def in_fresh_process(config: dict, epochs: int) -> dict:
    "`measure` in a new Python process (its own TensorFlow, its own peak memory)."
    code = (f"import json, sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); "
            f"from bench_scaling import measure; print('RESULT ' + json.dumps(measure(**{config!r}, epochs={epochs})))")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    line = [l for l in out.stdout.splitlines() if l.startswith('RESULT ')]
    if out.returncode != 0 or not line:
        raise RuntimeError(f"configuration {config} failed: {out.stderr.strip().splitlines()[-1:]}")
    return json.loads(line[0][len('RESULT '):])


def slope(xs, ys) -> float:
    "Least-squares slope of log(y) on log(x), over the positive pairs (a tiny epoch can time as 0 or less)."
    pairs = [(x, y) for x, y in zip(xs, ys) if x > 0 and y > 0]
    if len(pairs) < 2: return math.nan
    lx, ly = [math.log(x) for x, _ in pairs], [math.log(y) for _, y in pairs]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    den = sum((a - mx) ** 2 for a in lx)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / den if den else math.nan


def grid(patients, pathways, genes) -> list[tuple[str, dict]]:
    "(factor, configuration): one factor at a time around the base (each factor's base value, else its first)."
    pick = lambda values, key: BASE[key] if BASE[key] in values else values[0]
    base = dict(patients=pick(patients, 'patients'), pathways=pick(pathways, 'pathways'), genes=pick(genes, 'genes'))
    out = [('patients', dict(base, patients=n)) for n in patients]
    out += [('pathways', dict(base, pathways=p)) for p in pathways]
    out += [('genes', dict(base, genes=g)) for g in genes]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--patients', default='1000,5000,20000')
    ap.add_argument('--pathways', default='40,100,200')
    ap.add_argument('--genes', default='20,46,100', help='genes in the longest pathway')
    ap.add_argument('--epochs', type=int, default=3, help='epochs timed after the first (tracing) one')
    ap.add_argument('--csv', help='also write the table here')
    args = ap.parse_args()
    ints = lambda text: [int(v) for v in text.split(',')]
    done: dict[tuple, dict] = {}
    rows = []
    for factor, config in grid(ints(args.patients), ints(args.pathways), ints(args.genes)):
        key = tuple(sorted(config.items()))
        if key not in done:
            done[key] = in_fresh_process(config, args.epochs)
            r = done[key]
            print(f"{r['patients']:>6} patients {r['pathways']:>4} pathways {r['genes']:>4} genes  image {r['image_side']:>3}"
                  f"  epoch {r['epoch_s']:8.2f} s  {r['patients_per_s']:8.1f} patients/s  peak {r['peak_mib']:8.1f} MiB"
                  f" ({r['peak_mib'] - r['start_mib']:+.1f} over start-up)",
                  flush=True)
        rows.append(dict(done[key], factor=factor))
    print()
    for factor in ('patients', 'pathways', 'genes'):
        part = [r for r in rows if r['factor'] == factor]
        xs = [r[factor] for r in part]
        print(f"{factor:>9}: epoch time grows as {factor}^{slope(xs, [r['epoch_s'] for r in part]):.2f}, "
              f"memory above start-up as {factor}^{slope(xs, [max(r['peak_mib'] - r['start_mib'], 1.0) for r in part]):.2f} "
              f"({min(xs)} to {max(xs)})")
    if args.csv:
        import csv
        with open(args.csv, 'w', newline='') as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader(); writer.writerows(rows)
        print(f"table written to {args.csv}")


if __name__ == '__main__':
    main()
