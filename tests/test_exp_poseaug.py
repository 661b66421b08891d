"A tiny headless papermill run of nbs/experiments/train_poseaug.ipynb (baseline vs PoseAug, Figure 7 statistics)."
import json
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / 'nbs' / 'experiments' / 'train_poseaug.ipynb'


def test_train_poseaug_notebook_tiny(tmp_path):
    pm = pytest.importorskip('papermill')
    out = tmp_path / 'run'
    pm.execute_notebook(str(NB), str(tmp_path / 'out.ipynb'), kernel_name='python3', progress_bar=False,
                        cwd=str(tmp_path),
                        parameters=dict(data='default', models=['simple_baseline'], model_kwargs={'width': 64},
                                        epochs=2, pretrain_epochs=1, batch_size=128, lr=1e-3, device='cpu', seed=0,
                                        out_dir=str(out), train_fraction=0.01, test_samples=200, view_samples=500,
                                        ba=True, bl=True, rt=True, feedback=True, d2d=True, d3d=True, kcs='part'))
    m = json.loads((out / 'metrics.json').read_text())
    assert [r['method'] for r in m['runs']] == ['simple_baseline', 'simple_baseline + PoseAug']
    for r in m['runs']:
        t = r['tests']['default_S9_S11']
        assert t['n'] == 200 and t['mpjpe'] > 0 and len(r['history']) == 2
    assert (out / 'simple_baseline' / 'poseaug' / 'metrics.json').exists()
    assert (out / 'simple_baseline' / 'baseline' / 'metrics.json').exists()
    assert (out / 'figure7.png').stat().st_size > 10000
    v = m['viewpoint']
    assert v['original']['n'] == 384 and 0 < v['augmented']['n'] <= 500
    # the augmentor (RT: rotations up to ±π) spreads the view points: more entropy, wider elevation
    assert v['augmented']['view_entropy_bits'] > v['original']['view_entropy_bits']
    assert v['augmented']['elevation_std_deg'] > v['original']['elevation_std_deg']
