#!/usr/bin/env python
"""Fault sweep (issue 18): feed posebench's public API bad input and classify every outcome.

Each case builds a small piece of bad input in its own temp folder and calls the public API (readers, mocap, lift,
metrics, models, trainer / recipe runner, CLI, bench report). The outcome is classified as
  clear          an exception (or a CLI exit code 1/2 with a few stderr lines, no traceback) whose message holds every
                 token the case names (the file / key / option and the value found);
  unclear        an error, but the message lacks a token (a raw numpy / torch / python message), or a CLI traceback;
  silent         the bad input was accepted (or a NaN came back, or the case saw a stale / lost file);
  code execution a pickle in a file ran code (the case's marker file appeared);
  n/a            the API the case needs does not exist in the version under test.
Run it against any checkout with PYTHONPATH=<checkout> python tools/fault_sweep.py [--json out.json] [-k substring].
"""
from __future__ import annotations
import argparse, contextlib, io, json, math, os, pickle, re, shutil, signal, sys, tempfile, time, traceback, zipfile
from dataclasses import dataclass, field
from pathlib import Path
import importlib

import numpy as np
import torch

torch.set_num_threads(1)
os.environ.setdefault('MPLBACKEND', 'Agg')
SHARED = Path(os.environ.get('POSEBENCH_SHARED_DATA', Path(__file__).resolve().parents[1].parent / 'shared' / 'data'))
if not SHARED.exists(): SHARED = Path('/work/shared/data')


# ---------------------------------------------------------------- outcome types
class NA(Exception): "The API this case needs is missing in the version under test."
class Silent(Exception): "The case saw a silent fault itself (stale file, lost result, leftover)."
class Hang(Exception): pass


@dataclass
class CLIOut:
    rc: object
    out: str
    err: str


@dataclass
class Case:
    cat: str
    name: str
    fn: object
    tokens: tuple
    expect: str = 'error'     # 'error' (must raise / exit 1-2) or 'warn' (a CLI warning on stderr is enough)
    limit: int | None = None  # seconds this case may run (default --timeout)


CASES: list[Case] = []


def case(cat, name, *tokens, expect='error', limit=None):
    "Register a case: `tokens` must all appear in the message (a tuple token = any one of its strings)."
    def deco(fn):
        CASES.append(Case(cat, name, fn, tokens, expect, limit)); return fn
    return deco


def api(mod, attr=None):
    "Module `mod` (or its attribute `attr`); missing -> NA."
    try: m = importlib.import_module(mod)
    except ImportError as e: raise NA(f"no module {mod}") from None
    if attr is None: return m
    if not hasattr(m, attr): raise NA(f"no {mod}.{attr}")
    return getattr(m, attr)


def cli(*argv) -> CLIOut:
    "Run `posebench argv` in this process; a raised exception stands for the traceback the command would print."
    main = api('posebench.cli', 'main')
    o, e = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        try: rc = main([str(a) for a in argv])
        except SystemExit as x: rc = x.code
        except Hang: raise
        except Exception as x:
            return CLIOut('traceback', o.getvalue(), e.getvalue() + f"Traceback (most recent call last): ...\n{type(x).__name__}: {x}")
    err = e.getvalue()
    if 'invalid choice' in err and argv and f"'{argv[0]}'" in err: raise NA(f"no CLI command {argv[0]!r}")
    if 'unrecognized arguments' in err: raise NA(f"CLI option missing: {err.strip().splitlines()[-1]}")
    return CLIOut(rc, o.getvalue(), err)


def cli_sub(*argv, timeout=60) -> CLIOut:
    "Run `posebench argv` in a child process (commands that start notebook kernels); killed after `timeout` s."
    import subprocess
    api('posebench.cli', 'main')
    code = 'import sys; from posebench.cli import main; sys.exit(main(sys.argv[1:]))'
    p = subprocess.Popen([sys.executable, '-c', code, *map(str, argv)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    try: out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL); p.communicate()
        return CLIOut('running', '', f"accepted: the command was still running after {timeout} s (killed)")
    if 'invalid choice' in err and f"'{argv[0]}'" in err: raise NA(f"no CLI command {argv[0]!r}")
    if 'unrecognized arguments' in err: raise NA(f"CLI option missing: {err.strip().splitlines()[-1]}")
    return CLIOut(p.returncode, out, err)


# ---------------------------------------------------------------- small real-looking inputs (cached)
_CACHE = {}

def cached(fn):
    def g():
        if fn.__name__ not in _CACHE: _CACHE[fn.__name__] = fn()
        return _CACHE[fn.__name__]
    g.__name__ = fn.__name__
    return g


@cached
def world():
    "A real HDM05 clip, 80 frames, world Z-up mm (17 joints), or the generated default motion."
    p = SHARED / 'hdm05' / 'hdm05_h36m17.npz'
    if p.exists():
        with np.load(p) as d: return torch.as_tensor(d['positions'][d['clip'] == 5][:160:2].copy())
    try: X = api('posebench.data', 'default_motions')()[0]
    except NA: X = api('posebench.data', '_generate')()[0]
    return torch.as_tensor(X[0, :80])


def from_world(X, subject='S1', **kw):
    return api('posebench.data', 'from_world')(X, subject, 'walk', 0, 30., **kw)


@cached
def small_ps():
    "40 real-looking camera-frame samples (10 frames x 4 virtual cameras)."
    return from_world(world()[:10])


@cached
def train_test():
    PS = api('posebench.data', 'PoseSet')
    tr = from_world(world()[:40], 'A')
    te = from_world(world()[40:60], 'B')
    return tr, {'t': te}


def ps_args(ps):
    return dict(pose3d=ps.pose3d, pose2d=ps.pose2d, camera=ps.camera, subject=ps.subject, action=ps.action,
                sequence=ps.sequence, fps=ps.fps, skeleton=ps.skeleton, name='toy')


def PoseSet(**kw):
    return api('posebench.data', 'PoseSet')(**{**ps_args(small_ps()), **kw})


def poseset_file(tmp, name='p.npz', **over):
    "A PoseSet npz with some keys replaced (None removes a key)."
    p = Path(tmp) / name
    small_ps().save(p)
    d = dict(np.load(p))
    for k, v in over.items():
        if v is None: d.pop(k, None)
        else: d[k] = v
    np.savez(p, **d)
    return p


def hdm05_file(tmp, X=None, fps=30., name='h.npz', **over):
    X = world()[:20] if X is None else X
    F = len(X)
    d = dict(positions=np.asarray(X, np.float32), subject=np.array(['bd'] * F), action=np.array(['walk'] * F),
             clip=np.zeros(F, np.int32), fps=np.float32(fps))
    d.update(over)
    p = Path(tmp) / name
    np.savez(p, **{k: v for k, v in d.items() if v is not None})
    return p


def z_up_to_y_up(x):
    "Z-up (..., 3) -> Y-up: (x, y, z) -> (x, z, -y) (kept here so the sweep runs on versions without it)."
    x = torch.as_tensor(np.asarray(x))
    return torch.stack([x[..., 0], x[..., 2], -x[..., 1]], -1)


def cmu_file(tmp, X=None, fps=120., name='c.npz', **over):
    X = z_up_to_y_up(world()[:40].numpy()) if X is None else X
    F = len(X)
    d = dict(positions=np.asarray(X, np.float32), subject=np.array(['cmu02'] * F), action=np.array(['walk'] * F),
             sequence=np.array(['02_01'] * F), fps=np.float32(fps))
    d.update(over)
    p = Path(tmp) / name
    np.savez(p, **{k: v for k, v in d.items() if v is not None})
    return p


def test3d_file(tmp, name='test_3dhp.npz', n=6, p3=None, p2=None, **extra):
    "A PoseAug-layout test file: pose3d (N,16,3) root-relative metres, pose2d (N,16,2) normalised."
    from posebench.skeleton import H36M17, H36M16
    ps = small_ps()
    b = ps.pose3d[:n][:, H36M17.index(list(H36M16.joint_names))]
    if p3 is None: p3 = ((b - b[:, :1]) / 1000).numpy()
    if p2 is None:
        uv = ps.pose2d[:n][:, H36M17.index(list(H36M16.joint_names))]
        p2 = (uv / ps.camera[:n, None, 4:5] * 2 - 1).numpy()
    p = Path(tmp) / name
    np.savez(p, pose3d=p3, pose2d=p2, **extra)
    return p


def bvh_copy(tmp, frames=6, name='02_01.bvh', edit=None):
    "The real CMU 02_01.bvh cut to a few frames (and edited by `edit(lines)`)."
    src = SHARED / 'cmu' / 'raw' / '02_01.bvh'
    if not src.exists(): raise NA('real BVH not available')
    lines = src.read_text(encoding='latin-1').splitlines()
    k = next(i for i, l in enumerate(lines) if l.startswith('Frames:'))
    lines = lines[:k] + [f'Frames: {frames}'] + lines[k + 1:k + 2 + frames]
    if edit: lines = edit(lines)
    p = Path(tmp) / name
    p.write_text('\n'.join(lines) + '\n', encoding='latin-1')
    return p


def hdm_copy(tmp, frames=6, asf='HDM_mm.asf', amc='HDM_mm_squat1Reps_037_120.amc', asf_name=None, amc_name=None,
             edit_asf=None, edit_amc=None):
    "The real HDM05 ASF + an AMC cut to a few frames, optionally edited."
    raw = SHARED / 'hdm05' / 'raw'
    if not (raw / asf).exists(): raise NA('real ASF/AMC not available')
    a = (raw / asf).read_text(encoding='latin-1')
    lines = (raw / amc).read_text(encoding='latin-1').splitlines()
    starts = [i for i, l in enumerate(lines) if l.strip().isdigit()]
    m = '\n'.join(lines[:starts[frames]]) + '\n'
    if edit_asf: a = edit_asf(a)
    if edit_amc: m = edit_amc(m)
    pa, pm = Path(tmp) / (asf_name or asf), Path(tmp) / (amc_name or amc)
    pa.write_text(a, encoding='latin-1'); pm.write_text(m, encoding='latin-1')
    return pa, pm


def cfg(**kw):
    TC = api('posebench.train', 'TrainConfig')
    base = dict(epochs=1, batch_size=64, progress=False, device='cpu')
    base.update(kw)
    return TC(**base)


def train_sup(train=None, tests=None, out_dir=None, model_kwargs=None, **cfg_kw):
    "Train the supervised recipe (posebench.supervised at HEAD, posebench.train in older versions) for a tiny run."
    try: f = api('posebench.supervised', 'train_supervised')
    except NA: f = api('posebench.train', 'train_supervised')
    tr, te = train_test()
    return f(tr if train is None else train, te if tests is None else tests, 'simple_baseline', cfg(**cfg_kw),
             model_kwargs={'width': 16, 'blocks': 1, **(model_kwargs or {})}, out_dir=out_dir, eval_samples=20)


@cached
def _finished():
    d = Path(ROOT_TMP) / '_finished_run'
    train_sup(out_dir=d)
    return d


def finished_run(tmp, name='run'):
    "A copy of one finished tiny training run folder (metrics.json, checkpoint.pt)."
    dst = Path(tmp) / name
    shutil.copytree(_finished(), dst)
    return dst


@cached
def model_file():
    d = Path(ROOT_TMP) / '_model.pt'
    save_model = api('posebench.recipe', 'save_model')
    torch.manual_seed(0)
    net = api('posebench.models', 'get_model')('simple_baseline', width=16, blocks=1)
    save_model(d, 'simple_baseline', net, {'width': 16, 'blocks': 1})
    return d


@cached
def keypoints():
    "COCO-17 detector-like key points (pixels) of one camera of the clip."
    L = api('posebench.lift')
    ps = from_world(world()[:30])
    one = ps[ps.sequence == ps.sequence[0]]
    return L.make_detector_keypoints(one, seed=3, drop_rate=0.0)


@cached
def tiny_net():
    torch.manual_seed(0)
    return api('posebench.models', 'get_model')('simple_baseline', width=16, blocks=1).eval()


def write_coco(tmp, name='dets.json', kp=None):
    L = api('posebench.lift')
    p = Path(tmp) / name
    L.write_coco_json(kp or keypoints(), p)
    return p


def coco_raw(tmp, dets, name='dets.json'):
    p = Path(tmp) / name
    p.write_text(json.dumps(dets))
    return p


_UNSET = object()

def coco_dets(n=3, J=17, value=_UNSET):
    kp = keypoints()
    out = []
    for f in range(n):
        pts = []
        for j in range(J):
            x, y = (kp.xy[f, j].tolist() if j < 17 else (1., 1.))
            pts += [x, y, 0.9]
        if value is not _UNSET: pts[0] = value
        out.append({'image_id': f, 'category_id': 1, 'keypoints': pts, 'score': 0.9})
    return out


class Pwn:
    "A pickle payload that writes a marker file when unpickled."
    def __init__(self, marker): self.marker = str(marker)
    def __reduce__(self): return (Path.write_text, (Path(self.marker), 'pwned'))


def pwn_bytes(tmp):
    return pickle.dumps({'modules': Pwn(Path(tmp) / 'PWNED'), 'format': 'x'})


def signed(tmp, name, payload: bytes):
    "A file with a valid posebench SHA-256 trailer around `payload` (so only the unpickler can stop it)."
    import hashlib
    magic = getattr(api('posebench.train'), '_DIGEST_MAGIC', b'\nPOSEBENCH-SHA256:')
    p = Path(tmp) / name
    p.write_bytes(payload + magic + hashlib.sha256(payload).hexdigest().encode())
    return p


def metrics_fn(name):
    return api('posebench.metrics', name)


def pose_batch(n=4):
    return small_ps().pose3d[:n].clone()


# ================================================================ cases
# ---------------------------------------------------------------- checkpoints and model files
@case('checkpoint', 'resume from an empty checkpoint.pt', 'checkpoint.pt', ('empty', '0 bytes'))
def _(t):
    d = finished_run(t); (d / 'checkpoint.pt').write_bytes(b'')
    train_sup(out_dir=d, epochs=2, resume=True)

@case('checkpoint', 'resume from a truncated checkpoint.pt', 'checkpoint.pt', ('truncated', 'digest', 'corrupt'))
def _(t):
    d = finished_run(t); b = (d / 'checkpoint.pt').read_bytes(); (d / 'checkpoint.pt').write_bytes(b[:len(b) // 2])
    train_sup(out_dir=d, epochs=2, resume=True)

@case('checkpoint', 'resume from a checkpoint with one flipped byte', 'checkpoint.pt', ('corrupt', 'sha'))
def _(t):
    d = finished_run(t); b = bytearray((d / 'checkpoint.pt').read_bytes()); b[len(b) // 3] ^= 0xFF
    (d / 'checkpoint.pt').write_bytes(bytes(b))
    train_sup(out_dir=d, epochs=2, resume=True)

@case('checkpoint', 'resume from random bytes', 'checkpoint.pt', ('digest', 'not written by posebench', 'cannot be read'))
def _(t):
    d = finished_run(t); (d / 'checkpoint.pt').write_bytes(os.urandom(2000))
    train_sup(out_dir=d, epochs=2, resume=True)

@case('checkpoint', 'resume with another model width', 'width', ('16', '32'))
def _(t):
    d = finished_run(t)
    train_sup(out_dir=d, epochs=2, resume=True, model_kwargs={'width': 32})

@case('checkpoint', 'resume with another batch size', 'batch_size', '64', '32')
def _(t):
    d = finished_run(t)
    train_sup(out_dir=d, epochs=2, resume=True, batch_size=32)

@case('checkpoint', 'load_model of an empty file', 'empty.pt', ('empty', '0 bytes'))
def _(t):
    p = Path(t) / 'empty.pt'; p.write_bytes(b'')
    api('posebench.recipe', 'load_model')(p)

@case('checkpoint', 'load_model of a truncated model file', 'm.pt', ('truncated', 'digest', 'corrupt'))
def _(t):
    b = model_file().read_bytes(); p = Path(t) / 'm.pt'; p.write_bytes(b[:len(b) - 100])
    api('posebench.recipe', 'load_model')(p)

@case('checkpoint', 'load_model of a plain torch.save file', 'plain.pt', ('digest', 'not written by posebench'))
def _(t):
    p = Path(t) / 'plain.pt'; torch.save({'state_dict': {}}, p)
    api('posebench.recipe', 'load_model')(p)

@case('checkpoint', 'load_model of a signed pickle that runs code', 'evil.pt', ('cannot be read safely', 'weights_only', 'unpickl'))
def _(t):
    api('posebench.recipe', 'load_model')(signed(t, 'evil.pt', pwn_bytes(t)))

@case('checkpoint', 'resume from a signed pickle that runs code', 'checkpoint.pt', ('cannot be read safely', 'weights_only', 'unpickl'))
def _(t):
    d = finished_run(t); (d / 'checkpoint.pt').unlink(); signed(d, 'checkpoint.pt', pwn_bytes(t))
    train_sup(out_dir=d, epochs=2, resume=True)

@case('checkpoint', 'resume from an unsigned pickle that runs code (older format)', 'checkpoint.pt')
def _(t):
    d = finished_run(t); (d / 'checkpoint.pt').write_bytes(pwn_bytes(t))
    train_sup(out_dir=d, epochs=2, resume=True)

@case('checkpoint', 'load_run of a folder without checkpoint', 'checkpoint.pt', ('no such file', 'not found'))
def _(t):
    api('posebench.recipe', 'load_run')(Path(t))

@case('checkpoint', 'load_model of a model file naming an unknown network', 'nonet', 'valid')
def _(t):
    ck = api('posebench.train', 'load_checkpoint_file')(model_file()); ck['model'] = 'nonet'
    api('posebench.train', 'save_checkpoint_file')(Path(t) / 'x.pt', ck)
    api('posebench.recipe', 'load_model')(Path(t) / 'x.pt')

@case('checkpoint', 'load_model whose weights do not fit the recorded kwargs', 'x.pt', 'width')
def _(t):
    ck = api('posebench.train', 'load_checkpoint_file')(model_file()); ck['model_kwargs'] = {'width': 24, 'blocks': 1}
    api('posebench.train', 'save_checkpoint_file')(Path(t) / 'x.pt', ck)
    api('posebench.recipe', 'load_model')(Path(t) / 'x.pt')

@case('checkpoint', 'load_model of a run folder without a network of that name', 'critic', 'model')
def _(t):
    api('posebench.recipe', 'load_model')(finished_run(t), network='critic')

@case('checkpoint', 'load_model of a metrics.json (not a checkpoint)', 'metrics.json', ('digest', 'not written by posebench'))
def _(t):
    api('posebench.recipe', 'load_model')(finished_run(t) / 'metrics.json')

@case('checkpoint', 'Trainer.load_checkpoint of a checkpoint with a missing module', 'model', ('missing', 'not in this run'))
def _(t):
    ck_f = api('posebench.train', 'load_checkpoint_file'); sv = api('posebench.train', 'save_checkpoint_file')
    d = finished_run(t); ck = ck_f(d / 'checkpoint.pt'); ck['fingerprint']['modules'] = {}
    sv(d / 'checkpoint.pt', ck)
    train_sup(out_dir=d, epochs=2, resume=True)

# ---------------------------------------------------------------- training settings
for _k, _v, _tok in [('grad_clip', -1.0, '-1'), ('grad_clip', float('nan'), 'nan'), ('grad_clip', float('inf'), 'inf'),
                     ('lr', float('inf'), 'inf'), ('lr', float('nan'), 'nan'), ('lr', -1e-3, '-0.001'), ('lr', 0.0, '0'),
                     ('lr', '1e-3', '1e-3'), ('log_every', -1, '-1'), ('epochs', -1, '-1'), ('epochs', 1.5, '1.5'),
                     ('epochs', '3', '3'), ('batch_size', 0, '0'), ('batch_size', -8, '-8'), ('batch_size', True, 'True'),
                     ('batch_size', 2.5, '2.5'), ('lr_decay', 0.0, '0'), ('lr_decay', 1.5, '1.5'), ('lr_decay', float('nan'), 'nan'),
                     ('weight_decay', -0.1, '-0.1'), ('weight_decay', float('inf'), 'inf'), ('optimizer', 'sgdd', 'sgdd'),
                     ('schedule', 'cosine', 'cosine'), ('device', 'gpu', 'gpu'), ('seed', 'abc', 'abc'),
                     ('amp', 'yes', 'yes'), ('out_dir', 5, '5'), ('shuffle', 1, '1')]:
    def _mk(k=_k, v=_v):
        def f(t): cfg(**{k: v})
        return f
    case('train settings', f"TrainConfig({_k}={_v!r})", _k, _tok)(_mk())

@case('train settings', 'TrainConfig resume=True and overwrite=True', 'overwrite', 'resume')
def _(t): cfg(resume=True, overwrite=True, out_dir=str(t))

@case('train settings', 'TrainConfig.from_dict with a typo key', 'lrr', 'valid')
def _(t): api('posebench.train', 'TrainConfig').from_dict({'lrr': 1e-3})

@case('train settings', 'train with epochs=0 records an untrained network as a result', 'epochs', '0')
def _(t): train_sup(out_dir=Path(t) / 'r', epochs=0)

@case('train settings', 'device cuda without CUDA', 'cuda')
def _(t):
    if torch.cuda.is_available(): raise NA('CUDA present')
    train_sup(device='cuda')

@case('train settings', 'train_fraction 0', 'train_fraction', '0')
def _(t): api('posebench.recipe', 'experiment_data')('default', None, 0.0)

@case('train settings', 'train_fraction 1.5', 'train_fraction', '1.5')
def _(t): api('posebench.recipe', 'experiment_data')('default', None, 1.5)

@case('train settings', 'train_fraction -0.2', 'train_fraction', '-0.2')
def _(t): api('posebench.recipe', 'experiment_data')('default', None, -0.2)

@case('train settings', 'train_fraction nan', 'train_fraction', 'nan')
def _(t): api('posebench.recipe', 'experiment_data')('default', None, float('nan'))

@case('train settings', 'test_samples 0', 'test_samples', '0')
def _(t): api('posebench.recipe', 'experiment_data')('default', None, 1.0, 0)

@case('train settings', 'PoseSet.subsample(0)', 'fraction', '0')
def _(t): small_ps().subsample(0.0)

@case('train settings', 'PoseSet.subsample(2)', 'fraction', '2')
def _(t): small_ps().subsample(2.0)

@case('train settings', 'PoseSet.subsample(nan)', 'fraction', 'nan')
def _(t): small_ps().subsample(float('nan'))

@case('train settings', 'eval_samples 0', 'eval_samples', '0')
def _(t):
    try: f = api('posebench.supervised', 'train_supervised')
    except NA: f = api('posebench.train', 'train_supervised')
    tr, te = train_test()
    f(tr, te, 'simple_baseline', cfg(), model_kwargs={'width': 16, 'blocks': 1}, eval_samples=0)

@case('train settings', 'one-sample training set (BatchNorm)', ('1 sample', 'one sample', 'at least 2'))
def _(t): train_sup(train=small_ps()[:1])

@case('train settings', 'training set whose last batch has one sample (BatchNorm) loses no sample', 'sample')
def _(t):
    Trainer = api('posebench.train', 'Trainer')
    net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 1))
    seen = []
    def step(tr, batch, i):
        seen.append(len(batch['x'])); loss = tr.modules['m'](batch['x']).pow(2).mean(); tr.backward(loss, 'm'); return {'loss': loss}
    Trainer(cfg(batch_size=16), {'m': net}).fit({'x': torch.randn(33, 2)}, step)
    if sum(seen) < 33: raise Silent(f"batches of {seen}: {33 - sum(seen)} sample(s) skipped without a word")
    raise ValueError(f"ok: every sample used (batches {seen})")

@case('train settings', 'empty training set', ('empty', '0 samples', 'no frames'))
def _(t): train_sup(train=small_ps()[np.zeros(len(small_ps()), bool)])

@case('train settings', 'sample_weights of the wrong length', 'sample_weights', '3')
def _(t):
    f = api('posebench.supervised', 'train_supervised'); tr, te = train_test()
    f(tr, te, 'simple_baseline', cfg(), model_kwargs={'width': 16, 'blocks': 1}, sample_weights=np.ones(3))

@case('train settings', 'negative sample_weights', 'sample_weights', ('negative', '-1'))
def _(t):
    f = api('posebench.supervised', 'train_supervised'); tr, te = train_test()
    w = np.ones(len(tr)); w[0] = -1
    f(tr, te, 'simple_baseline', cfg(), model_kwargs={'width': 16, 'blocks': 1}, sample_weights=w)

@case('train settings', 'recipe options typo', 'modle', 'valid')
def _(t): api('posebench.supervised', 'SupervisedRecipe')(modle='x')

@case('train settings', 'experiment_config sets seed inside train', 'seed')
def _(t): api('posebench.recipe', 'experiment_config')({'seed': 3})

@case('train settings', 'run() with a cfg that is a dict', 'cfg', 'dict')
def _(t):
    run = api('posebench.recipe', 'run'); R = api('posebench.supervised', 'SupervisedRecipe')
    tr, te = train_test(); run(R(model_kwargs={'width': 16}), tr, te, {'epochs': 1})

# ---------------------------------------------------------------- models
for _name, _kw, _tok in [('simple_baseline', {'width': -5}, ('width', '-5')), ('simple_baseline', {'width': 0}, ('width', '0')),
                         ('simple_baseline', {'blocks': -1}, ('blocks', '-1')), ('simple_baseline', {'dropout': 1.5}, ('dropout', '1.5')),
                         ('simple_baseline', {'dropout': -0.1}, ('dropout', '-0.1')), ('simple_baseline', {'width': '256'}, ('width', '256')),
                         ('simple_baseline', {'width': 2.5}, ('width', '2.5')), ('simple_baseline', {'widht': 64}, ('widht', 'valid')),
                         ('videopose', {'channels': -5}, ('channels', '-5')), ('videopose', {'blocks': -1}, ('blocks', '-1')),
                         ('semgcn', {'hidden': -1}, ('hidden', '-1')), ('semgcn', {'hidden': 0}, ('hidden', '0')),
                         ('stgcn', {'part_channels': 0}, ('part_channels', '0')), ('critic2d', {'width': 0}, ('width', '0')),
                         ('kcs_critic', {'mid': -3}, ('mid', '-3')), ('nonet', {}, ('nonet', 'valid'))]:
    def _mk(n=_name, kw=_kw):
        def f(t):
            gm = api('posebench.models', 'get_model')
            if n != 'nonet':
                import inspect
                reg = api('posebench.models', 'REGISTRY') if hasattr(api('posebench.models'), 'REGISTRY') else api('posebench.models', 'MODELS')
                if n not in reg: raise NA(f"no model {n!r} in this version")
                cls = reg[n] if not isinstance(reg[n], str) else None
                if cls is not None and any(k not in inspect.signature(cls).parameters for k in kw if k != 'widht'):
                    raise NA(f"{n} has no option {list(kw)}")
            m = gm(n, **kw)
            y = m.eval()(small_ps().inputs2d()[:4])
            if not torch.isfinite(y).all(): return float('nan')
        return f
    case('models', f"get_model({_name!r}, {_kw})", *_tok)(_mk())

@case('models', 'model fed 16-joint input', '17', '16')
def _(t): api('posebench.models', 'get_model')('simple_baseline', width=16, blocks=1)(torch.zeros(4, 16, 2))

@case('models', 'model fed 3D input', '2', '3')
def _(t): api('posebench.models', 'get_model')('simple_baseline', width=16, blocks=1)(torch.zeros(4, 17, 3))

@case('models', 'get_model with an unknown skeleton name', 'h36m99')
def _(t): api('posebench.models', 'get_model')('simple_baseline', 'h36m99')

# ---------------------------------------------------------------- metrics
M = lambda n: metrics_fn(n)
@case('metrics', 'mpjpe of an empty batch', ('empty', 'no poses'))
def _(t): return float(M('mpjpe')(torch.zeros(0, 17, 3), torch.zeros(0, 17, 3)))

@case('metrics', 'p_mpjpe of an empty batch', ('empty', 'no poses'))
def _(t): return float(M('p_mpjpe')(torch.zeros(0, 17, 3), torch.zeros(0, 17, 3)))

@case('metrics', 'n_mpjpe of an empty batch', ('empty', 'no poses'))
def _(t): return float(M('n_mpjpe')(torch.zeros(0, 17, 3), torch.zeros(0, 17, 3)))

@case('metrics', 'pck of an empty batch', ('empty', 'no poses'))
def _(t): return float(M('pck')(torch.zeros(0, 17, 3), torch.zeros(0, 17, 3)))

@case('metrics', 'auc of an empty batch', ('empty', 'no poses'))
def _(t): return float(M('auc')(torch.zeros(0, 17, 3), torch.zeros(0, 17, 3)))

@case('metrics', 'evaluate_poses of an empty batch', ('empty', 'no poses'))
def _(t): return M('evaluate_poses')(torch.zeros(0, 17, 3), torch.zeros(0, 17, 3))['mpjpe']

@case('metrics', 'mpjpe with mismatched shapes', '17', '16')
def _(t): M('mpjpe')(pose_batch(), pose_batch()[:, :16])

@case('metrics', 'mpjpe with broadcastable shapes (1 vs N)', '(1, 17, 3)', '(4, 17, 3)')
def _(t): return float(M('mpjpe')(pose_batch()[:1], pose_batch()))

@case('metrics', 'mpjpe of 2D poses', '2')
def _(t): M('mpjpe')(pose_batch()[..., :2], pose_batch()[..., :2])

@case('metrics', 'mpjpe with NaN in pred', 'pred', 'nan')
def _(t):
    p = pose_batch(); p[1, 3, 0] = float('nan'); return float(M('mpjpe')(p, pose_batch()))

@case('metrics', 'p_mpjpe with NaN in gt', 'gt', 'nan')
def _(t):
    g = pose_batch(); g[0, 0, 0] = float('nan'); return float(M('p_mpjpe')(pose_batch(), g))

@case('metrics', 'pck with inf in gt', 'gt', ('inf', 'nan'))
def _(t):
    g = pose_batch(); g[0, 0, 0] = float('inf'); return float(M('pck')(pose_batch(), g))

@case('metrics', 'mpjpe of strings', 'pred')
def _(t): M('mpjpe')(np.array([['a'] * 3] * 17), np.array([['a'] * 3] * 17))

@case('metrics', 'mpjpe of object arrays', 'pred')
def _(t): M('mpjpe')(np.array([None] * 17, dtype=object), np.array([None] * 17, dtype=object))

@case('metrics', 'mpjpe reduce typo', 'reduce', 'avg')
def _(t): M('mpjpe')(pose_batch(), pose_batch(), reduce='avg')

@case('metrics', 'mpjpe joints out of range', 'joints', '40')
def _(t): M('mpjpe')(pose_batch(), pose_batch(), joints=[0, 40])

@case('metrics', 'mpjpe joints given by name', 'joints', 'Hip')
def _(t): M('mpjpe')(pose_batch(), pose_batch(), joints=['Hip'])

@case('metrics', 'mpjpe root out of range', 'root', '20')
def _(t): return float(M('mpjpe')(pose_batch(), pose_batch() + 1, root=20))

@case('metrics', 'pck threshold NaN', 'threshold', 'nan')
def _(t): return float(M('pck')(pose_batch(), pose_batch(), threshold=float('nan')))

@case('metrics', 'pck threshold negative', 'threshold', '-10')
def _(t): return float(M('pck')(pose_batch(), pose_batch(), threshold=-10.))

@case('metrics', 'auc thresholds with NaN', 'thresholds', 'nan')
def _(t): return float(M('auc')(pose_batch(), pose_batch(), thresholds=[0, float('nan'), 100]))

@case('metrics', 'auc thresholds empty', 'thresholds')
def _(t): return float(M('auc')(pose_batch(), pose_batch(), thresholds=[]))

@case('metrics', 'per_joint_error with 16-joint poses on H36M17', '16', '17')
def _(t): M('per_joint_error')(pose_batch()[:, :16], pose_batch()[:, :16])

@case('metrics', 'evaluate_poses with actions of the wrong length', 'actions', '3')
def _(t): M('evaluate_poses')(pose_batch(), pose_batch(), actions=np.array(['a', 'b', 'c']))

@case('metrics', 'evaluate_poses with metres vs millimetres', ('units', 'metres', 'mm'), ('0.', '1000'))
def _(t): return M('evaluate_poses')(pose_batch() / 1000, pose_batch())['mpjpe'] and None

# ---------------------------------------------------------------- PoseSet and npz readers: malformed input
@case('readers', 'PoseSet pose3d as a string', 'pose3d', 'abc')
def _(t): PoseSet(pose3d='abc')

@case('readers', 'PoseSet pose3d as an object array', 'pose3d', ('object', 'Python objects'))
def _(t): PoseSet(pose3d=np.array([None] * 40, dtype=object))

@case('readers', 'PoseSet pose2d ragged list', 'pose2d', ('rectangular', 'ragged', 'inhomogeneous'))
def _(t): PoseSet(pose2d=[[1, 2], [3]])

@case('readers', 'PoseSet camera (6,) instead of (N, 6)', 'camera', '(6,)')
def _(t): PoseSet(camera=small_ps().camera[0])

@case('readers', 'PoseSet subject of the wrong length', 'subject', '(3,)')
def _(t): PoseSet(subject=np.array(['a', 'b', 'c']))

@case('readers', 'PoseSet sequence as words', 'sequence', 'int')
def _(t): PoseSet(sequence=np.array(['a'] * 40))

@case('readers', 'PoseSet pose3d with NaN', 'pose3d', 'nan')
def _(t):
    p = small_ps().pose3d.clone(); p[2, 3, 1] = float('nan'); PoseSet(pose3d=p)

@case('readers', 'PoseSet pose3d (N, 17, 4)', 'pose3d', '4')
def _(t): PoseSet(pose3d=torch.zeros(40, 17, 4))

@case('readers', 'PoseSet camera width 0', 'camera', ('width', 'height'), '0')
def _(t):
    c = small_ps().camera.clone(); c[:, 4] = 0; PoseSet(camera=c)

@case('readers', 'PoseSet fps 0', 'fps', '0')
def _(t): PoseSet(fps=0.)

@case('readers', 'PoseSet fps NaN', 'fps', 'nan')
def _(t): PoseSet(fps=float('nan'))

@case('readers', 'PoseSet fps negative', 'fps', '-30')
def _(t): PoseSet(fps=-30.)

@case('readers', 'PoseSet unknown skeleton', 'h36m99')
def _(t): PoseSet(skeleton='h36m99')

@case('readers', 'PoseSet boolean mask of the wrong length', 'mask', '3')
def _(t): small_ps()[np.array([True, False, True])]

@case('readers', 'PoseSet.filter unknown subject', 'S99', 'valid')
def _(t): small_ps().filter(subjects=['S99'])

@case('readers', 'PoseSet.split overlapping subjects', 'S1', 'both')
def _(t): small_ps().split(['S1'], ['S1'])

@case('readers', 'PoseSet.concat with different fps', 'fps', '25')
def _(t):
    a = small_ps(); b = PoseSet(fps=25.); api('posebench.data', 'PoseSet').concat([a, b])

@case('readers', 'read_npz missing file', 'nope.npz', 'not found')
def _(t): api('posebench.data', 'read_npz')(Path(t) / 'nope.npz')

@case('readers', 'read_npz of an empty file', 'e.npz', ('npz', 'empty', 'readable'))
def _(t):
    p = Path(t) / 'e.npz'; p.write_bytes(b''); api('posebench.data', 'read_npz')(p)

@case('readers', 'read_npz of a text file', 'x.npz', ('npz', 'readable'))
def _(t):
    p = Path(t) / 'x.npz'; p.write_text('hello'); api('posebench.data', 'read_npz')(p)

@case('readers', 'read_npz of a truncated file', 'p.npz', ('npz', 'readable', 'truncated'))
def _(t):
    p = poseset_file(t); b = p.read_bytes(); p.write_bytes(b[:len(b) // 2]); api('posebench.data', 'read_npz')(p)

@case('readers', 'read_npz with a corrupted member (bad CRC)', 'p.npz', ('pose3d', 'corrupt', 'crc', 'readable'))
def _(t):
    p = Path(t) / 'p.npz'; small_ps().save(p)
    d = {k: v for k, v in np.load(p).items()}
    np.savez(p, **d)                                  # stored, not compressed: flip one data byte of pose3d
    with zipfile.ZipFile(p) as z: info = z.getinfo('pose3d.npy')
    b = bytearray(p.read_bytes()); b[info.header_offset + 30 + len(info.filename) + 200] ^= 0xFF; p.write_bytes(bytes(b))
    api('posebench.data', 'read_npz')(p)

@case('readers', 'read_npz missing key', 'p.npz', 'camera')
def _(t): api('posebench.data', 'read_npz')(poseset_file(t, camera=None))

@case('readers', 'read_npz with a pickled key', 'p.npz', 'subject', 'pickle')
def _(t):
    p = poseset_file(t, subject=np.array([{'a': 1}] * 40, dtype=object)); api('posebench.data', 'read_npz')(p)

@case('readers', 'read_npz with 0 frames', 'p.npz', ('no frames', '0 samples', 'empty'))
def _(t):
    p = Path(t) / 'p.npz'; small_ps().save(p)
    d = {k: v[:0] if k in ('pose3d', 'pose2d', 'camera', 'subject', 'action', 'sequence') else v for k, v in np.load(p).items()}
    np.savez(p, **d); api('posebench.data', 'read_npz')(p)

@case('readers', 'read_npz with pose3d (N, 16, 3) under skeleton h36m17', 'p.npz', 'pose3d', '16')
def _(t): api('posebench.data', 'read_npz')(poseset_file(t, pose3d=small_ps().pose3d[:, :16].numpy()))

@case('readers', 'read_npz with strings as poses', 'p.npz', 'pose3d', 'string')
def _(t): api('posebench.data', 'read_npz')(poseset_file(t, pose3d=small_ps().pose3d.numpy().astype(str)))

@case('readers', 'read_npz with camera of wrong width', 'p.npz', 'camera', '(40, 4)')
def _(t): api('posebench.data', 'read_npz')(poseset_file(t, camera=small_ps().camera[:, :4].numpy()))

@case('readers', 'read_npz with subject of wrong length', 'p.npz', 'subject', '(3,)')
def _(t): api('posebench.data', 'read_npz')(poseset_file(t, subject=np.array(['a', 'b', 'c'])))

@case('readers', 'read_npz with fps string', 'p.npz', 'fps', 'fast')
def _(t): api('posebench.data', 'read_npz')(poseset_file(t, fps=np.array(['fast'])))

@case('readers', 'read_npz with fps 0', 'p.npz', 'fps', '0')
def _(t): api('posebench.data', 'read_npz')(poseset_file(t, fps=np.float64(0)))

@case('readers', 'read_npz with unknown skeleton', 'p.npz', 'skeleton', 'nope')
def _(t): api('posebench.data', 'read_npz')(poseset_file(t, skeleton=np.array(['nope'])))

@case('readers', 'read_npz with joint_names in another order', 'p.npz', 'joint_names')
def _(t):
    from posebench.skeleton import H36M17
    api('posebench.data', 'read_npz')(poseset_file(t, joint_names=np.array(H36M17.joint_names[::-1])))

@case('readers', 'load_dataset typo', 'hmd05', 'valid')
def _(t): api('posebench.data', 'load_dataset')('hmd05')

@case('readers', 'load_benchmark of a test-only set', '3dhp')
def _(t): api('posebench.data', 'load_benchmark')('3dhp')

@case('readers', 'load_hdm05 without a path or env var', ('POSEBENCH_HDM05', 'hdm05_h36m17.npz'))
def _(t):
    old = os.environ.pop('POSEBENCH_HDM05', None)
    try: api('posebench.data', 'load_hdm05')()
    finally:
        if old is not None: os.environ['POSEBENCH_HDM05'] = old

@case('readers', 'load_hdm05 of a folder without the file', 'hdm05_h36m17.npz', 'not found')
def _(t): api('posebench.data', 'load_hdm05')(Path(t))

@case('readers', 'load_hdm05 missing key', 'h.npz', 'clip')
def _(t): api('posebench.data', 'load_hdm05')(hdm05_file(t, clip=None))

@case('readers', 'load_hdm05 positions as objects', 'h.npz', 'positions', 'pickle')
def _(t): api('posebench.data', 'load_hdm05')(hdm05_file(t, positions=np.array([None] * 20, dtype=object)))

@case('readers', 'load_hdm05 with 16 joints', 'h.npz', 'positions', '16')
def _(t): api('posebench.data', 'load_hdm05')(hdm05_file(t, world()[:20, :16]))

@case('readers', 'load_hdm05 with 0 frames', 'h.npz', ('no frames', '0 samples'))
def _(t): api('posebench.data', 'load_hdm05')(hdm05_file(t, world()[:0]))

@case('readers', 'load_hdm05 subject labels of the wrong length', 'h.npz', 'subject', '(3,)')
def _(t): api('posebench.data', 'load_hdm05')(hdm05_file(t, subject=np.array(['bd'] * 3)))

@case('readers', 'load_cmu with fps that does not divide the source rate', 'fps', '50', '120')
def _(t): api('posebench.data', 'load_cmu')(cmu_file(t), fps=50.)

@case('readers', 'load_cmu with negative fps', 'fps', '-30')
def _(t): api('posebench.data', 'load_cmu')(cmu_file(t), fps=-30.)

@case('readers', 'read_3dhp_test missing pose2d', 'test_3dhp.npz', 'pose2d')
def _(t):
    p = Path(t) / 'test_3dhp.npz'; np.savez(p, pose3d=np.zeros((4, 16, 3))); api('posebench.data', 'read_3dhp_test')(p)

@case('readers', 'read_3dhp_test with 17 joints', 'test_3dhp.npz', 'pose3d', '17')
def _(t): api('posebench.data', 'read_3dhp_test')(test3d_file(t, p3=np.zeros((6, 17, 3)), p2=np.zeros((6, 17, 2))))

@case('readers', 'read_3dhp_test with different frame counts', 'test_3dhp.npz', '6', '5')
def _(t): api('posebench.data', 'read_3dhp_test')(test3d_file(t, p2=np.zeros((5, 16, 2))))

@case('readers', 'read_3dhp_test image_size wrong shape', 'test_3dhp.npz', 'image_size', '(3,)')
def _(t): api('posebench.data', 'read_3dhp_test')(test3d_file(t, image_size=np.array([1, 2, 3])))

@case('readers', 'read_3dhp_test image_size zero', 'test_3dhp.npz', 'image_size', '0')
def _(t): api('posebench.data', 'read_3dhp_test')(test3d_file(t, image_size=np.array([0, 0])))

@case('readers', 'read_3dhp_test image_size argument of one number', 'image_size', '(1,)')
def _(t): api('posebench.data', 'read_3dhp_test')(test3d_file(t), image_size=(5,))

@case('readers', 'read_3dhp_test with NaN in pose2d', 'test_3dhp.npz', 'pose2d', 'nan')
def _(t):
    p2 = np.zeros((6, 16, 2)) + np.linspace(-.2, .2, 16)[:, None]; p2[1, 1, 1] = np.nan
    api('posebench.data', 'read_3dhp_test')(test3d_file(t, p2=p2))

@case('readers', 'read_3dhp_test with fps 0', 'fps', '0')
def _(t): api('posebench.data', 'read_3dhp_test')(test3d_file(t), fps=0.)

@case('readers', 'read_h36m without the pickle opt-in', 'data_3d_h36m.npz', 'allow_pickle')
def _(t):
    p = Path(t) / 'data_3d_h36m.npz'
    np.savez(p, positions_3d=np.array({'S1': {}}, dtype=object))
    api('posebench.data', 'read_h36m')(p)

@case('readers', 'from_world with up="x"', 'up', 'x')
def _(t): from_world(world()[:10], up='x')

@case('readers', 'from_world with a camera dict missing R', ('cameras', 'camera'), "'R'")
def _(t):
    c = api('posebench.data', 'virtual_cameras')(); c.pop('R'); from_world(world()[:10], cameras=c)

@case('readers', 'from_world with camera arrays of mismatched counts', ('cameras', 'camera'), ('(4, 3, 3)', '(2, 3)', '4', '2'))
def _(t):
    c = api('posebench.data', 'virtual_cameras')(); c['t'] = c['t'][:2]; from_world(world()[:10], cameras=c)

@case('readers', 'from_world with intrinsics (4,) per camera', ('intrinsics', 'camera'), ('(4, 4)', '6'))
def _(t):
    c = api('posebench.data', 'virtual_cameras')(); c['intrinsics'] = c['intrinsics'][:, :4]; from_world(world()[:10], cameras=c)

@case('readers', 'from_world with fps 0', 'fps', '0')
def _(t): api('posebench.data', 'from_world')(world()[:10], 'S1', 'walk', 0, 0.)

@case('readers', 'from_world with (F, 51) flat positions', 'positions', '51')
def _(t): from_world(world()[:10].reshape(10, 51))

# ---------------------------------------------------------------- implausible data
@case('plausibility', 'load_hdm05 metres instead of mm', 'h.npz', 'units', ('0.', 'bone length'))
def _(t): api('posebench.data', 'load_hdm05')(hdm05_file(t, world()[:20] / 1000))

@case('plausibility', 'load_hdm05 cm instead of mm (x0.1)', 'h.npz', ('units', 'bone'))
def _(t): api('posebench.data', 'load_hdm05')(hdm05_file(t, world()[:20] / 10))

@case('plausibility', 'load_hdm05 joint order permuted (knee/foot swapped)', 'h.npz', ('bone_lengths', 'left_right', 'order'))
def _(t):
    perm = list(range(17)); perm[2], perm[3] = 3, 2
    api('posebench.data', 'load_hdm05')(hdm05_file(t, world()[:20][:, perm]))

@case('plausibility', 'load_hdm05 joint order of another skeleton (random permutation)', 'h.npz', ('bone_lengths', 'left_right', 'up_axis', 'order'))
def _(t):
    perm = np.random.default_rng(1).permutation(17)
    api('posebench.data', 'load_hdm05')(hdm05_file(t, world()[:20][:, perm]))

@case('plausibility', 'load_hdm05 left and right swapped', 'h.npz', 'left_right')
def _(t):
    from posebench.skeleton import H36M17
    api('posebench.data', 'load_hdm05')(hdm05_file(t, world()[:20][:, H36M17.flip_perm]))

@case('plausibility', 'load_hdm05 mirrored (x -> -x)', 'h.npz', 'left_right')
def _(t): api('posebench.data', 'load_hdm05')(hdm05_file(t, world()[:20] * torch.tensor([-1., 1., 1.])))

@case('plausibility', 'load_hdm05 Y-up data in a Z-up file', 'h.npz', 'up_axis')
def _(t):
    api('posebench.data', 'load_hdm05')(hdm05_file(t, z_up_to_y_up(world()[:20])))

@case('plausibility', 'load_hdm05 upside down', 'h.npz', ('up_axis', 'left_right'))
def _(t): api('posebench.data', 'load_hdm05')(hdm05_file(t, world()[:20] * torch.tensor([1., -1., -1.])))

@case('plausibility', 'load_hdm05 fps 0', 'h.npz', 'fps', '0')
def _(t): api('posebench.data', 'load_hdm05')(hdm05_file(t, fps=0.))

@case('plausibility', 'load_hdm05 fps negative', 'h.npz', 'fps', '-30')
def _(t): api('posebench.data', 'load_hdm05')(hdm05_file(t, fps=-30.))

@case('plausibility', 'load_hdm05 fps NaN', 'h.npz', 'fps', 'nan')
def _(t): api('posebench.data', 'load_hdm05')(hdm05_file(t, fps=float('nan')))

@case('plausibility', 'load_cmu Z-up data in a Y-up file', 'c.npz', 'up_axis')
def _(t): api('posebench.data', 'load_cmu')(cmu_file(t, world()[:40].numpy()), fps=120.)

@case('plausibility', 'load_cmu fps 0 in the file', 'c.npz', 'fps', '0')
def _(t): api('posebench.data', 'load_cmu')(cmu_file(t, fps=0.))

@case('plausibility', 'read_npz metres instead of mm', 'p.npz', 'units')
def _(t): api('posebench.data', 'read_npz')(poseset_file(t, pose3d=(small_ps().pose3d / 1000).numpy()))

@case('plausibility', 'read_npz poses behind the camera', 'p.npz', 'depth')
def _(t): api('posebench.data', 'read_npz')(poseset_file(t, pose3d=(small_ps().pose3d - torch.tensor([0, 0, 9000.])).numpy()))

@case('plausibility', 'read_npz normalised 2D stored as pixels', 'p.npz', 'image_range')
def _(t): api('posebench.data', 'read_npz')(poseset_file(t, pose2d=small_ps().inputs2d().numpy()))

@case('plausibility', 'read_npz pixels scaled 10x (wrong image size)', 'p.npz', 'image_range')
def _(t): api('posebench.data', 'read_npz')(poseset_file(t, pose2d=(small_ps().pose2d * 10).numpy()))

@case('plausibility', 'read_npz left/right swapped', 'p.npz', 'left_right')
def _(t):
    from posebench.skeleton import H36M17
    api('posebench.data', 'read_npz')(poseset_file(t, pose3d=small_ps().pose3d[:, H36M17.flip_perm].numpy()))

@case('plausibility', 'read_3dhp_test millimetres in a metres file', 'test_3dhp.npz', 'units')
def _(t):
    p = test3d_file(t); d = dict(np.load(p)); d['pose3d'] = d['pose3d'] * 1000; np.savez(p, **d)
    api('posebench.data', 'read_3dhp_test')(p)

@case('plausibility', 'read_3dpw_test pixels where normalised is expected', 'test_3dpw.npz', 'image_range')
def _(t):
    p = test3d_file(t, 'test_3dpw.npz'); d = dict(np.load(p)); d['pose2d'] = (d['pose2d'] + 1) * 960; np.savez(p, **d)
    api('posebench.data', 'read_3dpw_test')(p)

@case('plausibility', 'from_world metres', 'units')
def _(t): from_world(world()[:10] / 1000)

@case('plausibility', 'read_bvh negative scale', '02_01.bvh', 'scale', '-10')
def _(t): api('posebench.data', 'read_bvh')(bvh_copy(t), scale=-10.)

@case('plausibility', 'read_bvh zero scale', '02_01.bvh', 'scale', '0')
def _(t): api('posebench.data', 'read_bvh')(bvh_copy(t), scale=0.)

@case('plausibility', 'read_bvh NaN scale', '02_01.bvh', 'scale', 'nan')
def _(t): api('posebench.data', 'read_bvh')(bvh_copy(t), scale=float('nan'))

@case('plausibility', 'read_bvh scale 1000x (metres assumed as mm)', '02_01.bvh', 'units')
def _(t): api('posebench.data', 'read_bvh')(bvh_copy(t), scale=56.4 * 1000)

@case('plausibility', 'read_bvh Frame Time 0', '02_01.bvh', ('fps', 'frame time', 'Frame Time'), '0')
def _(t): api('posebench.data', 'read_bvh')(bvh_copy(t, edit=lambda L: [('Frame Time: 0' if l.startswith('Frame Time') else l) for l in L]))

@case('plausibility', 'read_bvh Frame Time negative', '02_01.bvh', ('fps', 'frame time', 'Frame Time'), '-')
def _(t): api('posebench.data', 'read_bvh')(bvh_copy(t, edit=lambda L: [('Frame Time: -0.01' if l.startswith('Frame Time') else l) for l in L]))

@case('plausibility', 'read_bvh with to_z_up on data that is already... (Y-up declared Z-up)', '02_01.bvh', 'up_axis')
def _(t):
    from posebench.mocap import bvh_to_h36m17
    pos, fps = bvh_to_h36m17(bvh_copy(t))
    api('posebench.data', 'from_world')(pos, 'x', 'walk', 0, fps, up='z', where=str(Path(t) / '02_01.bvh'))

@case('plausibility', 'read_asf_amc ASF of another actor', 'HDM_mm_squat1Reps_037_120.amc', 'actor', ('HDM_bd', 'bd'))
def _(t):
    a, m = hdm_copy(t, asf='HDM_bd.asf')
    api('posebench.data', 'read_asf_amc')(a, m)

@case('plausibility', 'read_asf_amc negative length unit', 'HDM_mm.asf', 'scale', '-')
def _(t):
    a, m = hdm_copy(t, edit_asf=lambda s: re.sub(r'length\s+0\.45', 'length -0.45', s, count=1))
    api('posebench.data', 'read_asf_amc')(a, m)

@case('plausibility', 'read_asf_amc zero length unit', 'HDM_mm.asf', 'scale', '0')
def _(t):
    a, m = hdm_copy(t, edit_asf=lambda s: re.sub(r'length\s+0\.45', 'length 0', s, count=1))
    api('posebench.data', 'read_asf_amc')(a, m)

@case('plausibility', 'read_asf_amc negative scale argument', 'scale', '-1')
def _(t):
    a, m = hdm_copy(t); api('posebench.data', 'read_asf_amc')(a, m, scale=-1.)

@case('plausibility', 'read_asf_amc fps 0', 'fps', '0')
def _(t):
    a, m = hdm_copy(t); api('posebench.data', 'read_asf_amc')(a, m, fps=0.)

@case('plausibility', 'read_asf_amc fps negative', 'fps', '-120')
def _(t):
    a, m = hdm_copy(t); api('posebench.data', 'read_asf_amc')(a, m, fps=-120.)

# ---------------------------------------------------------------- mocap files: malformed
@case('mocap', 'BVH empty file', 'e.bvh', 'HIERARCHY')
def _(t):
    p = Path(t) / 'e.bvh'; p.write_text(''); api('posebench.mocap', 'parse_bvh')(p)

@case('mocap', 'BVH binary garbage', 'g.bvh', ('HIERARCHY', 'expected'))
def _(t):
    p = Path(t) / 'g.bvh'; p.write_bytes(os.urandom(500)); api('posebench.mocap', 'parse_bvh')(p)

@case('mocap', 'BVH truncated motion', '02_01.bvh', 'Frames', '6')
def _(t): api('posebench.mocap', 'parse_bvh')(bvh_copy(t, edit=lambda L: L[:-2]))

@case('mocap', 'BVH non-numeric value', '02_01.bvh', 'line', 'abc')
def _(t): api('posebench.mocap', 'parse_bvh')(bvh_copy(t, edit=lambda L: L[:-1] + ['abc ' + L[-1]]))

@case('mocap', 'BVH row with a missing value', '02_01.bvh', 'line', 'expected')
def _(t): api('posebench.mocap', 'parse_bvh')(bvh_copy(t, edit=lambda L: L[:-1] + [' '.join(L[-1].split()[:-1])]))

@case('mocap', 'BVH Frames not a number', '02_01.bvh', 'Frames', 'many')
def _(t): api('posebench.mocap', 'parse_bvh')(bvh_copy(t, edit=lambda L: [('Frames: many' if l.startswith('Frames') else l) for l in L]))

@case('mocap', 'BVH Frames negative', '02_01.bvh', 'Frames', '-3')
def _(t): api('posebench.mocap', 'parse_bvh')(bvh_copy(t, edit=lambda L: [('Frames: -3' if l.startswith('Frames') else l) for l in L]))

@case('mocap', 'BVH unknown layout without a mapping', 'small.bvh', ('layout', 'mapping'))
def _(t):
    p = Path(t) / 'small.bvh'
    p.write_text("HIERARCHY\nROOT r\n{\n OFFSET 0 0 0\n CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation\n"
                 " End Site\n {\n  OFFSET 0 1 0\n }\n}\nMOTION\nFrames: 1\nFrame Time: 0.01\n0 0 0 0 0 0\n")
    api('posebench.data', 'read_bvh')(p)

@case('mocap', 'BVH missing file', 'nope.bvh', 'not found')
def _(t): api('posebench.data', 'read_bvh')(Path(t) / 'nope.bvh')

@case('mocap', 'AMC bone not in the ASF', 'HDM_mm_squat1Reps_037_120.amc', 'tail')
def _(t):
    a, m = hdm_copy(t, edit_amc=lambda s: s.replace('\nlfemur', '\ntail 1 2 3\nlfemur', 1))
    api('posebench.data', 'read_asf_amc')(a, m)

@case('mocap', 'AMC bone with too few values', 'HDM_mm_squat1Reps_037_120.amc', 'lfemur', 'expected')
def _(t):
    def ed(s):
        return re.sub(r'\nlfemur ([-\d.e]+) ([-\d.e]+) ([-\d.e]+)', r'\nlfemur \1 \2', s, count=1)
    a, m = hdm_copy(t, edit_amc=ed); api('posebench.data', 'read_asf_amc')(a, m)

@case('mocap', 'AMC frame missing a bone', 'HDM_mm_squat1Reps_037_120.amc', 'lfemur', 'lacks')
def _(t):
    a, m = hdm_copy(t, edit_amc=lambda s: re.sub(r'\nlfemur [^\n]*', '', s, count=1)); api('posebench.data', 'read_asf_amc')(a, m)

@case('mocap', 'AMC empty file', 'HDM_mm_squat1Reps_037_120.amc', ('frame', 'empty'))
def _(t):
    a, m = hdm_copy(t, edit_amc=lambda s: ''); api('posebench.data', 'read_asf_amc')(a, m)

@case('mocap', 'AMC of another skeleton (tiny ASF)', 'HDM_mm_squat1Reps_037_120.amc', ('unknown bone', 'not in'))
def _(t):
    raw = SHARED / 'hdm05' / 'raw'
    a, m = hdm_copy(t)
    txt = a.read_text(encoding='latin-1')
    tiny = txt.split(':bonedata')[0] + ':bonedata\n  begin\n     id 1\n     name lhipjoint\n     direction 1 0 0\n     length 1\n     axis 0 0 0  XYZ\n  end\n:hierarchy\n  begin\n    root lhipjoint\n  end\n'
    a.write_text(tiny, encoding='latin-1')
    from posebench.mocap import read_asf, read_amc
    read_amc(m, read_asf(a))

@case('mocap', 'ASF missing :hierarchy', 'HDM_mm.asf', 'hierarchy')
def _(t):
    a, m = hdm_copy(t, edit_asf=lambda s: s.split(':hierarchy')[0]); api('posebench.data', 'read_asf_amc')(a, m)

@case('mocap', 'ASF bone with non-numeric length', 'HDM_mm.asf', 'length', 'long')
def _(t):
    a, m = hdm_copy(t, edit_asf=lambda s: re.sub(r'(\n\s*)length [-\d.e]+', r'\1length long', s.split(':bonedata')[1], count=1)
                    and s.split(':bonedata')[0] + ':bonedata' + re.sub(r'(\n\s*)length [-\d.e]+', r'\1length long', s.split(':bonedata')[1], count=1))
    api('posebench.data', 'read_asf_amc')(a, m)

@case('mocap', 'ASF with a bone of zero direction', 'HDM_mm.asf', 'direction', '0')
def _(t):
    def ed(s):
        head, body = s.split(':bonedata')
        return head + ':bonedata' + re.sub(r'direction [^\n]*', 'direction 0 0 0', body, count=1)
    a, m = hdm_copy(t, edit_asf=ed); api('posebench.data', 'read_asf_amc')(a, m)

# ---------------------------------------------------------------- lift readers and options
@case('lift', 'COCO JSON not JSON', 'bad.json', 'JSON')
def _(t):
    p = Path(t) / 'bad.json'; p.write_text('{not json'); api('posebench.lift', 'read_keypoints')(p)

@case('lift', 'COCO JSON empty file', 'e.json', 'empty')
def _(t):
    p = Path(t) / 'e.json'; p.write_text(''); api('posebench.lift', 'read_keypoints')(p)

@case('lift', 'COCO JSON empty list', 'e.json', 'empty')
def _(t): api('posebench.lift', 'read_keypoints')(coco_raw(t, [], 'e.json'))

@case('lift', 'COCO JSON a number', 'n.json', ('format', 'COCO'))
def _(t): api('posebench.lift', 'read_keypoints')(coco_raw(t, 42, 'n.json'))

@case('lift', 'COCO JSON list of strings', 's.json', ('format', 'COCO'))
def _(t): api('posebench.lift', 'read_keypoints')(coco_raw(t, ['a', 'b'], 's.json'))

@case('lift', 'COCO keypoints count 26*3 (not a layout)', 'dets.json', '26')
def _(t): api('posebench.lift', 'read_keypoints')(coco_raw(t, coco_dets(J=26)))

@case('lift', 'COCO keypoints count not a multiple of 3', 'dets.json', '50')
def _(t):
    d = coco_dets(); [r.update(keypoints=r['keypoints'][:50]) for r in d]
    api('posebench.lift', 'read_keypoints')(coco_raw(t, d))

@case('lift', 'COCO detections with different counts', 'dets.json', ('different', '51'))
def _(t):
    d = coco_dets(); d[1]['keypoints'] = d[1]['keypoints'][:48]
    api('posebench.lift', 'read_keypoints')(coco_raw(t, d))

@case('lift', 'COCO keypoints with null', 'dets.json', 'keypoints', ('null', 'None', 'number'))
def _(t): api('posebench.lift', 'read_keypoints')(coco_raw(t, coco_dets(value=None)))

@case('lift', 'COCO keypoints with a string', 'dets.json', 'keypoints', 'abc')
def _(t): api('posebench.lift', 'read_keypoints')(coco_raw(t, coco_dets(value='abc')))

@case('lift', 'COCO keypoints with NaN', 'dets.json', ('nan', 'NaN'))
def _(t):
    p = Path(t) / 'dets.json'; p.write_text(json.dumps(coco_dets()).replace(', 0.9, ', ', NaN, ', 1))
    L = api('posebench.lift'); r = L.lift_keypoints(p, tiny_net(), image_size=keypoints().image_size)
    if not torch.isfinite(r.pose3d).all(): return float('nan')

@case('lift', 'COCO keypoints as a dict', 'dets.json', 'keypoints', 'dict')
def _(t):
    d = coco_dets(); d[0]['keypoints'] = {'x': 1}; api('posebench.lift', 'read_keypoints')(coco_raw(t, d))

@case('lift', 'COCO person id not present', 'dets.json', 'person', '7')
def _(t): api('posebench.lift', 'read_keypoints')(write_coco(t), person=7)

@case('lift', 'COCO declared layout body25 for COCO-17 points', 'dets.json', 'layout', '17')
def _(t): api('posebench.lift', 'read_keypoints')(write_coco(t), layout='body25')

@case('lift', 'unknown layout name', 'coco18', 'valid')
def _(t): api('posebench.lift', 'read_keypoints')(write_coco(t), layout='coco18')

@case('lift', 'unknown format name', 'yaml', 'valid')
def _(t): api('posebench.lift', 'read_keypoints')(write_coco(t), format='yaml')

@case('lift', 'MMPose JSON without instance_info', 'mm.json', 'instance_info')
def _(t): api('posebench.lift', 'read_keypoints')(coco_raw(t, {'meta_info': {}}, 'mm.json'), format='mmpose')

@case('lift', 'MMPose keypoint_scores of the wrong length', 'mm.json', 'keypoint_scores', ('16', '17'))
def _(t):
    kp = keypoints()
    inst = [{'frame_id': f, 'instances': [{'keypoints': kp.xy[f].tolist(), 'keypoint_scores': [0.9] * 16}]} for f in range(3)]
    api('posebench.lift', 'read_keypoints')(coco_raw(t, {'instance_info': inst}, 'mm.json'))

@case('lift', 'MMPose frame_id not a number', 'mm.json', 'frame_id', 'abc')
def _(t):
    kp = keypoints()
    inst = [{'frame_id': 'abc', 'instances': [{'keypoints': kp.xy[0].tolist(), 'keypoint_scores': [0.9] * 17}]}]
    api('posebench.lift', 'read_keypoints')(coco_raw(t, {'instance_info': inst}, 'mm.json'))

@case('lift', 'MMPose keypoints ragged', 'mm.json', 'keypoints')
def _(t):
    kp = keypoints()
    pts = kp.xy[0].tolist(); pts[3] = [1.0]
    inst = [{'frame_id': 0, 'instances': [{'keypoints': pts, 'keypoint_scores': [0.9] * 17}]}]
    api('posebench.lift', 'read_keypoints')(coco_raw(t, {'instance_info': inst}, 'mm.json'))

@case('lift', 'OpenPose folder without JSON files', 'op', ('no *.json', 'empty'))
def _(t):
    (Path(t) / 'op').mkdir(); api('posebench.lift', 'read_keypoints')(Path(t) / 'op')

@case('lift', 'OpenPose file without people', 'v_0.json', 'people')
def _(t):
    (Path(t) / 'op').mkdir(); (Path(t) / 'op' / 'v_0.json').write_text(json.dumps({'version': 1.3}))
    api('posebench.lift', 'read_keypoints')(Path(t) / 'op')

@case('lift', 'OpenPose people not a list', 'v_0.json', 'people')
def _(t):
    (Path(t) / 'op').mkdir(); (Path(t) / 'op' / 'v_0.json').write_text(json.dumps({'people': 5}))
    api('posebench.lift', 'read_keypoints')(Path(t) / 'op')

@case('lift', 'OpenPose person entry a list', 'v_0.json', 'people')
def _(t):
    (Path(t) / 'op').mkdir(); (Path(t) / 'op' / 'v_0.json').write_text(json.dumps({'people': [[1, 2, 3]]}))
    api('posebench.lift', 'read_keypoints')(Path(t) / 'op')

@case('lift', 'OpenPose 18 points (COCO-18)', 'op', ('18', 'layout'))
def _(t):
    (Path(t) / 'op').mkdir()
    (Path(t) / 'op' / 'v_0.json').write_text(json.dumps({'people': [{'pose_keypoints_2d': [1.0] * 54}]}))
    api('posebench.lift', 'read_keypoints')(Path(t) / 'op')

@case('lift', 'OpenPose one unreadable file among good ones', 'v_1.json', 'JSON')
def _(t):
    (Path(t) / 'op').mkdir()
    (Path(t) / 'op' / 'v_0.json').write_text(json.dumps({'people': [{'pose_keypoints_2d': [1.0] * 75}]}))
    (Path(t) / 'op' / 'v_1.json').write_text('{oops')
    api('posebench.lift', 'read_keypoints')(Path(t) / 'op')

@case('lift', 'CSV with wrong column count', 'k.csv', ('50', 'columns'))
def _(t):
    p = Path(t) / 'k.csv'; p.write_text('\n'.join(','.join(['1.0'] * 50) for _ in range(3)))
    api('posebench.lift', 'read_keypoints')(p, layout='coco17')

@case('lift', 'CSV with ragged rows', 'k.csv', 'line', ('columns', '51', '48'))
def _(t):
    p = Path(t) / 'k.csv'; p.write_text(','.join(['1.0'] * 51) + '\n' + ','.join(['1.0'] * 48) + '\n')
    api('posebench.lift', 'read_keypoints')(p, layout='coco17')

@case('lift', 'CSV with a non-numeric value', 'k.csv', 'line', 'abc')
def _(t):
    p = Path(t) / 'k.csv'; row = ['1.0'] * 51
    p.write_text(','.join(row) + '\n' + ','.join(row[:-1] + ['abc']) + '\n')
    api('posebench.lift', 'read_keypoints')(p, layout='coco17')

@case('lift', 'CSV with a header only', 'k.csv', 'empty')
def _(t):
    p = Path(t) / 'k.csv'; p.write_text('frame,x0,y0,s0\n'); api('posebench.lift', 'read_keypoints')(p, layout='coco17')

@case('lift', 'CSV without a declared layout', 'k.csv', 'layout')
def _(t):
    p = Path(t) / 'k.csv'; p.write_text(','.join(['1.0'] * 51) + '\n'); api('posebench.lift', 'read_keypoints')(p)

@case('lift', 'CSV empty file', 'k.csv', 'empty')
def _(t):
    p = Path(t) / 'k.csv'; p.write_text(''); api('posebench.lift', 'read_keypoints')(p, layout='coco17')

@case('lift', 'npz keypoints as objects', 'k.npz', 'keypoints', 'pickle')
def _(t):
    p = Path(t) / 'k.npz'; np.savez(p, keypoints=np.array([None, 1], dtype=object))
    api('posebench.lift', 'read_keypoints')(p, layout='coco17')

@case('lift', 'npz keypoints as strings', 'k.npz', 'keypoints', ('string', 'numbers'))
def _(t):
    p = Path(t) / 'k.npz'; np.savez(p, keypoints=np.full((3, 17, 3), 'a'))
    api('posebench.lift', 'read_keypoints')(p, layout='coco17')

@case('lift', 'npz keypoints (F, J) 2-D', 'k.npz', 'keypoints', '(3, 17)')
def _(t):
    p = Path(t) / 'k.npz'; np.savez(p, keypoints=np.ones((3, 17)))
    api('posebench.lift', 'read_keypoints')(p, layout='coco17')

@case('lift', 'npz scores of the wrong shape', 'k.npz', 'scores', '(3, 16)')
def _(t):
    p = Path(t) / 'k.npz'; np.savez(p, keypoints=np.ones((3, 17, 2)), scores=np.ones((3, 16)))
    api('posebench.lift', 'read_keypoints')(p, layout='coco17')

@case('lift', 'npz frame ids of the wrong length', 'k.npz', 'frame', '2')
def _(t):
    p = Path(t) / 'k.npz'; np.savez(p, keypoints=np.ones((3, 17, 2)), frame=np.arange(2))
    api('posebench.lift', 'read_keypoints')(p, layout='coco17')

@case('lift', 'npz truncated', 'k.npz', ('npz', 'readable', 'truncated'))
def _(t):
    p = Path(t) / 'k.npz'; np.savez(p, keypoints=np.ones((30, 17, 3))); b = p.read_bytes(); p.write_bytes(b[:len(b) // 2])
    api('posebench.lift', 'read_keypoints')(p, layout='coco17')

@case('lift', 'image_size of one number', 'image_size', '640')
def _(t): api('posebench.lift', 'lift_keypoints')(keypoints(), tiny_net(), image_size=(640,))

@case('lift', 'image_size zero', 'image', '0')
def _(t): api('posebench.lift', 'lift_keypoints')(keypoints(), tiny_net(), image_size=(0, 0))

@case('lift', 'image_size infinite', 'image', 'inf')
def _(t):
    r = api('posebench.lift', 'lift_keypoints')(keypoints(), tiny_net(), image_size=(float('inf'), float('inf')))
    if not torch.isfinite(r.pose3d).all(): return float('nan')

@case('lift', 'image_size as strings', 'image', 'abc')
def _(t): api('posebench.lift', 'lift_keypoints')(keypoints(), tiny_net(), image_size=('abc', 'def'))

@case('lift', 'normalised key points read as pixels', 'normalis')
def _(t):
    L = api('posebench.lift'); from posebench.geometry import normalize_screen
    kp = keypoints(); w, h = kp.image_size
    L.lift_keypoints(kp.replace(xy=normalize_screen(kp.xy, torch.tensor(w), torch.tensor(h))), tiny_net())

@case('lift', 'pixels declared normalised', 'normalis', 'pixels')
def _(t): api('posebench.lift', 'lift_keypoints')(keypoints(), tiny_net(), units='normalised')

@case('lift', 'units typo', 'units', 'px')
def _(t): api('posebench.lift', 'lift_keypoints')(keypoints(), tiny_net(), units='px')

@case('lift', 'min_score above 1', 'min_score', '2')
def _(t): api('posebench.lift', 'lift_keypoints')(keypoints(), tiny_net(), min_score=2.)

@case('lift', 'min_score negative', 'min_score', '-1')
def _(t): api('posebench.lift', 'lift_keypoints')(keypoints(), tiny_net(), min_score=-1.)

@case('lift', 'max_gap negative', 'max_gap', '-1')
def _(t): api('posebench.lift', 'lift_keypoints')(keypoints(), tiny_net(), max_gap=-1)

@case('lift', 'batch_size 0', 'batch_size', '0')
def _(t): api('posebench.lift', 'lift_keypoints')(keypoints(), tiny_net(), batch_size=0)

@case('lift', 'focal negative', 'focal', '-1000')
def _(t): api('posebench.lift', 'lift_keypoints')(keypoints(), tiny_net(), focal=-1000.)

@case('lift', 'focal zero', 'focal', '0')
def _(t): api('posebench.lift', 'lift_keypoints')(keypoints(), tiny_net(), focal=0.)

@case('lift', 'focal NaN', 'focal', 'nan')
def _(t):
    r = api('posebench.lift', 'lift_keypoints')(keypoints(), tiny_net(), focal=float('nan'))
    if r.root is not None and not torch.isfinite(r.root).all(): return float('nan')

@case('lift', 'model a string that is not a file', 'nomodel.pt', ('no such file', 'not found'))
def _(t): api('posebench.lift', 'lift_keypoints')(keypoints(), str(Path(t) / 'nomodel.pt'))

@case('lift', 'model a 16-joint network', ('16', 'joints'), '17')
def _(t):
    net = api('posebench.models', 'get_model')('simple_baseline', 'h36m16', width=16, blocks=1)
    api('posebench.lift', 'lift_keypoints')(keypoints(), net)

@case('lift', 'model not a network', 'model', 'int')
def _(t): api('posebench.lift', 'lift_keypoints')(keypoints(), 5)

@case('lift', 'save_bvh with fps 0', 'fps', '0')
def _(t):
    L = api('posebench.lift'); r = L.lift_keypoints(keypoints(), tiny_net()); L.save_bvh(r, Path(t) / 'x.bvh', fps=0.)

@case('lift', 'save_bvh with fps negative', 'fps', '-30')
def _(t):
    L = api('posebench.lift'); r = L.lift_keypoints(keypoints(), tiny_net()); L.save_bvh(r, Path(t) / 'x.bvh', fps=-30.)

@case('lift', 'save_bvh units typo', 'units', 'inch')
def _(t):
    L = api('posebench.lift'); r = L.lift_keypoints(keypoints(), tiny_net()); L.save_bvh(r, Path(t) / 'x.bvh', units='inch')

@case('lift', 'save_lift into a path that is a file', 'out', ('exists', 'directory', 'not a folder'))
def _(t):
    L = api('posebench.lift'); r = L.lift_keypoints(keypoints(), tiny_net())
    (Path(t) / 'out').write_text('x'); L.save_lift(r, Path(t) / 'out', html=False)

# ---------------------------------------------------------------- results that lie
@case('results', 'reuse of a folder with a finished run', 'run', 'metrics.json', ('resume', 'overwrite'))
def _(t): train_sup(out_dir=finished_run(t))

@case('results', 'failed re-run (overwrite) into a finished folder keeps no stale metrics.json', 'widht')
def _(t):
    cfg(overwrite=True)                                   # (n/a where TrainConfig has no overwrite)
    d = finished_run(t)
    try: train_sup(out_dir=d, overwrite=True, model_kwargs={'widht': 3})
    except Exception as e:
        if (d / 'metrics.json').exists(): raise Silent(f"failed re-run left the old metrics.json in place ({type(e).__name__}: {e})")
        if not (d / 'failed.json').exists(): raise Silent(f"failed re-run left no failed.json record ({e})")
        raise

@case('results', 'resume of a finished run with more epochs keeps the old result until it finishes', 'checkpoint', 'width')
def _(t):
    d = finished_run(t)
    before = (d / 'metrics.json').read_text()
    try: train_sup(out_dir=d, resume=True, epochs=2, model_kwargs={'width': 32})
    except Exception as e:
        if not (d / 'checkpoint.pt').exists(): raise Silent(f"a refused resume deleted the checkpoint ({e})")
        raise

@case('results', 'collect_results on a broken metrics.json (strict)', 'metrics.json', ('JSON', 'json'))
def _(t):
    d = finished_run(t); (d / 'metrics.json').write_text('{"method": ')
    api('posebench.experiments', 'collect_results')([d], strict=True)

@case('results', 'collect_results on a metrics.json of another schema (strict)', 'metrics.json', 'schema')
def _(t):
    d = finished_run(t); j = json.loads((d / 'metrics.json').read_text()); j['schema'] = 99
    (d / 'metrics.json').write_text(json.dumps(j)); api('posebench.experiments', 'collect_results')([d], strict=True)

@case('results', 'report_table with a metric typo', 'mpjep')
def _(t): api('posebench.experiments', 'report_table')([finished_run(t)], metrics=('mpjep',))

@case('results', 'collect_results of a missing folder', 'nope', ('exist', 'not found'))
def _(t): api('posebench.experiments', 'collect_results')([Path(t) / 'nope'])

@case('results', 'metrics.json whose tests hold NaN metrics', 'metrics.json', ('nan', 'NaN', 'null'))
def _(t):
    d = finished_run(t); j = json.loads((d / 'metrics.json').read_text())
    for v in j['tests'].values(): v['mpjpe'] = None
    (d / 'metrics.json').write_text(json.dumps(j))
    tab = api('posebench.experiments', 'report_table')([d], metrics=('mpjpe',))
    if 'nan' in tab.lower() or 'none' in tab.lower(): return float('nan')

@case('results', 'bench report on a bench folder with a broken bench_config.json', 'bench_config.json')
def _(t):
    b = Path(t) / 'b'; (b / 'runs').mkdir(parents=True); (b / 'bench_config.json').write_text('{oops')
    api('posebench.bench', 'regenerate_report')(b)

@case('results', 'bench report on a bench folder with a broken bench_wall.json', 'bench_wall.json')
def _(t):
    b = Path(t) / 'b'; (b / 'runs').mkdir(parents=True); (b / 'bench_config.json').write_text('{}')
    (b / 'bench_wall.json').write_text('[{')
    api('posebench.bench', 'regenerate_report')(b)

@case('results', 'bench report where a run record is broken', 'unreadable')
def _(t):
    b = Path(t) / 'b'; (b / 'runs' / 'job' / 'seed0').mkdir(parents=True); (b / 'bench_config.json').write_text('{}')
    (b / 'runs' / 'job' / 'seed0' / 'bench.json').write_text('{oops')
    md = api('posebench.bench', 'regenerate_report')(b).read_text()
    if 'unreadable' in md or 'failed' in md: raise ValueError('report: ' + next(l for l in md.splitlines() if '| job |' in l))

# ---------------------------------------------------------------- CLI
@case('cli', 'report of a folder with only a broken metrics.json', 'metrics.json')
def _(t):
    d = finished_run(t); (d / 'metrics.json').write_text('{oops'); return cli('report', d)

@case('cli', 'report with one broken and one good metrics.json warns', 'metrics.json', ('skipped', 'JSON'), expect='warn')
def _(t):
    d = finished_run(t, 'a'); e = finished_run(t, 'b'); (e / 'metrics.json').write_text('{oops'); return cli('report', t)

@case('cli', 'report --metrics typo', 'mpjep')
def _(t): return cli('report', finished_run(t), '--metrics', 'mpjep')

@case('cli', 'report of a missing folder', 'nope')
def _(t): return cli('report', Path(t) / 'nope')

@case('cli', 'report --out into an unwritable place', 'table.md')
def _(t):
    (Path(t) / 'f').write_text('x'); return cli('report', finished_run(t), '--out', Path(t) / 'f' / 'table.md')

@case('cli', 'report of a folder with a failed run warns', ('failed', 'failed.json'), expect='warn')
def _(t):
    d = finished_run(t)
    try: train_sup(out_dir=Path(t) / 'bad', model_kwargs={'widht': 1})
    except Exception: pass
    return cli('report', t)

@case('cli', 'report of a bench folder with a broken bench_config.json', 'bench_config.json')
def _(t):
    b = Path(t) / 'b'; (b / 'runs').mkdir(parents=True); (b / 'bench_config.json').write_text('{oops'); return cli('report', b)

@case('cli', 'eval of a missing checkpoint', 'nope', ('no such file', 'not found'))
def _(t): return cli('eval', Path(t) / 'nope')

@case('cli', 'eval of a corrupted checkpoint', 'checkpoint.pt', ('corrupt', 'digest', 'truncated'))
def _(t):
    d = finished_run(t); b = (d / 'checkpoint.pt').read_bytes(); (d / 'checkpoint.pt').write_bytes(b[:100]); return cli('eval', d)

@case('cli', 'eval --data typo', 'hmd05')
def _(t): return cli('eval', finished_run(t), '--data', 'hmd05')

@case('cli', 'eval --test-samples 0', 'test_samples', '0')
def _(t): return cli('eval', finished_run(t), '--test-samples', '0')

@case('cli', 'eval --device cuda without CUDA', 'cuda')
def _(t):
    if torch.cuda.is_available(): raise NA('CUDA present')
    return cli('eval', finished_run(t), '--device', 'cuda')

@case('cli', 'eval --out into the training run folder (would replace its metrics.json)', 'metrics.json')
def _(t):
    d = finished_run(t); before = (d / 'metrics.json').read_text()
    r = cli('eval', d, '--out', d, '--test-samples', '20')
    if r.rc == 0 and (d / 'metrics.json').read_text() != before:
        raise Silent("eval --out <run folder> replaced the training run's metrics.json (its history is lost)")
    return r

@case('cli', 'lift of a missing source', 'nope.json', 'not found')
def _(t): return cli('lift', Path(t) / 'nope.json', '--model', model_file(), '--out', Path(t) / 'o')

@case('cli', 'lift --image-size 0 0', 'image', '0')
def _(t): return cli('lift', write_coco(t), '--model', model_file(), '--out', Path(t) / 'o', '--image-size', '0', '0')

@case('cli', 'lift without --image-size when the file has none', 'image size', 'image_size')
def _(t): return cli('lift', write_coco(t), '--model', model_file(), '--out', Path(t) / 'o')

@case('cli', 'lift --fps 0', 'fps', '0')
def _(t):
    w, h = keypoints().image_size
    return cli('lift', write_coco(t), '--model', model_file(), '--out', Path(t) / 'o', '--image-size', int(w), int(h), '--fps', '0', '--no-html')

@case('cli', 'lift --fps -30', 'fps', '-30')
def _(t):
    w, h = keypoints().image_size
    return cli('lift', write_coco(t), '--model', model_file(), '--out', Path(t) / 'o', '--image-size', int(w), int(h), '--fps', '-30', '--no-html')

@case('cli', 'lift --max-gap -5', 'max_gap', '-5')
def _(t):
    w, h = keypoints().image_size
    return cli('lift', write_coco(t), '--model', model_file(), '--out', Path(t) / 'o', '--image-size', int(w), int(h), '--max-gap', '-5', '--no-html', '--no-bvh')

@case('cli', 'lift --model a corrupted file', 'bad.pt', ('corrupt', 'digest', 'truncated', 'empty'))
def _(t):
    (Path(t) / 'bad.pt').write_bytes(b'xx'); w, h = keypoints().image_size
    return cli('lift', write_coco(t), '--model', Path(t) / 'bad.pt', '--out', Path(t) / 'o', '--image-size', int(w), int(h))

@case('cli', 'lift --out is a file', 'o')
def _(t):
    (Path(t) / 'o').write_text('x'); w, h = keypoints().image_size
    return cli('lift', write_coco(t), '--model', model_file(), '--out', Path(t) / 'o', '--image-size', int(w), int(h), '--no-html', '--no-bvh')

@case('cli', 'lift --units typo', 'units', 'px')
def _(t):
    w, h = keypoints().image_size
    return cli('lift', write_coco(t), '--model', model_file(), '--out', Path(t) / 'o', '--image-size', int(w), int(h), '--units', 'px')

@case('cli', 'lift --format typo', 'format', 'yaml')
def _(t): return cli('lift', write_coco(t), '--model', model_file(), '--out', Path(t) / 'o', '--format', 'yaml')

@case('cli', 'run of an unknown notebook', 'no_such_notebook')
def _(t): return cli('run', 'no_such_notebook')

@case('cli', 'run with an unknown parameter', 'epochz')
def _(t): return cli('run', 'train_supervised', '-p', 'epochz', '3', '--out', Path(t) / 'r')

@case('cli', 'run with a parameter of the wrong type', 'seed', 'abc')
def _(t): return cli('run', 'train_supervised', '-p', 'seed', 'abc', '--out', Path(t) / 'r')

@case('cli', 'run --timeout 0', 'timeout', '0')
def _(t): return cli_sub('run', 'train_supervised', '--timeout', '0', '--out', Path(t) / 'r')

@case('cli', 'run --timeout -5', 'timeout', '-5')
def _(t): return cli_sub('run', 'train_supervised', '--timeout', '-5', '--out', Path(t) / 'r')

@case('cli', 'demo --epochs -1', 'epochs', '-1')
def _(t): return cli_sub('demo', '--epochs', '-1', '--out', Path(t) / 'd')

@case('cli', 'demo --epochs 0', 'epochs', '0')
def _(t): return cli_sub('demo', '--epochs', '0', '--out', Path(t) / 'd')

@case('cli', 'demo --train-fraction 1.5', 'train_fraction', '1.5')
def _(t): return cli_sub('demo', '--train-fraction', '1.5', '--out', Path(t) / 'd')

@case('cli', 'demo --train-fraction 0', 'train_fraction', '0')
def _(t): return cli_sub('demo', '--train-fraction', '0', '--out', Path(t) / 'd')

@case('cli', 'bench --budget typo', 'budget', 'huge')
def _(t): return cli('bench', '--out', Path(t) / 'b', '--budget', 'huge')

@case('cli', 'bench --seeds 0', 'seeds', '0')
def _(t): return cli('bench', '--out', Path(t) / 'b', '--seeds', '0')

@case('cli', 'bench --data typo', 'hmd05')
def _(t): return cli('bench', '--out', Path(t) / 'b', '--data', 'hmd05')

@case('cli', 'bench --data missing npz', 'nope.npz')
def _(t): return cli('bench', '--out', Path(t) / 'b', '--data', Path(t) / 'nope.npz')

@case('cli', 'bench --methods typo', 'simple_basline')
def _(t): return cli('bench', '--out', Path(t) / 'b', '--methods', 'simple_basline', '--cross')

@case('cli', 'bench --cross unknown dataset', 'nodata')
def _(t): return cli('bench', '--out', Path(t) / 'b', '--cross', 'nodata')

@case('cli', 'bench --out is a file', 'b')
def _(t):
    (Path(t) / 'b').write_text('x'); return cli('bench', '--out', Path(t) / 'b', '--cross')

# ---------------------------------------------------------------- bench API
@case('bench', 'run_bench budget typo', 'budget', 'huge')
def _(t): api('posebench.bench', 'run_bench')('default', Path(t) / 'b', budget='huge')

@case('bench', 'run_bench seeds 0', 'seeds', '0')
def _(t): api('posebench.bench', 'run_bench')('default', Path(t) / 'b', seeds=0)

@case('bench', 'run_bench seeds -2', 'seeds', '-2')
def _(t): api('posebench.bench', 'run_bench')('default', Path(t) / 'b', seeds=-2)

@case('bench', 'bench_parameters unknown budget', 'budget', 'huge')
def _(t):
    B = api('posebench.bench'); job = B.bench_jobs()[0]
    B.bench_parameters(job, {}, {'data': 'default', 'data_root': {}}, budget='huge')

@case('bench', 'paired_interval of NaN differences', ('nan', 'NaN'))
def _(t):
    r = api('posebench.bench', 'paired_interval')([float('nan'), 1.0, 2.0])
    if r['mean'] != r['mean'] or r['verdict'] not in ('holds', 'contradicted', 'inconclusive', 'not run'): return float('nan')
    if r['mean'] != r['mean']: return float('nan')
    raise Silent(f"accepted NaN, verdict {r['verdict']}")

# ---------------------------------------------------------------- leftovers (temp files)
def _leftovers(d):
    return [p.name for p in Path(d).rglob('*') if re.search(r'\.tmp|tmp\d|^\.[^.].*\.(npz|json|pt)\.', p.name)]

@case('leftovers', 'write_npz that fails mid-write leaves no temp file', 'disk full')
def _(t):
    F = api('posebench.data.files')
    orig = np.savez_compressed
    def boom(*a, **k): raise OSError('disk full')
    F.np.savez_compressed = boom
    try: small_ps().save(Path(t) / 'x.npz')
    except OSError as e:
        left = _leftovers(t)
        if left: raise Silent(f"temp files left after a failed save: {left}")
        raise
    finally: F.np.savez_compressed = orig

@case('leftovers', 'failed training run leaves no temp files', 'widht')
def _(t):
    try: train_sup(out_dir=Path(t) / 'r', model_kwargs={'widht': 1})
    except Exception:
        left = _leftovers(t)
        if left: raise Silent(f"temp files left: {left}")
        raise

@case('leftovers', 'interrupted checkpoint write leaves no temp file', 'interrupted')
def _(t):
    atomic_write = api('posebench.train', 'atomic_write')
    def w(f): f.write('partial'); raise KeyboardInterrupt('interrupted')
    try: atomic_write(Path(t) / 'checkpoint.pt', w)
    except KeyboardInterrupt as e:
        left = _leftovers(t)
        if left: raise Silent(f"temp files left: {left}")
        if (Path(t) / 'checkpoint.pt').exists(): raise Silent('a partial checkpoint.pt was left')
        raise ValueError(f"checkpoint.pt: {e}")

@case('leftovers', 'stale temp file of a dead writer is cleaned by the next write', 'cleaned')
def _(t):
    write_json = api('posebench.train', 'write_json')
    (Path(t) / '.metrics.json.tmp999999').write_text('x')
    write_json(Path(t) / 'metrics.json', {'a': 1})
    left = _leftovers(t)
    if left: raise Silent(f"stale temp files kept: {left}")
    raise ValueError('cleaned')

@case('leftovers', 'lift save into an unwritable place leaves no partial outputs', 'o')
def _(t):
    L = api('posebench.lift'); r = L.lift_keypoints(keypoints(), tiny_net())
    (Path(t) / 'o').mkdir(); (Path(t) / 'o' / 'lifted.json').mkdir()      # a folder where a file must go
    try: L.save_lift(r, Path(t) / 'o', html=False, bvh=False)
    except Exception as e:
        left = _leftovers(t)
        if left: raise Silent(f"temp files left: {left}")
        raise


# ================================================================ runner
ROOT_TMP = None


def _alarm(signum, frame): raise Hang('case ran longer than its time limit')


def _has(msg, tok):
    low = msg.lower()
    return any(t.lower() in low for t in tok) if isinstance(tok, tuple) else tok.lower() in low


def classify(c: Case, tmp: Path):
    "(class, message) of running case `c` in folder `tmp`."
    marker = tmp / 'PWNED'
    try:
        r = c.fn(tmp)
    except NA as e: return 'n/a', str(e)
    except Silent as e: return ('code execution' if marker.exists() else 'silent'), str(e)
    except Hang as e: return 'unclear', str(e)
    except TypeError as e:
        if 'unexpected keyword argument' in str(e) or 'positional argument' in str(e) and 'takes' in str(e):
            return 'n/a', f"API differs: {e}"
        msg = f"{type(e).__name__}: {e}"
        if marker.exists(): return 'code execution', msg
        return ('clear' if all(_has(msg, k) for k in c.tokens) else 'unclear'), msg
    except BaseException as e:
        if isinstance(e, (SystemExit,)): return 'unclear', f"SystemExit {e.code}"
        msg = f"{type(e).__name__}: {e}"
        if marker.exists(): return 'code execution', msg
        return ('clear' if all(_has(msg, k) for k in c.tokens) else 'unclear'), msg
    if marker.exists(): return 'code execution', 'the pickle in the file ran code'
    if isinstance(r, CLIOut):
        err = r.err.strip()
        lines = [l for l in err.splitlines() if l.strip()]
        if r.rc == 'traceback': return 'unclear', f"traceback: {err[-400:]}"
        if r.rc == 'running': return 'silent', err
        if c.expect == 'warn':
            ok = all(_has(err, k) for k in c.tokens)
            return ('clear' if ok else 'silent'), f"exit {r.rc}: {err[:400]}"
        if r.rc in (0, None): return 'silent', f"exit 0; stdout: {r.out.strip()[-200:]}"
        msg = f"exit {r.rc}: {err}"
        if 'Traceback' in err or len(lines) > 6 or len(err) > 1500: return 'unclear', msg[:600]
        return ('clear' if all(_has(err, k) for k in c.tokens) else 'unclear'), msg
    if isinstance(r, float) and math.isnan(r): return 'silent', 'returned NaN'
    return 'silent', f"accepted (returned {type(r).__name__})"


REPO = None


def _clean(msg, tmp):
    msg = msg.replace(str(tmp), '<tmp>').replace(str(ROOT_TMP), '<tmp>').replace(str(REPO), '<repo>')
    msg = re.sub(r'/tmp/[\w./-]*?(fsweep_\w+)', '<tmp>', msg)
    return msg if len(msg) <= 500 else msg[:500] + ' ...'


def main(argv=None):
    global ROOT_TMP, REPO
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--json', help='write every outcome to this JSON file')
    ap.add_argument('-k', default=None, help='only cases whose category or name contains this')
    ap.add_argument('--timeout', type=int, default=120, help='seconds per case')
    ap.add_argument('-v', action='store_true', help='print every case')
    args = ap.parse_args(argv)
    if args.json: args.json = str(Path(args.json).resolve())
    ROOT_TMP = tempfile.mkdtemp(prefix='fsweep_')
    import posebench
    where = REPO = str(Path(posebench.__file__).resolve().parent.parent)
    import subprocess
    try: commit = subprocess.run(['git', '-C', where, 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()
    except OSError: commit = ''
    dirty = bool(subprocess.run(['git', '-C', where, 'status', '--porcelain', '--untracked-files=no'], capture_output=True,
                                text=True).stdout.strip()) if commit else False
    version = f"posebench {getattr(posebench, '__version__', '?')} at commit {commit or '?'}{' (+ uncommitted changes)' if dirty else ''}"
    import warnings; warnings.simplefilter('ignore')
    os.chdir(ROOT_TMP)                                  # runs/ folders of default out dirs land here
    signal.signal(signal.SIGALRM, _alarm)
    results, t0 = [], time.perf_counter()
    for i, c in enumerate(CASES):
        if args.k and args.k.lower() not in (c.cat + ' ' + c.name).lower(): continue
        tmp = Path(tempfile.mkdtemp(prefix=f'c{i:03d}_', dir=ROOT_TMP))
        t1 = time.perf_counter()
        signal.alarm(c.limit or args.timeout)
        try: cls, msg = classify(c, tmp)
        except Hang as e: cls, msg = 'unclear', str(e)
        finally: signal.alarm(0)
        dt = time.perf_counter() - t1
        results.append({'id': i, 'category': c.cat, 'case': c.name, 'class': cls, 'tokens': [list(k) if isinstance(k, tuple) else k for k in c.tokens],
                        'message': _clean(msg, tmp), 'seconds': round(dt, 2)})
        if args.v: print(f"[{cls:>14}] {c.cat}: {c.name} ({dt:.1f}s)", flush=True)
        shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(ROOT_TMP, ignore_errors=True)
    classes = ('clear', 'unclear', 'silent', 'code execution', 'n/a')
    counts = {k: sum(r['class'] == k for r in results) for k in classes}
    per_cat = {}
    for r in results: per_cat.setdefault(r['category'], {k: 0 for k in classes})[r['class']] += 1
    applicable = len(results) - counts['n/a']
    print(f"{version}: {len(results)} cases, {applicable} applicable, {time.perf_counter() - t0:.0f} s")
    print('  ' + ', '.join(f"{k}: {v}" for k, v in counts.items()))
    print(f"  {'category':<16}" + ''.join(f"{k:>16}" for k in classes))
    for cat, d in per_cat.items(): print(f"  {cat:<16}" + ''.join(f"{d[k]:>16}" for k in classes))
    bad = [r for r in results if r['class'] not in ('clear', 'n/a')]
    if bad:
        print('\nnot clear:')
        for r in bad: print(f"  [{r['class']}] {r['category']}: {r['case']}\n      wanted {r['tokens']}\n      got: {r['message'][:400]}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({'posebench': version, 'cases': len(results), 'applicable': applicable,
                                               'counts': counts, 'per_category': per_cat, 'results': results}, indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
