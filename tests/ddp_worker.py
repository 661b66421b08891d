"""Worker for tests/test_train.py::test_ddp_torchrun: `torchrun --standalone --nproc_per_node 2 ddp_worker.py OUT`.

Trains the supervised recipe for one tiny epoch with the gloo backend on CPU; every rank writes a checksum of its
final weights to OUT/rank<r>.json so the test can check DDP kept them equal (only rank 0 writes the run's files)."""
import json, os, sys
from pathlib import Path
import torch
from posebench.data import load_benchmark
from posebench.train import TrainConfig, train_supervised

out = Path(sys.argv[1])
train, tests = load_benchmark('default')
tests = {k: v[:400] for k, v in tests.items()}
cfg = TrainConfig(epochs=1, batch_size=128, device='cpu', progress=False, seed=0)
res = train_supervised(train[:1024], tests, 'simple_baseline', cfg, model_kwargs=dict(width=64), out_dir=out / 'run')
w = torch.cat([p.detach().flatten() for p in res.model.parameters()])
rank = int(os.environ['RANK'])
(out / f'rank{rank}.json').write_text(json.dumps({'rank': rank, 'world_size': res['world_size'],
                                                   'sum': float(w.double().sum()), 'sq': float(w.double().pow(2).sum()),
                                                   'mpjpe': {k: v['mpjpe'] for k, v in res['tests'].items()}}))
