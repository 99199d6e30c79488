import pytest

from seqlm import config as seqlm_config
from seqlm import data


def pytest_configure(config):
    """With pytest-xdist's ``-n N``, the workers (and the kernels they start) share the
    cores: cores ÷ N threads each, set here in the controller before the workers start."""
    workers = getattr(config.option, "numprocesses", None)
    if isinstance(workers, int) and workers > 1 and not hasattr(config, "workerinput"):
        seqlm_config.share_cores(workers)


@pytest.fixture(scope="session")
def words():
    """The word-level Shakespeare corpus (prepared once per test session)."""
    return data.load_shakespeare("word")


@pytest.fixture(scope="session")
def chars():
    return data.load_shakespeare("char")
