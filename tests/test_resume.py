"Exact resume of every recipe family through `recipe.run`: 1 epoch + resume to 2 epochs == 2 epochs straight, bit for bit."
import pytest
import torch
from posebench.train import TrainConfig, CHECKPOINT, load_checkpoint_file
from posebench.recipe import run, RunResult
from posebench.supervised import SupervisedRecipe, SupervisedOptions
from posebench.dof import DOFRecipe, DOFOptions
from posebench.augment import PoseAugRecipe, PoseAugOptions
from posebench.unsupervised import SVMACRecipe, SVMACOptions, HardyRecipe, HardyOptions
from posebench.crm import PoseGURecipe, PoseGUOptions


TINY = {'width': 64, 'blocks': 1}


@pytest.fixture(scope='module')
def data():
    from posebench.data import load_benchmark
    from posebench.kinematics import PoseGenerator, select_seeds
    train, tests = load_benchmark('default')
    train, tests = train[::300], {k: v[::640] for k, v in tests.items()}      # 128 training, 24 test poses
    fake = PoseGenerator.from_poseset(train[select_seeds(train, 2)]).generate(128, seed=0)
    return train, tests, fake


FAMILIES = [
    pytest.param(lambda fake: SupervisedRecipe(SupervisedOptions(model_kwargs=TINY)), id='supervised'),
    pytest.param(lambda fake: DOFRecipe(DOFOptions('progressive_attr', 'pred', width=16, attr_width=8)), id='dof'),
    # DOF's default attribute source: its label corruption draws from a generator checkpointed with the run
    pytest.param(lambda fake: DOFRecipe(DOFOptions('progressive_attr', 'noisy_gt', width=16, attr_width=8)), id='dof_noisy_gt'),
    pytest.param(lambda fake: PoseAugRecipe(PoseAugOptions(model_kwargs=TINY, width=16, blocks=1, critic2d_width=16,
                                                           pool_size=128, warmup_epochs=1, critic_every=1)),
                 id='poseaug'),
    pytest.param(lambda fake: SVMACRecipe(SVMACOptions(width=32, critic_width=32, critic_blocks=1,
                                                       supervised_fraction=0.1)), id='svmac'),
    pytest.param(lambda fake: HardyRecipe(HardyOptions('independent_legs_torso', width=32, blocks=1, critic_width=32,
                                                       critic_blocks=1)), id='hardy'),
    pytest.param(lambda fake: PoseGURecipe(PoseGUOptions(model_kwargs=TINY, bins=8), generated=fake), id='posegu'),
    # poses generated on the fly, prefetched on a background thread: batch (epoch, step) is a pure function of the seed
    pytest.param(lambda fake: PoseGURecipe(PoseGUOptions(model_kwargs=TINY, bins=8, stream=True, n_generated=600,
                                                         seeds_per_action=3)), id='posegu_stream'),
]

NOT_COMPARED = ('train_time_s', 'time_s')


@pytest.mark.parametrize('make', FAMILIES)
def test_resume_is_exact(make, data, tmp_path):
    train, tests, fake = data
    family = type(make(fake)).__name__
    cfg = TrainConfig(epochs=1, batch_size=64, checkpoint=True, progress=False, device='cpu')
    first = run(make(fake), train, tests, cfg, out_dir=tmp_path / 'A', eval_samples=12)
    before = load_checkpoint_file(tmp_path / 'A' / CHECKPOINT)['elapsed_s']
    with pytest.raises(ValueError, match='already holds a run'):                   # neither resume nor overwrite
        run(make(fake), train, tests, cfg.replace(epochs=2), out_dir=tmp_path / 'A')
    resumed = run(make(fake), train, tests, cfg.replace(epochs=2, resume=True), out_dir=tmp_path / 'A', eval_samples=12)
    straight = run(make(fake), train, tests, cfg.replace(epochs=2), out_dir=tmp_path / 'B', eval_samples=12)
    nets_r, nets_s = resumed.recipe_object.modules, straight.recipe_object.modules
    assert set(nets_r) == set(nets_s) and len(nets_r) >= 1
    for name in nets_s:
        sr, ss = nets_r[name].state_dict(), nets_s[name].state_dict()
        assert sr.keys() == ss.keys()
        for k in ss: assert torch.equal(sr[k], ss[k]), f"{family}: {name}.{k} differs after resume"
    strip = lambda h: [{k: v for k, v in r.items() if k not in NOT_COMPARED} for r in h]
    assert len(resumed.history) == 2 and strip(resumed.history) == strip(straight.history)
    assert strip(resumed.history[:1]) == strip(first.history)
    assert resumed.tests == straight.tests
    # the run's wall time adds the first process's time to the resumed one's
    assert before > 0 and resumed.wall_time_s > before
    assert resumed.trainer.elapsed_before == before
    assert RunResult.load(tmp_path / 'A' / 'metrics.json').wall_time_s == resumed.wall_time_s
