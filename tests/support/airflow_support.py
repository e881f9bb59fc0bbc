"""What the tests that import Airflow share (their conftests use it: tests/dags, tests/plugins,
tests/medical_telegram/orchestration).

Airflow reads AIRFLOW_HOME when it is first imported: those tests get a private, empty one (parsing and these
tests need no metadata database), and never the example DAGs.
"""

import os
import tempfile

import pytest


def use_private_airflow_home() -> None:
    """A private, empty AIRFLOW_HOME (one per test run) and no example DAGs; call before Airflow is imported."""
    if "AIRFLOW_HOME" not in os.environ:
        os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="mtw_airflow_home_")
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"


@pytest.fixture
def airflow_token(monkeypatch) -> str:
    """A token as Airflow's login issues it (the simple auth manager, a JWT secret of this test's own)."""
    from airflow.api_fastapi.app import purge_cached_app
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from airflow.models.revoked_token import RevokedToken

    # Revocation (logout) is looked up in the metadata database, which these tests do not have.
    monkeypatch.setattr(RevokedToken, "is_revoked", classmethod(lambda cls, jti: False))
    monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "a-secret-of-this-test-only-" + "0" * 40)
    monkeypatch.setenv("AIRFLOW__CORE__AUTH_MANAGER",
                       "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager")
    purge_cached_app()
    from airflow.api_fastapi.app import create_auth_manager

    manager = create_auth_manager()
    token = manager.generate_jwt(SimpleAuthManagerUser(username="admin", role="admin"))
    yield token
    purge_cached_app()


def load_plugin(file_name: str):
    """A module of plugins/, loaded fresh from its file (as Airflow's plugin manager loads it), so each test
    sees the environment it set."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "plugins" / file_name
    spec = importlib.util.spec_from_file_location(f"{path.stem}_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
