"""Labeling configs: Label Studio's XML read into what the backend predicts.

A project's config says which ``<Choices>`` (or ``<Number>``) to predict (``from_name``),
over which object (text or image, under which key of the task data), whether several
choices may apply, and which classes there are.  :class:`LabelConfigs` keeps the parsed config of each project
(from ``/setup``, ``/predict`` or a webhook, and from the database after a restart) and
refuses configs the backend's settings cannot serve.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from ...labelstudio_io import LabelConfig, parse_label_config
from ...store.ls_state import LSState
from .settings import LSBackendConfig
from .targets import TaskStrategies

__all__ = ["LabelConfigs", "check_label_config", "classes_for", "task_items"]


def classes_for(settings: LSBackendConfig, config: LabelConfig) -> tuple[str, ...]:
    """The classes learned for a config, in config order (``settings.labels`` restricts them)."""
    if settings.labels is None:
        return config.labels
    return tuple(x for x in config.labels if x in settings.labels)


def task_items(config: LabelConfig, datas: Sequence[Any]) -> list[Any]:
    """The item (text or image reference) of each task's ``data``; ``""`` when missing."""
    key = config.value_key
    return [d.get(key, "") if isinstance(d, dict) else "" for d in datas]


def check_label_config(settings: LSBackendConfig, strategies: TaskStrategies,
                       config: LabelConfig) -> None:
    """Refuse a config the backend cannot serve with these settings.

    Raises
    ------
    ValueError
        When ``--labels`` names classes the config lacks, the config's task (several
        choices, or a number) has no strategy that can score it, or the config labels
        images and no ``--image-root`` was given.  Each message says what to change.
    """
    if settings.labels is not None:
        unknown = [x for x in settings.labels if x not in config.labels]
        if unknown:
            raise ValueError(
                f"--labels names {unknown} which the labeling config does not offer "
                f"(its choices: {', '.join(config.labels)}); fix --labels or the config."
            )
    strategies.for_config(config)  # the task's strategy can be built
    if not config.is_text and settings.image_root is None:
        raise ValueError(
            "the labeling config labels images; start the backend with --image-root "
            "pointing at the folder that holds them (Label Studio's media folder)."
        )


class LabelConfigs:
    """The parsed labeling config of every project, checked against the settings.

    Parameters
    ----------
    settings : LSBackendConfig
    strategies : TaskStrategies
        The strategy of each task.
    state : LSState
        Where configs are remembered across restarts.
    """

    def __init__(self, settings: LSBackendConfig, strategies: TaskStrategies,
                 state: LSState) -> None:
        self.settings = settings
        self.strategies = strategies
        self.state = state
        self._configs: dict[str, LabelConfig] = {}
        self._lock = threading.Lock()

    def set(self, project: str, xml: str | None) -> LabelConfig | None:
        """Use ``xml`` as the project's config (parsed and checked); ``None`` keeps the current.

        Raises
        ------
        ValueError
            When the XML is not a config the backend can serve (see :func:`check_label_config`).
        """
        if not xml:
            return self._configs.get(project)
        current = self._configs.get(project)
        if current is not None and current.xml == xml:
            return current
        parsed = parse_label_config(xml)
        check_label_config(self.settings, self.strategies, parsed)
        with self._lock:
            self._configs[project] = parsed
        return parsed

    def get(self, project: str) -> LabelConfig | None:
        """The project's config, from memory or the database; ``None`` when none is known."""
        found = self._configs.get(project)
        if found is None:
            stored = self.state.project(project)
            if stored and stored.get("label_config"):
                found = self.set(project, stored["label_config"])
        return found
