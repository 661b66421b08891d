"""Generated poses per second of the PoseGU generator (angle sampling, eq. 7 interpolation, FK, whole-body rotation,
camera placement and projection) at batch 100k, on CPU and, when present, CUDA.

    OMP_NUM_THREADS=2 python benchmarks/generator.py [--batch 100000] [--repeats 3] [--data default]
"""
import argparse, time
import torch
from posebench.data import load_benchmark
from posebench.kinematics import PoseGenerator, select_seeds, forward_kinematics_angles
from posebench.geometry import project


def bench(gen, batch, repeats, device):
    gen = gen.to(device)
    S = -(-batch // gen.sequence_length)
    g = torch.Generator(device=device).manual_seed(0)
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    gen.sample(S, g); sync()                                       # warm-up
    full, fk = [], []
    for _ in range(repeats):
        t = time.perf_counter(); d = gen.sample(S, g); sync(); full.append(time.perf_counter() - t)
        ang = d['angles'].reshape(-1, *d['angles'].shape[-2:]); L = gen.bone_templates[d['template']].repeat_interleave(gen.sequence_length, 0)
        t = time.perf_counter()
        x = forward_kinematics_angles(ang, L, root=torch.tensor([0., 0., 5000.], device=device))
        project(x, gen.cameras[:1, :4]); sync(); fk.append(time.perf_counter() - t)
    n = S * gen.sequence_length
    return n / min(full), n / min(fk)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--batch', type=int, default=100_000)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--data', default='default')
    a = p.parse_args()
    train, _ = load_benchmark(a.data)
    gen = PoseGenerator.from_poseset(train[select_seeds(train, 20)])
    devices = [torch.device('cpu')] + ([torch.device('cuda')] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, batch {a.batch}")
    for dev in devices:
        full, fk = bench(gen, a.batch, a.repeats, dev)
        name = torch.cuda.get_device_name() if dev.type == 'cuda' else 'cpu'
        print(f"{name:>24s}: generator.sample (sampling + interpolation + FK + rotation + projection) {full / 1e6:.3f} M poses/s; "
              f"FK + projection only {fk / 1e6:.3f} M poses/s")


if __name__ == '__main__':
    main()
