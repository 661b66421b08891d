"Widgets driven without a browser: set a control, check the figure data changed as it should."
import numpy as np
import pytest
import torch
from posebench.data import default_dataset
from posebench.geometry import m_to_mm, root_centre
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

def test_skeleton_traces_cover_every_bone_and_differ_by_style():
    tr = viz.skeleton_traces(torch.randn(17, 3), H36M17)
    n_segments = sum(sum(v is None for v in t['x']) for t in tr[:3])
    assert n_segments == H36M17.num_bones and len(tr[3]['x']) == 17
    pr = viz.skeleton_traces(torch.randn(17, 3), H36M17, 'prediction', style='dash')
    assert [t['line']['dash'] for t in tr[:3]] == ['solid'] * 3 and [t['line']['dash'] for t in pr[:3]] == ['dash'] * 3
    assert tr[3]['marker']['symbol'] != pr[3]['marker']['symbol']
    # one legend entry per pose, in its line style and joint colour: solid black vs dashed orange
    assert [t['showlegend'] for t in tr] == [False] * 4 + [True] and tr[4]['mode'] == 'lines' and len(tr[4]['x']) == 1
    assert (tr[4]['line']['dash'], tr[4]['line']['color']) == ('solid', 'black')
    assert (pr[4]['line']['dash'], pr[4]['line']['color']) == ('dash', '#ff7f0e')
    assert not any(t['showlegend'] for t in viz.skeleton_traces(torch.randn(17, 3), legend=False))
    with pytest.raises(ValueError, match='style'): viz.skeleton_traces(torch.randn(17, 3), style='wavy')

def test_2d_traces_keep_pixels_and_the_scene_sees_from_the_camera():
    x = torch.rand(17, 2) * 1000
    tr = viz.skeleton_traces(x, H36M17, dim=2)
    assert np.allclose(tr[3]['y'], x[:, 1].numpy())          # not negated: the axis is reversed instead
    sc = viz.skeleton_scene(1000)
    assert sc['camera']['eye']['y'] < 0 < sc['camera']['eye']['z'] and abs(sc['camera']['eye']['x']) < 1e-9
    assert sc['xaxis']['range'] == [-1000, 1000] and '(mm)' in sc['zaxis']['title']['text']

def test_view_radius_holds_the_whole_sequence(poses):
    x = poses.pose3d[:200]
    r = viz.view_radius(x)
    assert r >= root_centre(x).abs().max() * 1.1 and r % 100 == 0

def test_load_model_reads_model_files_and_checkpoints(tmp_path):
    net, facts = viz.load_model('simple_baseline')
    assert facts['model'] == 'simple_baseline' and 'tests' in facts
    for p in viz.ASSETS.glob('*.pt'): assert p.stat().st_size < 5 * 2**20, p      # a few MB at most
    from posebench.recipe import save_model
    save_model(tmp_path / 'copy.pt', 'simple_baseline', net, facts['model_kwargs'])
    net2, _ = viz.load_model(tmp_path / 'copy.pt')
    x = torch.randn(2, 17, 2)
    assert torch.allclose(net(x), net2(x))
    net.train()
    ps = default_dataset()[:300]
    pred = viz.predict_mm(net, ps, batch_size=128)        # batched in eval mode, the model's mode restored after
    assert net.training and pred.shape == (300, 17, 3)
    assert torch.allclose(pred, m_to_mm(net.eval()(ps.inputs2d().float())), atol=1e-2)
    lifter, f = viz.load_model('hardy_full')
    assert f['model'] == 'hardy_lifter' and lifter(x).shape == (2, 17)
    with pytest.raises(ValueError, match='shipped'): viz.load_model('no_such_model')
    torch.save([1, 2], tmp_path / 'list.pt')
    with pytest.raises(ValueError, match='list.pt'): viz.load_model(tmp_path / 'list.pt')

def test_viewer_pickers_slider_strip(poses):
    pred = poses.pose3d.clone()
    pred[:, 4, 0] += 30.0        # the LHip of the prediction is 30 mm off; every other joint is exact
    v = viz.SkeletonViewer(poses, pred=pred)
    t = v.table
    assert len(v.indices) == t['length'][v.row] and v.slider.max == v.play.max == len(v.indices) - 1
    assert set(v.action.options) == set(np.asarray(poses.action)[np.asarray(poses.subject) == v.subject.value].tolist())
    seq = np.asarray(poses.sequence)[v.indices]
    assert (seq == seq[0]).all()                               # the slider stays inside one clip
    before = list(v.fig3d.data[3]['z'])
    v.slider.value = 5
    assert list(v.fig3d.data[3]['z']) != before
    expected = viz.to_display(root_centre(poses.pose3d[v.index]))[:, 2]
    assert np.allclose(v.fig3d.data[3]['z'], expected, atol=1e-3)
    assert v.fig3d.data[8]['text'][4] == "LHip: 30.0 mm" and v.fig3d.data[8]['text'][5] == "LKnee: 0.0 mm"  # hover errors
    assert v.fig2d.layout['yaxis']['title']['text'] == 'v (pixels)' and v.fig3d.layout['scene']['xaxis']['title']['text'] == 'x: right (mm)'
    assert v.fig3d.layout['scene']['camera']['eye']['y'] < 0
    other = [a for a in v.action.options if a != v.action.value][0]
    v.action.value = other
    assert set(np.asarray(poses.action)[v.indices]) == {other}
    cams = [c for _, c in v.camera.options]
    if len(cams) > 1:
        v.slider.value = 4
        v.camera.value = cams[1]
        assert v.table['camera'][v.row] == cams[1] and v.slider.value == 0
    v.strip.clicked = {'x': 9, 'y': 1.0}
    assert v.slider.value == 9 and v.strip.layout['shapes'][0]['x0'] == 9
    v.goto_worst()
    assert v.frame_error[v.index] == v.frame_error[v.indices].max()
    with pytest.raises(ValueError, match='pred'): viz.SkeletonViewer(poses, pred=pred[:3])
    v.show_frames([3, 500, 900], 'three')
    assert v.slider.max == 2 and v.index == 3
    with pytest.raises(ValueError, match='indices'): v.show_frames([], 'none')

def test_probe_moves_the_prediction_and_cells_pick_joints(poses):
    torch.manual_seed(0)
    net = get_model('simple_baseline', width=64).eval()
    probe = viz.SensitivityProbe({'sb': net}, poses.inputs2d()[:10], H36M17, matrices={'m': torch.rand(17, 17)})
    p0 = probe.last_pred.clone()
    probe.joint.value = H36M17.index('RWrist')
    probe.sx.value = 0.5
    assert not torch.allclose(probe.last_pred, p0)
    assert torch.allclose(probe.last_original, p0, atol=1e-3)   # the dotted reference stays
    moved = np.array(probe.fig2d.data[3]['x'])[16]
    x0 = probe.poses2d[0]
    assert np.isclose(moved, float(x0[0, 0] + 1.5 * (x0[16, 0] - x0[0, 0])), atol=1e-5)
    assert probe.fig2d.layout['xaxis']['title']['text'] == 'u (pixels)' and probe.fig2d.layout['yaxis']['title']['text'] == 'v (pixels)'
    probe.heatmaps[0].clicked = {'x': 'Head', 'y': 'LWrist'}
    assert probe.joint.value == H36M17.index('LWrist') and probe.response.value == H36M17.index('Head')
    s, dz = viz.response_curve(lambda v: net(v), probe.poses2d[0], H36M17.index('LWrist'), H36M17.index('Head'))
    assert np.allclose(probe.curve.data[0]['y'], m_to_mm(dz).tolist(), atol=1e-3)
    assert probe.heatmaps[0].layout['shapes'][0]['y0'] == H36M17.index('LWrist') - 0.5

def test_probe_heatmaps_carry_the_matrices_all_labels_and_their_unit(poses):
    net = get_model('simple_baseline', width=64).eval()
    M = torch.rand(17, 17)
    probe = viz.SensitivityProbe({'sb': net}, poses.inputs2d()[:4], H36M17, matrices={'sb': M}, unit='lifter units')
    (h,) = probe.heatmaps
    assert np.allclose(np.array(h.data[0]['z']), M.numpy()) and h.data[0]['colorbar']['title']['text'] == 'lifter units'
    assert h.layout['yaxis']['tickvals'] == list(H36M17.joint_names) == h.layout['xaxis']['tickvals']

def test_scale_keypoint_only_moves_that_joint():
    x = torch.randn(4, 17, 2)
    y = viz.scale_keypoint(x, 3, 0.5, -0.95)
    assert torch.equal(torch.cat([y[:, :3], y[:, 4:]], 1), torch.cat([x[:, :3], x[:, 4:]], 1))
    assert torch.allclose(y[:, 3] - y[:, 0], (x[:, 3] - x[:, 0]) * torch.tensor([1.5, 0.05]))

def test_explorer_counts_labels_and_density(poses):
    sets = {'a': poses, 'b': poses.pose3d[:1000]}
    ex = viz.DistributionExplorer(sets)
    for q in viz.QUANTITIES:
        ex.quantity.value = q
        assert ex.counts['a'].sum() == len(poses) and ex.counts['b'].sum() == 1000
        assert ex.counts2d['a'].sum() == len(poses) and ex.counts2d['b'].sum() == 1000
        assert np.isclose(ex.fractions['a'].sum(), 1.0, atol=1e-5)
        assert not ex._same(), q                                # the density never plots a value against itself
        assert '(' in ex.hist.layout['xaxis']['title']['text']   # a unit
    ex.quantity.value = 'bone_length'
    ex.joint.value = H36M17.index('RKnee')
    thigh = (poses.pose3d[:, 2] - poses.pose3d[:, 1]).norm(dim=-1)
    x = np.asarray(ex.hist.data[0]['x'])
    assert x.min() <= thigh.min().item() + 50 and x.max() >= thigh.max().item() - 50
    assert ex.hist.layout['xaxis']['title']['text'] == 'RKnee bone length (mm)'
    ex.quantity.value = 'viewpoint'
    assert ex.joint.layout.display == 'none'

def test_explorer_brush_sends_poses_to_the_viewer(poses):
    ex = viz.DistributionExplorer({'a': poses})
    v = viz.SkeletonViewer(poses)
    ex.link_viewer(v, 'a')
    ex.quantity.value = 'bone_length'
    vals = ex.values('a')
    lo, hi = float(vals.quantile(0.4)), float(vals.quantile(0.5))
    ex.hist.selected = {'x': [lo, hi], 'y': None}
    want = np.flatnonzero(((vals >= lo) & (vals <= hi)).numpy())
    assert np.array_equal(v.indices, want) and v.slider.max == len(want) - 1
    with pytest.raises(ValueError, match='set'): ex.link_viewer(v, 'zzz')

def test_viewpoint_of_a_pose_facing_the_camera():
    # a standing pose facing the camera (-z) in camera coordinates: azimuth 0, elevation 0
    x = torch.zeros(1, 17, 3)
    x[0, H36M17.index('RHip')] = torch.tensor([-100., 0, 0]); x[0, H36M17.index('LHip')] = torch.tensor([100., 0, 0])
    x[0, H36M17.index('Thorax')] = torch.tensor([0., -500, 0])
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

def test_animation_figure_draws_2d_inside_its_reversed_axis_and_3d_in_a_fixed_box(poses):
    idx = np.arange(0, 40, 4)
    fig = viz.animation_figure(poses.pose3d[idx], poses.pose2d[idx])      # axes span the key points
    lo, hi = sorted(fig.layout.yaxis.range)
    assert fig.layout.yaxis.range[0] > fig.layout.yaxis.range[1]          # v points down: reversed, not negated
    for fr in fig.frames:
        v = [a for t in fr.data if t.type == 'scatter' for a in t.y if a is not None]
        u = [a for t in fr.data if t.type == 'scatter' for a in t.x if a is not None]
        assert v and lo <= min(v) and max(v) <= hi and 0 <= min(u) and max(u) <= fig.layout.xaxis.range[1]
        for k in 'xyz':
            c = [a for t in fr.data if t.type == 'scatter3d' for a in getattr(t, k) if a is not None]
            r = getattr(fig.layout.scene, f'{k}axis').range
            assert r[0] <= min(c) and max(c) <= r[1], k                     # inside the fixed, root-centred box
    assert fig.layout.scene.xaxis.autorange is False
