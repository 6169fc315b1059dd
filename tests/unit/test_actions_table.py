"""The actions are declared once (streamtop.actions.core): the dashboard's commands and the CLI's
subcommands come from ACTIONS, and every action answers with its own frozen result type."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import typing

import pytest

from streamtop import cli
from streamtop.actions import ActionResult, Actions
from streamtop.actions.core import ACTIONS
from streamtop.ui.registry import COMMANDS, dialog_opener


def test_the_registry_makes_every_action_command_from_the_table():
    made = [c for c in COMMANDS if c.group == "Actions"]
    assert [c.name for c in made] == [a.name for a in ACTIONS]
    for command, entry in zip(made, ACTIONS, strict=True):
        assert command.keys == entry.keys and command.needs is entry.needs and command.writes
        assert command.opens is not None and command.opens == dialog_opener(entry.dialog)


@pytest.mark.parametrize("entry", [a for a in ACTIONS if a.command], ids=lambda a: a.command)
def test_each_subcommand_of_the_table_is_a_command_module(entry):
    module, help_line = cli.SUBCOMMANDS[entry.command]
    assert module == f"streamtop.commands.{entry.command}" and help_line == entry.command_help
    found = importlib.import_module(module)
    assert callable(found.add_arguments) and callable(found.run)


def actions() -> list[str]:
    return [n for n, f in vars(Actions).items() if inspect.iscoroutinefunction(f)]


@pytest.mark.parametrize("name", actions())
def test_each_action_answers_with_its_own_frozen_result(name):
    if name in ("key_type", "entry"):  # reads: the key's type, one entry whole
        return
    kind = typing.get_type_hints(getattr(Actions, name))["return"]
    assert issubclass(kind, ActionResult) and kind is not ActionResult, kind
    assert kind.__dataclass_params__.frozen
    assert "details" not in {f.name for f in dataclasses.fields(kind)}
