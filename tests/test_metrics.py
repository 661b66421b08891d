"Tests of posebench.metrics: protocol definitions vs. a NumPy re-statement of VideoPose3D/PoseAug, invariances, hand-computed PCK/AUC, breakdowns, tables, bad input."
import json, math
import numpy as np
import pytest
import torch
from posebench.skeleton import H36M17, H36M16
from posebench.geometry import random_rotation
from posebench.metrics import (mpjpe, p_mpjpe, n_mpjpe, pck, auc, per_joint_error, per_group_error, evaluate_poses,
                               results_table, per_joint_table, per_group_table, joint_std_table, example_pose)
from posebench.recipe import RunResult


def _poses(n=32, seed=0, noise=40.):
    g = torch.Generator().manual_seed(seed)
    gt = example_pose() + torch.randn(n, 17, 3, generator=g) * 50
    return gt + torch.randn(n, 17, 3, generator=g) * noise, gt


# NumPy statements of the reference definitions (VideoPose3D common/loss.py, PoseAug utils), evaluated on root-centred data
def _ref_mpjpe(p, g): return np.mean(np.linalg.norm(p - g, axis=-1))

def _ref_p_mpjpe(p, g):
    muX, muY = g.mean(1, keepdims=True), p.mean(1, keepdims=True)
    X0, Y0 = g - muX, p - muY
    nX, nY = np.sqrt((X0 ** 2).sum((1, 2), keepdims=True)), np.sqrt((Y0 ** 2).sum((1, 2), keepdims=True))
    X0, Y0 = X0 / nX, Y0 / nY
    U, s, Vt = np.linalg.svd(np.matmul(X0.transpose(0, 2, 1), Y0))
    V = Vt.transpose(0, 2, 1)
    R = V @ U.transpose(0, 2, 1)
    sd = np.sign(np.expand_dims(np.linalg.det(R), 1))
    V[:, :, -1] *= sd; s[:, -1] *= sd.flatten()
    R = V @ U.transpose(0, 2, 1)
    a = np.expand_dims(s.sum(1, keepdims=True), 2) * nX / nY
    t = muX - a * (muY @ R)
    return np.mean(np.linalg.norm(a * p @ R + t - g, axis=-1))

def _ref_n_mpjpe(p, g):
    s = (p * g).sum(-1, keepdims=True).mean(1, keepdims=True) / (p * p).sum(-1, keepdims=True).mean(1, keepdims=True)
    return _ref_mpjpe(s * p, g)

def _ref_pck(p, g, th=150): return (np.linalg.norm(p - g, axis=-1) < th).mean() * 100


def test_agrees_with_reference_definitions():
    pred, gt = _poses()
    p = (pred - pred[:, :1]).double().numpy(); g = (gt - gt[:, :1]).double().numpy()
    assert mpjpe(pred, gt).item() == pytest.approx(_ref_mpjpe(p, g), rel=1e-7)
    assert p_mpjpe(pred, gt).item() == pytest.approx(_ref_p_mpjpe(p, g), rel=1e-5)
    assert n_mpjpe(pred, gt).item() == pytest.approx(_ref_n_mpjpe(p, g), rel=1e-7)
    assert pck(pred, gt).item() == pytest.approx(_ref_pck(p, g), rel=1e-12)
    assert auc(pred, gt).item() == pytest.approx(np.mean([_ref_pck(p, g, t) for t in np.linspace(0, 150, 31)]), rel=1e-12)
    # numpy input works the same
    assert mpjpe(pred.numpy(), gt.numpy()).item() == pytest.approx(mpjpe(pred, gt).item(), rel=1e-9)


def test_p_mpjpe_invariances():
    pred, gt = _poses(8)
    base = p_mpjpe(pred, gt, reduce='sample')
    R = random_rotation(8, generator=torch.Generator().manual_seed(3))
    moved = 0.6 * pred @ R.transpose(-1, -2) + torch.tensor([300., -200., 1000.])
    assert torch.allclose(p_mpjpe(moved, gt, reduce='sample'), base, atol=1e-3)
    assert p_mpjpe(gt @ R.transpose(-1, -2) * 2 + 5, gt).item() < 1e-3
    # MPJPE is not invariant: a rotated prediction is penalised
    assert mpjpe(gt @ R.transpose(-1, -2), gt).item() > 50


def test_reflection_options():
    _, gt = _poses(4)
    mirror = (gt - gt[:, :1]) * torch.tensor([-1., 1., 1.])
    assert p_mpjpe(mirror, gt, allow_reflection=True).item() < 1e-3
    assert p_mpjpe(mirror, gt).item() > 20
    # for ordinary (non-mirrored) predictions both options agree
    pred, gt = _poses(4, noise=5.)
    assert p_mpjpe(pred, gt).item() == pytest.approx(p_mpjpe(pred, gt, allow_reflection=True).item(), rel=1e-6)


def test_pck_auc_hand_computed():
    gt = torch.zeros(1, 5, 3)
    pr = torch.tensor([[[0., 0, 0], [100, 0, 0], [0, 149.9, 0], [0, 0, 150], [120, 160, 0]]])  # 0, 100, 149.9, 150, 200
    assert pck(pr, gt, root_centre=False).item() == 60.0
    assert pck(pr, gt, threshold=100, root_centre=False).item() == 20.0        # 100 is not strictly below 100
    assert pck(pr, gt, root_centre=False, joints=[3, 4]).item() == 0.0
    # AUC: counts at thresholds 0,5..150 strictly above each error: 30, 10, 1, 0, 0
    assert auc(pr, gt, root_centre=False).item() == pytest.approx(41 / 155 * 100, rel=1e-12)
    assert auc(pr, gt, root_centre=False, reduce='joint').tolist() == pytest.approx([3000 / 31, 1000 / 31, 100 / 31, 0, 0])
    assert auc(pr, gt, thresholds=[150.], root_centre=False).item() == 60.0


def test_n_mpjpe_scale():
    _, gt = _poses(6)
    assert n_mpjpe(0.7 * gt, gt).item() < 1e-3
    assert n_mpjpe(0.7 * gt, gt, reduce='sample').shape == (6,)
    assert mpjpe(0.7 * gt, gt).item() > 50


def test_reductions_and_groups():
    pred, gt = _poses(10)
    e = mpjpe(pred, gt, reduce='none')
    assert e.shape == (10, 17) and e[:, 0].abs().max() == 0
    assert mpjpe(pred, gt, reduce='sample').mean().item() == pytest.approx(mpjpe(pred, gt).item())
    assert mpjpe(pred, gt, reduce='joint').mean().item() == pytest.approx(mpjpe(pred, gt).item())
    res = evaluate_poses(pred, gt, actions=['a'] * 3 + ['b'] * 7)
    json.dumps(res)
    sizes = {k: len(v) for k, v in H36M17.part('dof').items()}
    assert sum(sizes.values()) == 17
    assert sum(res['per_group'][k] * sizes[k] for k in sizes) / 17 == pytest.approx(res['mpjpe'], rel=1e-9)
    assert res['per_group'] == pytest.approx(per_group_error(pred, gt))
    assert res['per_joint'] == pytest.approx(per_joint_error(pred, gt))
    s = mpjpe(pred, gt, reduce='sample')
    assert res['per_action']['a'] == pytest.approx(s[:3].mean().item())
    assert res['per_action_p_mpjpe']['b'] == pytest.approx(p_mpjpe(pred[3:], gt[3:]).item())
    assert res['per_action_n'] == {'a': 3, 'b': 7}
    assert set(res) >= {'mpjpe', 'p_mpjpe', 'n_mpjpe', 'pck', 'auc', 'n', 'per_joint', 'per_group', 'per_action'}
    # the 16-joint view carries its DOF groups too
    keep = [j for j in range(17) if j != 9]
    r16 = evaluate_poses(pred[:, keep], gt[:, keep], skeleton=H36M16)
    assert set(r16['per_joint']) == set(H36M16.joint_names) and set(r16['per_group']) == {'torso', 'proximal', 'distal'}


def test_tables():
    pred, gt = _poses(12)
    runs = [RunResult('A', 'supervised', {'t': evaluate_poses(pred, gt)}),
            RunResult('A', 'supervised', {'t': evaluate_poses(gt + (pred - gt) * 1.5, gt)}),
            RunResult('B', 'dof', {'t': evaluate_poses(gt + (pred - gt) * 0.5, gt), 'u': evaluate_poses(pred, gt)})]
    md = results_table(runs)
    lines = md.splitlines()
    assert lines[0].startswith('| method | t mpjpe | t p_mpjpe | t pck | t auc | u mpjpe')
    a = [runs[0].tests['t']['mpjpe'], runs[1].tests['t']['mpjpe']]
    assert f"{np.mean(a):.1f} ± {np.std(a, ddof=1):.1f}" in lines[2] and '–' in lines[2]  # A has no test u
    df = results_table(runs, fmt='dataframe')
    assert df.loc['A', ('t', 'mpjpe')] == pytest.approx(np.mean(a))
    assert df.attrs['std'].loc['A', ('t', 'mpjpe')] == pytest.approx(np.std(a, ddof=1))
    assert results_table({'A': runs[:2], 'B': runs[2:]}) == md
    pj = per_joint_table(runs, test='t', fmt='dataframe')
    assert list(pj.columns.get_level_values(1)) == list(H36M17.joint_names) + ['mean']
    pm = per_joint_table(runs, test='t', fmt='dataframe', merge_sides=True)
    pj = runs[2].tests['t']['per_joint']
    assert pm.loc['B', ('t', 'Hip')] == pytest.approx((pj['LHip'] + pj['RHip']) / 2)     # root dropped, sides merged
    assert pm.loc['B', ('t', 'Wrist')] == pytest.approx((pj['LWrist'] + pj['RWrist']) / 2)
    assert len(pm.columns) == 10 + 1   # Hip Knee Foot Spine Thorax Nose Head Shoulder Elbow Wrist + mean
    pg = per_group_table(runs, test='t', fmt='dataframe')
    assert pg.loc['B', ('t', 'distal')] == pytest.approx(runs[2].tests['t']['per_group']['distal'])
    with pytest.raises(ValueError, match='fmt'): results_table(runs, fmt='html')
    # one shape only: a results dict (even a RunResult's own) is refused, naming where it sits
    with pytest.raises(ValueError, match=r"results\[1\]: expected a posebench.recipe.RunResult .*got dict"):
        results_table([runs[0], runs[1].to_dict()])
    with pytest.raises(ValueError, match=r"results\['B'\]: expected a list of RunResults, got RunResult"):
        results_table({'A': runs[:2], 'B': runs[2]})
    with pytest.raises(ValueError, match=r"per_joint_table: results\[.A.\]\[0\]: .*got dict"): per_joint_table({'A': [runs[0].to_dict()]})
    # a dict's labels name the rows, whatever the runs' own method
    assert list(results_table({'C': runs[:1]}, fmt='dataframe').index) == ['C']


def test_joint_std_table():
    g = torch.Generator().manual_seed(0)
    x = example_pose() + torch.randn(2000, 17, 3, generator=g) * 10
    x[:, 13] += torch.randn(2000, 3, generator=g) * 100
    tab = joint_std_table(x)
    # root-centred: each joint's std ~ sqrt(3 * (10² + 10²)) except the wrist
    assert tab['Hip'] == 0 and tab['RKnee'] == pytest.approx(math.sqrt(600), rel=0.05)
    assert tab['LWrist'] == pytest.approx(math.sqrt(3 * (100 ** 2 + 200)), rel=0.05)
    assert tab['Avg.'] == pytest.approx(np.mean([v for k, v in tab.items() if k not in ('Hip', 'Avg.')]))
    m = joint_std_table(x, merge_sides=True)
    assert m['Wrist'] == pytest.approx((tab['LWrist'] + tab['RWrist']) / 2) and m['Hip'] == pytest.approx((tab['LHip'] + tab['RHip']) / 2)
    with pytest.raises(ValueError, match=r'\(\.\.\., 17'): joint_std_table(x[:, :16])


def test_bad_input():
    pred, gt = _poses(3)
    with pytest.raises(ValueError, match=r'\(3, 17, 3\).*\(3, 16, 3\)'): mpjpe(pred, gt[:, :16])
    with pytest.raises(ValueError, match=r'\(3, 17, 2\)'): p_mpjpe(pred[..., :2], gt[..., :2])
    bad = pred.clone(); bad[1, 4, 0] = float('nan')
    for f in (mpjpe, p_mpjpe, n_mpjpe, pck, auc, evaluate_poses):
        with pytest.raises(ValueError, match='NaN'): f(bad, gt)
    with pytest.raises(ValueError, match='gt.*inf'): mpjpe(pred, gt.index_fill(1, torch.tensor([2]), float('inf')))
    with pytest.raises(ValueError, match='reduce'): mpjpe(pred, gt, reduce='sum')
    with pytest.raises(ValueError, match='joints'): pck(pred, gt, joints=[17])
    with pytest.raises(ValueError, match=r'\(3,\)'): evaluate_poses(pred, gt, actions=['a', 'b'])
    with pytest.raises(ValueError, match='16'): evaluate_poses(pred, gt, skeleton=H36M16)


def test_gradients_flow():
    pred, gt = _poses(2)
    pred.requires_grad_(True)
    mpjpe(pred, gt).backward()
    assert pred.grad is not None and pred.grad.abs().sum() > 0


def test_empty_batches_raise_instead_of_nan():
    from posebench.metrics import mpjpe, p_mpjpe, n_mpjpe, pck, auc
    e = torch.zeros(0, 17, 3)
    for f in (mpjpe, p_mpjpe, n_mpjpe, pck, auc):
        with pytest.raises(ValueError, match='no poses'): f(e, e)


def test_bad_values_name_the_option_and_value():
    "Strings / objects as poses, joint names, a root out of range, NaN or negative thresholds: clear errors, not NaN or 0 %."
    pred, gt = _poses(3)
    with pytest.raises(ValueError, match=r"mpjpe: pred: expected an array of numbers \(mm\), got strings"):
        mpjpe(np.full((3, 17, 3), 'a'), gt)
    with pytest.raises(ValueError, match=r"gt: expected an array of numbers \(mm\), got Python objects"):
        mpjpe(pred, np.array([None] * 3, dtype=object))
    with pytest.raises(ValueError, match=r"joints must be joint ids .* got \['Hip'\]"): mpjpe(pred, gt, joints=['Hip'])
    with pytest.raises(ValueError, match=r"root: expected the id of the root joint in \[0, 17\), got 20"): mpjpe(pred, gt, root=20)
    for th in (float('nan'), -10.):
        with pytest.raises(ValueError, match=rf"pck: threshold must be a finite distance >= 0 in mm, got {th}"): pck(pred, gt, threshold=th)
    with pytest.raises(ValueError, match=r"auc: thresholds must be finite distances >= 0"): auc(pred, gt, thresholds=[0, float('nan')])


def test_evaluate_refuses_metres_against_millimetres():
    "Predictions in metres against ground truth in mm: refused by a units check with an override."
    pred, gt = _poses(3)
    with pytest.raises(ValueError, match=r"units: the predictions' median bone length is 0\.\d+.*predictions in metres\?"):
        evaluate_poses(gt / 1000, gt)
    assert evaluate_poses(gt / 1000, gt, check_units=False)['mpjpe'] > 100
    assert evaluate_poses(pred, gt)['mpjpe'] >= 0          # real-looking predictions pass
