"""Training throughput of every estimator with posebench's training loop, data resident on the device.

    python benchmarks/train_throughput.py                   # all estimators, batch 1024, current device
    python benchmarks/train_throughput.py --steps 200 --amp # more steps, bf16 autocast
    python benchmarks/train_throughput.py --profile         # also profile SimpleBaseline steps (torch.profiler)

For each model it runs `Trainer.fit` (the real loop: DeviceSampler index gathers, MSE step, Adam, grad clipping,
per-epoch bookkeeping) over `steps` batches of random inputs after a warm-up fit, and reports samples/s.
The time of one epoch over 1.5 M samples (Human3.6M's training set) is *extrapolated* from the timed steps:
1.5e6 / samples_per_s (not a measured 1.5 M-sample epoch). `--full-epoch` measures it for real instead.
"""
import argparse, time
import torch
from torch import nn
from posebench.models import MODELS, get_model
from posebench.train import TrainConfig, Trainer, resolve_device

H36M_TRAIN = 1_500_000


def step_fn(tr, batch, i):
    loss = (tr.modules['model'](batch['x']).float() - batch['y']).pow(2).mean()
    tr.backward(loss, 'model')
    return {'loss': loss.detach()}


def time_model(name, device, batch, steps, amp=False, compile=False, n=None):
    torch.manual_seed(0)
    net = get_model(name)
    J = 17
    n = n or batch * steps
    data = {'x': torch.randn(n, J, 2, device=device), 'y': torch.randn(n, J, 3, device=device) * 0.3}
    cfg = TrainConfig(epochs=1, batch_size=batch, device=str(device), progress=False, amp=amp, compile=compile,
                      drop_last=True)
    tr = Trainer(cfg, {'model': net})
    warm = {k: v[:batch * 3] for k, v in data.items()}
    tr.fit(warm, step_fn)                                   # warm-up: allocator, cuDNN/cuBLAS, compile
    tr.epoch = 0
    hist = tr.fit(data, step_fn)
    sec = hist[-1]['train_time_s']
    return {'model': name, 'params': sum(p.numel() for p in net.parameters()), 'steps': n // batch,
            'ms_per_step': 1000 * sec / (n // batch), 'samples_per_s': (n // batch) * batch / sec, 'seconds': sec}


def profile_step(device, batch, steps=5):
    "Where the time of a SimpleBaseline step goes: gather vs forward vs backward vs optimizer."
    from torch.profiler import profile, record_function, ProfilerActivity
    from posebench.data import DeviceSampler
    torch.manual_seed(0)
    net = get_model('simple_baseline').to(device)
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    n = batch * (steps + 2)
    x, y = torch.randn(n, 17, 2, device=device), torch.randn(n, 17, 3, device=device)
    smp = DeviceSampler(n, batch, seed=0, device=device)
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == 'cuda' else [])
    it = iter(smp)
    def one():
        with record_function('1 data: sampler + gather'):
            idx = next(it); xb, yb = x[idx], y[idx]
        with record_function('2 model: forward + loss'):
            loss = (net(xb) - yb).pow(2).mean()
        with record_function('3 model: backward'):
            opt.zero_grad(set_to_none=True); loss.backward()
        with record_function('4 optimizer: clip + Adam step'):
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0); opt.step()
    one()                                                                        # warm-up
    with profile(activities=acts) as prof:
        for _ in range(steps): one()
        if device.type == 'cuda': torch.cuda.synchronize()
    ev = {e.key: e for e in prof.key_averages() if e.key[:1] in '1234' and ':' in e.key}
    attr = 'device_time_total' if device.type == 'cuda' else 'cpu_time_total'
    total = sum(getattr(e, attr) for e in ev.values())
    print(f"\nprofile of {steps} SimpleBaseline steps (batch {batch}, {device}; {attr}):")
    print('| phase | ms/step | share |\n| --- | --- | --- |')
    for k in sorted(ev):
        t = getattr(ev[k], attr)
        print(f"| {k[2:]} | {t / 1000 / steps:.2f} | {t / max(total, 1e-9):.1%} |")
    print('\ntop operators by self time:')
    sort = 'self_cuda_time_total' if device.type == 'cuda' else 'self_cpu_time_total'
    print(prof.key_averages().table(sort_by=sort, row_limit=8))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--device', default='auto')
    p.add_argument('--batch-size', type=int, default=1024)
    p.add_argument('--steps', type=int, default=None, help='timed steps per model (default 10 on CPU, 300 on GPU)')
    p.add_argument('--models', nargs='+', default=list(MODELS))
    p.add_argument('--amp', action='store_true', help='bf16 autocast')
    p.add_argument('--compile', action='store_true', help='torch.compile the model')
    p.add_argument('--full-epoch', action='store_true', help='time a real epoch of 1.5 M samples (GPU)')
    p.add_argument('--profile', action='store_true', help='profile SimpleBaseline steps with torch.profiler')
    a = p.parse_args(argv)
    device = resolve_device(a.device)
    steps = a.steps or (300 if device.type == 'cuda' else 10)
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else f"CPU, {torch.get_num_threads()} threads"
    print(f"device {device} ({name}), torch {torch.__version__}, batch {a.batch_size}, amp {a.amp}, compile {a.compile}")
    rows = []
    for m in a.models:
        r = time_model(m, device, a.batch_size, steps, a.amp, a.compile,
                       n=(H36M_TRAIN // a.batch_size) * a.batch_size if a.full_epoch else None)
        rows.append(r)
        print(f"  {m}: {r['samples_per_s']:.0f} samples/s", flush=True)
    how = 'measured' if a.full_epoch else f'extrapolated from {steps} steps'
    print(f"\n| model | params | ms/step | samples/s | epoch of 1.5 M samples ({how}) |")
    print('| --- | --- | --- | --- | --- |')
    for r in rows:
        ep = r['seconds'] if a.full_epoch else H36M_TRAIN / r['samples_per_s']
        print(f"| {r['model']} | {r['params'] / 1e6:.2f} M | {r['ms_per_step']:.1f} | {r['samples_per_s']:,.0f} | "
              f"{ep:,.1f} s ({ep / 60:.1f} min) |")
    if a.profile: profile_step(device, a.batch_size)


if __name__ == '__main__':
    main()
