"""The name table: resolving what a user passes, and what every family declares."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import activelab.strategies._families as families
from activelab.strategies import QueryContext, available_strategies, get_strategy
from activelab.strategies.bandit import StrategyBandit
from activelab.strategies.base import Needs
from activelab.strategies.random_sampling import RandomSampling
from activelab.strategies.registry import _REGISTRY

STRATEGIES_DIR = Path(families.__file__).parent
#: The modules of strategies/ that a family may import from.
FAMILY_MAY_IMPORT = {"base", "registry", "_shared"}


def _ctx(n=10):
    return QueryContext(np.arange(100, 100 + n))


def test_an_unseeded_instance_given_a_seed_is_copied_and_left_alone():
    mine = RandomSampling()
    seeded = get_strategy(mine, random_state=7)
    assert seeded is not mine and type(seeded) is RandomSampling
    assert seeded.random_state == 7
    assert mine.random_state is None
    expected = RandomSampling(random_state=7).select(_ctx(), 3).ids
    np.testing.assert_array_equal(seeded.select(_ctx(), 3).ids, expected)


def test_the_copy_keeps_the_parameters_of_the_instance():
    mine = StrategyBandit(arms=("margin", "random"), exploration=0.5)
    seeded = get_strategy(mine, random_state=3)
    assert (seeded.arms, seeded.exploration, seeded.random_state) == (
        ("margin", "random"), 0.5, 3,
    )
    assert mine.random_state is None


def test_an_instance_is_returned_as_is_when_no_seed_is_to_be_set():
    seeded = RandomSampling(random_state=1)
    assert get_strategy(seeded, random_state=5) is seeded
    assert seeded.random_state == 1
    unseeded = RandomSampling()
    assert get_strategy(unseeded) is unseeded


def test_parameters_cannot_be_given_with_an_instance():
    with pytest.raises(TypeError, match="strategy name"):
        get_strategy(RandomSampling(), exploration=0.5)


def test_unknown_names_list_the_known_ones():
    with pytest.raises(ValueError, match="unknown query strategy 'nope'.*margin"):
        get_strategy("nope")


@pytest.mark.parametrize("name", available_strategies())
def test_every_registered_strategy_declares_its_needs_as_members(name):
    cls = _REGISTRY[name]
    assert "needs" in vars(cls), f"{cls.__name__} does not declare needs"
    assert all(isinstance(need, Needs) for need in cls.needs), cls.needs


def _family_modules():
    tree = ast.parse((STRATEGIES_DIR / "_families.py").read_text(encoding="utf-8"))
    return sorted(
        alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module is None
        for alias in node.names
    )


def test_the_families_list_names_every_family_module():
    on_disk = {p.stem for p in STRATEGIES_DIR.glob("*.py")} - {
        "__init__", "_families", "_shared", "base", "query", "registry",
    }
    assert set(_family_modules()) == on_disk


@pytest.mark.parametrize("family", _family_modules())
def test_families_import_only_the_contract_the_registry_and_the_shared_helpers(family):
    tree = ast.parse((STRATEGIES_DIR / f"{family}.py").read_text(encoding="utf-8"))
    borrowed = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [node.module] if node.module else [a.name for a in node.names]
            borrowed |= {n.split(".")[0] for n in names} - FAMILY_MAY_IMPORT
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "activelab.strategies."
        ):
            borrowed.add(node.module.split(".")[2])
    assert not borrowed, f"{family} imports from {sorted(borrowed)}"


def test_importing_the_registry_alone_registers_every_builtin_family():
    code = (
        "from activelab.strategies.registry import available_strategies\n"
        "print(' '.join(available_strategies()))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        cwd=Path(__file__).resolve().parents[2],
    ).stdout.split()
    assert out == available_strategies()
    assert {"margin", "coreset", "auto", "cost_aware", "bald", "badge"} <= set(out)
