"Tests of posebench.train and the recipe runner: config validation, the loop, verified checkpoints, exact resume, NaN guard, DDP (torchrun, gloo), the supervised recipe."
import json, math, os, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
import torch
from torch import nn
from posebench.train import (TrainConfig, Trainer, NonFiniteLossError, CHECKPOINT, rng_state, set_rng_state,
                             seed_everything, save_checkpoint_file, load_checkpoint_file)
from posebench.recipe import evaluate, RunResult, load_run
from posebench.supervised import train_supervised


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
    with pytest.raises(ValueError, match=r'TrainConfig\.schedule.*linear'): TrainConfig(schedule='cosine')
    with pytest.raises(ValueError, match='unknown keys'): TrainConfig.from_dict({'epochs': 1, 'foo': 2})
    # values that would silently train wrong: a negative clip norm flips the gradient, inf/0 lr, decay outside (0, 1]
    for bad in [dict(grad_clip=-1.), dict(grad_clip=math.inf), dict(lr=math.inf), dict(lr=0.), dict(lr=-1e-3),
                dict(lr=math.nan), dict(lr_decay=0.), dict(lr_decay=1.5), dict(log_every=-1),
                dict(resume=True, overwrite=True)]:
        with pytest.raises(ValueError, match=rf'TrainConfig\.({"|".join(bad)}|overwrite)'):
            TrainConfig(**bad)
    assert TrainConfig(grad_clip=None).grad_clip is None and TrainConfig(grad_clip=0).grad_clip == 0.
    c = TrainConfig(epochs=2, lr=1, schedule='linear')
    assert isinstance(c.lr, float) and TrainConfig.from_dict(c.to_dict()) == c


def test_training_lowers_loss_and_writes_logs(tmp_path):
    tr, hist = toy_run(tmp_path, epochs=5)
    assert hist[-1]['loss'] < 0.3 * hist[0]['loss']
    assert json.loads((tmp_path / 'history.json').read_text()) == hist
    lines = (tmp_path / 'log.csv').read_text().splitlines()
    assert lines[0].startswith('epoch,loss,lr') and len(lines) == 6
    assert abs(hist[2]['lr'] - 1e-2 * 0.95 ** 2) < 1e-12
    assert not [p for p in tmp_path.iterdir() if 'tmp' in p.name]


def test_linear_schedule_hand_values():
    _, hist = toy_run(None, epochs=3, schedule='linear')
    assert [h['lr'] for h in hist] == pytest.approx([1e-2 * (1 - e / 4) for e in range(3)], rel=1e-12)


def test_resume_after_interruption_is_exact(tmp_path):
    full, hist = toy_run(tmp_path / 'full', epochs=4)
    with pytest.raises(Interrupt): toy_run(tmp_path / 'cut', epochs=4, stop_at=(2, 3))   # killed inside epoch 3
    assert load_checkpoint_file(tmp_path / 'cut' / CHECKPOINT)['epoch'] == 2
    res, hist2 = toy_run(tmp_path / 'cut', epochs=4, resume=True)
    for (k, a), b in zip(full.module('model').state_dict().items(), res.module('model').state_dict().values()):
        assert torch.equal(a, b), k
    for a, b in zip(full.optimizers['model'].state_dict()['state'].values(),
                    res.optimizers['model'].state_dict()['state'].values()):
        assert torch.equal(a['exp_avg'], b['exp_avg'])
    assert hist2 == [{**h, 'train_time_s': h2['train_time_s'], 'time_s': h2['time_s']} for h, h2 in zip(hist, hist2)]
    # the time of the interrupted process counts: elapsed() continues from what the checkpoint recorded
    assert res.elapsed() > res.elapsed_before > 0


@pytest.mark.parametrize('schedule', ['exponential', 'linear'])
def test_resume_extends_epochs(tmp_path, schedule):
    "Epochs may grow on resume; a schedule that depends on the epoch count (linear) continues on the longer run's line."
    full, fh = toy_run(tmp_path / 'a', epochs=3, schedule=schedule)
    toy_run(tmp_path / 'b', epochs=1, schedule=schedule)
    more, hist = toy_run(tmp_path / 'b', epochs=3, resume=True, schedule=schedule)
    assert [h['epoch'] for h in hist] == [1, 2, 3]
    assert [h['lr'] for h in hist] == [h['lr'] for h in fh]                  # linear: 1, 3/4, 1/2 (not the 1-epoch run's 1/2)
    assert all(torch.equal(a, b) for a, b in zip(full.module('model').parameters(), more.module('model').parameters()))


def test_used_folder_refused_unless_resume_or_overwrite(tmp_path):
    first, _ = toy_run(tmp_path, epochs=1)
    with pytest.raises(ValueError, match='holds another run'):
        toy_run(tmp_path, epochs=1)
    again, hist = toy_run(tmp_path, epochs=1, overwrite=True)            # starts afresh: same as the first run
    assert len(hist) == 1 and all(torch.equal(a, b) for a, b in zip(first.module('model').parameters(),
                                                                     again.module('model').parameters()))
    with pytest.raises(ValueError, match=r"config\.lr: checkpoint=0\.01, now=0\.001"):
        toy_run(tmp_path, epochs=2, resume=True, lr=1e-3)
    with pytest.raises(ValueError, match=r"model\.0\.weight: shape checkpoint=\(16, 6\), now=\(8, 6\)"):
        toy_run(tmp_path, epochs=2, resume=True, width=8)


@pytest.mark.parametrize('damage', ['flip', 'truncate', 'cut_digest', 'empty'])
def test_damaged_checkpoint_is_a_clear_error(tmp_path, damage):
    toy_run(tmp_path, epochs=1)
    p = tmp_path / CHECKPOINT
    raw = bytearray(p.read_bytes())
    if damage == 'flip': raw[len(raw) // 2] ^= 0xFF
    elif damage == 'truncate': raw = raw[:len(raw) // 3]
    elif damage == 'cut_digest': raw = raw[:-5]
    else: raw = b''
    p.write_bytes(bytes(raw))
    why = {'flip': 'corrupted', 'truncate': 'truncated', 'cut_digest': 'corrupted', 'empty': 'empty'}[damage]
    with pytest.raises(ValueError, match=why) as e: load_checkpoint_file(p)
    assert str(p) in str(e.value)
    with pytest.raises(ValueError, match=why) as e: toy_run(tmp_path, epochs=2, resume=True)   # resume says so too
    assert str(p) in str(e.value)


def test_checkpoint_file_round_trip_and_refuses_pickles(tmp_path):
    obj = {'w': torch.arange(5.), 'n': 3, 's': 'x', 'l': [1., 2.]}
    save_checkpoint_file(tmp_path / 'c.pt', obj)
    back = load_checkpoint_file(tmp_path / 'c.pt')
    assert torch.equal(back['w'], obj['w']) and {k: back[k] for k in 'nsl'} == {k: obj[k] for k in 'nsl'}
    save_checkpoint_file(tmp_path / 'bad.pt', {'obj': Interrupt()})     # valid digest, but not weights-only safe
    with pytest.raises(ValueError, match='cannot be read safely') as e: load_checkpoint_file(tmp_path / 'bad.pt')
    assert str(tmp_path / 'bad.pt') in str(e.value)
    with pytest.raises(ValueError, match='no such file'): load_checkpoint_file(tmp_path / 'none.pt')


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    with pytest.raises(NonFiniteLossError, match=r"loss 'model' = nan at epoch 2, step 4.*last good checkpoint \(epoch 1\)"):
        toy_run(tmp_path, epochs=3, nan_at=(1, 4))
    ck = load_checkpoint_file(tmp_path / CHECKPOINT)
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


# --- the runner and the supervised recipe on the embedded default data

@pytest.fixture(scope='module')
def bench():
    from posebench.data import load_benchmark
    train, tests = load_benchmark('default')
    return train, {k: v[::40] for k, v in tests.items()}


def test_evaluate_units_and_refusals(bench):
    _, tests = bench
    name, ps = next(iter(tests.items()))
    r = evaluate(lambda p: torch.zeros(len(p), p.skeleton.num_joints, 3), tests)[name]
    expect = ps.targets3d().norm(dim=-1).mean()          # the all-zero pose: mean joint distance from the root (mm)
    assert abs(r['mpjpe'] - float(expect)) < 1e-3 * float(expect)
    assert {'mpjpe', 'p_mpjpe', 'n_mpjpe', 'pck', 'auc', 'n', 'per_joint', 'per_group', 'per_action', 'protocol'} <= set(r)
    assert r['n'] == len(ps)
    # a collapsed network (bones a fraction of a mm, as metres would look) is measured, not refused as a unit mistake
    tiny = evaluate(lambda p: p.targets3d() * 1e-3, tests)[name]
    assert abs(tiny['mpjpe'] - float(expect)) < 0.01 * float(expect)
    with pytest.raises(ValueError, match=r'NaN or inf'):
        evaluate(lambda p: p.targets3d() * float('nan'), tests)
    with pytest.raises(ValueError, match=r'shape'):
        evaluate(lambda p: p.targets3d()[:, :16], tests)


def test_train_supervised_learns_and_writes_results(bench, tmp_path):
    train, tests = bench
    cfg = TrainConfig(epochs=3, batch_size=128, lr=2e-3, progress=False)
    res = train_supervised(train.subsample(0.05, seed=0), tests, 'simple_baseline', cfg,
                           model_kwargs=dict(width=64, blocks=1), out_dir=tmp_path, eval_untrained=True,
                           method='sb-small', eval_samples=100)
    assert isinstance(res, RunResult)
    saved = RunResult.load(tmp_path / 'metrics.json')
    assert saved == RunResult.from_dict(json.loads(json.dumps(res.to_dict())))        # JSON round trip
    assert saved.method == 'sb-small' and saved.recipe == 'supervised' and saved.train_config['epochs'] == 3
    assert len(saved.history) == 3 and saved.networks['model']['kwargs'] == {'width': 64, 'blocks': 1}
    for k in tests:
        assert res.tests[k]['mpjpe'] < 0.7 * res.extra['untrained'][k]['mpjpe']
        assert f'{k}_mpjpe' in saved.history[-1]
    # the checkpoint rebuilds the trained network: the same predictions as the model in memory
    again = load_run(tmp_path)
    ps = next(iter(tests.values()))
    assert torch.allclose(again.predict_mm(ps), res.recipe_object.predict_mm(ps), atol=1e-4)
    # another model in the same folder cannot resume its checkpoint
    with pytest.raises(ValueError, match=r"meta\.networks"):
        train_supervised(train[:512], tests, cfg=cfg.replace(resume=True), model_kwargs=dict(width=32), out_dir=tmp_path)


def test_run_refuses_used_folder_and_records_failure(bench, tmp_path):
    train, _ = bench
    sub = train[:256]
    cfg = TrainConfig(epochs=1, batch_size=128, progress=False, checkpoint=False)
    train_supervised(sub, None, cfg=cfg, model_kwargs=dict(width=32), out_dir=tmp_path)
    assert (tmp_path / 'metrics.json').exists()
    with pytest.raises(ValueError, match=r'already holds a run \(metrics\.json\)'):
        train_supervised(sub, None, cfg=cfg, model_kwargs=dict(width=32), out_dir=tmp_path)
    # a failing re-run (bad weights) leaves failed.json with the error, and not the previous run's metrics.json
    with pytest.raises(ValueError, match='sample_weights'):
        train_supervised(sub, None, cfg=cfg.replace(overwrite=True), model_kwargs=dict(width=32),
                         sample_weights=np.ones(3), out_dir=tmp_path)
    assert not (tmp_path / 'metrics.json').exists()
    failed = json.loads((tmp_path / 'failed.json').read_text())
    assert 'sample_weights' in failed['error'] and failed['error'].startswith('ValueError')
    # a good re-run removes failed.json again
    train_supervised(sub, None, cfg=cfg.replace(overwrite=True), model_kwargs=dict(width=32), out_dir=tmp_path)
    assert (tmp_path / 'metrics.json').exists() and not (tmp_path / 'failed.json').exists()


def test_sample_weights(bench):
    train, _ = bench
    sub = train[:512]
    cfg = TrainConfig(epochs=1, batch_size=128, grad_clip=None, progress=False)
    with pytest.raises(ValueError, match=r'sample_weights.*\(512,\)'):
        train_supervised(sub, None, cfg=cfg, sample_weights=np.ones(3))
    with pytest.raises(ValueError, match=r'non-negative'):
        train_supervised(sub, None, cfg=cfg, sample_weights=-np.ones(512))
    # Adam is invariant to the loss scale, so doubling every weight doubles the logged loss and nothing else
    a = train_supervised(sub, None, cfg=cfg, model_kwargs=dict(width=32), sample_weights=np.full(512, 2.))
    b = train_supervised(sub, None, cfg=cfg, model_kwargs=dict(width=32))
    assert abs(a.history[0]['loss'] / b.history[0]['loss'] - 2) < 1e-3
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
    saved = RunResult.load(tmp_path / 'run' / 'metrics.json')
    assert saved.world_size == 2 and len(saved.history) == 1 and saved.recipe == 'supervised'
    assert {'loss', 'lr', 'epoch'} <= set(saved.history[0])
    assert saved.tests.keys() == r0['mpjpe'].keys()
    assert {k: v['mpjpe'] for k, v in saved.tests.items()} == r0['mpjpe']
    assert load_checkpoint_file(tmp_path / 'run' / CHECKPOINT)['world_size'] == 2
    assert (tmp_path / 'run' / 'log.csv').exists() and not list(tmp_path.glob('run/*tmp*'))
    # a NaN on rank 1 alone stopped both processes at the same step; the epoch-1 checkpoint is kept
    assert 'at epoch 2, step 2' in r0['nan_msg'] and 'another process' in r0['nan_msg']
    assert "loss 'model' = nan at epoch 2, step 2" in r1['nan_msg']
    assert load_checkpoint_file(tmp_path / 'nan' / CHECKPOINT)['epoch'] == 1


def test_flip_protocol_reaches_the_result_and_label():
    from posebench.data import load_benchmark
    from posebench.recipe import run, evenly_spaced
    from posebench.supervised import SupervisedRecipe
    train, tests = load_benchmark('default')
    r = run(SupervisedRecipe(model_kwargs={'width': 16, 'blocks': 1}), train[::200], {'t': evenly_spaced(tests['default_S9_S11'], 100)},
            TrainConfig(epochs=1, batch_size=128, progress=False), flip=True, eval_samples=50)
    assert r.method == 'simple_baseline +flip' and r.tests['t']['protocol']['flip'] is True and r.protocol['flip'] is True



def test_default_predict_mm_is_the_one_estimator_in_mm():
    "Recipe.predict_mm: modules['model'] in eval mode on normalised 2D, metres -> mm, mode restored; no 'model': refused."
    from posebench.data import load_benchmark
    from posebench.models import get_model
    from posebench.geometry import m_to_mm
    from posebench.supervised import SupervisedRecipe
    ps = load_benchmark('default')[1]['default_S9_S11'][:20]
    rec = SupervisedRecipe(model_kwargs={'width': 16, 'blocks': 1})
    net = get_model('simple_baseline', width=16, blocks=1, dropout=0.5).train()
    rec.modules = {'model': net}
    pred = rec.predict_mm(ps)
    assert net.training                                      # the caller's mode is back
    with torch.no_grad(): want = m_to_mm(net.eval()(ps.inputs2d().float()))
    assert pred.shape == (20, 17, 3) and torch.allclose(pred, want, atol=1e-3)   # eval mode (no dropout), in mm
    rec.modules = {'generator': net}
    with pytest.raises(NotImplementedError, match=r"modules\['model'\].*\['generator'\]"): rec.predict_mm(ps)


# --- issue 18 sweep
def test_lone_last_sample_joins_the_last_batch():
    "33 samples in batches of 16: the 33rd joins the last batch (batch norm cannot train on one), none is skipped."
    net = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    seen = []
    def step(tr, b, i):
        seen.append(len(b['x'])); loss = tr.modules['m'](b['x']).pow(2).mean(); tr.backward(loss, 'm'); return {'loss': loss}
    Trainer(TrainConfig(epochs=1, batch_size=16, progress=False, device='cpu'), {'m': net}).fit({'x': torch.randn(33, 2)}, step)
    assert seen == [16, 17]


def test_custom_source_lone_sample_batch_is_warned_not_silent():
    "A custom batch source that yields a one-sample batch: skipped (batch norm cannot train on it) with a warning."
    class Source:
        steps_per_epoch = 2
        def batch(self, epoch, step): return {'x': torch.randn(16 if step == 0 else 1, 2)}
    net = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    seen = []
    def step(tr, b, i):
        seen.append(len(b['x'])); loss = tr.modules['m'](b['x']).pow(2).mean(); tr.backward(loss, 'm'); return {'loss': loss}
    with pytest.warns(UserWarning, match=r"epoch 1 step 1: a batch of 1 sample\(s\) cannot train batch norm"):
        Trainer(TrainConfig(epochs=2, batch_size=16, progress=False, device='cpu'), {'m': net}).fit(Source(), step)
    assert seen == [16, 16]


def test_zero_epochs_is_not_a_training_run(bench, tmp_path):
    "epochs=0 would record the untrained network as the method's result: refused by the runner."
    train, tests = bench
    with pytest.raises(ValueError, match=r"TrainConfig.epochs: expected >= 1 for a training run, got 0"):
        train_supervised(train[:200], tests, cfg=TrainConfig(epochs=0, progress=False, device='cpu'),
                         model_kwargs={'width': 16, 'blocks': 1}, out_dir=tmp_path / 'r')
    assert not (tmp_path / 'r' / 'metrics.json').exists()
