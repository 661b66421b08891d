"""Streaming PoseGU training: how busy does a trainer stay when its poses are generated on the fly?

A plain loop that mirrors `posebench.train.Trainer` (forward, MSE, backward, grad-norm clip, Adam step) trains
SimpleBaseline (width 1024, batch 1024 by default) on `PoseGenerator.source(...)` batches. Time blocked waiting for
the next batch is measured around the iterator's `next()`; busy = 1 - wait / total. Three runs, interleaved by round:
the source with background prefetch, the source without (generation inline), and the same loop on resident
pre-generated tensors (what generating costs the trainer when it shares the CPU with it).

    OMP_NUM_THREADS=2 python benchmarks/streaming.py [--steps 20] [--batch 1024] [--rounds 3] [--device cpu] [--json out.json]
"""
import argparse, json, statistics, time
import torch
from posebench.data import load_benchmark
from posebench.kinematics import PoseGenerator, select_seeds
from posebench.models import get_model


def train_steps(batches, net, opt, sync):
    "Consume `batches` (an iterator) with Trainer-like steps; returns (total seconds, seconds waiting for data, steps)."
    wait, steps = 0., 0
    t0 = time.perf_counter()
    it = iter(batches)
    while True:
        t = time.perf_counter()
        try: b = next(it)
        except StopIteration: break
        wait += time.perf_counter() - t
        loss = (net(b['x']) - b['y']).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        steps += 1
    float(loss.detach())                                 # the last step's loss: one host sync, as a trainer's log does
    sync()
    return time.perf_counter() - t0, wait, steps


def measure(device, steps=20, batch=1024, rounds=3, width=1024, pool_batches=16, data='default', threads=None, json_path=None):
    if threads: torch.set_num_threads(threads)
    device = torch.device(device)
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    train, _ = load_benchmark(data)
    gen = PoseGenerator.from_poseset(train[select_seeds(train, 20)])
    torch.manual_seed(0)
    net = get_model('simple_baseline', width=width).to(device).train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    srcs = {'stream, prefetch on a background thread': gen.source(batch, steps, seed=0, device=device, pool_batches=pool_batches),
            'stream, generated inline (no prefetch)': gen.source(batch, steps, seed=0, device=device, pool_batches=pool_batches,
                                                                 prefetch=False)}
    resident = [srcs['stream, generated inline (no prefetch)'].batch(0, s) for s in range(steps)]
    runs = {k: (lambda e, s=s: s.epoch(e)) for k, s in srcs.items()}
    runs['resident tensors (pre-generated)'] = lambda e: iter(resident)
    train_steps(iter(resident[:2]), net, opt, sync)     # warm-up
    res = {k: [] for k in runs}
    for r in range(rounds):
        for k, f in runs.items():
            res[k].append(train_steps(f(r + 1), net, opt, sync))
    out = {}
    for k, v in res.items():
        tot, wait = sum(t for t, _, _ in v), sum(w for _, w, _ in v)
        n = sum(s for _, _, s in v)
        out[k] = dict(busy=1 - wait / tot, wait_ms_per_step=1e3 * wait / n, ms_per_step=1e3 * tot / n,
                      samples_per_s=n * batch / tot, median_round_s=statistics.median(t for t, _, _ in v))
    ref = out['resident tensors (pre-generated)']['samples_per_s']
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else f"CPU, {torch.get_num_threads()} threads"
    print(f"SimpleBaseline width {width}, batch {batch}, {steps} steps x {rounds} rounds per run (interleaved); "
          f"pool of {pool_batches} batches; {name}")
    print("\n| data | busy (1 - wait/step) | wait ms/step | ms/step | samples/s | vs resident |\n| --- | --- | --- | --- | --- | --- |")
    for k, v in out.items():
        print(f"| {k} | {v['busy']:.1%} | {v['wait_ms_per_step']:.1f} | {v['ms_per_step']:.1f} | {v['samples_per_s']:,.0f} | "
              f"{v['samples_per_s'] / ref:.2f} |")
    out = dict(device=name, batch=batch, steps=steps, rounds=rounds, width=width, pool_batches=pool_batches, runs=out,
               goal='busy >= 0.95 with prefetch')
    if json_path:
        with open(json_path, 'w') as f: json.dump(out, f, indent=1)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default='cpu')
    p.add_argument('--steps', type=int, default=20)
    p.add_argument('--batch', type=int, default=1024)
    p.add_argument('--rounds', type=int, default=3)
    p.add_argument('--width', type=int, default=1024)
    p.add_argument('--pool-batches', type=int, default=16)
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--data', default='default')
    p.add_argument('--json', default=None)
    a = p.parse_args(argv)
    return measure(a.device, a.steps, a.batch, a.rounds, a.width, a.pool_batches, a.data, a.threads, a.json)


if __name__ == '__main__':
    main()
