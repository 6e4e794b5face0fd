"""`crm completion SHELL`: the shell's completion script; and the completions crm offers.

The script calls `crm` back with `_CRM_COMPLETE=complete_<shell>` set; Click then completes
commands, options and choices, and the callbacks here complete values from the database
(stage names) and fixed words (activity types).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from crmcli.i18n import _

COMPLETE_VAR = "_CRM_COMPLETE"


class Shell(StrEnum):
    """The shells crm writes a completion script for."""

    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def completion(
    shell: Annotated[Shell, typer.Argument(help="bash, zsh or fish.", metavar="SHELL")],
) -> None:
    """Print the shell completion script: commands, options, values, stage names.

    \b
    bash: echo 'eval "$(crm completion bash)"' >> ~/.bashrc
    zsh:  echo 'eval "$(crm completion zsh)"' >> ~/.zshrc
    fish: crm completion fish > ~/.config/fish/completions/crm.fish
    """
    from typer._completion_shared import get_completion_script

    print(get_completion_script(prog_name="crm", complete_var=COMPLETE_VAR, shell=shell.value))


def stage_names(ctx: Any, param: Any, incomplete: str) -> list[Any]:
    """The stage names of the database in use that start like `incomplete` (accents and
    case ignored), in pipeline order; nothing when the database cannot be read."""
    from typer._click.shell_completion import CompletionItem

    from crmcli.domain.values import normalise_name

    try:
        import os

        from crmcli.services.database import open_database, resolve_target
        from crmcli.services.stages import list_stages

        target = resolve_target(ctx.find_root().params.get("db_target"))
        if "://" not in target and not os.path.exists(target):
            return []  # completing never creates a database
        database = open_database(target, notify=lambda _message: None, hooks=False)
        try:
            stages = list_stages(database)
        finally:
            database.dispose()
    except Exception:  # a completion never prints an error into the command line
        return []
    start = normalise_name(incomplete)
    return [
        CompletionItem(s.name, help=_("stage {position}").format(position=s.position))
        for s in stages
        if normalise_name(s.name).startswith(start)
    ]


def activity_types(ctx: Any, param: Any, incomplete: str) -> list[str]:
    """The activity types, as `--type` accepts them."""
    from crmcli.domain.models import ActivityType

    return [t.value for t in ActivityType if t.value.startswith(incomplete.lower())]
