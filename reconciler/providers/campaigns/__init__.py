"""The campaign kit: one design for outbound call campaigns, shared by every vendor's kind.

A campaign is a first API batch plus supplemental parts holding recipients added after calls
started; recipients carry stable keys so a live recipient is recognised and nobody is dialled
twice. `ScheduledBatch` (Ultravox) and `BatchCall` (Threetone, ElevenLabs) both build on:

- `state`: the typed, immutable campaign state in a resource's `detail` (desired recipients,
  live parts and their recipients) and its checked accessors;
- `recipients`: unique recipients with located duplicates, matching against live parts
  (added / removed / changed), masked recipient lists for notes;
- `decision`: part identity (clashes, the next ordinal), "has it started", and the
  started/not-started decision (nothing / replace / supplement / refuse with reasons);
- `duplicates`: recipients two live parts will call (concurrent applies, a write made twice),
  which copy every process agrees to keep, and whether the others can still be removed;
- `status`: the shared parts of a progress report (head, status counts, tallies).

Each kind keeps only what its API does differently: paths and bodies, how parts are
identified in the account, the fields compared, and its own rules (Ultravox's one-way pause,
batch calling's cancel and retry). This package sits beside the vendor folders and must not
import any of them (nor httpx or deepdiff).
"""
