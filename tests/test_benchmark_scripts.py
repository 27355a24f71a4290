"""The benchmark scripts run and print their ratios (tiny sizes: this checks that they work, not how fast anything is;
the numbers they print on a machine are in benchmarks/README.md)."""
import csv, os, re, subprocess, sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / 'benchmarks'


def run(script: str, *args: str, timeout: int = 600) -> str:
    env = {**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '3'}
    proc = subprocess.run([sys.executable, str(BENCHMARKS / script), *args], capture_output=True, text=True,
                          env=env, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def ratio(text: str, pattern: str) -> float:
    "The number before 'x' on the line matching `pattern` (a speed-up the script printed)."
    match = re.search(pattern + r'.*?(\d+\.\d+)x', text)
    assert match, f"no ratio for {pattern!r} in:\n{text[-3000:]}"
    return float(match.group(1))


def test_bench_training_prints_ratios_efficiency_and_auc():
    out = run('bench_training.py', '--quick', '--rounds', '1', '--samples', '128', '--epochs', '2', '--auc',
              '--seeds', '1', '--max-epochs', '1')
    assert re.search(r'training = 3 x forward\s+43\.58 MFLOP', out)                 # the paper's geometry
    assert re.search(r'float32 GEMM peak .*: \d+ GFLOP/s', out)
    for name in ('float32', 'bf16pw'):
        assert ratio(out, name + r' / plain, per interleaved round: .*; median') > 0
        assert re.search(name + r'\s+\d+\s+\d+\s+\d+\.\d+x\s+\d+\.\d%', out)        # table row with its efficiency
        assert re.search(name + r' - plain, paired by seed: mean [+-]\d\.\d{4}', out)
    assert len(re.findall(r'^   (plain|float32|bf16pw)\s+AUC 0\.\d{4}', out, re.M)) == 3


def test_bench_grid_prints_the_speedup_and_identical_results():
    out = run('bench_grid.py', '--models', 'LogisticRegression', '--n-train', '300', '--folds', '2',
              '--workers', '1', '2')
    assert ratio(out, 'speed-up 2 vs 1') > 0
    assert re.search(r'largest metric difference 0\.0e\+00', out)


def test_bench_gradcam_prints_speedups_of_the_batched_maps():
    out = run('bench_gradcam.py', '--n', '64', '--loop-n', '8', '--width', '32', '--batch-size', '32')
    for line in ('batched', 'per-sample compiled', 'per-sample eager'):
        assert re.search(rf'^{line} .*: +\d+\.\d samples/s$', out, re.M)
    assert ratio(out, 'speed-up of batched: ') > 0 and ratio(out, 'over the compiled loop, ') > 0


def test_bench_protocol_prints_phases_and_the_projection():
    out = run('bench_protocol.py', '--n-train', '200', '--n-external', '40', '--repeats', '1', '--folds', '2',
              '--workers', '1', '--methods', 'LogisticRegression,RandomSurvivalForest', '--quick-settings',
              '--stacked-rounds', '1', '--stacked-steps', '4')
    for phase in ('data', 'images of every patient', 'validation grid: 2 SurvConvMixer fits', 'GSVA', 'interpretation'):
        assert re.search(rf'^{phase}.* +\d+\.\d s$', out, re.M), phase
    assert re.search(r'grid wall time / \(summed fit time / workers\) +\d+\.\d\dx', out)
    assert re.search(r'^LogisticRegression +150 fits +\d+\.\d min$', out, re.M)
    assert re.search(r'^RandomSurvivalForest +50 fits', out, re.M)          # a survival method: once per fold
    assert re.search(r'^projected total +\d+\.\d min', out, re.M)
    assert re.search(r'stacked network = 2 SurvConvMixers: largest probability difference', out)
    for batch in (16, 64): assert ratio(out, rf'batch {batch}: fold-at-a-time / stacked \(2 folds\), per round: .*; median') > 0


def test_bench_stacked_is_k_networks_and_prints_ratios():
    out = run('bench_stacked.py', '--folds', '3', '--width', '16', '--rounds', '1', '--steps', '4', '--batches', '16')
    worst = float(re.search(r'largest probability difference (\S+) ', out).group(1))
    assert worst < 1e-5, out
    assert ratio(out, r'batch 16: fold-at-a-time / stacked \(3 folds\), per round: .*; median') > 0


def test_the_stacked_networks_folds_are_independent():
    "Changing one fold's weights changes that fold's predictions only (the check above can fail)."
    import importlib, numpy as np
    sys.path.insert(0, str(BENCHMARKS))
    try: bench_stacked = importlib.import_module('bench_stacked')
    finally: sys.path.remove(str(BENCHMARKS))
    from survconvmixer.demo import synthetic_pathways
    from survconvmixer.images import PathwayImageLayout
    from survconvmixer.model import build_survconvmixer
    layout = PathwayImageLayout.from_collection(synthetic_pathways(n_pathways=6, n_genes=60, longest=12, n_hub_genes=6))
    singles = [build_survconvmixer(layout, 8, seed=k) for k in range(3)]
    stacked = bench_stacked.build_stacked(layout, 3, 8)
    bench_stacked.copy_into_stacked(singles, stacked)
    images = np.random.default_rng(0).random((6, *layout.image_shape[:2], 3), dtype=np.float32)
    before = np.asarray(stacked(images))
    for k, single in enumerate(singles):
        np.testing.assert_allclose(before[:, k], np.asarray(single(images[..., k:k + 1]))[:, 0], atol=1e-6)
    pointwise = stacked.get_layer('mixer_1_pointwise')
    weights = pointwise.get_weights(); weights[0][1] += 0.5; pointwise.set_weights(weights)
    changed = np.abs(np.asarray(stacked(images)) - before).max(axis=0)
    assert changed[1] > 1e-4 and changed[0] == 0 and changed[2] == 0, changed


def test_bench_scaling_prints_the_table_and_the_slopes(tmp_path):
    out = run('bench_scaling.py', '--patients', '300,600', '--pathways', '10', '--genes', '12', '--epochs', '1',
              '--csv', str(tmp_path / 'scaling.csv'))
    assert len(re.findall(r'^ +\d+ patients +\d+ pathways +\d+ genes  image +\d+  epoch +-?\d+\.\d+ s', out, re.M)) == 2
    # an epoch this small can time at 0 or less on a loaded machine (a difference of two timings): its slope is nan
    assert re.search(r'patients: epoch time grows as patients\^(-?\d+\.\d+|nan), memory above start-up as patients\^', out)
    rows = list(csv.DictReader(open(tmp_path / 'scaling.csv')))
    assert [r['factor'] for r in rows] == ['patients', 'patients', 'pathways', 'genes']
    assert float(rows[0]['peak_mib']) > float(rows[0]['start_mib']) > 0


def test_bench_forest_prints_the_ratio_and_identical_forests():
    out = run('bench_forest.py', '--n-train', '300', '--n-estimators', '4', '--rounds', '2')
    assert ratio(out, r'original / moved, per interleaved round: .*; median') > 0
    tracked = dict(re.findall(r'^(original|moved)\s+distinct times tracked: (\d+)$', out, re.M))
    assert int(tracked['moved']) < int(tracked['original'])
    assert re.search(r'largest difference in risk scores and S\(1, 3, 5 years\) over \d+ held-out patients: 0\.0e\+00', out)


def test_bench_gpu_times_each_network_by_its_recipe(tmp_path):
    out = run('bench_gpu.py', '--patients', '300', '--epochs', '2', '--networks', 'SurvConvMixer', 'GeneExpImgTL',
              '--batch', '16', '64', '--csv', str(tmp_path / 'gpu.csv'))
    assert re.search(r'^Keras \S+ on TensorFlow \S+: CPU', out, re.M)
    labelled = int(re.search(r'demo 3-year problem: (\d+) labelled training patients', out).group(1))
    with open(tmp_path / 'gpu.csv') as f: rows = list(csv.DictReader(f))
    assert [(r['network'], r['batch']) for r in rows] == [('SurvConvMixer', '16'), ('SurvConvMixer', '64'),
                                                          ('GeneExpImgTL', '16'), ('GeneExpImgTL', '64')]
    for r in rows:
        fit, held = int(r['fit_patients']), int(r['held_patients'])
        assert fit + held == labelled                                  # every labelled patient, fitted or held back
        first, epoch, train, cap = (float(r[k]) for k in ('first_epoch_s', 'epoch_s', 'train_s', 'epoch_cap'))
        assert first > 0 and 0 < train <= epoch
        assert float(r['us_per_image']) == pytest.approx(1e6 * train / fit, rel=1e-6)
        assert float(r['fit_at_cap_s']) == pytest.approx(first + (cap - 1) * epoch)
    gene_exp = [r for r in rows if r['network'] == 'GeneExpImgTL']
    assert all(int(r['held_patients']) > 0 for r in gene_exp)       # its recipe's early-stopping split


def test_bench_gpu_uses_each_methods_own_batch_size(tmp_path):
    run('bench_gpu.py', '--patients', '300', '--epochs', '2', '--networks', 'SurvConvMixer', 'PathCNN',
        '--csv', str(tmp_path / 'gpu.csv'))
    with open(tmp_path / 'gpu.csv') as f: batches = {r['network']: r['batch'] for r in csv.DictReader(f)}
    assert batches == {'SurvConvMixer': '16', 'PathCNN': '64'}       # the small-cohort recipe; PathCNN's own


def test_bench_gpu_rejects_bad_counts_in_one_line():
    for args in (['--epochs', '1'], ['--patients', '10'], ['--batch', '64', '0']):
        proc = subprocess.run([sys.executable, str(BENCHMARKS / 'bench_gpu.py'), *args], capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 2 and 'Traceback' not in proc.stderr and 'must be at least' in proc.stderr


def test_bench_gpu_imports_the_package_where_tensorflow_is_missing():
    "Keras on JAX without TensorFlow: a stand-in lets the package import, any use of it fails naming it, Keras never sees it."
    code = '''
import importlib.util, sys
sys.path.insert(0, sys.argv[1])
import keras, numpy as np, bench_gpu      # Keras on TensorFlow here; from now on TensorFlow looks missing
from keras.src.utils.module_utils import tensorflow as keras_lazy_tensorflow
find_spec = importlib.util.find_spec
importlib.util.find_spec = lambda name, *a: None if name == 'tensorflow' else find_spec(name, *a)
real = sys.modules.pop('tensorflow')
assert bench_gpu.import_package_modules()
import survconvmixer.training as training
from survconvmixer.demo import synthetic_pathways
from survconvmixer.images import PathwayImageLayout
from survconvmixer.model import build_survconvmixer
assert 'tensorflow' not in sys.modules and training.tf is not real
assert keras_lazy_tensorflow.module is not training.tf
try: training.tf.data
except AttributeError as e: print('AttributeError:', e)
decorated = training.tf.function(len)                        # a bare @tf.function leaves the function as it is
assert decorated is len and training.tf.function(jit_compile=True)(len) is len
layout = PathwayImageLayout.from_collection(synthetic_pathways())
net = build_survconvmixer(layout, fused=False, seed=0)
print('probabilities', net.predict(np.zeros((2, *layout.image_shape), 'float32'), verbose=0).shape)
'''
    proc = subprocess.run([sys.executable, '-c', code, str(BENCHMARKS)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '3'}, cwd=BENCHMARKS.parent)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'AttributeError: tensorflow.data: TensorFlow is not installed' in proc.stdout
    assert 'probabilities (2, 1)' in proc.stdout
