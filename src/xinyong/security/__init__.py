"""Organisations, users, roles, tokens, the audit chain, and protection of personal identifiers.

What other chapters use (docs/security.md explains the model):

- `principal.Principal` — who is asking (anonymous public, user, API token, the platform itself)
- `access.check(principal, permission, *, level, audience, owner)` — the one permission check (403)
- `access.audience_for(conn, principal, subject_id=…, clock=…)` — public / self / authorised /
  government / platform, for one subject; `access.register_authorisation_lookup` plugs in authorisations
- `access.declared_purpose`, `access.consume_quota` — purpose for non-public views, agencies' quota
- `audit.record(conn, principal=…, action=…, clock=…, …)`, `audit.SubjectRef`, `audit.verify`
- `masking.*`, `pii.PersonalIdProtector` — masked display, blind index and encryption of ID numbers
- `xinyong.web.deps.permission("name")` — the dependency every route declares
"""
