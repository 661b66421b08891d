"Input checks on real data: lift detector-like COCO-17 of every hdm05_mm_tr video (99 clips x 4 cameras) with checks on; count refusals of the right layout and of two wrong ones."
# run from the repository root: PYTHONPATH=$PWD python docs/results/lift/anatomy_sweep.py [hdm05 folder]
import collections, sys
import numpy as np, torch
from posebench.data import load_benchmark
from posebench.models import get_model
from posebench import lift as L
torch.set_num_threads(1)
root = sys.argv[1] if len(sys.argv) > 1 else '../shared/data/hdm05'
net = get_model('simple_baseline', width=32, blocks=1).eval()          # untrained: the checks do not depend on the model
_, tests = load_benchmark('hdm05', root=root)
test = tests['hdm05_mm_tr']
fails, ex, n, meas = collections.Counter(), [], 0, collections.defaultdict(list)
for s in np.unique(test.sequence):
    ps = test[test.sequence == s]; n += 1
    kp = L.make_detector_keypoints(ps, noise_px=2.0, drop_rate=0.03, seed=int(s))
    try:
        for k, v in L.lift_keypoints(kp, net).checks.items(): meas[k].append(v)
    except ValueError as e:
        fails[str(e).split(': ')[1]] += 1
        ex.append((str(ps.action[0]), str(ps.subject[0]), int(s), len(ps), str(e)[:200]))
print(n, 'videos (clip x camera), right layout; refused', sum(fails.values()), dict(fails)); print(*ex, sep='\n')
for k, v in meas.items():
    v = np.array(v); print(f"{k}: n={len(v)} min {v.min():.3f} p1 {np.percentile(v, 1):.3f} median {np.median(v):.3f} max {v.max():.3f}")
wrong, tried, accepted = collections.Counter(), collections.Counter(), {}
for s in np.unique(test.sequence):
    ps = test[test.sequence == s]
    kp = L.make_detector_keypoints(ps, noise_px=2.0, drop_rate=0.03, seed=int(s))
    b = L.coco17_to_body25(kp.xy, kp.score)
    for name, k in (('h36m_as_coco', kp.replace(xy=ps.pose2d, score=torch.ones(len(ps), 17))),
                    ('body25_first17_as_coco', kp.replace(xy=b[0][:, :17], score=b[1][:, :17]))):
        tried[name] += 1
        try: L.check_anatomy(k)
        except ValueError: wrong[name] += 1
        else: accepted.setdefault(name, []).append((str(ps.action[0]), int(s)))
print('wrong layouts refused:', {k: f"{wrong[k]}/{tried[k]}" for k in tried})
print('wrong layouts accepted (first 8):', {k: v[:8] for k, v in accepted.items()})
