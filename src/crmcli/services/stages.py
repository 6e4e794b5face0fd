"""Pipeline stage use cases: add, rename, move, set the default probability, remove."""

from __future__ import annotations

from crmcli import clock
from crmcli.domain.models import Stage
from crmcli.domain.records import record
from crmcli.domain.rules import ordered
from crmcli.errors import InvalidTransition, UsageError, ValidationError
from crmcli.i18n import _, ngettext
from crmcli.services.common import checked_probability, required_name
from crmcli.store.db import Database
from crmcli.store.uow import UnitOfWork


def list_stages(
    db: Database, *, limit: int | None = None, sort: str | None = None, reverse: bool = False
) -> list[Stage]:
    """Every stage in pipeline order (or by `sort`, a field of `sorting.SORT_FIELDS`,
    `reverse`d), at most `limit`."""
    with db.read() as uow:
        if limit is None and sort is None and not reverse:
            return uow.stages.all()
        return uow.stages.list(limit=limit, sort=sort, reverse=reverse)


def _check_days(days: int | None) -> None:
    if days is not None and not 0 <= days <= 3650:
        raise ValidationError(_("days: {days} must be between 0 and 3650").format(days=days))


def _place(ids: list[int], stage_id: int, after: Stage | None, before: Stage | None) -> list[int]:
    rest = [i for i in ids if i != stage_id]
    if after is not None:
        rest.insert(rest.index(after.id) + 1, stage_id)
    elif before is not None:
        rest.insert(rest.index(before.id), stage_id)
    else:
        rest.append(stage_id)
    return rest


def add_stage(
    db: Database,
    name: str,
    *,
    probability: int,
    after: str | None = None,
    expected_days: int | None = None,
) -> Stage:
    """A new stage, at the end of the pipeline or right after `after`."""
    clean = required_name(name)
    checked_probability(probability)
    _check_days(expected_days)
    with db.write() as uow:
        uow.stages.lock()
        anchor = uow.stages.find(after) if after else None
        stage = uow.stages.add(
            {
                "name": clean,
                "position": len(uow.stages.all()) + 1,
                "probability": probability,
                "expected_days": expected_days,
            }
        )
        ids = [s.id for s in uow.stages.all()]
        uow.stages.reorder(_place(ids, stage.id, anchor, None))
        result = uow.stages.find(str(stage.id))
        uow.commit()
        return result


def rename_stage(db: Database, ref: str, new_name: str) -> Stage:
    """Give a stage a new name (deals and history follow it)."""
    clean = required_name(new_name)
    with db.write() as uow:
        uow.stages.lock()
        stage = uow.stages.find(ref)
        uow.stages.update(stage, {"name": clean})
        result = uow.stages.find(str(stage.id))
        uow.commit()
        return result


def move_stage(
    db: Database,
    ref: str,
    *,
    after: str | None = None,
    before: str | None = None,
    position: int | None = None,
) -> list[Stage]:
    """Put a stage somewhere else in the order; returns the new pipeline."""
    if sum(x is not None for x in (after, before, position)) != 1:
        raise UsageError(_("give exactly one of --after, --before or --position"))
    with db.write() as uow:
        uow.stages.lock()
        stage = uow.stages.find(ref)
        ids = [s.id for s in uow.stages.all()]
        if position is not None:
            if not 1 <= position <= len(ids):
                raise ValidationError(
                    _("position: {position} must be between 1 and {last}").format(
                        position=position, last=len(ids)
                    )
                )
            rest = [i for i in ids if i != stage.id]
            rest.insert(position - 1, stage.id)
            order = rest
        else:
            anchor = uow.stages.find(after or before or "")
            if anchor.id == stage.id:
                raise ValidationError(_("a stage cannot be moved relative to itself"))
            order = _place(ids, stage.id, anchor if after else None, anchor if before else None)
        uow.stages.reorder(order)
        result = uow.stages.all()
        uow.commit()
        return result


@record
class ProbabilitySet:
    """A stage's new default probability and how many open deals followed it."""

    stage: Stage
    updated_deals: int


def set_stage_probability(
    db: Database, ref: str, probability: int, *, update_open: bool = False
) -> ProbabilitySet:
    """Change a stage's default probability; `update_open` also re-sets its open deals that
    follow the stage default (hand-set probabilities are left alone)."""
    checked_probability(probability)
    with db.write() as uow:
        uow.stages.lock()
        stage = uow.stages.find(ref)
        uow.stages.update(stage, {"probability": probability})
        stage = uow.stages.find(str(stage.id))
        updated = 0
        if update_open:
            now = clock.utcnow()
            for opp_id in uow.opps.ids_in_stage(stage.id):
                opp = uow.opps.get(opp_id)
                if opp.probability_manual or opp.probability == probability:
                    continue
                opp = uow.opps.update(opp, {"probability": probability, "updated_at": now})
                uow.opps.history_add(opp, now)
                updated += 1
        result = ProbabilitySet(stage, updated)
        uow.commit()
        return result


@record
class StageRemoved:
    """A removed stage, and how many deals moved out of it."""

    stage: Stage
    moved_deals: int


def _move_all(uow: UnitOfWork, source: Stage, target: Stage) -> int:
    now = clock.utcnow()
    moved = 0
    for status in ("open", "won", "lost"):
        for opp_id in uow.opps.ids_in_stage(source.id, status=status):
            opp = uow.opps.get(opp_id)
            changes: dict[str, object] = {"stage_id": target.id, "updated_at": now}
            if status == "open":
                changes.update(probability=target.probability, probability_manual=False)
            opp = uow.opps.update(opp, changes)
            if status == "open":
                uow.opps.history_add(opp, now)
            moved += 1
    return moved


def remove_stage(db: Database, ref: str, *, move_to: str | None = None) -> StageRemoved:
    """Remove a stage; open deals in it must be moved (`move_to`) first."""
    with db.write() as uow:
        uow.stages.lock()
        stage = uow.stages.find(ref)
        stages = ordered(uow.stages.all())
        if len(stages) == 1:
            raise InvalidTransition(
                _('"{stage}" is the only stage: the pipeline needs one').format(stage=stage.name)
            )
        moved = 0
        if move_to:
            target = uow.stages.find(move_to)
            if target.id == stage.id:
                raise ValidationError(_("--move-to must name another stage"))
            moved = _move_all(uow, stage, target)
        else:
            count = uow.opps.count_in_stage(stage.id)
            if count:
                raise InvalidTransition(
                    ngettext(
                        'stage "{stage}" still holds {count} open deal(s): '
                        "move them with --move-to STAGE",
                        'stage "{stage}" still holds {count} open deal(s): '
                        "move them with --move-to STAGE",
                        count,
                    ).format(stage=stage.name, count=count)
                )
        uow.stages.delete(stage.id)
        uow.stages.reorder([s.id for s in stages if s.id != stage.id])
        result = StageRemoved(stage, moved)
        uow.commit()
        return result
