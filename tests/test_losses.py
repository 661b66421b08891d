"Tests of posebench.losses: adversarial, pose and consistency losses."
import math
import pytest
import torch
from torch import nn
from posebench import losses as L


def test_lsgan_values_and_flip():
    assert L.lsgan_d(torch.ones(5), torch.zeros(5)) == 0
    assert torch.isclose(L.lsgan_d(torch.zeros(5), torch.ones(5)), torch.tensor(1.0))
    assert torch.isclose(L.lsgan_g(torch.zeros(3, 1)), torch.tensor(0.5))
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    a = L.lsgan_d(torch.ones(20000), torch.zeros(20000), flip=0.1, generator=g1)
    b = L.lsgan_d(torch.ones(20000), torch.zeros(20000), flip=0.1, generator=g2)
    assert a == b and abs(a.item() - 0.1) < 0.01
    with pytest.raises(ValueError): L.lsgan_d(torch.ones(4, 2, 2), torch.zeros(4))     # (B, P) part scores are valid; 3-D is not
    with pytest.raises(ValueError): L.wgan_d(torch.ones(4, 2), torch.zeros(4))
    with pytest.raises(ValueError): L.lsgan_d(torch.ones(4), torch.zeros(4), flip=1.5)


def test_wgan_gp_penalty_exact_and_differentiable():
    lin = nn.Linear(34, 1)
    with torch.no_grad(): lin.weight.zero_(); lin.weight[0, :2] = torch.tensor([3., 4.])  # gradient norm 5
    critic = lambda x: lin(x.flatten(1))
    pen = L.wgan_gp_penalty(critic, torch.randn(6, 17, 2), torch.randn(6, 17, 2), lam=10)
    assert torch.isclose(pen, torch.tensor(160.0))
    pen.backward()
    assert lin.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError): L.wgan_gp_penalty(critic, torch.randn(6, 17, 2), torch.randn(5, 17, 2))
    assert L.wgan_d(torch.tensor([1., 1.]), torch.tensor([0., 0.])) == -1
    assert L.wgan_g(torch.tensor([2.])) == -2


def test_pose_losses_weights():
    p, t = torch.zeros(3, 17, 3), torch.full((3, 17, 3), 2.)
    assert L.mse_pose(p, t) == 4 and L.l1_pose(p, t) == 2
    w = torch.tensor([1., 0., 2.])
    assert torch.isclose(L.mse_pose(p, t, weights=w), torch.tensor(4.0))
    with pytest.raises(ValueError): L.mse_pose(p, t, weights=torch.ones(2))


def _pose():
    g = torch.Generator().manual_seed(3)
    from posebench.skeleton import H36M17
    x = torch.randn(17, 3, generator=g) * 300
    x[0] = 0
    return x


def test_rotation_reprojection_of_true_pose_is_consistent():
    from posebench.geometry import axis_rotation
    Y3 = _pose() / 1000
    Rs = L.hardy_rotation(4, generator=torch.Generator().manual_seed(0))
    az = torch.atan2(Rs[:, 0, 2], Rs[:, 0, 0])
    assert (az.abs() <= 8 * math.pi / 9 + 1e-6).all()
    views = torch.cat([Y3[None], Y3 @ Rs.transpose(-1, -2)])
    lift = L.oracle_lifter(views)
    x2d = Y3[None, :, :2].expand(4, -1, -1)
    err = L.reprojection_consistency(lift, x2d, Y3.expand(4, -1, -1), Rs, reduction='none')
    assert err.shape == (4, 17) and err.max() < 1e-10


def test_ninety_degree_identities_exact_for_true_pose():
    from posebench.geometry import axis_rotation
    Y3 = _pose() / 1000
    views = torch.stack([Y3 @ axis_rotation(torch.tensor(a), 'y').T for a in (0., math.pi / 2, -math.pi / 2, math.pi)])
    assert torch.allclose(views[1], torch.stack([Y3[:, 2], Y3[:, 1], -Y3[:, 0]], -1), atol=1e-7)
    assert torch.allclose(views[2], torch.stack([-Y3[:, 2], Y3[:, 1], Y3[:, 0]], -1), atol=1e-7)
    assert L.ninety_degree_loss(L.oracle_lifter(views), Y3[None, :, :2]) < 1e-10
    flat = lambda y: torch.zeros(y.shape[:-1])
    assert L.ninety_degree_loss(flat, Y3[None, :, :2]) > 1e-3


def test_svmac_terms():
    X = _pose() / 300 + torch.tensor([0., 0., 10.])
    th = torch.tensor([[0., 0.], [1.0, 2.0]])
    Xr = L.rotate_about_root(X.expand(2, 2, -1, -1), th)
    assert torch.allclose(Xr[0], X.expand(2, -1, -1))
    assert torch.allclose(Xr[..., 0, :], X[0].expand(2, 2, 3))          # the root stays put
    K = (torch.eye(3)[:2] / 10).expand(2, 2, 2, 3)
    assert L.camera_equal_loss(K) == 0 and L.svmac_3d_loss(Xr[1:], Xr[1:]) == 0
    assert L.svmac_loss(Xr, K, observed=L.weak_project(Xr, K)) < 1e-10
    K2 = K.clone(); K2[1, :, 0, 0] = 0.2
    assert torch.isclose(L.camera_equal_loss(K2), torch.tensor(0.1 / 6))
    assert L.svmac_loss(Xr, K2) > 0
    with pytest.raises(ValueError): L.svmac_loss(Xr, K[:1])


def test_weak_camera_zero_for_scaled_orthonormal():
    Q = torch.linalg.qr(torch.randn(6, 3, 3, generator=torch.Generator().manual_seed(0))).Q
    s = torch.linspace(0.05, 3, 6)[:, None, None]
    assert L.weak_camera_loss(s * Q[:, :2]) < 1e-6
    assert L.weak_camera_loss((s * Q[:, :2]).expand(3, 6, 2, 3)) < 1e-5
    skew = torch.tensor([[[1., 0.5, 0], [0, 1, 0]]])
    assert L.weak_camera_loss(skew) > 0.1


def test_symmetry_and_face_angle():
    from posebench.skeleton import H36M17, H36M16
    x = _pose()
    bl = x.clone(); perm = H36M17.flip_perm
    sym = torch.zeros(17, 3); sym[[1, 4]] = torch.tensor([[-100., 0, 0], [100., 0, 0]])
    sym[[2, 5]] = sym[[1, 4]] + torch.tensor([0., 400, 0])
    sym[[3, 6]] = sym[[2, 5]] + torch.tensor([0., 400, 0])
    sym[7:11] = torch.tensor([[0., -200, 0], [0, -450, 0], [0, -550, -80], [0, -650, 0]])
    sym[[11, 14]] = torch.tensor([[150., -430, 0], [-150, -430, 0]])
    sym[[12, 15]] = sym[[11, 14]] + torch.tensor([0., 250, 0]); sym[[13, 16]] = sym[[12, 15]] + torch.tensor([0., 250, 0])
    assert L.bone_symmetry_loss(sym[None]) < 1e-6
    longer = sym.clone(); longer[3] += torch.tensor([0., 100, 0])
    assert torch.isclose(L.bone_symmetry_loss(longer[None]), torch.tensor(100. ** 2 / 6), rtol=1e-4)
    assert L.face_angle_loss(sym[None]) == 0
    assert L.face_angle_loss((sym * torch.tensor([1., 1, -1]))[None]) > 0.9
    s16 = sym[[j for j in range(17) if j != 9]]
    assert L.face_angle_loss(s16[None], H36M16) == 0      # 16 joints: the head stands in for the nose
