"""Dashboard latency on this machine: what a slider move costs.

    python benchmarks/dashboards.py            # probe (SimpleBaseline, full size) + explorer with 1M poses

Sensitivity probe: time of one slider move = model forward on one pose + plotly figure update (the widget's own
`update`, called through the slider's observer), median over moves. Distribution explorer: 1M poses resident as
one tensor; time of one quantity/joint change = statistics + binning in torch + figure update (only bin counts
reach the figure, never the points). The issue's target: probe well under 100 ms on CPU.
"""
import argparse, statistics, time
import torch
from posebench.data import default_dataset
from posebench.models import get_model
from posebench.viz import SensitivityProbe, DistributionExplorer


def probe_ms(moves: int = 30) -> float:
    ds = default_dataset()
    net = get_model('simple_baseline').eval()             # 4.3 M parameters, the paper's size
    probe = SensitivityProbe({'sb': net}, ds.inputs2d()[:100], ds.skeleton)
    probe.joint.value = ds.skeleton.index('RWrist')
    times = []
    for i in range(moves):
        t = time.perf_counter(); probe.sx.value = -0.9 + 0.06 * i; times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def explorer_ms(n: int = 1_000_000, changes: int = 6) -> tuple:
    ds = default_dataset()
    reps = -(-n // len(ds))
    poses = ds.pose3d.repeat(reps, 1, 1)[:n]
    poses = poses + torch.randn_like(poses) * 5          # not n exact copies
    t = time.perf_counter(); ex = DistributionExplorer({'1M poses': poses, 'original': ds}); build = time.perf_counter() - t
    times, quantities = [], ['position', 'bone_length', 'joint_angle', 'viewpoint', 'position', 'bone_length']
    for i in range(changes):
        t = time.perf_counter(); ex.quantity.value = quantities[i % len(quantities)]; times.append(time.perf_counter() - t)
        assert int(ex.counts['1M poses'].sum()) == n
    return 1000 * build, 1000 * statistics.median(times)


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--poses', type=int, default=1_000_000)
    a = p.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    ms = probe_ms()
    print(f"sensitivity probe: {ms:.1f} ms per slider move (median; target < 100 ms) -> {100 / ms:.1f}x under target")
    b, m = explorer_ms(a.poses)
    print(f"distribution explorer, {a.poses:,} poses: built in {b:.0f} ms, {m:.0f} ms per quantity change (median)")
