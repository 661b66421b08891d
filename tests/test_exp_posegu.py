"A tiny headless papermill run of nbs/experiments/train_posegu.ipynb (GT vs PG vs PoseGU, Figure 1)."
import json
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / 'nbs' / 'experiments' / 'train_posegu.ipynb'


def test_train_posegu_notebook_tiny(tmp_path):
    pm = pytest.importorskip('papermill')
    out = tmp_path / 'run'
    pm.execute_notebook(str(NB), str(tmp_path / 'out.ipynb'), kernel_name='python3', language='python', progress_bar=False, cwd=str(tmp_path),
                        parameters=dict(data='default', seeds_per_action=5, n_generated=1000, sequence_length=20,
                                        gt_fraction=0.25, bins=8, clip_M=5., use_crm=True, model='simple_baseline',
                                        model_kwargs={'width': 64}, epochs=1, batch_size=256, lr=1e-3, device='cpu',
                                        seed=0, train_fraction=0.05, test_fraction=0.02, eval_samples=100,
                                        out_dir=str(out), progress=False))
    m = json.loads((out / 'metrics.json').read_text())
    assert [r['method'] for r in m['runs']] == ['simple_baseline (GT)', 'simple_baseline (PG)', 'simple_baseline (PoseGU)']
    for r, sub in zip(m['runs'], ('gt', 'pg', 'posegu')):
        t = r['tests']['default_S9_S11']
        assert t['mpjpe'] > 0 and len(r['history']) == 1
        assert json.loads((out / sub / 'metrics.json').read_text())['method'] == r['method']
    assert m['runs'][1]['train']['n'] == m['runs'][2]['train']['n'] == 1000     # PG and PoseGU see the same poses
    assert m['generator']['seeds'] == 5 * 8 and m['crm']['n_generated'] == 1000
    assert 0 < m['crm']['mean_weight'] <= 5.
    assert m['plausibility']['generated']['knee_outside_range'] == 0 == m['plausibility']['generated']['elbow_outside_range']
    assert (out / 'figure1.png').stat().st_size > 10000 and (out / 'ranges.json').exists()
