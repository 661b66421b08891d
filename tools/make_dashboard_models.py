"""Write the small pretrained models the dashboards open with (posebench/assets/*.pt), from the embedded default data.

    python tools/make_dashboard_models.py            # ~5.5 min on one CPU thread; same seed, same files

Measured (one thread, 2 shared cores at load average 3-5): simple_baseline 54 s wall (45 s training), the two Hardy
lifters 262 s wall together (135 s + 122 s training). Two runs wrote bit-identical weights for all three models
(`torch.equal` on every tensor of the state_dict; only the recorded wall_time_s differs); the shipped files are
this script's output.

Files are in the project-wide 'posebench.model/1' format (`posebench.recipe.save_model`: a dict of tensors and plain
values with a SHA-256 trailer, read back by `posebench.recipe.load_model`, never unpickled):
    {'format': 'posebench.model/1', 'model': <registry name>, 'model_kwargs': {...}, 'skeleton': 'h36m17',
     'state_dict': ..., 'info': {...training facts...}}
- simple_baseline.pt: `posebench.models.get_model('simple_baseline', **model_kwargs)`, supervised on the default
  training subjects (skeleton viewer).
- hardy_full.pt, hardy_independent_legs_torso.pt: `posebench.unsupervised.RepresentationLifter(**model_kwargs)`
  ('hardy_lifter'), trained without 3D labels by Hardy et al.'s adversarial recipe (sensitivity probe).
"""
import argparse, time
from pathlib import Path
import torch
from posebench.data import load_benchmark
from posebench.train import TrainConfig
from posebench.supervised import train_supervised
from posebench.unsupervised import HardyOptions, train_representation, HARDY_TRAIN
from posebench.recipe import save_model, load_model, MODEL_FORMAT

ASSETS = Path(__file__).resolve().parents[1] / 'posebench' / 'assets'
def _save(path, name, kwargs, module, info):
    save_model(path, name, module.cpu(), kwargs, 'h36m17', info)
    back, facts = load_model(path, return_info=True)                            # the only way the dashboards read it
    assert facts['model'] == name and set(back.state_dict()) == set(module.state_dict())
    print(f"wrote {path} ({path.stat().st_size / 2**20:.2f} MB)")

def _tests_metrics(res, keys=('mpjpe', 'p_mpjpe', 'n_mpjpe')):
    return {t: {k: round(float(v[k]), 2) for k in keys if k in v} for t, v in res.tests.items()}

def simple_baseline(train, tests, seed, epochs):
    kw = dict(width=384, blocks=2)
    cfg = TrainConfig(epochs=epochs, batch_size=256, lr=1e-3, lr_decay=0.9, seed=seed, device='cpu', progress=False)
    t0 = time.perf_counter()
    res = train_supervised(train, tests, model='simple_baseline', cfg=cfg, model_kwargs=kw)
    info = {'data': 'default', 'train_subjects': sorted(set(train.subject.tolist())), 'train_n': len(train),
            'recipe': 'posebench.supervised.train_supervised', 'epochs': epochs, 'batch_size': 256, 'lr': 1e-3, 'seed': seed,
            'wall_time_s': round(time.perf_counter() - t0, 1), 'tests': _tests_metrics(res)}
    _save(ASSETS / 'simple_baseline.pt', 'simple_baseline', kw, res.model, info)

def hardy(train, tests, seed, epochs, representation):
    kw = dict(representation=representation, width=256, blocks=2, match_params=True)
    opts = HardyOptions(representation=representation, width=256, blocks=2, critic_width=256)
    tcfg = TrainConfig(**{**HARDY_TRAIN, 'epochs': epochs, 'batch_size': 512, 'seed': seed, 'device': 'cpu', 'progress': True})
    t0 = time.perf_counter()
    res = train_representation(train, tests, representation, opts, tcfg)
    info = {'data': 'default', 'train_subjects': sorted(set(train.subject.tolist())), 'train_n': len(train),
            'recipe': 'posebench.unsupervised.train_representation (no 3D labels)', 'epochs': epochs,
            'batch_size': 512, 'optimizer': tcfg.optimizer, 'lr': tcfg.lr, 'weight_decay': tcfg.weight_decay, 'seed': seed, 'input': 'posebench.unsupervised.hardy_normalize(pose2d)',
            'output': 'depths (B, J) in max-normalised units; lift() gives (x, y, depth)',
            'wall_time_s': round(time.perf_counter() - t0, 1), 'tests': _tests_metrics(res)}
    _save(ASSETS / f'hardy_{representation}.pt', 'hardy_lifter', kw, res.model, info)

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--epochs', type=int, default=8, help='supervised epochs')
    p.add_argument('--hardy-epochs', type=int, default=8)
    p.add_argument('--only', choices=['simple_baseline', 'hardy'], default=None)
    a = p.parse_args()
    torch.set_num_threads(1)     # on shared cores more threads only wait for each other (10x slower under load); same result every run
    ASSETS.mkdir(parents=True, exist_ok=True)
    train, tests = load_benchmark('default', seed=0)
    if a.only in (None, 'simple_baseline'): simple_baseline(train, tests, a.seed, a.epochs)
    if a.only in (None, 'hardy'):
        for rep in ('full', 'independent_legs_torso'): hardy(train, tests, a.seed, a.hardy_epochs, rep)
