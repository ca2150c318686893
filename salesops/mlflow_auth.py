"""Sign-in for MLflow's UI: the tracked runs hold every rep's payout statement.

``salesops mlflow ui`` serves MLflow's ``basic-auth`` app (MLflow's own, ``mlflow[auth]``):
every request needs a user and password. Its one user, ``salesops``, is the store's admin;
the password is generated on first use and kept with the warehouse's in
``$SALESOPS_HOME/credentials.json`` (0600). MLflow keeps its users in ``auth.db`` beside the
tracking store, and new users it is asked to create get no permission until granted one.
``credentials.json`` is the password's one record: a home whose credentials were replaced or
restored gets its admin's password set back to the stored one when the UI starts (MLflow
itself reads the password only when it creates the admin). The runs that salesops itself
tracks are written to the store directly, not through the UI.
"""

from __future__ import annotations

import os
from pathlib import Path

from salesops import credentials

UI_USER = "salesops"
_PASSWORD_KEY = "mlflow_ui"
_SECRET_KEY = "mlflow_ui_session_secret"


def prepare_ui(tracking_home: Path) -> str:
    """Set what ``mlflow server --app-name basic-auth`` reads in ``os.environ``: its config file,
    written here (0600), the admin's name and password, and the key that signs its forms' CSRF
    tokens; then the admin's password in an existing users database. Returns the password.
    (Importing ``mlflow.server.auth`` reads its config once: so the environment comes first.)"""
    config = tracking_home / "auth.ini"
    text = ("[mlflow]\n"
            "default_permission = NO_PERMISSIONS\n"
            f"database_uri = sqlite:///{tracking_home / 'auth.db'}\n"
            f"admin_username = {UI_USER}\n"
            "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
            "grant_default_workspace_access = false\n")
    config.touch(mode=0o600)
    config.chmod(0o600)
    config.write_text(text)
    password = credentials.password(_PASSWORD_KEY)
    os.environ.update({
        "MLFLOW_AUTH_CONFIG_PATH": str(config),
        "MLFLOW_AUTH_ADMIN_USERNAME": UI_USER,
        "MLFLOW_AUTH_ADMIN_PASSWORD": password,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": credentials.password(_SECRET_KEY),
    })
    _admin_signs_in_with(password, tracking_home / "auth.db")
    return password


def _admin_signs_in_with(password: str, users: Path) -> None:
    """Set the admin's password in MLflow's users database to ``password`` if it differs."""
    if not users.exists():
        return  # MLflow creates the admin with the password on its first start
    from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore()
    store.init_db(f"sqlite:///{users}")
    try:
        if store.has_user(UI_USER, use_primary=True) and not store.authenticate_user(
                UI_USER, password, use_primary=True):
            store.update_user(UI_USER, password=password, is_admin=True)
    finally:
        store.engine.dispose()
