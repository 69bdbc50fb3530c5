"""What the vendors' APIs answer, as tables: one per vendor API, every field of every response
model with its default and where that default comes from.

Owns the vocabulary (`model`: `Field`, `Model`, `serialize`, `defaults`, `field_names`) and the
tables: `ultravox` (Ultravox's OpenAPI schema and seeds 000/001/003), `threetone` (seed 002,
Threetone's batch-calling submit page) and `elevenlabs` (the official ElevenLabs Python SDK's
types). Two packages read the same tables, so they cannot disagree:

* the emulator (`reconciler_emulator`) serializes every answer through them: all fields, nulls
  and published defaults included, as a FastAPI server with pydantic response models does;
* the product (`reconciler`) builds its normalization from them: a default the server fills in
  equals its absence in a manifest.

The tests hold these tables to the vendors' own definitions (the SDK's types, the OpenAPI
response schemas, the seed document), not to each other. Pure data and the standard library:
must not import `reconciler`, `reconciler_emulator` or any third-party package.
"""
