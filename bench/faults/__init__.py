"""The fault suite: the delivery pipeline under the faults an operator meets, on loopback.

    .venv/bin/python -m bench.faults [--count 600] [--only NAME[,NAME...]] [--list]

Each scenario builds a fresh database with one consenting parent per student and one grade
per student (so `count` notifications by e-mail), runs real `hub worker` (or `hub serve`)
processes against a faulty SMTP server, injects its fault, waits until nothing is left to
deliver (bounded: --deadline seconds), and prints:

    created     deliveries made by the notifications
    delivered   distinct messages that reached the SMTP server (or the Bot API)
    duplicated  copies accepted more than once (same Message-ID); "counted" is how many
                repeats the hub itself recorded as possible duplicates
    lost        neither delivered nor shown to the school as undelivered (failed / dead),
                or marked sent without reaching the server
    dead        failed for good or dead: shown as undelivered in the delivery log
    drain       seconds from the first notification to the last delivery settled

Services of its own, started from Debian's binaries and stopped at the end: PostgreSQL
(initdb + pg_ctl into a temporary directory, a free port) for the scenarios that restart
or stop it; never the shared ones on 5432 / 6379. The SMTP server is an aiosmtpd server
in its own process that can refuse, drop, stall, and kill the sending worker right after
its 250. Telegram runs against tests/support/telegram_api.py. Workers retry after
`--backoff` seconds (5 here, 30 by default) so that a run ends in minutes; leases are the
default 30 s. Everything is bounded in count and time.

The package: `smtp` (the faulty SMTP server), `services` (PostgreSQL and Redis of its own),
`school` (the school and its grades), `harness` (hub processes, one e-mail scenario's run),
`report` (counting and the table), and the scenarios: `scenarios` (e-mail under faults),
`telegram`, `corrections`; `__main__` runs them.
"""
