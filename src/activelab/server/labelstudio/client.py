"""Calls to Label Studio's REST API: the export, prediction import and deletion, the model
version, the sampling setting."""

from __future__ import annotations

from typing import Any

from ...store.ls_state import LSState
from .settings import LSBackendConfig

__all__ = ["LabelStudioAPI", "prepare_project"]


class LabelStudioAPI:
    """Label Studio's API for one backend, with the URL and token of each project.

    The URL and legacy token come from the settings (``--ls-url``, ``--ls-token``) or else
    from what ``/setup`` sent (kept in the state database).

    Parameters
    ----------
    settings : LSBackendConfig
    state : LSState
    """

    def __init__(self, settings: LSBackendConfig, state: LSState) -> None:
        self.settings = settings
        self.state = state

    def connection(self, project: str) -> tuple[str, str]:
        """``(url, token)`` of a project's Label Studio.

        Raises
        ------
        ValueError
            When either is unknown (no ``/setup`` yet and no ``--ls-url``/``--ls-token``).
        """
        stored = self.state.project(project) or {}
        url = self.settings.ls_url or stored.get("hostname")
        token = self.settings.ls_token or stored.get("access_token")
        if not url or not token:
            raise ValueError(
                f"project {project}: Label Studio's URL and API token are unknown; they come "
                "with /setup (set LABEL_STUDIO_HOST in Label Studio) or --ls-url/--ls-token."
            )
        return url.rstrip("/"), token

    def request(self, method: str, project: str, path: str, **kwargs: Any) -> Any:
        """One API call; the decoded JSON answer (``None`` when empty).

        Raises
        ------
        ValueError
            When Label Studio answers with an error status.
        """
        import httpx

        url, token = self.connection(project)
        headers = {"Authorization": f"Token {token}"}
        with httpx.Client(timeout=self.settings.ls_timeout, follow_redirects=False) as client:
            response = client.request(method, url + path, headers=headers, **kwargs)
        if response.status_code >= 400:
            raise ValueError(
                f"Label Studio answered {response.status_code} to {method} {path}: "
                f"{response.text[:200]}"
            )
        return response.json() if response.content else None

    def export_tasks(self, project: str, all_tasks: bool = False) -> list[dict[str, Any]]:
        """Tasks of a project from the JSON export (annotated ones unless ``all_tasks``)."""
        params = {"exportType": "JSON", "download_all_tasks": "true" if all_tasks else "false"}
        exported = self.request("GET", project, f"/api/projects/{project}/export", params=params)
        if not isinstance(exported, list):
            raise ValueError("Label Studio's export is not a list of tasks.")
        return [t for t in exported if isinstance(t, dict)]

    def import_predictions(self, project: str, predictions: list[dict[str, Any]]) -> None:
        """Add predictions (each with its ``task`` id) to the project's tasks."""
        self.request("POST", project, f"/api/projects/{project}/import/predictions",
                     json=predictions)

    def delete_predictions(self, project: str, task_ids: list[int]) -> None:
        """Delete every prediction of some tasks (the Data Manager's action)."""
        self.request("POST", project, "/api/dm/actions",
                     params={"id": "delete_tasks_predictions", "project": project},
                     json={"selectedItems": {"all": False, "included": list(task_ids)}})

    def set_model_version(self, project: str, version: str) -> None:
        """Make ``version`` the project's model version (what Uncertainty sampling follows)."""
        self.request("PATCH", project, f"/api/projects/{project}",
                     json={"model_version": version})


def prepare_project(url: str, token: str, project: str, timeout: float = 30.0) -> None:
    """Set a project's sampling to "Uncertainty sampling" (the Community Edition's settings
    page offers it disabled; the API takes it).

    Raises
    ------
    ValueError
        When Label Studio answers with an error status.
    """
    import httpx

    response = httpx.patch(f"{url.rstrip('/')}/api/projects/{project}",
                           headers={"Authorization": f"Token {token}"},
                           json={"sampling": "Uncertainty sampling"}, timeout=timeout)
    if response.status_code >= 400:
        raise ValueError(f"Label Studio answered {response.status_code} to PATCH "
                         f"/api/projects/{project}: {response.text[:200]}")
