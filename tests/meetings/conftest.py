import pytest

from tests.meetings.factories import World, make_world


@pytest.fixture
def world(app) -> World:
    return make_world(app)
