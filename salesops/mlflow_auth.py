"""Sign-in for MLflow's UI: the tracked runs hold every rep's payout statement.

``salesops mlflow ui`` serves MLflow's ``basic-auth`` app (MLflow's own, ``mlflow[auth]``):
every request needs a user and password. Its one user, ``salesops``, is the store's admin;
the password is generated on first use and kept with the warehouse's in
``$SALESOPS_HOME/credentials.json`` (0600). MLflow keeps its users in ``auth.db`` beside the
tracking store, and new users it is asked to create get no permission until granted one.
The runs that salesops itself tracks are written to the store directly, not through the UI.
"""

from __future__ import annotations

from pathlib import Path

from salesops import credentials

UI_USER = "salesops"
_PASSWORD_KEY = "mlflow_ui"
_SECRET_KEY = "mlflow_ui_session_secret"


def ui_environment(tracking_home: Path) -> dict[str, str]:
    """What ``mlflow server --app-name basic-auth`` reads: its config file, written here (0600),
    the admin's name and password, and the key that signs its forms' CSRF tokens."""
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
    return {
        "MLFLOW_AUTH_CONFIG_PATH": str(config),
        "MLFLOW_AUTH_ADMIN_USERNAME": UI_USER,
        "MLFLOW_AUTH_ADMIN_PASSWORD": credentials.password(_PASSWORD_KEY),
        "MLFLOW_FLASK_SERVER_SECRET_KEY": credentials.password(_SECRET_KEY),
    }
