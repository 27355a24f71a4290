#!/usr/bin/env python
"""Why SurvConvMixerClassifier's training defaults are what they are: held-out AUC, epochs and fit time of the
default and of alternatives, on the demo's 3-year problem, in one run.

    python benchmarks/tune_defaults.py               # 2 seeds, 5 configurations (~4 minutes on 2 cores)
    python benchmarks/tune_defaults.py --seeds 0 1 2

Each seed: a stratified 2/3 - 1/3 split of the labelled training cohort (simulate_demo(n_train=2200)); the
estimator early-stops on its own inner split of the 2/3; AUC on the held-out 1/3 (IV) and on the demo's external
cohort (EV; reported, never used to choose). Only the training split is used for any decision.
"""
import argparse, os, time
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from survconvmixer.data import minmax_scale_genes
from survconvmixer.demo import simulate_demo
from survconvmixer.labelling import label_cohort
from survconvmixer.model import SurvConvMixerClassifier

CONFIGS = {
    'default': {},
    'patience 5': dict(patience=5),
    'batch size 128': dict(batch_size=128),
    'learning rate 3e-4': dict(learning_rate=3e-4),
    'no class weights': dict(class_weight=None),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    ap.add_argument('--only', nargs='+', choices=list(CONFIGS), help='configurations to run (default: all)')
    args = ap.parse_args()
    demo = simulate_demo(n_train=2200, seed=0)
    labels = label_cohort(demo.train, 3).labels
    X = minmax_scale_genes(demo.train.expression).loc[labels.index]
    ext = label_cohort(demo.external, 3).labels
    Xe = minmax_scale_genes(demo.external.expression).loc[ext.index]
    rows = []
    for seed in args.seeds:
        Xf, Xt, yf, yt = train_test_split(X, labels, test_size=1 / 3, stratify=labels, random_state=seed)
        for name in args.only or CONFIGS:
            est = SurvConvMixerClassifier(demo.pathways, random_state=seed, **CONFIGS[name])
            start = time.perf_counter()
            est.fit(Xf, yf.to_numpy())
            rows.append({'configuration': name, 'seed': seed, 'epochs': est.n_epochs_,
                         'seconds': time.perf_counter() - start,
                         'iv_auc': roc_auc_score(yt, est.predict_proba(Xt)[:, 1]),
                         'ev_auc': roc_auc_score(ext, est.predict_proba(Xe)[:, 1])})
            print(' '.join(f'{k}={v:.3f}' if isinstance(v, float) else f'{k}={v}' for k, v in rows[-1].items()),
                  flush=True)
    table = pd.DataFrame(rows).groupby('configuration', sort=False)[['iv_auc', 'ev_auc', 'epochs', 'seconds']]
    print(f"\nmean over seeds {args.seeds}:\n{table.mean().round(3).to_string()}")


if __name__ == '__main__':
    main()
