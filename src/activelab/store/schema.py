"""Database schema of labeling projects (SQLAlchemy Core; SQLite and PostgreSQL).

Tables
------
projects      one row per project: name, labels, settings, current model version, trainer lease
items         the raw items shown to annotators, one row per pool id
annotators    people (and the admin) with a hashed access token
queue         the ranked items each model version chose (top of the pool), with utility and guess
assignments   who holds which item: one row per (item, slot); ``slot < overlap``.  A row is
              ``leased`` (with an expiry) or ``done``.  Primary key and unique constraints make
              double assignment impossible whatever the number of server processes.
labels        one committed label per (item, annotator); the unique constraint means a label is
              never counted twice
skips         items an annotator declined
models        one row per trained model version: size of the labeled set, cross-validated
              accuracy, agreement with the previous version on the stop set
events        the append-only log: queries, labels, skips, undos, model versions
item_fields   the columns of each item shown to annotators (``--show-columns``)
comments      one comment per (item, person)
resolutions   the admin's label for an item whose annotators disagreed: who chose it, when
probe_outcomes  per labeled random check (an item the queue drew at random): the label counts
              and label the live verdict compared at, and whether each of its two models
              (first ``k`` labels, ``k`` random labels) predicted the label; computed once by
              the trainer (:mod:`activelab.server.verdict`)

A table added in a later version is created when an older database is opened
(``metadata.create_all`` creates the missing tables only).
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["metadata", "projects", "items", "annotators", "queue", "assignments", "labels",
           "skips", "models", "events", "item_fields", "comments", "resolutions",
           "probe_outcomes"]

metadata = sa.MetaData()

_F = sa.Float(precision=53)

projects = sa.Table(
    "al_projects",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("created_at", _F, nullable=False),
    sa.Column("labels_json", sa.Text, nullable=False),
    sa.Column("settings_json", sa.Text, nullable=False),
    sa.Column("n_items", sa.Integer, nullable=False),
    sa.Column("model_version", sa.Integer, nullable=False, default=0),
    sa.Column("queue_version", sa.Integer, nullable=False, default=0),
    sa.Column("trainer_until", _F, nullable=False, default=0.0),
    sa.Column("trainer_owner", sa.String(64), nullable=True),
)

items = sa.Table(
    "al_items",
    metadata,
    sa.Column("project_id", sa.Integer, sa.ForeignKey("al_projects.id"), primary_key=True),
    sa.Column("item_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("key", sa.String(500), nullable=True),
    sa.Column("kind", sa.String(10), nullable=False),  # text | image | row
    sa.Column("content", sa.Text, nullable=False),  # text, image path, or JSON row
)

annotators = sa.Table(
    "al_annotators",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("al_projects.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),  # admin | annotator
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", _F, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.UniqueConstraint("project_id", "name", name="uq_annotator_name"),
)

queue = sa.Table(
    "al_queue",
    metadata,
    sa.Column("project_id", sa.Integer, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("rank", sa.Integer, primary_key=True),
    sa.Column("item_id", sa.Integer, nullable=False),
    sa.Column("utility", _F, nullable=True),
    sa.Column("guess", sa.String(200), nullable=True),
    sa.Column("confidence", _F, nullable=True),
    sa.Column("model_version", sa.Integer, nullable=False),
    sa.Column("strategy", sa.String(50), nullable=False),
)

assignments = sa.Table(
    "al_assignments",
    metadata,
    sa.Column("project_id", sa.Integer, primary_key=True),
    sa.Column("item_id", sa.Integer, primary_key=True),
    sa.Column("slot", sa.Integer, primary_key=True),
    sa.Column("annotator_id", sa.Integer, nullable=False),
    sa.Column("state", sa.String(10), nullable=False),  # leased | done
    sa.Column("leased_at", _F, nullable=False),
    sa.Column("expires_at", _F, nullable=False),
    sa.Column("utility", _F, nullable=True),
    sa.Column("rank", sa.Integer, nullable=True),
    sa.Column("model_version", sa.Integer, nullable=False),
    sa.Column("strategy", sa.String(50), nullable=False),
    sa.Column("guess", sa.String(200), nullable=True),
    sa.Column("confidence", _F, nullable=True),
    sa.UniqueConstraint("project_id", "item_id", "annotator_id", name="uq_assignment_person"),
)
sa.Index("ix_assignments_annotator", assignments.c.project_id, assignments.c.annotator_id,
         assignments.c.state)

labels = sa.Table(
    "al_labels",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project_id", sa.Integer, nullable=False),
    sa.Column("item_id", sa.Integer, nullable=False),
    sa.Column("annotator_id", sa.Integer, nullable=False),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("created_at", _F, nullable=False),
    sa.Column("duration_s", _F, nullable=True),
    sa.Column("model_version", sa.Integer, nullable=False),
    sa.Column("utility", _F, nullable=True),
    sa.Column("rank", sa.Integer, nullable=True),
    sa.Column("guess", sa.String(200), nullable=True),
    sa.Column("confidence", _F, nullable=True),
    sa.UniqueConstraint("project_id", "item_id", "annotator_id", name="uq_label_once"),
)
sa.Index("ix_labels_project", labels.c.project_id, labels.c.id)

skips = sa.Table(
    "al_skips",
    metadata,
    sa.Column("project_id", sa.Integer, primary_key=True),
    sa.Column("item_id", sa.Integer, primary_key=True),
    sa.Column("annotator_id", sa.Integer, primary_key=True),
    sa.Column("created_at", _F, nullable=False),
)

models = sa.Table(
    "al_models",
    metadata,
    sa.Column("project_id", sa.Integer, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("created_at", _F, nullable=False),
    sa.Column("n_labels", sa.Integer, nullable=False),
    sa.Column("cv_accuracy", _F, nullable=True),
    sa.Column("stop_agreement", _F, nullable=True),
    sa.Column("fit_seconds", _F, nullable=False),
    sa.Column("path", sa.Text, nullable=True),
    sa.Column("stop_predictions", sa.Text, nullable=True),
)

events = sa.Table(
    "al_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project_id", sa.Integer, nullable=False),
    sa.Column("ts", _F, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("annotator_id", sa.Integer, nullable=True),
    sa.Column("item_id", sa.Integer, nullable=True),
    sa.Column("payload", sa.Text, nullable=False),
)
sa.Index("ix_events_project", events.c.project_id, events.c.id)
sa.Index("ix_events_kind", events.c.project_id, events.c.kind, events.c.id)

item_fields = sa.Table(
    "al_item_fields",
    metadata,
    sa.Column("project_id", sa.Integer, primary_key=True),
    sa.Column("item_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("fields_json", sa.Text, nullable=False),  # [[column, value], ...]
)

comments = sa.Table(
    "al_comments",
    metadata,
    sa.Column("project_id", sa.Integer, primary_key=True),
    sa.Column("item_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("annotator_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("updated_at", _F, nullable=False),
)

resolutions = sa.Table(
    "al_resolutions",
    metadata,
    sa.Column("project_id", sa.Integer, primary_key=True),
    sa.Column("item_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("resolved_by", sa.Integer, nullable=False),
    sa.Column("resolved_at", _F, nullable=False),
)

probe_outcomes = sa.Table(
    "al_probe_outcomes",
    metadata,
    sa.Column("project_id", sa.Integer, primary_key=True),
    sa.Column("item_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("k", sa.Integer, nullable=False),  # random labels before the check's lease
    sa.Column("n_labels", sa.Integer, nullable=False),  # labeled items before it
    sa.Column("label", sa.String(200), nullable=False),  # the check's label compared with
    sa.Column("active_correct", sa.Boolean, nullable=True),  # NULL: nothing to compare
    sa.Column("random_correct", sa.Boolean, nullable=True),
    sa.Column("model_version", sa.Integer, nullable=False),
    sa.Column("created_at", _F, nullable=False),
)
