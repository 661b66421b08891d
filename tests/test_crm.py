"posebench.crm: histograms, smoothing, cIPS weights, effective sample size, counterfactual loss and the three PoseGU arms."
import math
import pytest
import torch
from posebench.crm import (JointHistograms, joint_bounds, cips_weights, crm_weights, counterfactual_loss,
                           effective_sample_size)



def _poses(n, shift=0., seed=0, J=17):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, J, 2, generator=g) * 0.1 + shift


def test_hand_computed_frequencies_and_smoothing():
    x = torch.tensor([[[0.5, 0.5]], [[0.2, 0.1]], [[0.9, 0.9]], [[1.5, 1.5]]])
    h = JointHistograms.fit(x, bins=2, lo=torch.zeros(1, 2), hi=torch.full((1, 2), 2.), alpha=1., root_relative=False)
    assert torch.equal(h.counts[0], torch.tensor([[3., 0.], [0., 1.]]))
    assert torch.allclose(h.frequencies()[0], torch.tensor([[4 / 8, 1 / 8], [1 / 8, 2 / 8]]))
    # an empty bin has a finite log-propensity; points outside the range go to the edge bins
    lp = h.log_propensity(torch.tensor([[[1.9, 0.1]], [[-3., -3.]]]))
    assert torch.allclose(lp, torch.tensor([math.log(1 / 8), math.log(1 / 2)]))


def test_weights_never_exceed_M_and_are_finite_on_disjoint_sets():
    gt, gen = _poses(3000, 0.0, 1), _poses(2000, 0.15, 2)          # partly disjoint supports: many empty bins
    lo, hi = joint_bounds(gt, gen)
    hg, hf = JointHistograms.fit(gt, 16, lo, hi), JointHistograms.fit(gen, 16, lo, hi)
    for combine in ('product', 'geometric_mean'):
        for M in (0.5, 1., 10., 1e6):
            w = cips_weights(gen, hg, hf, clip_M=M, combine=combine)
            assert torch.isfinite(w).all() and (w > 0).all() and (w <= M * (1 + 1e-6)).all()
    w = cips_weights(gen, hg, hf, clip_M=1e30, combine='product')
    assert torch.isfinite(w).all() and w.max() > 10                 # unclipped ratios are large but finite
    with pytest.raises(ValueError, match='clip_M'):
        cips_weights(gen, hg, hf, clip_M=0.)


def test_weights_are_one_for_identical_distributions():
    x = _poses(5000, seed=3)
    for combine in ('product', 'geometric_mean'):
        idx, w, info = crm_weights(x, x, gt_fraction=1., bins=12, clip_M=5., combine=combine)
        assert sorted(idx.tolist()) == list(range(5000)) and info['n_gt'] == 5000
        assert torch.allclose(w, torch.ones(5000), atol=1e-5) and abs(info['ess'] - 1) < 1e-6


def test_gt_fraction_subsample_and_direction():
    real = torch.cat([_poses(900, 0.0, 4), _poses(100, 0.5, 5)])   # real data: mostly around 0
    gen = torch.cat([_poses(500, 0.0, 6), _poses(500, 0.5, 7)])    # generated: both modes evenly
    idx, w, info = crm_weights(real, gen, gt_fraction=0.25, bins=8, clip_M=100., seed=0, root_relative=False)
    assert info['n_gt'] == 250 and len(idx.unique()) == 250 and w.shape == (250,) and idx.max() < 1000
    assert torch.equal(crm_weights(real, gen, gt_fraction=0.25, bins=8, seed=0, root_relative=False)[0], idx)
    # w = p_gen / p_gt on the real subset: the real mode the generator over-covers (rare in real data) gets up-weighted
    rare = idx >= 900
    assert 0 < rare.sum() < 250 and w[rare].mean() > 1 > w[~rare].mean()


def test_geometric_mean_keeps_more_effective_samples_than_product():
    real = torch.cat([_poses(1500, 0.0, 8), _poses(500, 0.2, 9)])
    gen = _poses(2000, 0.1, 10)
    ess = {c: crm_weights(real, gen, bins=12, clip_M=1e6, combine=c)[2]['ess'] for c in ('product', 'geometric_mean')}
    assert 0 < ess['product'] < ess['geometric_mean'] <= 1
    _, w, info = crm_weights(real, gen, bins=12, clip_M=1e6, combine='product')
    assert info['ess'] == pytest.approx(effective_sample_size(w))
    assert effective_sample_size(torch.tensor([2., 0., 0., 0.])) == pytest.approx(0.25)   # Kish: (Σw)²/(NΣw²)
    assert effective_sample_size(torch.tensor([1., 3.])) == pytest.approx(16 / 20)


def test_counterfactual_loss_value_and_gradients():
    pred = torch.zeros(4, 17, 3, requires_grad=True)
    target = torch.ones(4, 17, 3) * torch.tensor([1., 2., 0., 1.])[:, None, None]
    w = torch.tensor([1., 0.5, 3., 0.])
    loss = counterfactual_loss(pred, target, w)
    assert torch.isclose(loss, torch.tensor((1 * 1 + 0.5 * 4 + 3 * 0 + 0 * 1) / 4))
    loss.backward()
    assert pred.grad[0].abs().sum() > 0 and pred.grad[3].abs().sum() == 0
    with pytest.raises(ValueError, match='weights'):
        counterfactual_loss(pred, target, torch.ones(3))


def test_bad_input():
    with pytest.raises(ValueError, match='zero-mass'):
        JointHistograms.fit(torch.zeros(0, 17, 2))
    with pytest.raises(ValueError, match='zero-mass'):
        JointHistograms(torch.zeros(17, 4, 4), torch.zeros(17, 2), torch.ones(17, 2))
    with pytest.raises(ValueError, match='alpha'):
        JointHistograms.fit(_poses(10), alpha=0.)
    bad = _poses(10); bad[2, 3, 0] = float('nan')
    with pytest.raises(ValueError, match=r'NaN/inf \(first bad samples: \[2\]\)'):
        crm_weights(bad, _poses(10))
    with pytest.raises(ValueError, match=r'\(N, J, 2\)'):
        crm_weights(torch.zeros(10, 17, 3), _poses(10))
    with pytest.raises(ValueError, match='joints'):
        crm_weights(_poses(10, J=16), _poses(10))
    with pytest.raises(ValueError, match='gt_fraction'):
        crm_weights(_poses(10), _poses(10), gt_fraction=0.)


@pytest.fixture(scope='module')
def posegu_data():
    from posebench.data import load_benchmark
    from posebench.kinematics import PoseGenerator, select_seeds
    train, tests = load_benchmark('default')
    train = train[::100]
    fake = PoseGenerator.from_poseset(train[select_seeds(train, 3)]).generate(256, seed=0)
    return train, {'t': tests['default_S9_S11'][:100]}, fake


def test_posegu_arms(posegu_data):
    from posebench.train import TrainConfig
    from posebench.crm import train_posegu, PoseGUOptions
    train, tests, fake = posegu_data
    cfg = TrainConfig(epochs=1, batch_size=128, device='cpu', progress=False)
    opts = dict(model_kwargs={'width': 64, 'blocks': 1}, bins=8, gt_fraction=0.5)
    # 'pg': generated pairs only; the real training pairs are never read
    blind = train[:]
    def boom(*a): raise AssertionError('PG read the real training pairs')
    blind.inputs2d = blind.targets3d = boom
    pg = train_posegu(blind, tests, PoseGUOptions(arm='pg', **opts), cfg, generated=fake, eval_samples=50)
    assert 'loss_cf' not in pg.history[0] and not hasattr(pg.recipe_object, 'real') and pg.extra['crm']['arm'] == 'pg'
    # 'posegu_nocrm': the real subset with weight 1; 'posegu': the same subset with its cIPS weights
    idx, w, _ = crm_weights(train.inputs2d(), fake.inputs2d(), 0.5, 8, 10., seed=0)
    for arm, expect in (('posegu_nocrm', torch.ones(len(idx))), ('posegu', w)):
        r = train_posegu(train, tests, PoseGUOptions(arm=arm, **opts), cfg, generated=fake, eval_samples=50)
        real = r.recipe_object.real
        assert torch.equal(real['x'], train.inputs2d()[idx].float()) and torch.equal(real['w'], expect.float()), arm
        assert {'loss_cf', 'loss_est'} <= set(r.history[0]) and r.extra['crm']['weights_used'] == (arm == 'posegu')
        assert r.tests['t']['n'] == 100 and r.method == {'posegu_nocrm': 'simple_baseline (PoseGU without CRM)',
                                                          'posegu': 'simple_baseline (PoseGU)'}[arm]
    assert not torch.allclose(w, torch.ones_like(w))                     # the weights do differ from 1 here
    with pytest.raises(ValueError, match='arm'): PoseGUOptions(arm='crm')


@pytest.mark.parametrize('f', [0.03, 0.5])
def test_real_subset_has_round_f_n_pairs(posegu_data, f):
    from posebench.train import TrainConfig
    from posebench.crm import train_posegu, PoseGUOptions
    train, tests, fake = posegu_data
    cfg = TrainConfig(epochs=1, batch_size=128, device='cpu', progress=False)
    r = train_posegu(train, tests, PoseGUOptions(arm='posegu_nocrm', model_kwargs={'width': 32, 'blocks': 1}, bins=8,
                                                 gt_fraction=f), cfg, generated=fake, eval_samples=20)
    real, n = r.recipe_object.real, len(train)
    assert len(real['x']) == len(real['y']) == len(real['w']) == round(f * n) == r.extra['crm']['n_gt'] > 0
    idx = crm_weights(train.inputs2d(), fake.inputs2d(), f, 8, seed=0)[0]
    assert torch.equal(real['y'], (train.targets3d()[idx] / 1000).float())


def test_gt_fraction_changes_what_is_trained_on(posegu_data):
    "Without CRM (weights 1) the histograms play no part: a different fraction trains a different network."
    from posebench.train import TrainConfig
    from posebench.crm import train_posegu, PoseGUOptions
    train, tests, fake = posegu_data
    cfg = TrainConfig(epochs=1, batch_size=128, device='cpu', progress=False)
    nets = {}
    for f in (0.03, 0.5):
        r = train_posegu(train, tests, PoseGUOptions(arm='posegu_nocrm', model_kwargs={'width': 32, 'blocks': 1}, bins=8,
                                                     gt_fraction=f), cfg, generated=fake, eval_samples=20)
        nets[f] = torch.cat([p.detach().flatten() for p in r.recipe_object.modules['model'].parameters()])
    again = train_posegu(train, tests, PoseGUOptions(arm='posegu_nocrm', model_kwargs={'width': 32, 'blocks': 1}, bins=8,
                                                     gt_fraction=0.5), cfg, generated=fake, eval_samples=20)
    assert torch.equal(nets[0.5], torch.cat([p.detach().flatten() for p in again.recipe_object.modules['model'].parameters()]))
    assert not torch.allclose(nets[0.03], nets[0.5])


def test_self_normalized_weights_have_mean_one_and_the_same_ess(posegu_data):
    from posebench.train import TrainConfig
    from posebench.crm import train_posegu, PoseGUOptions
    train, tests, fake = posegu_data
    cfg = TrainConfig(epochs=1, batch_size=128, device='cpu', progress=False)
    opts = dict(model_kwargs={'width': 32, 'blocks': 1}, bins=8, gt_fraction=0.5, self_normalize=True)
    _, w, info = crm_weights(train.inputs2d(), fake.inputs2d(), 0.5, 8, 10., seed=0)
    assert abs(info['mean_weight'] - 1) > 0.05                      # the plain cIPS weights do not average 1 here
    r = train_posegu(train, tests, PoseGUOptions(arm='posegu', **opts), cfg, generated=fake, eval_samples=20)
    wn = r.recipe_object.real['w']
    assert torch.allclose(wn, (w / w.mean()).float()) and abs(float(wn.mean()) - 1) < 1e-5
    assert effective_sample_size(wn) == pytest.approx(info['ess'], rel=1e-5)      # Kish's ESS is scale-free
    assert r.extra['crm']['self_normalized'] and r.extra['crm']['mean_weight_used'] == pytest.approx(1, abs=1e-5)
    assert r.method == 'simple_baseline (PoseGU, self-normalised)'
    nocrm = train_posegu(train, tests, PoseGUOptions(arm='posegu_nocrm', **opts), cfg, generated=fake, eval_samples=20)
    assert torch.equal(nocrm.recipe_object.real['w'], torch.ones(len(w))) and nocrm.method == 'simple_baseline (PoseGU without CRM)'
