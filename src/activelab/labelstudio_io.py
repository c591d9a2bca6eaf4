"""Label Studio interoperability: labeling configs, task exports in, task JSON out.

Label Studio describes a project with an XML *labeling config* and exchanges tasks as
JSON.  This module reads what Label Studio exports (full JSON, JSON-MIN and CSV) into
plain items and labels, and writes activelab's labels back as Label Studio task JSON,
either as annotations (finished labels) or as predictions (pre-annotations with a
score and a model version).

Exports cover one control over one ``<Text>`` or ``<Image>`` object: a ``<Choices>``
(single choice: classification; ``choice="multiple"``: multi-label) or a ``<Number>``
(a real value per item: regression).  :class:`LabelStudioData` says which
(``task``) and gives the targets in that task's form (:meth:`LabelStudioData.targets`).
The ML backend reads the same results with :func:`parse_label_config` and
:func:`choices_from_result`.

Examples
--------
>>> config = parse_label_config(
...     '<View><Text name="text" value="$text"/>'
...     '<Choices name="sentiment" toName="text"><Choice value="Pos"/>'
...     '<Choice value="Neg"/></Choices></View>')
>>> config.labels, config.value_key, config.multiple
(('Pos', 'Neg'), 'text', False)
>>> tasks = to_labelstudio(["great", "awful"], ["Pos", "Neg"], config)
>>> tasks[0]["annotations"][0]["result"][0]["value"]
{'choices': ['Pos']}
"""

from __future__ import annotations

import csv
import io
import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .engine.tasks import Task, infer_task

__all__ = [
    "LabelConfig",
    "LabelStudioData",
    "parse_label_config",
    "choices_from_result",
    "read_labelstudio",
    "to_labelstudio",
    "write_labelstudio",
]

_OBJECT_TAGS = ("Text", "HyperText", "Image")
#: Controls read, in order of preference: choices first, then a number.
_CONTROL_TAGS = ("Choices", "Number")

# Keys of a JSON-MIN / CSV row that Label Studio adds around the task data.
_MIN_META_KEYS = frozenset(
    {"id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time"}
)


@dataclass(frozen=True)
class LabelConfig:
    """The part of a Label Studio labeling config that activelab predicts.

    Attributes
    ----------
    from_name : str
        ``name`` of the ``<Choices>`` (or ``<Number>``) control (the key of labels in
        results).
    to_name : str
        ``name`` of the object the control labels (``toName``).
    object_type : str
        ``"Text"`` or ``"Image"`` (``HyperText`` counts as text).
    value_key : str
        Key of the task ``data`` that holds the item (``value="$text"`` gives ``"text"``).
    labels : tuple of str
        The choices, in config order (empty for a number).
    multiple : bool
        True for ``choice="multiple"`` (each item may carry several labels).
    xml : str
        The config it was parsed from.
    kind : {"choices", "number"}
        ``"number"`` for a ``<Number>`` control (a real value per item: regression).
    min_value, max_value : float or None
        The ``min``/``max`` of a ``<Number>`` control, when it has them.
    """

    from_name: str
    to_name: str
    object_type: str
    value_key: str
    labels: tuple[str, ...]
    multiple: bool = False
    xml: str = field(default="", repr=False, compare=False)
    kind: str = "choices"
    min_value: float | None = None
    max_value: float | None = None

    @property
    def is_text(self) -> bool:
        """Whether the labeled object is text (``Text`` or ``HyperText``)."""
        return self.object_type in ("Text", "HyperText")

    @property
    def is_number(self) -> bool:
        """Whether the control is a ``<Number>`` (a real value per item)."""
        return self.kind == "number"

    def result(self, choices: Sequence[Any]) -> list[dict[str, Any]]:
        """A Label Studio ``result`` list holding ``choices`` for this control.

        For a ``<Number>`` control ``choices`` holds the one value:
        ``{"type": "number", "value": {"number": value}}``.
        """
        if self.is_number:
            return [{"from_name": self.from_name, "to_name": self.to_name, "type": "number",
                     "value": {"number": float(choices[0])}}]
        return [
            {
                "from_name": self.from_name,
                "to_name": self.to_name,
                "type": "choices",
                "value": {"choices": [str(c) for c in choices]},
            }
        ]


def parse_label_config(xml: str, from_name: str | None = None) -> LabelConfig:
    """Parse a labeling config: ``<Choices>`` (or ``<Number>``) over ``<Text>``/``<Image>``.

    Parameters
    ----------
    xml : str
        The labeling config, as Label Studio sends it (``schema`` in ``/setup``,
        ``label_config`` in ``/predict`` and in project JSON).
    from_name : str, optional
        Which control to use when the config has several; the first ``<Choices>`` that
        points at a text or image object by default, else the first such ``<Number>``.

    Returns
    -------
    LabelConfig

    Raises
    ------
    TypeError
        When ``xml`` is not a string.
    ValueError
        When the config is not XML, or has no usable ``<Choices>`` (or ``<Number>``) over
        a ``<Text>``/``<Image>`` object, or the choices are empty.
    """
    if not isinstance(xml, str):
        raise TypeError(f"label config must be an XML string, got {type(xml).__name__}.")
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise ValueError(
            f"label config is not valid XML ({exc}); pass the project's labeling config."
        ) from exc
    objects: dict[str, ET.Element] = {}
    for element in root.iter():
        if element.tag in _OBJECT_TAGS and element.get("name"):
            objects[element.get("name", "")] = element
    controls = [c for tag in _CONTROL_TAGS for c in root.iter(tag)
                if c.get("name") and c.get("toName")]
    if from_name is not None:
        controls = [c for c in controls if c.get("name") == from_name]
        if not controls:
            raise ValueError(
                f"label config has no <Choices name={from_name!r} toName=...> (nor such a "
                "<Number>); pass the name of one of its Choices or Number controls."
            )
    for control in controls:
        to_name = control.get("toName", "").split(",")[0].strip()
        target = objects.get(to_name)
        if target is not None:
            return _control_config(control, to_name, target, xml)
    raise ValueError(
        "label config has no <Choices> (or <Number>) control pointing at a <Text> or <Image> "
        "object; activelab's Label Studio support covers configs such as "
        '<View><Text name="text" value="$text"/><Choices name="label" toName="text">'
        '<Choice value="A"/><Choice value="B"/></Choices></View>.'
    )


def _control_config(control: ET.Element, to_name: str, target: ET.Element,
                    xml: str) -> LabelConfig:
    value = target.get("value", "")
    if not value.startswith("$") or len(value) < 2:
        raise ValueError(
            f"<{target.tag} name={to_name!r}> has value={value!r}; activelab needs a task "
            "field reference such as value=\"$text\"."
        )
    object_type = "Text" if target.tag == "HyperText" else target.tag
    common = {"from_name": control.get("name", ""), "to_name": to_name,
              "object_type": object_type, "value_key": value[1:], "xml": xml}
    if control.tag == "Number":
        low, high = _bound(control, "min"), _bound(control, "max")
        if low is not None and high is not None and low > high:
            raise ValueError(f"<Number name={control.get('name')!r}> has min={low} above "
                             f"max={high}; fix the labeling config.")
        return LabelConfig(labels=(), kind="number", min_value=low, max_value=high, **common)
    labels = tuple(c.get("value") or c.get("alias") or "" for c in control.iter("Choice"))
    labels = tuple(label for label in labels if label)
    if not labels:
        raise ValueError(
            f"<Choices name={control.get('name')!r}> has no <Choice value=...> entries; "
            "add the classes to the labeling config."
        )
    if len(set(labels)) != len(labels):
        raise ValueError(
            f"<Choices name={control.get('name')!r}> lists a choice twice; "
            "make the choice values unique."
        )
    multiple = control.get("choice", "single").lower() == "multiple"
    return LabelConfig(labels=labels, multiple=multiple, **common)


def _bound(control: ET.Element, name: str) -> float | None:
    text = control.get(name)
    if text is None or not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"<Number name={control.get('name')!r}> has {name}={text!r}, "
                         "which is not a number; fix the labeling config.") from None
    if not np.isfinite(value):
        raise ValueError(f"<Number name={control.get('name')!r}> has {name}={text!r}; give "
                         "a finite bound or none.")
    return value


def _regions_of(result: Any, from_name: str) -> list[dict[str, Any]]:
    """The regions of an annotation's ``result`` list that belong to control ``from_name``."""
    if not isinstance(result, list):
        return []
    return [r for r in result if isinstance(r, dict) and r.get("from_name") == from_name]


def choices_from_result(result: Any, from_name: str) -> list[str] | None:
    """The choices of ``from_name`` in an annotation's ``result`` list.

    A ``<Number>`` control's value comes back as one string, ``[repr(float(value))]``.
    Returns ``None`` when the result holds no choice for that control (an empty
    or cancelled annotation).
    """
    for region in _regions_of(result, from_name):
        value = region.get("value")
        if isinstance(value, dict) and "number" in value:
            return _number_choice(value["number"])
        choices = value.get("choices") if isinstance(value, dict) else None
        if isinstance(choices, list) and choices:
            return [str(c) for c in choices]
    return None


def _number_choice(number: Any) -> list[str] | None:
    """A ``<Number>`` result's value as a one-element list (``repr`` of the float), or
    ``None`` when it is not a finite number."""
    value = _finite_number(number)
    return None if value is None else [repr(value)]


def _finite_number(number: Any) -> float | None:
    """``number`` (a JSON number or its text) as a finite float; ``None`` when it is not one
    (a bool, a word, NaN, an infinity)."""
    if isinstance(number, bool):
        return None
    try:
        value = float(number)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) else None


def latest_annotation_choices(task: dict[str, Any], from_name: str) -> list[str] | None:
    """Choices of the most recent usable annotation of a full-JSON task.

    Cancelled (skipped) annotations and annotations without a choice for
    ``from_name`` are ignored; the latest by ``updated_at`` (then ``id``) wins.
    """
    return _latest_annotation(task, lambda result: choices_from_result(result, from_name))


def _latest_annotation(task: dict[str, Any], read: Any) -> Any:
    """``read(result)`` of the most recent annotation of ``task`` where it is not None
    (cancelled annotations skipped; latest by ``updated_at``, then ``id``)."""
    best: tuple[str, int] | None = None
    best_value: Any = None
    for annotation in task.get("annotations") or []:
        if not isinstance(annotation, dict) or annotation.get("was_cancelled"):
            continue
        value = read(annotation.get("result"))
        if value is None:
            continue
        key = (str(annotation.get("updated_at") or ""), int(annotation.get("id") or 0))
        if best is None or key >= best:
            best, best_value = key, value
    return best_value


def _not_a_number(where: str, from_name: str, value: Any) -> ValueError:
    return ValueError(
        f"{where}: <Number name={from_name!r}> holds {value!r}, which is not a finite number; "
        "correct the annotation in Label Studio and export again, or leave the task out of "
        "the export."
    )


def _result_number(result: Any, from_name: str, where: str) -> float | None:
    """The value of the ``<Number>`` control ``from_name`` in a ``result`` list (``None``
    when it holds none); ValueError for a non-finite number or a result of another type."""
    for region in _regions_of(result, from_name):
        value = region.get("value")
        if not isinstance(value, dict) or "number" not in value:
            raise ValueError(
                f"{where}: the result of <Number name={from_name!r}> is of type "
                f"{region.get('type')!r} ({value!r}), not a number; pass label_config= (or "
                "from_name=) naming the project's Number control, or correct the annotation."
            )
        number = _finite_number(value["number"])
        if number is None:
            raise _not_a_number(where, from_name, value["number"])
        return number
    return None


def _min_number(cell: Any, from_name: str, where: str) -> float | None:
    """A JSON-MIN / CSV cell of a ``<Number>`` column: a float, or ``None`` when empty."""
    if cell is None or (isinstance(cell, str) and cell.strip() == ""):
        return None
    number = None if isinstance(cell, (dict, list)) else _finite_number(cell)
    if number is None:
        raise _not_a_number(where, from_name, cell)
    return number


@dataclass
class LabelStudioData:
    """Tasks read from a Label Studio export.

    Attributes
    ----------
    task_ids : ndarray of int64
        Label Studio task ids (``-1`` where the export had none).
    data : list of dict
        Each task's ``data`` (the fields the labeling config refers to).
    items : list
        The labeled object of each task (``data[value_key]``): a text, or an image
        URL/path as Label Studio stores it.
    labels : list
        One entry per task: the label (``str``) for single choice, a list of
        labels for multiple choice, a ``float`` for a ``<Number>``, ``None`` for an
        unlabeled task.
    from_name, value_key : str
        The control and the data key the labels and items were read from.
    task : Task
        What the labels teach: classification (single choice), multi-label (multiple
        choice) or regression (a ``<Number>``).
    classes : tuple of str
        The labels in column order: the config's choices (then any other label met,
        sorted), or the sorted labels met when no config was given; empty for a number.
    """

    task_ids: np.ndarray
    data: list[dict[str, Any]]
    items: list[Any]
    labels: list[Any]
    from_name: str
    value_key: str
    task: Task = Task.CLASSIFICATION
    classes: tuple[str, ...] = ()

    @property
    def labeled_mask(self) -> np.ndarray:
        """Boolean mask of the tasks that carry a label."""
        return np.array([label is not None for label in self.labels], dtype=bool)

    def targets(self) -> np.ndarray:
        """The targets of the labeled tasks (``labeled_mask``, in order), in the task's form.

        Returns
        -------
        ndarray
            Class names (1-D) for classification, an ``n x L`` int8 0/1 table (columns
            :attr:`classes`) for multi-label, 1-D float64 for regression.
        """
        labeled = [label for label in self.labels if label is not None]
        if self.task is Task.REGRESSION:
            return np.asarray(labeled, dtype=np.float64)
        if self.task is Task.CLASSIFICATION:
            return np.asarray(labeled)
        column = {name: j for j, name in enumerate(self.classes)}
        rows = np.repeat(np.arange(len(labeled)), [len(names) for names in labeled])
        columns = np.asarray([column[name] for names in labeled for name in names], dtype=np.intp)
        table = np.zeros((len(labeled), len(self.classes)), dtype=np.int8)
        table[rows, columns] = 1
        return table

    def __len__(self) -> int:
        return len(self.items)


def _load_json_or_csv(source: Any) -> tuple[list[Any], str]:
    """Rows of an export and its kind (``"json"`` or ``"csv"``)."""
    if isinstance(source, (list, tuple)):
        return list(source), "json"
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            "source must be a path to a Label Studio export (JSON, JSON-MIN or CSV) or a "
            f"list of task dicts, got {type(source).__name__}."
        )
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"Label Studio export {str(path)!r} does not exist.")
    text = path.read_text(encoding="utf-8-sig")
    stripped = text.lstrip()
    if path.suffix.lower() == ".csv" or not stripped.startswith(("[", "{")):
        rows = list(csv.DictReader(io.StringIO(text)))
        return rows, "csv"
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{str(path)!r} is not valid JSON ({exc}); export the project from Label Studio "
            "as JSON, JSON-MIN or CSV."
        ) from exc
    if isinstance(loaded, dict):
        loaded = [loaded]
    return loaded, "json"


def _min_label(value: Any, multiple: bool | None) -> tuple[Any, bool]:
    """A JSON-MIN / CSV label cell -> (label or list of labels or None, is_multiple)."""
    if value is None or (isinstance(value, str) and value == ""):
        return None, bool(multiple)
    if isinstance(value, dict) and "choices" in value:
        choices = [str(c) for c in value["choices"]]
        return (choices if choices else None), True
    if isinstance(value, list):
        return ([str(c) for c in value] or None), True
    if isinstance(value, str) and value.startswith("{") and '"choices"' in value:
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return value, False
        return _min_label(parsed, multiple)
    return str(value), False


def read_labelstudio(
    source: Any,
    *,
    label_config: str | LabelConfig | None = None,
    from_name: str | None = None,
    value_key: str | None = None,
) -> LabelStudioData:
    """Read a Label Studio export (full JSON, JSON-MIN or CSV) as items and labels.

    The format is recognised from the content: a full export has ``data`` and
    ``annotations`` per task; JSON-MIN and CSV have one flat row per annotation with
    the data fields and one column per control (a single choice is a string,
    several are ``{"choices": [...]}``, a ``<Number>`` is the number).  Rows of one
    task (several annotators) are merged, the last one winning; in a full export the
    latest annotation wins (by ``updated_at``, then ``id``; cancelled ones are skipped).

    The control is a ``<Choices>`` (classification, or multi-label for
    ``choice="multiple"``) or a ``<Number>`` (regression: the labels are floats), as
    the config says.  Without a config it is guessed: in a full export from the
    results (a choices result first, else a number), in JSON-MIN from the cells (JSON
    numbers are a ``<Number>``), in CSV a column of numbers with a fraction among them
    is a ``<Number>`` (pass ``label_config=`` for one of whole numbers); a choices
    control where some item has several labels is multi-label.

    Parameters
    ----------
    source : path or list of dict
        The export file, or its parsed JSON.
    label_config : str or LabelConfig, optional
        The project's labeling config; gives ``from_name``, ``value_key`` and the task.
    from_name : str, optional
        Name of the ``<Choices>`` or ``<Number>`` control (the label column of
        JSON-MIN/CSV).  Guessed from the results or columns when neither it nor
        ``label_config`` is given.
    value_key : str, optional
        Key of the task data holding the item; guessed (the one data field, or
        ``text``/``image``) when not given.

    Returns
    -------
    LabelStudioData
        With ``task`` and :meth:`~LabelStudioData.targets` in that task's form.

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        When the content is not a Label Studio export, the control or data key
        cannot be determined, or a ``<Number>`` holds something other than a finite
        number (the message names the task).
    """
    config = None
    if label_config is not None:
        config = (
            label_config
            if isinstance(label_config, LabelConfig)
            else parse_label_config(label_config, from_name=from_name)
        )
        from_name = from_name or config.from_name
        value_key = value_key or config.value_key
    rows, kind = _load_json_or_csv(source)
    rows = [row for row in rows if isinstance(row, dict)]
    if not rows:
        raise ValueError("the Label Studio export holds no tasks; export a project with tasks.")
    if kind == "json" and all(isinstance(row.get("data"), dict) for row in rows):
        read = _read_full(rows, from_name, config)
    else:
        read = _read_min(rows, from_name, value_key, config, is_csv=kind == "csv")
    task_ids, data, labels, from_name, control = read
    if value_key is None:
        value_key = _guess_value_key(data)
    missing = [i for i, d in enumerate(data) if value_key not in d]
    if missing:
        raise ValueError(
            f"{len(missing)} task(s) have no data field {value_key!r} (first: task "
            f"{int(task_ids[missing[0]])}); pass value_key= the field the labeling config "
            "refers to."
        )
    task, labels, classes = _task_labels(control, config, labels)
    return LabelStudioData(
        task_ids=task_ids,
        data=data,
        items=[d[value_key] for d in data],
        labels=labels,
        from_name=from_name,
        value_key=value_key,
        task=task,
        classes=classes,
    )


_Read = tuple[np.ndarray, list[dict[str, Any]], list[Any], Any, str]


def _read_full(rows: list[dict[str, Any]], from_name: str | None,
               config: LabelConfig | None) -> _Read:
    """Task ids, data, labels, control name and kind (``"choices"``/``"number"``) of a
    full JSON export."""
    if from_name is None:
        from_name = _guess_from_name(rows)
    control = config.kind if config is not None else _result_kind(rows, from_name)
    task_ids = np.array([int(row.get("id", -1)) for row in rows], dtype=np.int64)
    data = [dict(row["data"]) for row in rows]
    if from_name is None:
        return task_ids, data, [None] * len(rows), from_name, control
    if control == "number":
        labels = [_latest_number(row, from_name, f"task {row.get('id', '?')}") for row in rows]
        return task_ids, data, labels, from_name, control
    multiple = config.multiple if config is not None else None
    labels = []
    for row in rows:
        choices = latest_annotation_choices(row, from_name)
        if choices is None:
            labels.append(None)
        elif multiple or (multiple is None and len(choices) > 1):
            labels.append(choices)
        else:
            labels.append(choices[0])
    return task_ids, data, labels, from_name, control


def _latest_number(task: dict[str, Any], from_name: str, where: str) -> float | None:
    """The latest annotation's number, every non-cancelled annotation checked."""
    return _latest_annotation(task, lambda result: _result_number(result, from_name, where))


def _read_min(rows: list[dict[str, Any]], from_name: str | None, value_key: str | None,
              config: LabelConfig | None, is_csv: bool) -> _Read:
    """Task ids, data, labels, control name and kind of a JSON-MIN or CSV export."""
    if from_name is None:
        from_name = _guess_min_label_column(rows, value_key)
    if from_name not in rows[0]:
        raise ValueError(
            f"the export has no column {from_name!r}; pass from_name= the name of the "
            f"Choices or Number control (columns: {sorted(rows[0])})."
        )
    control = config.kind if config is not None else _min_kind(rows, from_name, is_csv)
    keys = [row.get("id") if row.get("id") not in (None, "") else f"row{position}"
            for position, row in enumerate(rows)]
    if control == "number":
        values = [_min_number(row.get(from_name), from_name, _where(key))
                  for key, row in zip(keys, rows, strict=True)]
    else:
        multiple = config.multiple if config is not None else None
        values = [_min_label(row.get(from_name), multiple)[0] for row in rows]
        if multiple:
            values = [[x] if isinstance(x, str) else x for x in values]
    merged: dict[Any, tuple[dict[str, Any], Any]] = {}
    for key, row, value in zip(keys, rows, values, strict=True):
        merged[key] = (row, value)
    task_ids = np.array(
        [int(k) if not str(k).startswith("row") else -1 for k in merged], dtype=np.int64
    )
    data = [
        {k: v for k, v in row.items() if k not in _MIN_META_KEYS and k != from_name}
        for row, _ in merged.values()
    ]
    return task_ids, data, [value for _, value in merged.values()], from_name, control


def _where(key: Any) -> str:
    """How an error names a JSON-MIN / CSV row: its task id, or its position."""
    return f"row {key[3:]} (no task id)" if str(key).startswith("row") else f"task {key}"


def _task_labels(control: str, config: LabelConfig | None, labels: list[Any]
                 ) -> tuple[Task, list[Any], tuple[str, ...]]:
    """The task, the labels (as lists when multi-label) and the classes in column order."""
    if control == "number":
        return Task.REGRESSION, labels, ()
    multiple = config.multiple if config is not None else any(
        isinstance(label, list) for label in labels)
    if multiple:
        labels = [[label] if isinstance(label, str) else label for label in labels]
        seen = {name for label in labels if label is not None for name in label}
    else:
        seen = {label for label in labels if label is not None}
    known = config.labels if config is not None else ()
    classes = tuple(known) + tuple(sorted(seen - set(known)))
    return (Task.MULTILABEL if multiple else Task.CLASSIFICATION), labels, classes


def _guess_from_name(rows: list[dict[str, Any]]) -> str | None:
    """The control of the first choices result, else of the first number result."""
    for kind in ("choices", "number"):
        for row in rows:
            for annotation in row.get("annotations") or []:
                for region in (annotation or {}).get("result") or []:
                    if isinstance(region, dict) and region.get("type") == kind:
                        return str(region.get("from_name"))
    return None


def _result_kind(rows: list[dict[str, Any]], from_name: str | None) -> str:
    """``"number"`` when the first result of ``from_name`` holds a number, else
    ``"choices"``."""
    for row in rows:
        for annotation in row.get("annotations") or []:
            for region in (annotation or {}).get("result") or []:
                if isinstance(region, dict) and region.get("from_name") == from_name:
                    value = region.get("value")
                    number = isinstance(value, dict) and "number" in value
                    return "number" if number or region.get("type") == "number" else "choices"
    return "choices"


def _min_kind(rows: list[dict[str, Any]], column: str, is_csv: bool) -> str:
    """``"number"`` for a JSON-MIN column of JSON numbers, or a CSV column of numbers
    that are not all whole (the rule of :func:`~activelab.engine.tasks.infer_task`)."""
    cells = [row.get(column) for row in rows]
    cells = [c for c in cells if c is not None and not (isinstance(c, str) and not c.strip())]
    if not cells or any(isinstance(c, (dict, list, bool)) for c in cells):
        return "choices"
    if any(isinstance(c, (int, float)) for c in cells):
        return "number"
    if not is_csv:
        return "choices"
    try:
        values = np.array([float(c) for c in cells], dtype=np.float64)
    except ValueError:
        return "choices"
    return "number" if infer_task(values) is Task.REGRESSION else "choices"


def _guess_min_label_column(rows: list[dict[str, Any]], value_key: str | None) -> str:
    columns = [c for c in rows[0] if c not in _MIN_META_KEYS and c != value_key]
    for column in columns:
        cell = rows[0].get(column)
        if isinstance(cell, dict) and "choices" in cell:
            return column
    if value_key is None:
        for guess in ("text", "image"):
            if guess in columns:
                columns = [c for c in columns if c != guess]
                break
    if len(columns) == 1:
        return columns[0]
    raise ValueError(
        f"cannot tell which column holds the labels among {columns}; pass from_name= the "
        "name of the Choices or Number control (or label_config=)."
    )


def _guess_value_key(data: list[dict[str, Any]]) -> str:
    keys = list(data[0]) if data else []
    if len(keys) == 1:
        return keys[0]
    for guess in ("text", "image"):
        if guess in keys:
            return guess
    raise ValueError(
        f"cannot tell which data field holds the item among {keys}; pass value_key= (or "
        "label_config=)."
    )


def to_labelstudio(
    items: Sequence[Any],
    labels: Sequence[Any],
    config: LabelConfig | str,
    *,
    kind: str = "annotations",
    scores: Sequence[float] | np.ndarray | None = None,
    model_version: str | None = None,
    task_ids: Sequence[int] | np.ndarray | None = None,
    data: Sequence[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Label Studio task JSON carrying activelab's labels, ready to import.

    Parameters
    ----------
    items : sequence
        One item per task (a text, or an image URL/path), stored under
        ``data[config.value_key]``.
    labels : sequence
        One label per task (a list of labels for multiple choice); ``None`` leaves
        the task without annotation or prediction.
    config : LabelConfig or str
        The project's labeling config.
    kind : {"annotations", "predictions"}, default="annotations"
        Import the labels as finished annotations or as predictions.
    scores : sequence of float, optional
        Prediction scores (``kind="predictions"`` only), one per task.
    model_version : str, optional
        Model version of the predictions (``kind="predictions"`` only).
    task_ids : sequence of int, optional
        Existing Label Studio task ids; given, each task carries ``"id"``.
    data : sequence of dict, optional
        Full task data to start from (other fields the config shows); ``items``
        then overwrite ``data[value_key]``.

    Returns
    -------
    list of dict
        Tasks in Label Studio's import format.

    Raises
    ------
    ValueError
        When lengths differ, ``kind`` is unknown or a label is not one of the choices.
    """
    if isinstance(config, str):
        config = parse_label_config(config)
    if kind not in ("annotations", "predictions"):
        raise ValueError(f"kind must be 'annotations' or 'predictions', got {kind!r}.")
    n = len(items)
    for name, seq in (("labels", labels), ("scores", scores), ("task_ids", task_ids),
                      ("data", data)):
        if seq is not None and len(seq) != n:
            raise ValueError(f"{name} has {len(seq)} entries but items has {n}; give one per item.")
    if kind == "annotations" and (scores is not None or model_version is not None):
        raise ValueError(
            "scores and model_version belong to predictions; pass kind='predictions'."
        )
    known = set(config.labels)
    tasks: list[dict[str, Any]] = []
    for i in range(n):
        task_data = dict(data[i]) if data is not None else {}
        task_data[config.value_key] = _jsonable(items[i])
        task: dict[str, Any] = {"data": task_data}
        if task_ids is not None:
            task["id"] = int(task_ids[i])
        label = labels[i]
        if label is not None:
            entry: dict[str, Any] = {"result": config.result(_label_values(label, i, config,
                                                                           known))}
            if kind == "predictions":
                if scores is not None:
                    entry["score"] = float(scores[i])
                if model_version is not None:
                    entry["model_version"] = str(model_version)
            task[kind] = [entry]
        tasks.append(task)
    return tasks


def _label_values(label: Any, i: int, config: LabelConfig, known: set[str]) -> list[Any]:
    """Item ``i``'s label as the list :meth:`LabelConfig.result` takes: its choices, or
    its one number for a ``<Number>``."""
    values = [label] if isinstance(label, (str, np.str_)) or not isinstance(
        label, (list, tuple, np.ndarray)) else list(label)
    if config.is_number:
        number = _finite_number(values[0]) if len(values) == 1 else None
        if number is None:
            raise ValueError(
                f"label {label!r} of item {i} is not a finite number; "
                f"<Number name={config.from_name!r}> takes one finite number per item."
            )
        return [number]
    choices = [str(c) for c in values]
    unknown = [c for c in choices if c not in known]
    if unknown:
        raise ValueError(
            f"label {unknown[0]!r} of item {i} is not a choice of "
            f"<Choices name={config.from_name!r}> ({', '.join(config.labels)}); "
            "add it to the labeling config or map the labels first."
        )
    return choices


def write_labelstudio(path: str | os.PathLike[str], tasks: list[dict[str, Any]]) -> Path:
    """Write tasks made by :func:`to_labelstudio` as a JSON file for Label Studio's import.

    The file is written to a temporary name and renamed, so a failed write leaves
    nothing half-written.
    """
    path = Path(path)
    if not isinstance(tasks, list):
        raise TypeError(f"tasks must be a list of task dicts, got {type(tasks).__name__}.")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
    return path


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value
