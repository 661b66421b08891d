"Tests of posebench.train: config validation, the loop, exact resume, NaN guard, DDP (torchrun, gloo), recipes."
import json, os, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
import torch
from torch import nn
from posebench.train import (TrainConfig, Trainer, NonFiniteLossError, CHECKPOINT, evaluate, train_supervised,
                             rng_state, set_rng_state, seed_everything)

ROOT = Path(__file__).resolve().parents[1]


def toy_data(n=300, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, generator=g)
    return {'x': x, 'y': x @ torch.randn(6, 2, generator=g)}


class Interrupt(Exception): pass


def toy_run(out_dir=None, epochs=4, stop_at=None, nan_at=None, width=16, **kw):
    "Train a small MLP with dropout + batch-norm; stop_at=(epoch, step) raises mid-epoch like a killed job."
    seed_everything(0)
    net = nn.Sequential(nn.Linear(6, width), nn.BatchNorm1d(width), nn.ReLU(), nn.Dropout(0.2), nn.Linear(width, 2))
    kw = {'batch_size': 32, 'lr': 1e-2, 'progress': False, **kw}
    tr = Trainer(TrainConfig(epochs=epochs, out_dir=None if out_dir is None else str(out_dir), **kw), {'model': net})
    def step(tr, b, i):
        if stop_at == (tr.epoch, i): raise Interrupt
        x = b['x'] * float('nan') if nan_at == (tr.epoch, i) else b['x']
        loss = nn.functional.mse_loss(tr.modules['model'](x), b['y'])
        tr.backward(loss, 'model')
        return {'loss': loss.detach()}
    return tr, tr.fit(toy_data(), step)


def test_config_types_and_values():
    with pytest.raises(ValueError, match=r'TrainConfig\.epochs'): TrainConfig(epochs='3')
    with pytest.raises(ValueError, match=r'TrainConfig\.lr'): TrainConfig(lr='0.001')
    with pytest.raises(ValueError, match=r'TrainConfig\.amp'): TrainConfig(amp='yes')
    with pytest.raises(ValueError, match=r'TrainConfig\.optimizer.*adamw'): TrainConfig(optimizer='sgd')
    with pytest.raises(ValueError, match='unknown keys'): TrainConfig.from_dict({'epochs': 1, 'foo': 2})
    c = TrainConfig(epochs=2, lr=1)
    assert isinstance(c.lr, float) and TrainConfig.from_dict(c.to_dict()) == c


def test_training_lowers_loss_and_writes_logs(tmp_path):
    tr, hist = toy_run(tmp_path, epochs=5)
    assert hist[-1]['loss'] < 0.3 * hist[0]['loss']
    assert json.loads((tmp_path / 'history.json').read_text()) == hist
    lines = (tmp_path / 'log.csv').read_text().splitlines()
    assert lines[0].startswith('epoch,loss,lr') and len(lines) == 6
    assert abs(hist[2]['lr'] - 1e-2 * 0.95 ** 2) < 1e-12
    assert not [p for p in tmp_path.iterdir() if 'tmp' in p.name]


def test_resume_after_interruption_is_exact(tmp_path):
    full, hist = toy_run(tmp_path / 'full', epochs=4)
    with pytest.raises(Interrupt): toy_run(tmp_path / 'cut', epochs=4, stop_at=(2, 3))   # killed inside epoch 3
    assert torch.load(tmp_path / 'cut' / CHECKPOINT, weights_only=True)['epoch'] == 2
    res, hist2 = toy_run(tmp_path / 'cut', epochs=4, resume=True)
    for (k, a), b in zip(full.module('model').state_dict().items(), res.module('model').state_dict().values()):
        assert torch.equal(a, b), k
    for a, b in zip(full.optimizers['model'].state_dict()['state'].values(),
                    res.optimizers['model'].state_dict()['state'].values()):
        assert torch.equal(a['exp_avg'], b['exp_avg'])
    assert hist2 == [{**h, 'train_time_s': h2['train_time_s'], 'time_s': h2['time_s']} for h, h2 in zip(hist, hist2)]


def test_resume_extends_epochs(tmp_path):
    full, _ = toy_run(tmp_path / 'a', epochs=3)
    toy_run(tmp_path / 'b', epochs=1)
    more, hist = toy_run(tmp_path / 'b', epochs=3, resume=True)   # epochs may grow on resume
    assert [h['epoch'] for h in hist] == [1, 2, 3]
    assert all(torch.equal(a, b) for a, b in zip(full.module('model').parameters(), more.module('model').parameters()))


def test_resume_refuses_other_config_or_model(tmp_path):
    toy_run(tmp_path, epochs=1)
    with pytest.raises(ValueError, match=r"config\.lr: checkpoint=0\.01, now=0\.001"):
        toy_run(tmp_path, epochs=2, resume=True, lr=1e-3)
    with pytest.raises(ValueError, match=r"model\.0\.weight: shape checkpoint=\(16, 6\), now=\(8, 6\)"):
        toy_run(tmp_path, epochs=2, resume=True, width=8)


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    with pytest.raises(NonFiniteLossError, match=r"loss 'model' = nan at epoch 2, step 4.*last good checkpoint \(epoch 1\)"):
        toy_run(tmp_path, epochs=3, nan_at=(1, 4))
    ck = torch.load(tmp_path / CHECKPOINT, weights_only=True)
    assert ck['epoch'] == 1 and all(bool(torch.isfinite(v.float()).all()) for v in ck['modules']['model'].values())
    assert len(json.loads((tmp_path / 'history.json').read_text())) == 1


def test_amp_bf16_and_adamw_run():
    tr, hist = toy_run(None, epochs=2, amp=True, optimizer='adamw', weight_decay=1e-2)
    assert all(np.isfinite(h['loss']) for h in hist) and isinstance(tr.optimizers['model'], torch.optim.AdamW)


def test_rng_state_roundtrip_weights_only(tmp_path):
    seed_everything(5)
    torch.save(rng_state(), tmp_path / 'r.pt')
    a = (torch.rand(3), np.random.rand(3))
    set_rng_state(torch.load(tmp_path / 'r.pt', weights_only=True))
    b = (torch.rand(3), np.random.rand(3))
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_bad_data_and_names():
    tr = Trainer(TrainConfig(epochs=1, progress=False), {'model': nn.Linear(2, 2)})
    with pytest.raises(ValueError, match=r"data\['y'\] has 3 rows"):
        tr.fit({'x': torch.zeros(4, 2), 'y': torch.zeros(3, 2)}, lambda *a: {})
    with pytest.raises(ValueError, match=r"optimizer 'gen': unknown; valid: \['model'\]"):
        tr.backward(torch.tensor(1.), 'gen')


# --- recipes on the embedded default data

@pytest.fixture(scope='module')
def bench():
    from posebench.data import load_benchmark
    train, tests = load_benchmark('default')
    return train, {k: v[::40] for k, v in tests.items()}


class Zero(nn.Module):
    "Predicts the all-zero pose: its MPJPE is the mean joint distance from the root, in mm."
    def __init__(self): super().__init__(); self.p = nn.Parameter(torch.zeros(()))
    def forward(self, x): return x.new_zeros(x.shape[0], x.shape[1], 3) * self.p


def test_evaluate_units_and_schema(bench):
    _, tests = bench
    ps = next(iter(tests.values()))
    r = evaluate(Zero(), ps)
    expect = ps.targets3d().norm(dim=-1).mean()
    assert abs(r['mpjpe'] - float(expect)) < 1e-3 * float(expect)          # metres -> mm done once, correctly
    assert {'mpjpe', 'p_mpjpe', 'n_mpjpe', 'pck', 'auc', 'n', 'per_joint', 'per_group', 'per_action'} <= set(r)
    assert r['n'] == len(ps)


def test_train_supervised_learns_and_writes_results(bench, tmp_path):
    train, tests = bench
    cfg = TrainConfig(epochs=3, batch_size=256, lr=1e-3, progress=False)
    res = train_supervised(train.subsample(0.1, seed=0), tests, 'simple_baseline', cfg,
                           model_kwargs=dict(width=128), out_dir=tmp_path, eval_untrained=True, method='sb-small')
    saved = json.loads((tmp_path / 'metrics.json').read_text())
    assert saved == json.loads(json.dumps(dict(res)))
    assert saved['method'] == 'sb-small' and saved['config']['epochs'] == 3 and len(saved['history']) == 3
    assert {'method', 'config', 'device', 'wall_time_s', 'history', 'tests'} <= set(saved)
    for k in tests:
        assert res['tests'][k]['mpjpe'] < 0.7 * res['untrained'][k]['mpjpe']
        assert f'{k}_mpjpe' in saved['history'][-1]
    assert (tmp_path / CHECKPOINT).exists()
    with pytest.raises(ValueError, match=r"meta\.model_kwargs"):    # another model in the same dir
        train_supervised(train[:512], tests, cfg=cfg.replace(resume=True), model_kwargs=dict(width=64), out_dir=tmp_path)


def test_sample_weights(bench):
    train, _ = bench
    sub = train[:512]
    cfg = TrainConfig(epochs=1, batch_size=128, grad_clip=None, progress=False)
    with pytest.raises(ValueError, match=r'sample_weights.*\(512,\)'):
        train_supervised(sub, None, cfg=cfg, sample_weights=np.ones(3))
    # Adam is invariant to the loss scale, so doubling every weight doubles the logged loss and nothing else
    a = train_supervised(sub, None, cfg=cfg, model_kwargs=dict(width=32), sample_weights=np.full(512, 2.))
    b = train_supervised(sub, None, cfg=cfg, model_kwargs=dict(width=32))
    assert abs(a['history'][0]['loss'] / b['history'][0]['loss'] - 2) < 1e-3
    # all-zero weights: zero gradients, the parameters never move
    z = train_supervised(sub, None, cfg=cfg, model_kwargs=dict(width=32), sample_weights=torch.zeros(512))
    seed_everything(0)
    from posebench.models import get_model
    fresh = get_model('simple_baseline', width=32)
    assert all(torch.equal(p, q) for p, q in zip(z.model.parameters(), fresh.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(b.model.parameters(), fresh.parameters()))


def test_ddp_torchrun_two_gloo_processes(tmp_path):
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(ROOT) + os.pathsep + os.environ.get('PYTHONPATH', '')}
    p = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2',
                        str(ROOT / 'tests' / 'ddp_worker.py'), str(tmp_path)],
                       env=env, capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    r0, r1 = (json.loads((tmp_path / f'rank{r}.json').read_text()) for r in (0, 1))
    assert r0['world_size'] == r1['world_size'] == 2
    assert r0['sum'] == r1['sum'] and r0['sq'] == r1['sq']               # DDP kept the replicas identical
    saved = json.loads((tmp_path / 'run' / 'metrics.json').read_text())
    assert saved['world_size'] == 2 and len(saved['history']) == 1
    assert {'method', 'config', 'device', 'wall_time_s', 'history', 'tests'} <= set(saved)
    assert {'loss', 'lr', 'epoch'} <= set(saved['history'][0])
    assert saved['tests'].keys() == r0['mpjpe'].keys()
    assert (tmp_path / 'run' / CHECKPOINT).exists() and (tmp_path / 'run' / 'log.csv').exists()
    assert not list(tmp_path.glob('run/*tmp*'))
    # a NaN on rank 1 alone stopped both processes at the same step; the epoch-1 checkpoint is kept
    assert 'at epoch 2, step 2' in r0['nan_msg'] and 'another process' in r0['nan_msg']
    assert "loss 'model' = nan at epoch 2, step 2" in r1['nan_msg']
    assert torch.load(tmp_path / 'nan' / CHECKPOINT, weights_only=True)['epoch'] == 1
