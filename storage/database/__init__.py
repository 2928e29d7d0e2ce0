"""The database: one SQLite file by default, or PostgreSQL when the bot outgrows one machine.

Storage functions are written once, in the SQL both engines share (`?` placeholders, ON CONFLICT,
integer UTC times, window functions), against `Database` and `Connection` (protocol.py). What
truly differs lives beside it: how a statement's placeholders are spelled and the column types a
migration declares (dialect.py), how each engine connects and begins a transaction (sqlite.py,
postgres.py), the migrations both apply (schema.py), and how a target is written and redacted
(urls.py). Callers import from here, never from the modules.
"""

from storage.database.dialect import (
    MAX_PARAMETERS,
    MULTIROW_ROWS,
    POSTGRESQL,
    SQLITE,
    Dialect,
    multirow_insert,
    numbered,
    postgres_ddl,
)
from storage.database.postgres import (
    MIGRATION_LOCK,
    PostgresConnection,
    PostgresCursor,
    PostgresDatabase,
    resync_identities,
)
from storage.database.protocol import Connection, Cursor, Database, Row
from storage.database.schema import MIGRATION_NAME, migrations, split_statements
from storage.database.sqlite import SqliteConnection, SqliteDatabase
from storage.database.urls import (
    POSTGRES_SCHEMES,
    SQLITE_SCHEME,
    DatabaseUnavailable,
    UnsupportedDatabase,
    database_target,
    is_environmental,
    is_postgres,
    password_of,
    redacted,
    sqlite_path,
)

__all__ = [
    "MAX_PARAMETERS",
    "MIGRATION_LOCK",
    "MIGRATION_NAME",
    "MULTIROW_ROWS",
    "POSTGRESQL",
    "POSTGRES_SCHEMES",
    "SQLITE",
    "SQLITE_SCHEME",
    "Connection",
    "Cursor",
    "Database",
    "DatabaseUnavailable",
    "Dialect",
    "PostgresConnection",
    "PostgresCursor",
    "PostgresDatabase",
    "Row",
    "SqliteConnection",
    "SqliteDatabase",
    "UnsupportedDatabase",
    "database_target",
    "is_environmental",
    "is_postgres",
    "migrations",
    "multirow_insert",
    "numbered",
    "password_of",
    "postgres_ddl",
    "redacted",
    "resync_identities",
    "split_statements",
    "sqlite_path",
]
