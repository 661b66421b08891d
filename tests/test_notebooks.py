"Each experiment notebook once, headless through papermill, in a tiny setting: the notebook contract reaches every arm; the multi-stage notebooks resume exactly through the notebook; `posebench eval` reproduces each recipe's metrics."
import os
from pathlib import Path
import pytest
import torch
from posebench.cli import main
from posebench.experiments import run_notebook, collect_results
from posebench.recipe import RunResult, load_run

os.environ.setdefault('OMP_NUM_THREADS', '1')
SHARED = {'train_fraction': 0.02, 'test_samples': 150, 'eval_samples': 100, 'device': 'cpu',
          'train': {'epochs': 1, 'batch_size': 128, 'resume': True, 'lr': 2e-3}}
NOTEBOOKS = {
    'train_svmac': ({'method': {'width': 32, 'critic_width': 32}, 'arms': ['n2', 'sup5']}, ['svmac_n2', 'svmac_n2_sup5']),
    'train_representations': ({'method': {'width': 32, 'critic_width': 32, 'inputs': 'orthographic'},
                               'representations': ['independent_legs_torso'], 'seeds': [0, 1], 'sensitivity_samples': 10},
                              ['hardy_independent_legs_torso[ortho][gt-scale]'] * 2),
    'train_dof': ({'method': {'width': 16, 'attr_width': 16}, 'arms': ['progressive_attr'], 'attr_sources': ['pred', 'noisy_gt'],
                   'compare': ''}, ['dof_progressive_attr[noisy_gt]', 'dof_progressive_attr[pred]']),
    'train_poseaug': ({'models': ['simple_baseline'], 'model_kwargs': {'width': 32, 'blocks': 1}, 'pretrain_epochs': 1,
                       'view_samples': 100, 'method': {'width': 16, 'critic2d_width': 16, 'warmup_epochs': 1}},
                      ['simple_baseline', 'simple_baseline (pretrain)', 'simple_baseline + PoseAug']),
    'train_posegu': ({'method': {'model_kwargs': {'width': 32, 'blocks': 1}, 'n_generated': 1000, 'seeds_per_action': 3}},
                     ['simple_baseline (GT)', 'simple_baseline (PG)', 'simple_baseline (PoseGU)',
                      'simple_baseline (PoseGU without CRM)']),
}
NOT_COMPARED = ('train_time_s', 'time_s')         # timings differ between processes


def _weights(path) -> dict:
    "Every network of the run whose metrics.json is `path`, as {network: state_dict}."
    return {k: m.state_dict() for k, m in load_run(Path(path).parent, device='cpu').modules.items()}


def _assert_same_run(a: RunResult, b: RunResult):
    "Bit-exact: weights of every network, metrics on every test set, the per-epoch history (timings aside)."
    wa, wb = _weights(a.path), _weights(b.path)
    assert wa.keys() == wb.keys(), a.method
    for net in wa:
        assert wa[net].keys() == wb[net].keys() and all(torch.equal(wa[net][k], wb[net][k]) for k in wa[net]), (a.method, net)
    assert a.tests == b.tests, a.method
    strip = lambda h: [{k: v for k, v in e.items() if k not in NOT_COMPARED} for e in h]
    assert strip(a.history) == strip(b.history), a.method


def _assert_eval_reproduces(r: RunResult, tmp_path):
    "`posebench eval` on the run's own checkpoint gives every metric its metrics.json holds, exactly."
    out = tmp_path / f'eval_{r.recipe}'
    assert main(['eval', str(Path(r.path).parent), '--data', 'default', '--test-samples', str(SHARED['test_samples']),
                 '--out', str(out)]) == 0
    ev = RunResult.load(out / 'metrics.json')
    assert ev.recipe == r.recipe and ev.tests == r.tests, (r.method, ev.tests, r.tests)


@pytest.mark.parametrize('nb', list(NOTEBOOKS))
def test_notebook_contract_reaches_every_arm(nb, tmp_path):
    params, methods = NOTEBOOKS[nb]
    out = run_notebook(nb, {**SHARED, **params}, tmp_path / 'a')
    assert out.exists()
    rs = collect_results([tmp_path / 'a'], strict=True)
    assert sorted(r.method for r in rs) == sorted(methods)
    for r in rs:        # every arm trained with the shared TrainConfig (resume included), and evaluated
        assert r.train_config['resume'] is True and r.train_config['lr'] == 2e-3 and r.train_config['device'] == 'cpu'
        assert r.schema == 1 and len(r.history) == r.train_config['epochs']
        t = next(iter(r.tests.values()))
        assert t['mpjpe'] > 0 and t['n'] == 150 and t['protocol']['align'] == ('scale' if r.recipe in ('svmac', 'hardy') else 'none')
    assert (tmp_path / 'a' / 'experiment.json').is_file()
    # `posebench run ... -p train "{'resume': True}"`: 1 epoch, then 2 in the same folder == 2 straight
    two = {**SHARED, **params, 'train': {**SHARED['train'], 'epochs': 2}}
    run_notebook(nb, two, tmp_path / 'a')
    run_notebook(nb, two, tmp_path / 'b')
    runs = lambda d: {Path(r.path).parent.relative_to(d): r for r in collect_results([d], strict=True)}   # by run folder
    ra, rb = runs(tmp_path / 'a'), runs(tmp_path / 'b')
    assert ra.keys() == rb.keys() and sorted(r.method for r in ra.values()) == sorted(methods)
    for r in {r.recipe: r for r in ra.values() if r.recipe != 'supervised'}.values():
        _assert_eval_reproduces(r, tmp_path)
    for k in ra: _assert_same_run(ra[k], rb[k])
