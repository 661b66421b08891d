"""Profile SimpleBaseline training steps (batch 1024) with torch.profiler: where does a step's time go?

Mirrors the `posebench.train.Trainer` data path — the whole data set resident as tensors on the device, a
`DeviceSampler` handing out index tensors, one `v[idx]` gather per field — then forward, MSE loss, backward,
gradient clipping and an Adam step. Prints the time per phase (labelled with `record_function`), the top aten ops,
and the share of the step spent in the model's matrix multiplies versus the data gather.

    OMP_NUM_THREADS=1 python benchmarks/profile_step.py                    # CPU, 1 thread
    python benchmarks/profile_step.py --device cuda --n 1500000 --steps 50 # when a GPU is present
"""
import argparse, time
import torch
from torch.profiler import profile, record_function, ProfilerActivity
from posebench.skeleton import H36M17
from posebench.models import get_model, count_parameters
from posebench.data import DeviceSampler

PHASES = ('data_gather', 'forward', 'backward', 'clip_grad', 'optimizer')
MATMUL = ('aten::addmm', 'aten::mm', 'aten::bmm', 'aten::matmul', 'aten::linear')
GATHER = ('aten::index', 'aten::index_select', 'aten::gather', 'aten::take')

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--model', default='simple_baseline')
    ap.add_argument('--batch', type=int, default=1024)
    ap.add_argument('--n', type=int, default=300_000, help='resident training samples (Human3.6M train: 1.5 M)')
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--warmup', type=int, default=5)
    ap.add_argument('--threads', type=int, default=None, help='torch.set_num_threads (default: leave as is)')
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--rows', type=int, default=12, help='rows of the op table')
    a = ap.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    g = torch.Generator().manual_seed(0)
    skel = H36M17
    data = {'x': (torch.rand(a.n, skel.num_joints, 2, generator=g) * 2 - 1).to(dev),
            'y': (torch.randn(a.n, skel.num_joints, 3, generator=g) * 0.2).to(dev)}
    data['y'][:, 0] = 0
    torch.manual_seed(0)
    net = get_model(a.model, skel).to(dev).train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    sampler = DeviceSampler(a.n, a.batch, shuffle=True, drop_last=True, seed=0, device=dev)
    it = iter(sampler)
    sync = (lambda: torch.cuda.synchronize()) if dev.type == 'cuda' else (lambda: None)

    def step():
        nonlocal it
        try: idx = next(it)
        except StopIteration: it = iter(sampler); idx = next(it)
        with record_function('data_gather'):
            batch = {k: v[idx] for k, v in data.items()}
        with record_function('forward'):
            loss = (net(batch['x']) - batch['y']).square().sum(-1).mean()
        opt.zero_grad(set_to_none=True)
        with record_function('backward'):
            loss.backward()
        with record_function('clip_grad'):
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        with record_function('optimizer'):
            opt.step()
        return loss

    for _ in range(a.warmup): step()
    sync()
    t0 = time.perf_counter()
    for _ in range(a.steps): step()
    sync()
    plain = (time.perf_counter() - t0) / a.steps

    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if dev.type == 'cuda' else [])
    with profile(activities=acts) as prof:
        for _ in range(a.steps): step()
        sync()
    ev = prof.key_averages()
    key = 'self_device_time_total' if dev.type == 'cuda' else 'self_cpu_time_total'
    tot = lambda e: (e.device_time_total if dev.type == 'cuda' else e.cpu_time_total)
    self_t = lambda e: getattr(e, key)
    print(f"{a.model}: {count_parameters(net):,} params, batch {a.batch}, {a.n:,} resident samples, device {dev}, "
          f"threads {torch.get_num_threads()}")
    print(f"step time without profiler: {plain * 1e3:.1f} ms  ({a.batch / plain:,.0f} samples/s; "
          f"epoch of 1.5 M samples ≈ {1.5e6 / a.batch * plain:.0f} s)\n")
    phases = {e.key: tot(e) for e in ev if e.key in PHASES}
    whole = sum(phases.values())
    print('phase         ms/step   share')
    for p in PHASES:
        if p in phases: print(f"{p:12s} {phases[p] / 1e3 / a.steps:8.2f}  {100 * phases[p] / whole:5.1f} %")
    ops = [e for e in ev if e.key.startswith('aten::')]
    all_self = sum(self_t(e) for e in ops)
    mm = sum(self_t(e) for e in ops if e.key in MATMUL)
    gather = sum(self_t(e) for e in ops if e.key in GATHER)
    print(f"\nself time of aten ops: matmuls (addmm/mm) {100 * mm / all_self:.1f} %, "
          f"data gather (index) {100 * gather / all_self:.1f} %, everything else {100 * (all_self - mm - gather) / all_self:.1f} %")
    print(f"data gather phase: {phases.get('data_gather', 0) / 1e3 / a.steps:.3f} ms/step "
          f"= {100 * phases.get('data_gather', 0) / whole:.2f} % of the step\n")
    print(ev.table(sort_by=key, row_limit=a.rows))

if __name__ == '__main__':
    main()
