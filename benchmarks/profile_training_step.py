#!/usr/bin/env python
"""Where a SurvConvMixer training step spends its time: TensorFlow's profiler over one epoch, summed per op.

It trains one configuration of `bench_training.py` (default: the estimator with
`precision='bfloat16_pointwise'`) for a warm-up epoch, then profiles one more epoch and prints
  1. wall-clock ms per step;
  2. busy ms per step by kind of work, summed over TensorFlow's threads (two ops running at once on two cores
     both count, so the total can exceed the wall time; it cannot exceed wall time x cores);
  3. the ops that took longest, per step;
  4. with `--timeline`, every op of one step in the middle of the epoch, in start order (ms from the step's start).

It measures, it asserts nothing; the numbers it printed on the development machines are in benchmarks/README.md.

    python benchmarks/profile_training_step.py                        # bfloat16_pointwise, 32 steps of 64
    python benchmarks/profile_training_step.py --config fused+matmul+batches --timeline
"""
from __future__ import annotations
import argparse, collections, contextlib, os, re, sys, tempfile, time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))
import bench_training as bt  # noqa: E402  (the configurations and their setup)

KINDS = (  # (kind, test on the op's name and type): the first match wins
    ('pointwise 1x1 conv products', lambda name, op: 'pointwise' in name and 'MatMul' in op),
    ('other matrix products (embedding, dense)',
     lambda name, op: 'MatMul' in op or ('Conv2D' in op and 'Depthwise' not in op)),
    ('depthwise 3x3 convolutions', lambda name, op: 'Depthwise' in op),
    ('bias additions and their gradients', lambda name, op: op.startswith('BiasAdd')),
    ('casts (bfloat16 <-> float32)', lambda name, op: op == 'Cast'),
    ('optimiser (AdamW)', lambda name, op: 'adam' in name.lower()),
    ('input pipeline', lambda name, op: 'Iterator' in op or 'Iterator' in name),
)
XLA_EXECUTION = 'CpuExecutable::ExecuteAsyncOnStream'  # one run of an XLA kernel (GeluBatchNorm's, forward or backward)


def is_op(name: str) -> bool:
    "A TensorFlow op event is named `op_name:OpType`; the executor's own events are C++ scopes (`Executor::Run`)."
    return ':' in name and '::' not in name


def op_kind(name: str, op: str) -> str:
    "The kind of work of a TensorFlow op event `name:op`."
    return next((kind for kind, test in KINDS if test(name, op)), 'other ops')


def short_name(name: str) -> str:
    "An op's name without the graph's scopes that every op shares."
    scopes = r'StatefulPartitionedCall/|SurvConvMixer(Conv1D)?_\d+/|gradient_tape/|(ArithmeticOptimizer/)+'
    return re.sub(scopes, '', name)


def profile_epoch(cfg: dict, steps: int, logdir: str) -> float:
    "Train `cfg` one warm-up epoch, then profile one epoch of `steps` batches into `logdir`; its wall seconds."
    tf, keras, model, x, y = bt.compiled_model_and_data(cfg, steps * cfg['batch_size'])
    inputs = bt.fit_inputs(cfg, tf, x, y)
    def epoch(): model.fit(**inputs, epochs=1, verbose=0)
    epoch()  # tracing and warm-up, not profiled
    tf.profiler.experimental.start(logdir)
    t = time.perf_counter(); epoch(); wall = time.perf_counter() - t
    tf.profiler.experimental.stop()
    return wall


def host_events(logdir: str):
    "The host plane of the profile: (thread name, start ps, duration ps, event name) for every event."
    try:
        from tensorflow.tsl.profiler.protobuf import xplane_pb2
    except ImportError as e:  # an internal module of TensorFlow: it may move in a later release
        raise SystemExit(f"this TensorFlow has no tensorflow.tsl.profiler.protobuf.xplane_pb2 ({e}); "
                         "open the profile in TensorBoard's profiler instead: " + logdir)
    files = sorted(Path(logdir).rglob('*.xplane.pb'))
    if not files: raise SystemExit(f"the profiler wrote no .xplane.pb under {logdir}")
    space = xplane_pb2.XSpace(); space.ParseFromString(files[-1].read_bytes())
    plane = next(p for p in space.planes if p.name == '/host:CPU')
    names = {k: v.name for k, v in plane.event_metadata.items()}
    for line in plane.lines:
        base = line.timestamp_ns * 1000
        for e in line.events:
            yield line.name, base + e.offset_ps, e.duration_ps, names.get(e.metadata_id, '?')


def summarise(events: list) -> dict:
    "Busy ps per kind of work and per op (TensorFlow op events and XLA kernel runs), and the spans of the steps."
    kinds, ops, spans = collections.Counter(), collections.Counter(), []
    for thread, start, duration, name in events:
        if thread == 'python':
            if name == 'multi_step_on_iterator': spans.append((start, start + duration))
        elif name == XLA_EXECUTION:
            kinds['XLA kernels (GELU + batch norm, forward and backward)'] += duration
            ops['XLA kernel runs (GeluBatchNorm)'] += duration
        elif is_op(name):
            label, op = name.rsplit(':', 1)
            kinds[op_kind(label, op)] += duration; ops[short_name(name)] += duration
    return {'kinds': kinds, 'ops': ops, 'spans': sorted(spans)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--config', default=bt.FASTEST, help=f'a configuration of bench_training.py (default {bt.FASTEST})')
    ap.add_argument('--steps', type=int, default=32, help='training steps in the profiled epoch (default 32)')
    ap.add_argument('--top', type=int, default=25, help='how many of the longest ops to list (default 25)')
    ap.add_argument('--timeline', action='store_true', help="also list one step's ops in start order")
    ap.add_argument('--logdir', help='keep the profile here (default: a temporary folder)')
    args = ap.parse_args(argv)
    if args.config not in bt.CONFIGS: ap.error(f"unknown configuration {args.config!r}; known: {list(bt.CONFIGS)}")
    if args.steps < 3: ap.error('--steps must be at least 3')
    cfg = bt.CONFIGS[args.config]
    if cfg['env']: ap.error(f"{args.config} sets environment variables {cfg['env']}: set them yourself and profile "
                            "the configuration without them")
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    keep = contextlib.nullcontext(args.logdir) if args.logdir else tempfile.TemporaryDirectory(prefix='scm-profile-')
    with keep as logdir:
        wall = profile_epoch(cfg, args.steps, logdir)
        events = list(host_events(logdir))
    s = summarise(events)
    per_step = lambda ps: ps / 1e9 / args.steps  # ps summed over the epoch -> ms per step
    spans = s['spans']
    step_ms = sorted((b - a) / 1e9 for a, b in spans)
    cores = os.cpu_count()
    print(f"{args.config}: {cfg['what']}")
    print(f"\n1. {args.steps} steps of {cfg['batch_size']} under the profiler: {wall / args.steps * 1e3:.1f} ms per step "
          f"wall-clock ({args.steps * cfg['batch_size'] / wall:.0f} samples/s; the profiler adds a little)"
          + (f", median step {step_ms[len(step_ms) // 2]:.1f} ms" if step_ms else ''))
    total = sum(s['kinds'].values())
    print(f"\n2. Busy ms per step by kind of work, summed over threads ({cores} CPUs: at most "
          f"{cores * wall / args.steps * 1e3:.1f} ms per step)")
    for kind, ps in s['kinds'].most_common():
        print(f"   {per_step(ps):7.2f} ms  {100 * ps / total:5.1f} %  {kind}")
    print(f"   {per_step(total):7.2f} ms  total")
    print(f"\n3. The {args.top} longest ops, ms per step summed over the epoch")
    for name, ps in s['ops'].most_common(args.top):
        print(f"   {per_step(ps):7.3f}  {name[:150]}")
    if args.timeline and spans:
        a, b = spans[len(spans) // 2]
        print(f"\n4. One step ({(b - a) / 1e9:.2f} ms): ops and XLA kernel runs of 0.05 ms or more, start and "
              "duration in ms, thread")
        rows = sorted((start, duration, thread, name) for thread, start, duration, name in events
                      if thread != 'python' and a <= start <= b and duration >= 5e7
                      and (is_op(name) or name == XLA_EXECUTION))
        for start, duration, thread, name in rows:
            label = 'XLA kernel run (GeluBatchNorm)' if name == XLA_EXECUTION else short_name(name)
            print(f"   {(start - a) / 1e9:7.2f} {duration / 1e9:6.2f}  {thread[-8:]:8s} {label[:110]}")
    print(f"\nprofile kept in {logdir} (TensorBoard's profiler reads it)" if args.logdir else '')


if __name__ == '__main__':
    main()
