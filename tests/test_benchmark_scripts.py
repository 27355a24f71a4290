"""The benchmark scripts run and print their ratios (tiny sizes: this checks that they work, not how fast anything is;
the numbers they print on a machine are in benchmarks/README.md)."""
import os, re, subprocess, sys
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


def test_bench_training_prints_speedups_efficiency_auc_differences_and_the_ceiling():
    out = run('bench_training.py', '--quick', '--rounds', '1', '--samples', '256', '--epochs', '2', '--seeds', '1',
              '--max-epochs', '2', '--ceiling')
    for name in ('fused+matmul+batches', 'fused+matmul+batches+bf16pw', 'bf16pw+xla512'):
        assert ratio(out, re.escape(name) + r' / baseline, per interleaved round') > 0
    assert re.search(r'fused\+matmul\+batches\+bf16pw\s+\d+\s+\d+\.\d+x .*%', out)   # table row with efficiencies
    assert 'difference fused+matmul+batches+bf16pw - fused+matmul+batches' in out
    assert 'difference bf16pw+xla512 - fused+matmul+batches+bf16pw' in out
    assert re.search(r'training = 3 x forward\s+43\.58 MFLOP', out)                 # the paper's geometry
    ceiling = re.findall(r'ceiling round 1  (\S+)\s+one single-thread fit\s+\d+ samples/s; (\d+) at once ([\d +]+) '
                         r'=\s+(\d+)', out)
    assert [row[0] for row in ceiling] == ['baseline', 'fused+matmul+batches', 'fused+matmul+batches+bf16pw']
    for _, fits, each, total in ceiling:                     # one fit per CPU at once, their samples/s summed
        each = [int(v) for v in each.split(' + ')]
        assert len(each) == int(fits) >= 2 and abs(sum(each) - int(total)) <= len(each)
    assert re.search(r'fused\+matmul\+batches\+bf16pw\s+\d+\s+\d+\s+\d+\.\d+x\s+\d+\s+\d+%\s+\d+\.\d+x', out)


def test_bench_precision_prints_paired_differences_and_the_seed_noise(tmp_path):
    out = run('bench_precision.py', '--repeats', '1', '--splits', '2', '--n-train', '600', '--jobs', '1',
              '--epochs', '2', '--out', str(tmp_path))
    assert 'bfloat16 - float32' in out and 'seed + 1 - seed' in out
    assert ratio(out, 'float32 / bfloat16_pointwise =') > 0
    assert re.search(r'IV: bfloat16 moves a fold.s AUC by \d\.\d{4}', out)
    assert (tmp_path / 'folds.csv').exists()                                         # resumable


def test_bench_grid_prints_the_speedup_and_identical_results():
    out = run('bench_grid.py', '--models', 'LogisticRegression', '--n-train', '300', '--folds', '2',
              '--workers', '1', '2')
    assert ratio(out, 'speed-up 2 vs 1') > 0
    assert re.search(r'largest metric difference 0\.0e\+00', out)


def test_profile_training_step_splits_a_step_by_kind_of_work():
    out = run('profile_training_step.py', '--steps', '4', '--top', '5', '--timeline')
    busy = dict((kind.strip(), float(ms)) for ms, kind in
                re.findall(r'^\s+(\d+\.\d+) ms\s+[\d.]+ %\s+(.+)$', out, re.M))
    assert busy['pointwise 1x1 conv products'] > 0 and busy['XLA kernels (GELU + batch norm, forward and backward)'] > 0
    assert busy['casts (bfloat16 <-> float32)'] > 0          # the default configuration is bfloat16_pointwise
    assert re.search(r'One step \(\d+\.\d+ ms\)', out) and 'XLA kernel run (GeluBatchNorm)' in out


def test_profile_training_step_names_the_kind_of_each_op():
    sys.path.insert(0, str(BENCHMARKS))
    import profile_training_step as p
    assert p.op_kind('mixer_1_pointwise_1/MatMul/MatMul_1', '_MklMatMul') == 'pointwise 1x1 conv products'
    assert p.op_kind('embedding_1/BiasAdd', '_MklNativeFusedMatMul').startswith('other matrix products')
    assert p.op_kind('mixer_1_depthwise_1/BiasAdd', '_MklNativeFusedDepthwiseConv2dNative').startswith('depthwise')
    assert p.op_kind('mixer_2_pointwise_1/BiasAdd/BiasAddGrad', 'BiasAddGrad').startswith('bias additions')
    assert p.op_kind('pool_1/Mean', 'Mean') == 'other ops'
    assert p.is_op('pool_1/Mean:Mean') and not p.is_op('ExecutorState::Process')
