import pytest

import engine


@pytest.fixture
def two_threads():
    """The engine on two CPU threads for the test, whatever the machine has (work splits the same way)."""
    before = engine.get_num_threads()
    engine.set_num_threads(2)
    yield
    engine.set_num_threads(before)
