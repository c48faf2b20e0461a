"""The PostgreSQL backend of the `Store` protocol: `open_store("postgresql://…")` opens it.

Modules, one job each: `schema` (the tables, triggers and change stamping), `migrations` (applying it),
`connection` (the pool), `tx` (the write convention), `feed` (the change feed's horizon and LISTEN),
`store` (`PostgresStore`, the protocol's members), and one module of SQL per area: `webhooks`,
`outbox`, `lease`, `media`, `templates`, `reads`, `team`, `stats`, `events` (the event outbox).
"""
