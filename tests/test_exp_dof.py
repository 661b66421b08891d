"Runs nbs/experiments/train_dof.ipynb headless through papermill in a tiny setting and checks what it writes."
import json
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / 'nbs' / 'experiments' / 'train_dof.ipynb'


def test_train_dof_notebook_tiny(tmp_path):
    pm = pytest.importorskip('papermill')
    out = tmp_path / 'run'
    pm.execute_notebook(str(NB), str(tmp_path / 'executed.ipynb'), kernel_name='python3', language='python', progress_bar=False,
                        cwd=str(ROOT), parameters=dict(
                            data='default', variants=['baseline', 'progressive', 'progressive_attr'], epochs=1,
                            batch_size=128, device='cpu', seed=0, out_dir=str(out), width=32, dropout=0.1,
                            train_fraction=0.02, test_fraction=0.02, compare_kwargs={'width': 32}))
    runs = json.loads((out / 'metrics.json').read_text())
    assert [r['method'] for r in runs] == ['simple_baseline', 'dof_baseline', 'dof_progressive', 'dof_progressive_attr']
    for r in runs:
        assert r['config']['epochs'] == 1 and len(r['history']) == 1
        for t in r['tests'].values():
            assert set(t['per_group']) == {'torso', 'proximal', 'distal'} and len(t['per_joint']) == 17
            assert 0 < t['mpjpe'] < 2000
        assert (out / r['method'] / 'metrics.json').exists()
    assert 'attr_acc' in next(iter(runs[-1]['tests'].values()))
    table = (out / 'per_joint_table.md').read_text()
    assert 'simple_baseline' in table and 'dof_progressive_attr' in table and 'Wrist' in table
    std = json.loads((out / 'std_table.json').read_text())
    assert std['merged']['Wrist'] > std['merged']['Spine'] > 0
    assert (out / 'per_group.png').stat().st_size > 1000
    assert 'Elbow' in (out / 'std_table.md').read_text()
