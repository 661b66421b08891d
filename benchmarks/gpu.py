"""The GPU suite: posebench's training loop against the field's conventional DataLoader loop, the generator, streaming
and a PoseAug adversarial epoch, measured in one run; writes a JSON of figures.

On a CUDA device (goals for an H200-class GPU):
  * SimpleBaseline (width 1024, batch 1024) epoch over 1.5 M samples through `posebench.train.Trainer.fit` with bf16
    AMP: eager, `torch.compile`, and `torch.compile(mode='reduce-overhead')` (CUDA graphs) -- goal <= 2 s an epoch;
  * the same model and data through a conventional loop carried here: a per-sample `Dataset` over host tensors, a
    `torch.utils.data.DataLoader` (default collate, pinned memory), a host-to-device copy per batch, bf16 AMP --
    goal: posebench's best epoch >= 20x faster;
  * `PoseGenerator.sample` poses/s on the device -- goal >= 50 M poses/s;
  * streaming: the trainer's busy fraction on `PoseGenerator.source` batches (`benchmarks/streaming.py`) -- goal >= 95 %;
  * one PoseAug adversarial epoch (`posebench.augment.train_poseaug` on a pre-made estimator) -- time and samples/s.

    python benchmarks/gpu.py --out docs/results/gpu_h200.json                 # on the GPU machine
    python benchmarks/gpu.py --device cpu --tiny --out /tmp/gpu_tiny.json     # seconds, on CPU (the test does this)

Every figure is measured, none extrapolated, except `dataloader.epoch_s` when `--dl-samples` < `--samples` (then
`dataloader.extrapolated` is true). Compile times are reported separately from the epoch times (warm-up runs).
"""
import argparse, json, math, os, platform, statistics, sys, time
import torch
from torch import nn
import torch.nn.functional as Fn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from posebench.models import get_model
from posebench.train import TrainConfig, Trainer, resolve_device

GOALS = {'epoch_s_max': 2.0, 'speedup_vs_dataloader_min': 20.0, 'generator_poses_per_s_min': 50e6, 'stream_busy_min': 0.95}


class PerSampleSet(torch.utils.data.Dataset):
    "The conventional dataset of the field's public code: one (x, y) pair per `__getitem__`, collated by the DataLoader."
    def __init__(self, x, y): self.x, self.y = x, y
    def __len__(self): return len(self.x)
    def __getitem__(self, i): return self.x[i], self.y[i]


def mse_step(tr, batch, i):
    loss = (tr.modules['model'](batch['x']).float() - batch['y']).pow(2).mean()
    tr.backward(loss, 'model')
    return {'loss': loss.detach()}


def _sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize(dev)


def posebench_epoch(dev, X, Y, a, init, mode=None):
    """One epoch over (X, Y) through `Trainer.fit` with bf16 AMP; `mode`: None (eager), 'default' or 'reduce-overhead'
    (torch.compile of the model, handed to the Trainer compiled). Returns figures incl. the warm-up (compile) time."""
    torch.manual_seed(0)
    net = get_model('simple_baseline', width=a.width)
    net.load_state_dict(init)
    net = net.to(dev)
    if mode is not None:
        net = torch.compile(net, mode=mode, **({'backend': a.compile_backend} if a.compile_backend else {}))
    cfg = TrainConfig(epochs=1, batch_size=a.batch, device=str(dev), amp=True, progress=False, drop_last=True,
                      checkpoint=False, seed=0)
    tr = Trainer(cfg, {'model': net})
    Xd, Yd = X.to(dev), Y.to(dev)
    t = time.perf_counter()
    tr.fit({'x': Xd[:a.batch * 3], 'y': Yd[:a.batch * 3]}, mse_step)          # warm-up: allocator, cuBLAS, compilation
    _sync(dev)
    warm = time.perf_counter() - t
    tr.epoch = 0
    t = time.perf_counter()
    h = tr.fit({'x': Xd, 'y': Yd}, mse_step)
    _sync(dev)
    wall = time.perf_counter() - t
    n = (len(X) // a.batch) * a.batch
    return {'epoch_s': h[-1]['train_time_s'], 'fit_wall_s': wall, 'samples': n, 'samples_per_s': n / h[-1]['train_time_s'],
            'warmup_s': warm, 'loss': h[-1]['loss']}


def dataloader_epoch(dev, X, Y, a, init):
    "The conventional loop: DataLoader over host tensors, per-batch host-to-device copy, bf16 AMP, MSE, clip, Adam."
    torch.manual_seed(0)
    net = get_model('simple_baseline', width=a.width)
    net.load_state_dict(init)
    net = net.to(dev).train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    n = min(a.dl_samples or len(X), len(X))
    loader = torch.utils.data.DataLoader(PerSampleSet(X[:n], Y[:n]), batch_size=a.batch, shuffle=True, drop_last=True,
                                         num_workers=a.dl_workers, pin_memory=dev.type == 'cuda')
    def run(max_steps=None):
        k = 0
        for xb, yb in loader:
            xb, yb = xb.to(dev, non_blocking=True), yb.to(dev, non_blocking=True)
            with torch.autocast(dev.type, dtype=torch.bfloat16):
                loss = Fn.mse_loss(net(xb).float(), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            k += 1
            if max_steps and k >= max_steps: break
        _sync(dev)
        return float(loss.detach())
    run(3)                                                                     # warm-up
    t = time.perf_counter()
    loss = run()
    sec = time.perf_counter() - t
    steps = n // a.batch
    full = (len(X) // a.batch) * a.batch
    return {'epoch_s': sec * full / (steps * a.batch), 'measured_s': sec, 'samples': steps * a.batch,
            'samples_per_s': steps * a.batch / sec, 'extrapolated': n < len(X), 'workers': a.dl_workers, 'loss': loss}


def generator_rate(dev, a):
    "`PoseGenerator.sample` poses/s on the device (median of interleaved repeats after a warm-up)."
    from posebench.data import load_benchmark
    from posebench.kinematics import PoseGenerator, select_seeds
    train, _ = load_benchmark('default')
    gen = PoseGenerator.from_poseset(train[select_seeds(train, 20)]).to(dev)
    S = -(-a.gen_poses // gen.sequence_length)
    N = S * gen.sequence_length
    chunk = N if dev.type == 'cuda' else 8192                                  # one pass on a GPU; cache-sized on a CPU
    g = torch.Generator(device=dev).manual_seed(0)
    gen.sample(S, g, chunk=chunk, angles=False); _sync(dev)
    ts = []
    for _ in range(a.repeats):
        t = time.perf_counter(); gen.sample(S, g, chunk=chunk, angles=False); _sync(dev); ts.append(time.perf_counter() - t)
    return {'poses': N, 'poses_per_s': N / statistics.median(ts), 'chunk': chunk}


def streaming_busy(dev, a):
    "Trainer busy fraction on generated batches (prefetching source) vs resident tensors: `benchmarks/streaming.py`."
    from streaming import measure
    r = measure(dev, steps=a.stream_steps, batch=a.batch, rounds=1, width=a.width, pool_batches=a.pool_batches)
    s = r['runs']['stream, prefetch on a background thread']
    return {'busy': s['busy'], 'wait_ms_per_step': s['wait_ms_per_step'], 'ms_per_step': s['ms_per_step'],
            'samples_per_s_vs_resident': s['samples_per_s'] / r['runs']['resident tensors (pre-generated)']['samples_per_s'],
            'steps': a.stream_steps}


def poseaug_epoch(dev, a):
    "One PoseAug adversarial epoch (augmentor, critics, estimator on fake then real) on a fresh estimator, no pre-training."
    from posebench.data import load_benchmark
    from posebench.augment import train_poseaug, PoseAugOptions
    train, _ = load_benchmark('default')
    n = min(a.poseaug_samples, len(train))
    train = train[torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[:n].sort().values.numpy()]
    net = get_model('simple_baseline', train.skeleton, width=a.width)
    tcfg = TrainConfig(epochs=1, batch_size=min(a.batch, n // 2), device=str(dev), amp=True, progress=False, checkpoint=False)
    t = time.perf_counter()
    res = train_poseaug(train, {}, PoseAugOptions(model_kwargs={'width': a.width}, warmup_epochs=0), tcfg, pretrained=net)
    wall = time.perf_counter() - t
    h = res.history[0]
    return {'samples': n, 'epoch_s': h['train_time_s'], 'samples_per_s': n / h['train_time_s'], 'wall_s': wall,
            'batch': tcfg.batch_size, 'finite': all(math.isfinite(v) for v in h.values() if isinstance(v, float))}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default='auto')
    p.add_argument('--tiny', action='store_true', help='seconds-long sizes (CPU test)')
    p.add_argument('--samples', type=int, default=None, help='samples of the epoch (default 1.5 M; tiny 4096)')
    p.add_argument('--batch', type=int, default=None, help='default 1024 (tiny 256)')
    p.add_argument('--width', type=int, default=None, help='SimpleBaseline width (default 1024; tiny 64)')
    p.add_argument('--dl-samples', type=int, default=None, help='samples the DataLoader loop runs (default: all)')
    p.add_argument('--dl-workers', type=int, default=0, help='DataLoader worker processes')
    p.add_argument('--gen-poses', type=int, default=None, help='poses per generator call (default 4 M; tiny 20k)')
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--stream-steps', type=int, default=None, help='default 200 (tiny 3)')
    p.add_argument('--pool-batches', type=int, default=16)
    p.add_argument('--poseaug-samples', type=int, default=None, help='default 65536 (tiny 512)')
    p.add_argument('--no-compile', action='store_true', help='skip the torch.compile runs')
    p.add_argument('--compile-backend', default=None, help="torch.compile backend (default inductor; tiny on CPU: 'eager')")
    p.add_argument('--skip', nargs='*', default=[], help='parts to skip: posebench dataloader generator streaming poseaug')
    p.add_argument('--out', default=None, help='write the figures as JSON here')
    a = p.parse_args(argv)
    dev = resolve_device(a.device)
    tiny = a.tiny
    a.samples = a.samples or (4096 if tiny else 1_500_000)
    a.batch = a.batch or (256 if tiny else 1024)
    a.width = a.width or (64 if tiny else 1024)
    a.gen_poses = a.gen_poses or (20_000 if tiny else 4_000_000)
    a.stream_steps = a.stream_steps or (3 if tiny else 200)
    a.poseaug_samples = a.poseaug_samples or (512 if tiny else 65536)
    if tiny and a.dl_samples is None: a.dl_samples = a.samples
    if tiny and dev.type == 'cpu' and a.compile_backend is None: a.compile_backend = 'eager'
    if tiny: a.pool_batches = min(a.pool_batches, 2)
    name = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else f"CPU ({platform.processor() or platform.machine()}), {torch.get_num_threads()} threads"
    out = {'device': name, 'device_type': dev.type, 'torch': torch.__version__, 'tiny': tiny, 'args': vars(a), 'goals': GOALS,
           'time_utc': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}
    say = lambda *s: print(*s, flush=True)
    say(f"device {name}, torch {torch.__version__}, {a.samples:,} samples, batch {a.batch}, width {a.width}")

    g = torch.Generator().manual_seed(0)
    X = torch.rand(a.samples, 17, 2, generator=g) * 2 - 1
    Y = torch.randn(a.samples, 17, 3, generator=g) * 0.2
    Y[:, 0] = 0
    torch.manual_seed(0)
    init = get_model('simple_baseline', width=a.width).state_dict()

    if 'posebench' not in a.skip:
        runs = {'eager': None}
        if not a.no_compile:
            runs['compile'] = 'default'
            if dev.type == 'cuda': runs['compile_cudagraphs'] = 'reduce-overhead'
        out['posebench'] = {}
        for k, mode in runs.items():
            r = posebench_epoch(dev, X, Y, a, init, mode)
            out['posebench'][k] = r
            say(f"posebench loop ({k}, bf16 AMP): epoch {r['epoch_s']:.3f} s, {r['samples_per_s']:,.0f} samples/s (warm-up {r['warmup_s']:.1f} s)")
        best = min(out['posebench'], key=lambda k: out['posebench'][k]['epoch_s'])
        out['posebench_best'] = best
    if 'dataloader' not in a.skip:
        r = dataloader_epoch(dev, X, Y, a, init)
        out['dataloader'] = r
        say(f"DataLoader loop: epoch {r['epoch_s']:.3f} s{' (extrapolated)' if r['extrapolated'] else ''}, {r['samples_per_s']:,.0f} samples/s")
    if 'posebench' in out and 'dataloader' in out:
        b = out['posebench'][out['posebench_best']]['epoch_s']
        out['speedup_vs_dataloader'] = {k: out['dataloader']['epoch_s'] / v['epoch_s'] for k, v in out['posebench'].items()}
        say('speed-up over the DataLoader loop: ' + ', '.join(f"{k} {v:.1f}x" for k, v in out['speedup_vs_dataloader'].items()))
    if 'generator' not in a.skip:
        out['generator'] = generator_rate(dev, a)
        say(f"generator: {out['generator']['poses_per_s'] / 1e6:.2f} M poses/s")
    if 'streaming' not in a.skip:
        out['streaming'] = streaming_busy(dev, a)
        say(f"streaming: trainer busy {out['streaming']['busy']:.1%}")
    if 'poseaug' not in a.skip:
        out['poseaug'] = poseaug_epoch(dev, a)
        say(f"PoseAug adversarial epoch: {out['poseaug']['epoch_s']:.2f} s for {out['poseaug']['samples']:,} samples")
    if dev.type == 'cuda' and not tiny:          # goals are stated for an H200-class GPU at full size
        met = {}
        if 'posebench_best' in out:
            met['epoch_s'] = out['posebench'][out['posebench_best']]['epoch_s'] <= GOALS['epoch_s_max']
        if 'speedup_vs_dataloader' in out:
            met['speedup_vs_dataloader'] = max(out['speedup_vs_dataloader'].values()) >= GOALS['speedup_vs_dataloader_min']
        if 'generator' in out: met['generator'] = out['generator']['poses_per_s'] >= GOALS['generator_poses_per_s_min']
        if 'streaming' in out: met['streaming'] = out['streaming']['busy'] >= GOALS['stream_busy_min']
        out['goals_met'] = met
        say(f"goals met: {met}")
    if a.out:
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        with open(a.out, 'w') as f: json.dump(out, f, indent=1, default=str)
        say(f"wrote {a.out}")
    return out


if __name__ == '__main__':
    main()
