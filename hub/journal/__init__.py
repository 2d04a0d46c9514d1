"""The journal: grades and attendance, the records that parents are told about.

A domain with the standing of `forum`; it lives under hub/ only because the product's top
level is fixed. The kernel never imports it; hub.compose wires it in (its event handlers,
its personal data, its pages and API).

They arrive from three sources: the teacher's page ("web"), the school journal's JSON API
("api") and CSV imports ("csv"). All three go through one routine, `record.record`, which
validates a whole batch first and stores nothing if any item is wrong, then upserts by the
caller's `source_id`, unique per school and source (`sources`: each API token, each
person's API session, the grid and the CSV import have their own ids; an update must be
allowed for the stored record too, and never changes its student): a new item is inserted
and announced (GradePosted / AttendanceMarked), an identical one changes nothing and
announces nothing, a changed one is updated and announced as a correction. Events are
emitted in the caller's transaction, so the record and its notifications commit together.

"Present" is not stored as a new mark: sent for an item that has no mark it changes
nothing; sent for an existing mark it turns that mark into "present" (a correction the
parents are told about, "отметка исправлена: присутствовал(а)"), and the mark then stops
showing as an absence. Web source ids start with "web:"; the journal may not use that
prefix, so the teacher's page and the journal never overwrite each other's items.

Modules: models (tables and enums), inputs (what a batch carries), errors (refusals),
checks (a batch's validation), sources (whose source ids, who may update a record
through one), record (storing a batch), reading (queries), notifications
(events to messages, and their texts), privacy (export and erasure), web (routes and
navigation) with grid_views (the teacher's pages) and children_views (the parents' page),
api (the JSON endpoints), csv_import (files from the school's journal).
"""
