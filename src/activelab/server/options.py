"""Checks of a labeling project's options that need no heavy library.

``activelab label`` runs them before it loads scikit-learn, pandas or the web server, so a
mistake is reported at once; :func:`activelab.server.project.open_project` runs them too.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["MAX_LABEL_CHARS", "MAX_ID", "RESERVED_KEYS", "default_hotkeys", "check_hotkeys", "check_labels", "check_numbers", "check_public_url",
           "check_random_share"]

#: Largest item or annotator id the API accepts: PostgreSQL's ``integer`` (ids are stored so
#: on every database, so a larger number can name nothing).
MAX_ID = 2**31 - 1

#: Longest label name: the API refuses longer ones, so a project must not have them.
MAX_LABEL_CHARS = 200


def check_labels(labels: Sequence[str]) -> list[str]:
    """The label names, or ValueError naming what is wrong with them.

    A project needs at least two distinct, non-empty labels of at most
    :data:`MAX_LABEL_CHARS` characters: with one label there is nothing to learn, and a
    longer label could never be submitted.
    """
    names = [str(x) for x in labels]
    if len(names) < 2:
        raise ValueError(f"--labels needs at least two labels (a model learns to tell them "
                         f"apart), got {names!r}: e.g. --labels spam,ham")
    for name in names:
        if not name.strip():
            raise ValueError(f"--labels must not have empty names, got {names!r}")
        if len(name) > MAX_LABEL_CHARS:
            raise ValueError(f"--labels: each label has at most {MAX_LABEL_CHARS} characters, "
                             f"{name[:20]!r}... has {len(name)}")
    check_once(names, "--labels", "give each label once")
    return names


def check_once(names: Sequence[str], option: str, fix: str) -> None:
    """ValueError naming the first entry of ``names`` given twice (``option`` and ``fix``
    make the message: "--labels has 'a' twice: give each label once")."""
    seen: set[str] = set()
    for name in names:  # the option's entries, not pool rows
        if name in seen:
            raise ValueError(f"{option} has {name!r} twice: {fix}")
        seen.add(name)


def check_numbers(*, batch: int, overlap: int, lease_seconds: float,
                  retrain_every: int | None, budget: int | None) -> None:
    """ValueError for a batch, overlap, lease, retraining period or budget out of range."""
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    if overlap < 1 or overlap > 10:
        raise ValueError(f"overlap must be between 1 and 10 annotators per item, got {overlap}")
    if lease_seconds < 5:
        raise ValueError(f"lease must be at least 5 seconds, got {lease_seconds}")
    if retrain_every is not None and retrain_every < 1:
        raise ValueError(f"retrain_every must be at least 1, got {retrain_every}")
    if budget is not None and budget < 1:
        raise ValueError(f"budget must be at least 1, got {budget}")


def check_random_share(share: float) -> float:
    """The share of random checks in the queue, or ValueError naming the fix.

    A share is a number with ``0 <= share < 1``: 0 turns the checks off, 1 would leave no
    item for the model to choose.
    """
    try:
        value = float(share)
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(share, bool) or not 0.0 <= value < 1.0:
        raise ValueError(f"--random-share must be a number from 0 up to (not including) 1, "
                         f"e.g. 0.1 (0 turns the random checks off), got {share!r}")
    return value


def check_public_url(url: str) -> str:
    """The address colleagues open (``https://host[:port][/path]``), without a final slash.

    Behind a reverse proxy the server binds the loopback address while people reach it at
    this address; the links the app hands out use it.
    """
    from urllib.parse import urlsplit

    parts = urlsplit(str(url).strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query \
            or parts.fragment:
        raise ValueError(f"--public-url must be a full address such as "
                         f"https://label.example.org, got {url!r}")
    return parts.geturl().rstrip("/")


#: Keys of the page that are not label keys: s skips, u undoes; Space reads on.
RESERVED_KEYS = {"s": "skips", "u": "undoes", " ": "scrolls"}

#: The keys labels get when they cannot be their own key: 1 to 9, then 0 for the tenth.
DIGIT_KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0")


def default_hotkeys(labels: Sequence[str]) -> list[str | None]:
    """The key of each label: the label itself when every label is one distinct character
    that is not reserved (labels ``0`` to ``9`` are keys ``0`` to ``9``), else ``1`` to
    ``9`` and ``0``; labels past the tenth have no key (None)."""
    names = [str(x) for x in labels]
    if all(len(x) == 1 and x.strip() and x not in RESERVED_KEYS for x in names) \
            and len(set(names)) == len(names):
        return names
    return [DIGIT_KEYS[i] if i < len(DIGIT_KEYS) else None for i in range(len(names))]


def check_hotkeys(keys: Sequence[str], labels: Sequence[str]) -> list[str]:
    """Chosen keys, one per label, or ValueError naming the problem."""
    keys = [str(k) for k in keys]
    if len(keys) != len(labels):
        raise ValueError(f"--hotkeys needs one key per label ({len(labels)} labels), got "
                         f"{len(keys)}: e.g. --hotkeys {','.join(DIGIT_KEYS[:len(labels)])}")
    for key in keys:
        if len(key) != 1:
            raise ValueError(f"--hotkeys: each key is one character, got {key!r}")
        if key in RESERVED_KEYS:
            raise ValueError(f"--hotkeys: {key!r} {RESERVED_KEYS[key]} on the page; pick "
                             "another key")
    check_once(keys, "--hotkeys", "give each label its own key")
    return keys
