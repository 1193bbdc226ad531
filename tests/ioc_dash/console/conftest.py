"""Fixtures of the console's tests: the console behind the sign-in, and clients signed in by role."""
import pytest

from tests.ioc_dash.conftest import PASSWORD, client_for, console_app, login


@pytest.fixture
def app(web_settings, users):
    return console_app(web_settings, users)


@pytest.fixture
def signed_in(app, users, uniq):
    """``signed_in(role)``: a test client signed in as a new user of that role (``.name`` is the user)."""
    def make(role):
        name = uniq(role)
        users.add_user(name, role, PASSWORD, actor="t")
        c = client_for(app)
        assert login(c, name).status_code == 302
        c.name = name
        return c
    return make
