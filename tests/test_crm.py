"posebench.crm: histograms, smoothing, cIPS weights, counterfactual loss and its use as train_supervised weights."
import math
import pytest
import torch
from posebench.crm import (JointHistograms, joint_bounds, cips_weights, crm_weights, counterfactual_loss, posegu_loss,
                           posegu_sample_weights)


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
    for M in (0.5, 1., 10., 1e6):
        w = cips_weights(gen, hg, hf, clip_M=M)
        assert torch.isfinite(w).all() and (w > 0).all() and (w <= M * (1 + 1e-6)).all()
    w = cips_weights(gen, hg, hf, clip_M=1e30)
    assert torch.isfinite(w).all() and w.max() > 10                 # unclipped ratios are large but finite
    with pytest.raises(ValueError, match='clip_M'):
        cips_weights(gen, hg, hf, clip_M=0.)


def test_weights_are_one_for_identical_distributions():
    x = _poses(5000, seed=3)
    w, info = crm_weights(x, x, gt_fraction=1., bins=12, clip_M=5.)
    assert torch.allclose(w, torch.ones(5000)) and info['n_gt'] == 5000
    w, _ = crm_weights(x, x, gt_fraction=1., bins=12, clip_M=5., combine='geometric_mean')
    assert torch.allclose(w, torch.ones(5000))


def test_gt_fraction_subsample_and_direction():
    real = torch.cat([_poses(900, 0.0, 4), _poses(100, 0.5, 5)])   # real data: mostly around 0
    gen = torch.cat([_poses(500, 0.0, 6), _poses(500, 0.5, 7)])    # generated: both modes evenly
    w, info = crm_weights(gen, real, gt_fraction=0.25, bins=8, clip_M=100., seed=0, root_relative=False, combine='geometric_mean')
    assert info['n_gt'] == 250 and len(info['gt_index'].unique()) == 250
    assert w[:500].mean() > w[500:].mean()                         # over-represented generated mode is down-weighted


def test_counterfactual_loss_value_and_gradients():
    pred = torch.zeros(4, 17, 3, requires_grad=True)
    target = torch.ones(4, 17, 3) * torch.tensor([1., 2., 0., 1.])[:, None, None]
    w = torch.tensor([1., 0.5, 3., 0.])
    loss = counterfactual_loss(pred, target, w)
    assert torch.isclose(loss, torch.tensor((1 * 1 + 0.5 * 4 + 3 * 0 + 0 * 1) / 4))
    loss.backward()
    assert pred.grad[0].abs().sum() > 0 and pred.grad[3].abs().sum() == 0
    assert torch.isclose(posegu_loss(pred, target, w), ((1 + w) * torch.tensor([1., 4., 0., 1.])).mean())
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


def test_plugs_into_train_supervised(tmp_path):
    from posebench.data import load_benchmark
    from posebench.train import TrainConfig, train_supervised
    from posebench.kinematics import PoseGenerator, select_seeds
    train, tests = load_benchmark('default')
    fake = PoseGenerator.from_poseset(train[select_seeds(train, 3)]).generate(512, seed=0)
    w, _ = crm_weights(fake.inputs2d(), train.inputs2d(), bins=8, clip_M=5.)
    cfg = TrainConfig(epochs=1, batch_size=256, device='cpu', progress=False)
    res = train_supervised(fake, {'t': tests['default_S9_S11'][:200]}, 'simple_baseline', cfg, model_kwargs={'width': 32},
                           sample_weights=posegu_sample_weights(w), out_dir=tmp_path)
    assert res['history'][0]['loss'] > 0 and res['tests']['t']['n'] == 200
