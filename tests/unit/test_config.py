import numpy as np
import pytest
import torch

from seqlm import config


def test_explicit_profile_wins_over_environment(monkeypatch):
    monkeypatch.setenv("SEQLM_PROFILE", "full")
    assert config.resolve_profile("smoke") == "smoke"


def test_environment_gives_the_profile_when_the_parameter_is_none(monkeypatch):
    monkeypatch.setenv("SEQLM_PROFILE", "smoke")
    assert config.resolve_profile(None) == "smoke"


@pytest.mark.parametrize("cuda, expected", [(True, "full"), (False, "cpu")])
def test_auto_profile_follows_cuda(monkeypatch, cuda, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    assert config.resolve_profile("auto") == expected


def test_unknown_profile_lists_the_choices():
    with pytest.raises(ValueError, match="smoke, cpu, full, auto"):
        config.resolve_profile("huge")


def test_unknown_device_lists_the_choices():
    with pytest.raises(ValueError, match="auto, cpu, cuda"):
        config.resolve_device("tpu")


def test_cuda_without_a_gpu_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        config.resolve_device("cuda")
    assert config.resolve_device("auto") == torch.device("cpu")


def test_every_chapter_has_sizes_for_every_profile():
    for chapter, by_profile in config.SIZES.items():
        assert set(by_profile) == set(config.PROFILES), chapter
        keys = {p: set(s) for p, s in by_profile.items()}
        assert len({frozenset(k) for k in keys.values()}) == 1, f"{chapter}: profiles differ in keys"


def test_sizes_need_a_concrete_profile():
    with pytest.raises(ValueError):
        config.sizes("01_ngrams", "auto")
    with pytest.raises(KeyError, match="known"):
        config.sizes("99_nothing", "cpu")


def test_seeding_makes_runs_repeat():
    first = config.seed_everything(3).random(3), torch.rand(3)
    second = config.seed_everything(3).random(3), torch.rand(3)
    np.testing.assert_array_equal(first[0], second[0])
    assert torch.equal(first[1], second[1])


def test_setup_resolves_everything(monkeypatch, tmp_path):
    monkeypatch.setenv("SEQLM_PROFILE", "smoke")
    monkeypatch.setenv("SEQLM_RESULTS", str(tmp_path))
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("SEQLM_QUIET", raising=False)
    setup = config.setup("01_ngrams", None, "cpu", seed=1)
    assert (setup.profile, str(setup.device), setup.seed) == ("smoke", "cpu", 1)
    assert setup.size == config.SIZES["01_ngrams"]["smoke"]
    assert setup.results_dir == tmp_path and setup.quiet is False


def test_setup_arguments_win_over_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SEQLM_RESULTS", "/nowhere")
    monkeypatch.setenv("CI", "true")
    setup = config.setup("03_rnn", "smoke", "cpu", results_dir=tmp_path, quiet=False)
    assert setup.results_dir == tmp_path and not setup.quiet
    assert setup.size["train"].progress is True  # the training configs know who watches
    assert config.setup("03_rnn", "smoke", "cpu").size["train"].progress is False


def test_the_training_part_of_a_chapter_is_a_train_config():
    for chapter in ("02_ffnn", "03_rnn"):
        for profile in config.PROFILES:
            assert isinstance(config.sizes(chapter, profile)["train"], config.TrainConfig)


def test_only_config_reads_the_environment():
    import pathlib
    import re

    package = pathlib.Path(config.__file__).parent
    readers = {p.name for p in package.glob("*.py")
               if re.search(r"os\.environ|os\.getenv", p.read_text())}
    assert readers <= {"config.py"}, readers


def _clear_thread_settings(monkeypatch):
    for name in ("SEQLM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY"):
        monkeypatch.delenv(name, raising=False)


def test_a_process_alone_keeps_every_core(monkeypatch):
    _clear_thread_settings(monkeypatch)
    assert config.worker_environment(1) == {}


@pytest.mark.parametrize("workers", [2, 3, 64])
def test_workers_side_by_side_share_the_cores_and_wait_passively(monkeypatch, workers):
    _clear_thread_settings(monkeypatch)
    monkeypatch.setattr(config, "cpu_cores", lambda: 16)
    env = config.worker_environment(workers)
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == str(max(1, 16 // workers))
    assert env["OMP_WAIT_POLICY"] == "PASSIVE"


def test_the_user_sets_threads_with_seqlm_threads(monkeypatch):
    _clear_thread_settings(monkeypatch)
    monkeypatch.setenv("SEQLM_THREADS", "3")
    assert config.worker_environment(1)["OMP_NUM_THREADS"] == "3"
    assert config.worker_environment(8)["OMP_NUM_THREADS"] == "3"
    monkeypatch.setenv("SEQLM_THREADS", "many")
    with pytest.raises(ValueError, match="SEQLM_THREADS"):
        config.worker_environment(2)


def test_an_omp_num_threads_the_user_set_is_kept(monkeypatch):
    _clear_thread_settings(monkeypatch)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setattr(config, "cpu_cores", lambda: 16)
    assert config.worker_environment(2)["OMP_NUM_THREADS"] == "1"


def test_workers_must_be_a_positive_whole_number():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError):
            config.threads_per_worker(bad)


def test_share_cores_hands_the_settings_to_child_processes(monkeypatch):
    import subprocess
    import sys

    _clear_thread_settings(monkeypatch)
    monkeypatch.setattr(config, "cpu_cores", lambda: 4)
    monkeypatch.setattr(config.os, "environ", dict(config.os.environ))  # restored afterwards
    config.share_cores(2)
    child = subprocess.run([sys.executable, "-c", "import os; print(os.environ['OMP_NUM_THREADS'],"
                            " os.environ['OMP_WAIT_POLICY'])"], env=config.os.environ,
                           capture_output=True, text=True, check=True)
    assert child.stdout.split() == ["2", "PASSIVE"]


def test_an_installed_package_caches_corpora_in_the_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("SEQLM_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(config, "_checkout", lambda: None)
    monkeypatch.chdir(tmp_path)
    assert config.cache_dir() == tmp_path / "seqlm"  # never ./data/cache of the working folder


def test_a_budget_in_passes_sets_steps_and_evaluations():
    base = config.TrainConfig(steps=1, lr=1e-3, patience=3)
    big = base.in_passes(469, 8)
    assert (big.steps, big.eval_every, big.patience, big.lr) == (3752, 234, 3, 1e-3)
    tiny = base.in_passes(5, 100)                  # 5 batches a pass: every 4 passes
    assert (tiny.steps, tiny.eval_every) == (500, 20)
    with pytest.raises(ValueError):
        base.in_passes(0, 3)
