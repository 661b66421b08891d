"""Training throughput of every estimator with posebench's training loop, data resident on the device.

    python benchmarks/train_throughput.py                   # all estimators, batch 1024, current device
    python benchmarks/train_throughput.py --steps 200 --amp # more steps, bf16 autocast
    python benchmarks/train_throughput.py --profile         # also profile SimpleBaseline steps (torch.profiler)
    python benchmarks/train_throughput.py --compare         # SimpleBaseline: posebench loop vs a DataLoader loop vs
                                                            # faster variants, interleaved (see `compare`)

For each model it runs `Trainer.fit` (the real loop: TensorSource index gathers, MSE step, Adam, grad clipping,
per-epoch bookkeeping) over `steps` batches of random inputs after a warm-up fit, and reports samples/s.
The time of one epoch over 1.5 M samples (Human3.6M's training set) is *extrapolated* from the timed steps:
1.5e6 / samples_per_s (not a measured 1.5 M-sample epoch). `--full-epoch` measures it for real instead.
"""
import argparse, json, statistics, time
import torch
from torch import nn
import torch.nn.functional as Fn
from posebench.models import MODELS, BitDropout, get_model
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
    from posebench.train import TensorSource
    torch.manual_seed(0)
    net = get_model('simple_baseline').to(device)
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    n = batch * (steps + 2)
    x, y = torch.randn(n, 17, 2, device=device), torch.randn(n, 17, 3, device=device)
    smp = TensorSource({'i': torch.arange(n, device=device)}, batch, seed=0)
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == 'cuda' else [])
    it = (smp.batch(0, s)['i'] for s in range(smp.steps_per_epoch))
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


def cpu_has_bf16() -> bool:
    "Does this CPU have native bf16 arithmetic (AVX512-BF16 or AMX)?"
    try: flags = open('/proc/cpuinfo').read()
    except OSError: return False
    return 'avx512_bf16' in flags or 'amx_bf16' in flags


class PoseAugStyleSet(torch.utils.data.Dataset):
    "The pattern of the field's public code (PoseAug's `PoseDataSet`): one sample per `__getitem__`, collated by the DataLoader."
    def __init__(self, x, y): self.x, self.y = x, y
    def __len__(self): return len(self.x)
    def __getitem__(self, i): return self.x[i], self.y[i]


def torch_dropout(net):
    "Replace every `BitDropout` of `net` by a plain `nn.Dropout` of the same p (in place): the field's model; returns `net`."
    for name, m in net.named_children():
        if isinstance(m, BitDropout): setattr(net, name, nn.Dropout(m.p))
        else: torch_dropout(m)
    return net


def compare(device, batch=1024, steps=10, rounds=5, n=None, variants=None, compile_variants=True, json_path=None):
    """SimpleBaseline training throughput, side by side and interleaved (round after round, medians):
    posebench's `Trainer.fit` (resident tensors, TensorSource), a DataLoader loop (per-sample dataset, default collate,
    per-batch `.to(device)`, `nn.Dropout`: the field's pattern), a plain resident loop with `nn.Dropout` (the eager
    limit both sat at before `BitDropout`), and variants: the library's `BitDropout` (its default), Adam(fused=True),
    bf16 autocast, `torch.compile` of the model (compile time separate)."""
    torch.manual_seed(0)
    n = n or batch * steps
    J = 17
    g = torch.Generator().manual_seed(0)
    X, Y = torch.rand(n, J, 2, generator=g) * 2 - 1, torch.randn(n, J, 3, generator=g) * 0.2
    Y[:, 0] = 0
    Xd, Yd = X.to(device), Y.to(device)
    init = get_model('simple_baseline').state_dict()
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    bf16_ok = device.type == 'cuda' or cpu_has_bf16()

    def fresh(bit_dropout=True, fused=False, compiled=False):
        net = get_model('simple_baseline')                  # the library's model: BitDropout
        net.load_state_dict(init)
        if not bit_dropout: torch_dropout(net)              # the field's model: nn.Dropout
        net = net.to(device).train()
        opt = torch.optim.Adam(net.parameters(), lr=1e-3, **({'fused': True} if fused else {}))
        return net, opt, (torch.compile(net) if compiled else net)

    def plain_loop(state, amp=False):
        net, opt, fwd = state
        perm = torch.randperm(n, device=device)
        for s in range(n // batch):
            idx = perm[s * batch:(s + 1) * batch]
            xb, yb = Xd[idx], Yd[idx]
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                loss = (fwd(xb).float() - yb).pow(2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
        return float(loss.detach())

    def dataloader_loop(state, loader):
        net, opt, fwd = state
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            loss = Fn.mse_loss(fwd(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
        return float(loss.detach())

    loader = torch.utils.data.DataLoader(PoseAugStyleSet(X, Y), batch_size=batch, shuffle=True, num_workers=0, drop_last=True,
                                         pin_memory=device.type == 'cuda')
    runs, compile_s = {}, {}
    tr = Trainer(TrainConfig(epochs=1, batch_size=batch, device=str(device), progress=False, drop_last=True, checkpoint=False),
                 {'model': fresh()[0]})
    runs['posebench Trainer.fit (library model: BitDropout)'] = lambda: (setattr(tr, 'epoch', 0), tr.fit({'x': Xd, 'y': Yd}, step_fn))
    dl = fresh(bit_dropout=False)
    runs['DataLoader loop (PoseAug pattern, nn.Dropout)'] = lambda: dataloader_loop(dl, loader)
    st = fresh(bit_dropout=False)
    runs['plain resident loop, nn.Dropout (the old eager limit)'] = lambda: plain_loop(st)
    bd = fresh()
    runs['plain resident loop, BitDropout'] = lambda: plain_loop(bd)
    fu = fresh(fused=True)
    runs['plain resident loop, BitDropout + Adam(fused=True)'] = lambda: plain_loop(fu)
    if bf16_ok:
        bf = fresh(fused=True)
        runs['BitDropout + fused Adam + bf16 autocast'] = lambda: plain_loop(bf, amp=True)
    if compile_variants:
        for name, amp in (('torch.compile(model) + fused Adam', False), ('torch.compile(model) + fused Adam + bf16', True)):
            if amp and not bf16_ok: continue
            c = fresh(fused=True, compiled=True)
            t = time.perf_counter()
            plain_loop(c, amp); sync()                  # compiles forward and backward graphs
            compile_s[name] = time.perf_counter() - t
            runs[name] = (lambda c=c, amp=amp: plain_loop(c, amp))
    if variants: runs = {k: v for k, v in runs.items() if any(s in k for s in variants)}
    for f in runs.values(): f()                        # warm-up (allocator, oneDNN primitives)
    sync()
    times = {k: [] for k in runs}
    for _ in range(rounds):
        for k, f in runs.items():
            t = time.perf_counter(); f(); sync(); times[k].append(time.perf_counter() - t)
    steps_run = n // batch
    rate = {k: steps_run * batch / statistics.median(v) for k, v in times.items()}
    ref = rate.get('DataLoader loop (PoseAug pattern, nn.Dropout)')
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else f"CPU, {torch.get_num_threads()} threads"
    print(f"SimpleBaseline (width 1024, 2 blocks), batch {batch}, {steps_run} steps per run, {rounds} interleaved rounds; {name}")
    print("\n| loop | samples/s (median) | x DataLoader loop |\n| --- | --- | --- |")
    for k, r in rate.items(): print(f"| {k} | {r:,.0f} | {r / ref:.2f} |" if ref else f"| {k} | {r:,.0f} | - |")
    for k, v in compile_s.items(): print(f"compile time ({k}): {v:.1f} s (first run, not in the rates)")
    out = dict(device=name, batch=batch, steps=steps_run, rounds=rounds, samples_per_s=rate, compile_s=compile_s,
               all_times_s=times)
    out['exactness'] = exactness(device, init, X[:batch].to(device), Y[:batch].to(device), bf16_ok, compile_variants)
    print('\nexactness vs eager float32 (same weights, same batch; dropout off):')
    for k, v in out['exactness'].items(): print(f"  {k}: {v}")
    if json_path:
        with open(json_path, 'w') as f: json.dump(out, f, indent=1)
    return out


def exactness(device, init, xb, yb, bf16_ok, compiled):
    "Max relative differences of output and gradients against eager float32, for the variants that change arithmetic."
    def grads(fwd, net, amp=False):
        net.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            out = fwd(xb).float()
        (out - yb).pow(2).mean().backward()
        return out.detach(), torch.cat([p.grad.flatten() for p in net.parameters()])
    def make():
        net = get_model('simple_baseline', dropout=0.0)
        net.load_state_dict(init)
        return net.to(device).train()
    net = make()
    o0, g0 = grads(net, net)
    rel = lambda a, b: float((a - b).norm() / b.norm())
    res = {}
    if bf16_ok:
        net = make(); o, gr = grads(net, net, True)
        res['bf16 autocast'] = {'output_rel': rel(o, o0), 'grad_rel': rel(gr, g0)}
    if compiled:
        net = make(); c = torch.compile(net); o, gr = grads(c, net)
        res['torch.compile'] = {'output_rel': rel(o, o0), 'grad_rel': rel(gr, g0)}
    return res


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
    p.add_argument('--compare', action='store_true', help='SimpleBaseline: posebench loop vs DataLoader loop vs faster variants')
    p.add_argument('--rounds', type=int, default=5, help='interleaved rounds of --compare')
    p.add_argument('--variants', nargs='*', default=None, help='--compare: only runs whose name contains one of these')
    p.add_argument('--no-compile', action='store_true', help='--compare: skip the torch.compile variants')
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--json', default=None)
    a = p.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    device = resolve_device(a.device)
    steps = a.steps or (300 if device.type == 'cuda' else 10)
    if a.compare:
        return compare(device, a.batch_size, steps, a.rounds, variants=a.variants, compile_variants=not a.no_compile,
                       json_path=a.json)
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
