import pytest

from seqlm import data


@pytest.fixture(scope="session")
def words():
    """The word-level Shakespeare corpus (prepared once per test session)."""
    return data.load_shakespeare("word")


@pytest.fixture(scope="session")
def chars():
    return data.load_shakespeare("char")
