"Widgets driven without a browser: set a control, check the figure data changed as it should."
import numpy as np
import pytest
import torch
from posebench.data import default_dataset
from posebench.geometry import root_centre
from posebench.models import get_model
from posebench.skeleton import H36M17
from posebench import viz

@pytest.fixture(scope='module')
def poses():
    ps = default_dataset()
    return ps.filter(subjects=sorted(set(ps.subject.tolist()))[:2])

def test_to_display_puts_head_up(poses):
    d = viz.to_display(poses.pose3d[:50])
    assert (d[:, 10, 2] > d[:, 3, 2]).all()  # head above the right foot on the display's up axis
    with pytest.raises(ValueError, match='frame'): viz.to_display(poses.pose3d[:1], 'screen')

def test_skeleton_traces_cover_every_bone():
    tr = viz.skeleton_traces(torch.randn(17, 3), H36M17)
    n_segments = sum(sum(v is None for v in t.x) for t in tr[:3])
    assert n_segments == H36M17.num_bones and len(tr[3].x) == 17

def test_viewer_slider_and_selection_change_the_figure(poses):
    pred = poses.pose3d.clone()
    pred[:, 4, 0] += 30.0        # the LHip of the prediction is 30 mm off; every other joint is exact
    v = viz.SkeletonViewer(poses, pred=pred)
    before = list(v.fig3d.data[3].z)
    v.slider.value = 5
    assert list(v.fig3d.data[3].z) != before
    i = v.index
    expected = viz.to_display(poses.pose3d[i])[:, 2]
    assert np.allclose(v.fig3d.data[3].z, expected, atol=1e-3)
    assert v.fig3d.data[7].text[4] == "LHip: 30.0 mm" and v.fig3d.data[7].text[5] == "LKnee: 0.0 mm"  # hover errors
    other = [a for a in v.action.options if a != v.action.value][0]
    v.action.value = other
    assert set(np.asarray(poses.action)[v.indices]) == {other} and v.slider.value == 0
    assert v.slider.max == len(v.indices) - 1 == v.play.max
    with pytest.raises(ValueError, match='pred'): viz.SkeletonViewer(poses, pred=pred[:3])

def test_probe_moves_the_prediction(poses):
    torch.manual_seed(0)
    net = get_model('simple_baseline').eval()
    probe = viz.SensitivityProbe({'sb': net}, poses.inputs2d()[:10], H36M17)
    p0 = probe.last_pred.clone()
    probe.joint.value = H36M17.index('RWrist')
    probe.sx.value = 0.5
    assert not torch.allclose(probe.last_pred, p0)
    assert torch.allclose(probe.last_original, p0)          # the dotted reference stays
    moved = np.array(probe.fig2d.data[3].x)[16]
    x0 = probe.poses2d[0]
    assert np.isclose(moved, float(x0[0, 0] + 1.5 * (x0[16, 0] - x0[0, 0])), atol=1e-5)


def test_probe_heatmaps_carry_the_matrices_and_their_unit(poses):
    net = get_model('simple_baseline').eval()
    M = torch.rand(17, 17)
    probe = viz.SensitivityProbe({'sb': net}, poses.inputs2d()[:4], H36M17, matrices={'sb': M}, unit='lifter units')
    (h,) = probe.heatmaps
    assert np.allclose(np.array(h.data[0].z), M.numpy()) and h.data[0].colorbar.title.text == 'lifter units'

def test_scale_keypoint_only_moves_that_joint():
    x = torch.randn(4, 17, 2)
    y = viz.scale_keypoint(x, 3, 0.5, -0.95)
    assert torch.equal(torch.cat([y[:, :3], y[:, 4:]], 1), torch.cat([x[:, :3], x[:, 4:]], 1))
    assert torch.allclose(y[:, 3] - y[:, 0], (x[:, 3] - x[:, 0]) * torch.tensor([1.5, 0.05]))

def test_explorer_counts_sum_to_poses(poses):
    sets = {'a': poses, 'b': poses.pose3d[:1000]}
    ex = viz.DistributionExplorer(sets)
    for q in viz.QUANTITIES:
        ex.quantity.value = q
        assert ex.counts['a'].sum() == len(poses) and ex.counts['b'].sum() == 1000
        assert ex.counts2d.sum() == len(poses)
        y = np.asarray(ex.hist.data[0].y)
        assert np.isclose(y.sum(), 1.0, atol=1e-5)
    ex.quantity.value = 'bone_length'
    ex.joint.value = H36M17.index('RKnee')
    thigh = (poses.pose3d[:, 2] - poses.pose3d[:, 1]).norm(dim=-1)
    x = np.asarray(ex.hist.data[0].x)
    assert x.min() <= thigh.min().item() + 50 and x.max() >= thigh.max().item() - 50

def test_viewpoint_of_a_pose_facing_the_camera():
    # a standing pose facing the camera (-z) in camera coordinates: azimuth 0, elevation 0
    x = torch.zeros(1, 17, 3)
    x[0, H36M17.index('RHip')] = torch.tensor([-100., 0, 0]); x[0, H36M17.index('LHip')] = torch.tensor([100., 0, 0])
    x[0, H36M17.index('Thorax')] = torch.tensor([0., -500, 0])
    # facing the camera: the person's left is the image right (+x), forward is toward the camera (-z)
    vp = viz.pose_statistics(x, 'viewpoint')
    assert torch.allclose(vp, torch.zeros(1, 2), atol=1e-4)

def test_histogram2d_matches_numpy():
    g = torch.Generator().manual_seed(1)
    a, b = torch.rand(5000, generator=g), torch.rand(5000, generator=g)
    c, ea, eb = viz.histogram2d(a, b, 10, ((0, 1), (0, 1)))
    ref, _, _ = np.histogram2d(a.numpy(), b.numpy(), bins=10, range=((0, 1), (0, 1)))
    assert c.sum() == 5000 and np.abs(c.numpy() - ref).max() <= 2   # edge rounding only

def test_static_export(tmp_path, poses):
    viz.plot_skeletons_mpl(poses.pose3d[:3], titles=['a', 'b', 'c'], path=tmp_path / 's.png')
    assert (tmp_path / 's.png').stat().st_size > 5000
