"benchmarks/: the GPU suite and the generator benchmark run on CPU at tiny sizes and write sane figures (no timing goals here)."
import importlib.util, json, math, sys
from pathlib import Path
import pytest

BENCH = Path(__file__).resolve().parents[1] / 'benchmarks'


def _load(name):
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _pos(v): return isinstance(v, (int, float)) and math.isfinite(v) and v > 0


def test_gpu_suite_tiny_on_cpu(tmp_path):
    gpu = _load('gpu')
    out = tmp_path / 'gpu.json'
    gpu.main(['--device', 'cpu', '--tiny', '--samples', '2048', '--batch', '128', '--width', '32', '--gen-poses', '5000',
              '--poseaug-samples', '256', '--repeats', '1', '--out', str(out)])
    r = json.loads(out.read_text())
    assert r['device_type'] == 'cpu' and r['tiny'] and r['goals']['epoch_s_max'] == 2.0
    for k in ('eager', 'compile'):                                     # compile runs with the 'eager' backend on CPU
        e = r['posebench'][k]
        assert _pos(e['epoch_s']) and _pos(e['samples_per_s']) and e['samples'] == 2048 and math.isfinite(e['loss'])
    assert r['posebench_best'] in r['posebench']
    dl = r['dataloader']
    assert _pos(dl['epoch_s']) and dl['samples'] == 2048 and not dl['extrapolated']
    assert all(_pos(v) for v in r['speedup_vs_dataloader'].values())
    assert _pos(r['generator']['poses_per_s']) and r['generator']['poses'] >= 5000
    s = r['streaming']
    assert 0 <= s['busy'] <= 1 and s['wait_ms_per_step'] >= 0 and _pos(s['ms_per_step'])
    p = r['poseaug']
    assert p['finite'] and _pos(p['epoch_s']) and p['samples'] == 256
    assert 'goals_met' not in r                                       # goals are judged on a GPU at full size only


def test_generator_benchmark_tiny(tmp_path):
    gen = _load('generator')
    r = gen.main(['--batch', '2000', '--rounds', '1', '--json', str(tmp_path / 'g.json')])
    assert r['max_abs_diff_mm'] < 2e-3                                # planned FK == joint-by-joint FK
    rates = r['rates_poses_per_s']
    assert all(_pos(v) for v in rates.values()) and 'after: end to end (PoseGenerator.sample)' in rates
    assert _pos(r['speedup_end_to_end']) and _pos(r['limit_poses_per_s']) and 0 < r['limit_ratio'] < 1
    assert r['flops_per_pose'] == sum(r['flops_breakdown'].values())
