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
    with pytest.raises(ValueError): L.lsgan_d(torch.ones(4, 2), torch.zeros(4))
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
