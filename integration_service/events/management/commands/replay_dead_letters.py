"""``manage.py replay_dead_letters [--list] [--event-id ID ...] [--source auto|queue|log]``.

Lists the dead letters, or sends them (all, or those with the given event ids)
back to the ``integration`` work queue with their retry count reset.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from events.dead_letters import DeadLetter, dead_letter_source


def _line(letter: DeadLetter) -> str:
    reason = " ".join(letter.reason.split())[:160]
    flag = "" if letter.replayable else " [malformed: not replayable]"
    return (
        f"{letter.event_id or '-'}  {letter.event_type or '-'}  order={letter.order_id or '-'}"
        f"  {reason}{flag}"
    )


class Command(BaseCommand):
    help = "List or replay dead-lettered order events."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--list", action="store_true", help="only list the dead letters")
        parser.add_argument(
            "--event-id",
            action="append",
            dest="event_ids",
            metavar="EVENT_ID",
            help="replay only this event (repeatable)",
        )
        parser.add_argument(
            "--source",
            choices=["auto", "queue", "log"],
            default="auto",
            help="queue: RabbitMQ's integration.dead; log: events recorded dead "
            "(auto: queue on RabbitMQ, log otherwise)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source = dead_letter_source(source=options["source"])
        if options["list"]:
            letters = source.list()
            for letter in letters:
                self.stdout.write(_line(letter))
            self.stdout.write(f"{len(letters)} dead letter(s) in {source.name}")
            return
        event_ids = set(options["event_ids"]) if options["event_ids"] else None
        replayed = source.replay(event_ids=event_ids)
        for letter in replayed:
            self.stdout.write(f"replayed {_line(letter)}")
        self.stdout.write(self.style.SUCCESS(f"{len(replayed)} dead letter(s) replayed"))
        if event_ids:
            missing = event_ids - {letter.event_id for letter in replayed}
            if missing:
                self.stderr.write(f"not found among the dead letters: {', '.join(sorted(missing))}")
