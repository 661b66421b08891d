"Tests of posebench.models: shapes, zero root, gradients, determinism, parameter counts, KCS, critics."
import pytest
import torch
from posebench.skeleton import H36M16, H36M17
from posebench import models as M

SKELS = [H36M16, H36M17]

def _x(skel, B=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(B, skel.num_joints, 2, generator=g) * 2 - 1

@pytest.mark.parametrize('skel', SKELS, ids=lambda s: s.name)
@pytest.mark.parametrize('name', sorted(M.MODELS))
def test_shapes_root_grad_determinism(name, skel):
    torch.manual_seed(0)
    net = M.get_model(name, skel)
    x = _x(skel)
    y = net.train()(x)
    assert y.shape == (4, skel.num_joints, 3)
    assert (y[:, 0] == 0).all()
    y.square().sum().backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert not missing, f"no gradient reaches {missing}"
    net.eval()
    with torch.no_grad(): assert torch.equal(net(x), net(x))

@pytest.mark.parametrize('name', sorted(M.MODELS))
def test_bad_input_shape(name):
    net = M.get_model(name, H36M17)
    with pytest.raises(ValueError, match=r'\(B, 17, 2\)'): net(torch.zeros(2, 16, 2))

def test_unknown_model_lists_valid():
    with pytest.raises(ValueError, match='simple_baseline'): M.get_model('nope')

EXPECTED = {'simple_baseline': 4.29e6, 'videopose': 8.49e6, 'semgcn': 0.27e6, 'stgcn': 3.63e6}

@pytest.mark.parametrize('name', sorted(M.MODELS))
def test_parameter_counts_h36m16(name):
    n = M.count_parameters(M.get_model(name, H36M16))
    assert abs(n - EXPECTED[name]) / EXPECTED[name] < 0.10, (name, n)

def test_residual_block_skip_and_activation():
    blk = M.ResidualBlock(6, dropout=0., batch_norm=False, activation='leaky_relu')
    for p in blk.parameters(): torch.nn.init.zeros_(p)
    x = torch.randn(3, 6)
    assert torch.equal(blk(x), x)
    with pytest.raises(ValueError, match='leaky_relu'): M.ResidualBlock(6, activation='gelu')
