"""Worker for tests/test_train.py::test_ddp_torchrun: `torchrun --standalone --nproc_per_node 2 ddp_worker.py OUT`.

Trains the supervised recipe (`train_supervised`, a `RunResult` back) for one tiny epoch with the gloo backend on CPU;
every rank writes a checksum of its final weights to OUT/rank<r>.json so the test can check DDP kept them equal (only
rank 0 writes the run's files)."""
import json, os, sys
from pathlib import Path
import torch
from torch import nn
from posebench.data import load_benchmark
from posebench.train import TrainConfig, Trainer, NonFiniteLossError
from posebench.supervised import train_supervised

out = Path(sys.argv[1])
train, tests = load_benchmark('default')
tests = {k: v[:200] for k, v in tests.items()}
cfg = TrainConfig(epochs=1, batch_size=128, device='cpu', progress=False, seed=0)
res = train_supervised(train[:512], tests, 'simple_baseline', cfg, model_kwargs=dict(width=64, blocks=1),
                       out_dir=out / 'run')
w = torch.cat([p.detach().flatten() for p in res.model.parameters()])
rank = int(os.environ['RANK'])

# a NaN on rank 1 only (epoch 2, step 2) must stop both processes with the message, not hang rank 0
torch.manual_seed(0)
toy = {'x': torch.randn(128, 3), 'y': torch.randn(128, 1)}
tr = Trainer(TrainConfig(epochs=2, batch_size=16, device='cpu', progress=False, out_dir=str(out / 'nan')),
             {'model': nn.Linear(3, 1)})
def step(tr, b, i):
    x = b['x'] * float('nan') if (rank, tr.epoch, i) == (1, 1, 2) else b['x']
    loss = (tr.modules['model'](x) - b['y']).pow(2).mean()
    tr.backward(loss, 'model')
    return {'loss': loss.detach()}
try:
    tr.fit(toy, step); nan_msg = None
except NonFiniteLossError as e: nan_msg = str(e)

(out / f'rank{rank}.json').write_text(json.dumps({'rank': rank, 'world_size': res.world_size, 'nan_msg': nan_msg,
                                                   'sum': float(w.double().sum()), 'sq': float(w.double().pow(2).sum()),
                                                   'mpjpe': {k: v['mpjpe'] for k, v in res.tests.items()}}))
