"Each experiment notebook once, headless through papermill, in a tiny setting: the notebook contract reaches every arm."
import os
import pytest
from posebench.experiments import run_notebook, collect_results

os.environ.setdefault('OMP_NUM_THREADS', '1')
SHARED = {'train_fraction': 0.02, 'test_samples': 150, 'eval_samples': 100, 'device': 'cpu',
          'train': {'epochs': 1, 'batch_size': 128, 'resume': True, 'lr': 2e-3}}
NOTEBOOKS = {
    'train_svmac': ({'method': {'width': 32, 'critic_width': 32}, 'arms': ['n2', 'sup5']}, ['svmac_n2', 'svmac_n2_sup5']),
    'train_representations': ({'method': {'width': 32, 'critic_width': 32, 'inputs': 'orthographic'},
                               'representations': ['independent_legs_torso'], 'seeds': [0, 1], 'sensitivity_samples': 10},
                              ['hardy_independent_legs_torso[ortho]'] * 2),
    'train_dof': ({'method': {'width': 16, 'attr_width': 16}, 'arms': ['progressive_attr'], 'attr_sources': ['pred', 'noisy_gt'],
                   'compare': ''}, ['dof_progressive_attr[noisy_gt]', 'dof_progressive_attr[pred]']),
    'train_poseaug': ({'models': ['simple_baseline'], 'model_kwargs': {'width': 32, 'blocks': 1}, 'pretrain_epochs': 1,
                       'view_samples': 100, 'method': {'width': 16, 'critic2d_width': 16}},
                      ['simple_baseline', 'simple_baseline (pretrain)', 'simple_baseline + PoseAug']),
    'train_posegu': ({'method': {'model_kwargs': {'width': 32, 'blocks': 1}, 'n_generated': 1000, 'seeds_per_action': 3}},
                     ['simple_baseline (GT)', 'simple_baseline (PG)', 'simple_baseline (PoseGU)',
                      'simple_baseline (PoseGU without CRM)']),
}


@pytest.mark.parametrize('nb', list(NOTEBOOKS))
def test_notebook_contract_reaches_every_arm(nb, tmp_path):
    params, methods = NOTEBOOKS[nb]
    out = run_notebook(nb, {**SHARED, **params}, tmp_path)
    assert out.exists()
    rs = collect_results([tmp_path], strict=True)
    assert sorted(r.method for r in rs) == sorted(methods)
    for r in rs:        # every arm trained with the shared TrainConfig (resume included), and evaluated
        assert r.train_config['resume'] is True and r.train_config['lr'] == 2e-3 and r.train_config['device'] == 'cpu'
        assert r.schema == 1 and len(r.history) == r.train_config['epochs']
        t = next(iter(r.tests.values()))
        assert t['mpjpe'] > 0 and t['n'] == 150 and t['protocol']['align'] == ('scale' if r.recipe in ('svmac', 'hardy') else 'none')
    assert (tmp_path / 'experiment.json').is_file()
