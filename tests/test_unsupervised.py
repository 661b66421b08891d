"Tests of posebench.unsupervised: normalisation, SVMAC generator, Hardy's representation lifters, sensitivity, recipes."
import json
import math
import pytest
import torch
from posebench.skeleton import H36M17
from posebench.models import count_parameters
from posebench import losses as L
from posebench import unsupervised as U

LEGS, TORSO = H36M17.part('legs_torso', 'legs'), H36M17.part('legs_torso', 'torso')


def _x2d(n=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 17, 2, generator=g) * 0.2
    x[:, 0] = torch.randn(n, 2, generator=g) * 0.1
    return x


def test_zero_size_pose_raises_before_dividing():
    x = _x2d()
    x[2] = x[2, :1]                                  # every key point on the root
    for f in (U.hardy_normalize, U.svmac_normalize):
        with pytest.raises(ValueError, match=r'zero size.*\[2\]'): f(x)
    with pytest.raises(ValueError, match='shape'): U.hardy_normalize(torch.zeros(3, 17, 3))
    xh = U.hardy_normalize(_x2d())
    assert torch.allclose(xh.abs().flatten(1).amax(1), torch.ones(6)) and (xh[:, 0] == 0).all()
    xs = U.svmac_normalize(_x2d(), c=10)
    assert torch.allclose(xs.norm(dim=-1)[:, 1:].mean(1), torch.full((6,), 0.1), atol=1e-6)


def test_svmac_generator_perspective_model_and_camera_init():
    G = U.SVMACGenerator(width=32, c=10).eval()
    x = U.svmac_normalize(_x2d())
    X, K = G(x)
    assert torch.allclose(X[:, 0], torch.tensor([0., 0., 10.]).expand(6, 3))
    assert torch.allclose(X[..., :2], x * X[..., 2:], atol=1e-6)         # x = u·z, y = v·z
    assert L.weak_camera_loss(K) < 1e-6                                   # K starts as I/c
    assert torch.allclose(G.lift(x)[:, 0], torch.zeros(6, 3))
    with pytest.raises(ValueError): G(torch.zeros(2, 16, 2))


@pytest.mark.parametrize('rep,independent', [('full', False), ('split_legs_torso', False),
                                             ('independent_legs_torso', True), ('split_limbs5', False),
                                             ('independent_limbs5', True)])
def test_independent_lifters_ignore_other_parts(rep, independent):
    net = U.RepresentationLifter(rep, width=24).eval()
    x = U.hardy_normalize(_x2d()).requires_grad_(True)
    d = net(x)
    assert d.shape == (6, 17) and (d[:, 0] == 0).all() and d.abs().max() <= 1
    (g,) = torch.autograd.grad(d[:, TORSO].sum(), x)
    if independent: assert g[:, LEGS].abs().max() == 0
    else: assert g[:, LEGS].abs().max() > 0
    if rep == 'independent_limbs5':   # also between the five limbs
        parts = list(H36M17.part('limbs5').values())
        (g,) = torch.autograd.grad(net(x)[:, parts[0]].sum(), x)
        assert g[:, [j for p in parts[1:] for j in p]].abs().max() == 0


def test_representations_have_near_identical_parameter_counts():
    with torch.device('meta'):
        counts = {r: count_parameters(U.RepresentationLifter(r)) for r in U.REPRESENTATIONS}
    assert max(counts.values()) / min(counts.values()) < 1.01
    assert 12_000_000 < counts['full'] < 13_500_000
    with pytest.raises(ValueError): U.RepresentationLifter('legs')


def test_sensitivity_matrix_of_independent_leg_torso_lifter():
    net = U.RepresentationLifter('independent_legs_torso', width=24)
    x = U.hardy_normalize(_x2d(8))
    M, curves = U.sensitivity(net, x, return_curves=True)
    assert M.shape == (17, 17) and curves.shape == (17, 201, 17)
    assert M[LEGS][:, TORSO].abs().max() == 0 and M[TORSO][:, LEGS].abs().max() == 0
    assert M[LEGS][:, LEGS].sum() > 0 and M[TORSO][:, TORSO].sum() > 0
    assert net.training                                                 # the train/eval mode is restored
    # scale 0 (index 95) leaves the pose unchanged: no change at all
    assert curves[:, 95].abs().max() < 1e-6
    # a hand-made lifter: depth of joint j = 2 · x-coordinate of joint j -> only the diagonal reacts
    M2 = U.sensitivity(lambda p: 2 * p[..., 0], x, joints=[1, 5], scales=torch.tensor([1.0]))
    expect = 2 * (x[:, [1, 5], 0] - x[:, :1, 0]).abs().mean(0)
    assert torch.allclose(M2[:, [1, 5]].diagonal(), expect, atol=1e-6)
    assert M2.sum() == pytest.approx(float(expect.sum()), rel=1e-5)
    with pytest.raises(ValueError): U.sensitivity(net, x, joints=[17])


@pytest.fixture(scope='module')
def tiny_data():
    from posebench.data import load_benchmark
    train, tests = load_benchmark('default')
    return train[:512], {k: v[:96] for k, v in tests.items()}


def _tiny_cfg(tmp=None):
    from posebench.train import TrainConfig
    return TrainConfig(epochs=2, batch_size=128, device='cpu', progress=False, checkpoint=False, out_dir=tmp)


def test_recipes_use_no_3d_labels_and_write_results(tiny_data, tmp_path):
    train, tests = tiny_data
    def boom(): raise AssertionError('3D labels of the training set were read')
    train.targets3d = boom
    r = U.train_svmac(train, tests, U.SVMACConfig(n_angles=3, width=32, critic_width=32, eval_samples=48),
                      _tiny_cfg(str(tmp_path / 's')))
    assert r['method'] == 'svmac_n3' and len(r['history']) == 2
    assert {'loss_3d', 'loss_svmac', 'loss_cam', 'loss_adv', 'loss_critic', 'default_S9_S11_p_mpjpe'} <= set(r['history'][-1])
    m = json.loads((tmp_path / 's' / 'metrics.json').read_text())
    t = m['tests']['default_S9_S11']
    assert t['n'] == 96 and abs(t['mpjpe'] - t['n_mpjpe']) < 1e-3 and t['p_mpjpe'] > 0
    r = U.train_representation(train, tests, 'independent_limbs5',
                               U.HardyConfig(width=32, critic_width=32, eval_samples=48, allow_reflection=True),
                               _tiny_cfg())
    assert r['method'] == 'hardy_independent_limbs5' and r['config']['method_config']['allow_reflection']


def test_nan_critic_stops_with_step_number(tiny_data):
    from posebench.train import NonFiniteLossError
    from posebench.models import Critic2D
    train, tests = tiny_data
    class NaNCritic(Critic2D):
        def forward(self, x): return super().forward(x) * float('nan')
    m = U._svmac_method(train, U.SVMACConfig(width=32, critic_width=32), {})
    m.critic = NaNCritic(17, 16, 1)
    with pytest.raises(NonFiniteLossError, match=r"critic.*step 0"):
        U._fit_adversarial(m, train, {}, _tiny_cfg())


def test_stability_curves():
    runs = [{'history': [{'e': 3.0}, {'e': 1.0}]}, {'history': [{'e': 5.0}, {'e': 1.0}]}]
    c = U.stability_curves(runs, 'e')
    assert c['epoch'] == [1, 2] and c['mean'] == [4.0, 1.0] and c['std'] == [1.0, 0.0] and c['n'] == 2
    with pytest.raises(ValueError): U.stability_curves(runs, 'missing')
    fig = U.plot_stability({**c, 'label': 'x'})
    assert len(fig.data) == 2
