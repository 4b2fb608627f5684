//! Backups (ADR 0021): a snapshot is a SQLite file holding every Roster table plus one
//! `roster_snapshot` table of metadata (Roster's version, the schema version, the key ids the
//! secrets are sealed with). On SQLite it is made online with `VACUUM INTO`; on PostgreSQL it
//! is copied from one `REPEATABLE READ` transaction, so either way it is one consistent
//! point in time while servers keep writing. Restoring copies it, table by table, into an
//! empty database of either kind in one transaction.
//!
//! The copy is generic: each column's kind comes from the database's catalog (SQLite's
//! declared types, PostgreSQL's `information_schema`), so a table a later migration adds is
//! copied without a change here. Sealed columns are copied as the bytes they are: a snapshot
//! holds no plaintext secret.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row as _;
use uuid::Uuid;

use crate::{Dialect, Error, Store, Tx};

/// Tables in an order where every foreign key points at a table before it. A table the list
/// does not know (a later migration's) comes after these, by name.
const TABLE_ORDER: &[&str] = &[
    "organizations",
    "users",
    "memberships",
    "squads",
    "people",
    "external_ids",
    "connections",
    "oauth_states",
    "integration_accounts",
    "integration_account_actions",
    "integration_account_shares",
    "permissions",
    "leases",
    "sync_runs",
    "audit_events",
    "sign_in_requests",
    "sessions",
    "api_tokens",
    "key_canaries",
];

/// Columns that point at rows of their own table (a manager, possibly in a cycle): restored
/// as NULL first, then set once every row exists.
const SECOND_PASS: &[(&str, &str)] = &[("people", "manager_id")];

/// Tables that are not data: the target's own migrations write them.
const NOT_DATA: &[&str] = &["roster_migrations", "roster_snapshot"];

const META_TABLE: &str = "roster_snapshot";

/// What a snapshot records about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotMeta {
    /// The Roster release that wrote it.
    pub roster_version: String,
    /// The newest migration applied to the database it was taken from.
    pub schema_version: i64,
    /// The key ids (16 hex digits) its sealed values and canaries name.
    pub key_ids: Vec<String>,
    /// `sqlite` or `postgres`: where it was taken.
    pub source: String,
    pub taken_at: DateTime<Utc>,
}

/// Why a backup or a restore did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{0} already exists: a backup never overwrites a file")]
    Exists(PathBuf),
    #[error("{0} is not a Roster snapshot")]
    NotASnapshot(PathBuf),
    #[error(
        "the snapshot is from a newer schema (migration {snapshot}) than this Roster knows (migration {known}): restore it with that release or a later one"
    )]
    NewerSchema { snapshot: i64, known: i64 },
    #[error(
        "the database is not empty ({table} has rows): restore refuses to mix two databases; pass --force to replace everything in it"
    )]
    NotEmpty { table: String },
    #[error(
        "{0} migration(s) pending: run `roster migrate` before taking a backup, so the snapshot has one known schema"
    )]
    Pending(usize),
    #[error("cannot use the file {path}")]
    Io {
        path: PathBuf,
        #[source]
        cause: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] Error),
}

impl From<sqlx::Error> for SnapshotError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

type Result<T, E = SnapshotError> = std::result::Result<T, E>;

/// How a column's values are read and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Uuid,
    Time,
    Date,
    Bool,
    Bytes,
    Int,
    Float,
    Text,
}

impl Kind {
    /// From a declared type (SQLite) or `information_schema.columns.data_type` (PostgreSQL).
    fn of(declared: &str) -> Self {
        let t = declared.to_ascii_lowercase();
        if t.contains("uuid") {
            Self::Uuid
        } else if t.contains("timestamp") {
            Self::Time
        } else if t == "date" {
            Self::Date
        } else if t.starts_with("bool") {
            Self::Bool
        } else if t.contains("bytea") || t.contains("blob") {
            Self::Bytes
        } else if t.contains("int") {
            Self::Int
        } else if t.contains("double") || t.contains("real") || t.contains("float") {
            Self::Float
        } else {
            Self::Text
        }
    }
}

/// One stored value, whichever database it came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Uuid(Uuid),
    Time(DateTime<Utc>),
    Date(NaiveDate),
    Bool(bool),
    Bytes(Vec<u8>),
    Int(i64),
    Float(f64),
    Text(String),
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: Kind,
}

#[derive(Debug, Clone)]
struct Table {
    name: String,
    columns: Vec<Column>,
}

/// Every row of every data table, for comparing two databases (tests, `restore`'s report).
pub type Contents = BTreeMap<String, Vec<Vec<Value>>>;

/// What a restore wrote.
#[derive(Debug, Clone)]
pub struct RestoreReport {
    pub meta: SnapshotMeta,
    /// Rows per table.
    pub rows: BTreeMap<String, u64>,
}

#[derive(sqlx::FromRow)]
struct CatalogColumn {
    name: String,
    declared: String,
}

/// Decodes column `i` of a row of either database as `kind`.
macro_rules! decode {
    ($row:expr, $i:expr, $kind:expr) => {{
        let row = $row;
        let i = $i;
        match $kind {
            Kind::Uuid => row.try_get::<Option<Uuid>, _>(i)?.map(Value::Uuid),
            Kind::Time => row.try_get::<Option<DateTime<Utc>>, _>(i)?.map(Value::Time),
            Kind::Date => row.try_get::<Option<NaiveDate>, _>(i)?.map(Value::Date),
            Kind::Bool => row.try_get::<Option<bool>, _>(i)?.map(Value::Bool),
            Kind::Bytes => row.try_get::<Option<Vec<u8>>, _>(i)?.map(Value::Bytes),
            Kind::Int => row.try_get::<Option<i64>, _>(i)?.map(Value::Int),
            Kind::Float => row.try_get::<Option<f64>, _>(i)?.map(Value::Float),
            Kind::Text => row.try_get::<Option<String>, _>(i)?.map(Value::Text),
        }
        .unwrap_or(Value::Null)
    }};
}

/// Binds `values` (as the columns' kinds) to a query of either database and runs it.
macro_rules! bind_all {
    ($q:expr, $values:expr, $kinds:expr) => {{
        let mut q = $q;
        for (v, kind) in $values.iter().copied().zip($kinds.iter().cycle()) {
            q = match (v, kind) {
                (Value::Null, Kind::Uuid) => q.bind(None::<Uuid>),
                (Value::Null, Kind::Time) => q.bind(None::<DateTime<Utc>>),
                (Value::Null, Kind::Date) => q.bind(None::<NaiveDate>),
                (Value::Null, Kind::Bool) => q.bind(None::<bool>),
                (Value::Null, Kind::Bytes) => q.bind(None::<Vec<u8>>),
                (Value::Null, Kind::Int) => q.bind(None::<i64>),
                (Value::Null, Kind::Float) => q.bind(None::<f64>),
                (Value::Null, Kind::Text) => q.bind(None::<String>),
                (Value::Uuid(x), _) => q.bind(*x),
                (Value::Time(x), _) => q.bind(*x),
                (Value::Date(x), _) => q.bind(*x),
                (Value::Bool(x), _) => q.bind(*x),
                (Value::Bytes(x), _) => q.bind(x.clone()),
                (Value::Int(x), _) => q.bind(*x),
                (Value::Float(x), _) => q.bind(*x),
                (Value::Text(x), _) => q.bind(x.clone()),
            };
        }
        q
    }};
}

impl Tx {
    /// The data tables and their columns, in restore order.
    async fn catalog(&mut self) -> Result<Vec<Table>> {
        let names: Vec<String> = match self.dialect() {
            Dialect::Sqlite => scalar!(
                self,
                fetch_all,
                String,
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )?,
            Dialect::Postgres => scalar!(
                self,
                fetch_all,
                String,
                "SELECT table_name::text FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            )?,
        };
        let mut names: Vec<String> = names
            .into_iter()
            .filter(|n| !NOT_DATA.contains(&n.as_str()))
            .collect();
        names.sort_by_key(|n| {
            (
                TABLE_ORDER
                    .iter()
                    .position(|t| t == n)
                    .unwrap_or(TABLE_ORDER.len()),
                n.clone(),
            )
        });
        let mut tables = Vec::with_capacity(names.len());
        for name in names {
            let columns: Vec<CatalogColumn> = match self.dialect() {
                Dialect::Sqlite => rows!(
                    self,
                    fetch_all,
                    CatalogColumn,
                    "SELECT name, type AS declared FROM pragma_table_info($1) ORDER BY cid",
                    &name
                )?,
                Dialect::Postgres => rows!(
                    self,
                    fetch_all,
                    CatalogColumn,
                    "SELECT column_name::text AS name, data_type::text AS declared
                     FROM information_schema.columns
                     WHERE table_schema = current_schema() AND table_name = $1
                     ORDER BY ordinal_position",
                    &name
                )?,
            };
            tables.push(Table {
                name,
                columns: columns
                    .into_iter()
                    .map(|c| Column {
                        kind: Kind::of(&c.declared),
                        name: c.name,
                    })
                    .collect(),
            });
        }
        Ok(tables)
    }

    /// Every row of `table`, its columns in `columns`' order (read as the kinds given).
    async fn table_rows(&mut self, table: &str, columns: &[Column]) -> Result<Vec<Vec<Value>>> {
        let list = columns
            .iter()
            .map(|c| quote(&c.name))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("SELECT {list} FROM {}", quote(table));
        let mut out = Vec::new();
        match &mut self.inner {
            crate::db::TxInner::Sqlite(c) => {
                for row in sqlx::query(&sql).fetch_all(&mut **c).await? {
                    let mut values = Vec::with_capacity(columns.len());
                    for (i, col) in columns.iter().enumerate() {
                        values.push(decode!(&row, i, col.kind));
                    }
                    out.push(values);
                }
            }
            crate::db::TxInner::SqliteConn(c) => {
                for row in sqlx::query(&sql).fetch_all(&mut **c).await? {
                    let mut values = Vec::with_capacity(columns.len());
                    for (i, col) in columns.iter().enumerate() {
                        values.push(decode!(&row, i, col.kind));
                    }
                    out.push(values);
                }
            }
            crate::db::TxInner::Postgres(c) => {
                for row in sqlx::query(&sql).fetch_all(&mut **c).await? {
                    let mut values = Vec::with_capacity(columns.len());
                    for (i, col) in columns.iter().enumerate() {
                        values.push(decode!(&row, i, col.kind));
                    }
                    out.push(values);
                }
            }
            crate::db::TxInner::PostgresConn(c) => {
                for row in sqlx::query(&sql).fetch_all(&mut **c).await? {
                    let mut values = Vec::with_capacity(columns.len());
                    for (i, col) in columns.iter().enumerate() {
                        values.push(decode!(&row, i, col.kind));
                    }
                    out.push(values);
                }
            }
        }
        Ok(out)
    }

    /// Inserts `rows` into `table`, many rows per statement.
    async fn insert_rows(
        &mut self,
        table: &str,
        columns: &[Column],
        rows: &[Vec<Value>],
    ) -> Result<()> {
        if rows.is_empty() || columns.is_empty() {
            return Ok(());
        }
        let kinds: Vec<Kind> = columns.iter().map(|c| c.kind).collect();
        let list = columns
            .iter()
            .map(|c| quote(&c.name))
            .collect::<Vec<_>>()
            .join(", ");
        // Well under SQLite's 32,766 and PostgreSQL's 65,535 parameters per statement.
        let per_statement = (4_000 / columns.len()).max(1);
        for chunk in rows.chunks(per_statement) {
            let mut sql = format!("INSERT INTO {} ({list}) VALUES ", quote(table));
            let mut n = 0;
            for (r, _) in chunk.iter().enumerate() {
                if r > 0 {
                    sql.push_str(", ");
                }
                sql.push('(');
                for c in 0..columns.len() {
                    if c > 0 {
                        sql.push_str(", ");
                    }
                    n += 1;
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
                sql.push(')');
            }
            let values: Vec<&Value> = chunk.iter().flatten().collect();
            match &mut self.inner {
                crate::db::TxInner::Sqlite(c) => {
                    bind_all!(sqlx::query(&sql), values, kinds)
                        .execute(&mut **c)
                        .await?;
                }
                crate::db::TxInner::SqliteConn(c) => {
                    bind_all!(sqlx::query(&sql), values, kinds)
                        .execute(&mut **c)
                        .await?;
                }
                crate::db::TxInner::Postgres(c) => {
                    bind_all!(sqlx::query(&sql), values, kinds)
                        .execute(&mut **c)
                        .await?;
                }
                crate::db::TxInner::PostgresConn(c) => {
                    bind_all!(sqlx::query(&sql), values, kinds)
                        .execute(&mut **c)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Sets one self-referencing column row by row (the second pass of a restore).
    async fn set_second_pass(
        &mut self,
        table: &Table,
        column: &str,
        rows: &[Vec<Value>],
    ) -> Result<()> {
        let Some(at) = table.columns.iter().position(|c| c.name == column) else {
            return Ok(());
        };
        // Every self-referencing table has a single UUID primary key as its second column
        // or first; find it by the `<table minus s>_id` convention (people → person_id).
        let Some(key) = table
            .columns
            .iter()
            .position(|c| c.kind == Kind::Uuid && c.name == "person_id")
        else {
            return Ok(());
        };
        let sql = format!(
            "UPDATE {} SET {} = $1 WHERE {} = $2",
            quote(&table.name),
            quote(column),
            quote(&table.columns[key].name)
        );
        for row in rows {
            if let (Value::Uuid(v), Value::Uuid(k)) = (&row[at], &row[key]) {
                execute!(self, &sql, *v, *k)?;
            }
        }
        Ok(())
    }
}

/// A quoted identifier (names come from the catalog; quoting keeps odd ones intact).
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SnapshotError + '_ {
    move |cause| SnapshotError::Io {
        path: path.to_owned(),
        cause,
    }
}

/// The file beside `path` that a backup writes before renaming it into place.
fn partial(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".partial");
    path.with_file_name(name)
}

impl Store {
    /// Writes a consistent snapshot of the whole database to `path` (which must not exist)
    /// while other connections keep writing. `meta.schema_version` is filled in here.
    pub async fn backup_to(&self, path: &Path, mut meta: SnapshotMeta) -> Result<SnapshotMeta> {
        if path.exists() {
            return Err(SnapshotError::Exists(path.to_owned()));
        }
        let status = self.migration_status().await?;
        if !status.is_current() {
            return Err(SnapshotError::Pending(status.pending.len()));
        }
        meta.schema_version = status.applied.iter().copied().max().unwrap_or(0);
        match self.dialect() {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
        .clone_into(&mut meta.source);
        let tmp = partial(path);
        if tmp.exists() {
            std::fs::remove_file(&tmp).map_err(io(&tmp))?;
        }
        let result = self.write_snapshot(&tmp, &meta).await;
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        std::fs::rename(&tmp, path).map_err(io(path))?;
        Ok(meta)
    }

    async fn write_snapshot(&self, tmp: &Path, meta: &SnapshotMeta) -> Result<()> {
        match self.dialect() {
            Dialect::Sqlite => {
                // Online: one read transaction of its own, never a copy of the file.
                let mut conn = self.read_one().await?;
                let target = tmp.display().to_string();
                execute!(conn, "VACUUM INTO $1", target)?;
                drop(conn);
                let snap = Store::connect_snapshot(tmp, false).await?;
                let mut tx = snap.begin().await?;
                write_meta(&mut tx, meta).await?;
                tx.commit().await?;
                snap.close().await;
            }
            Dialect::Postgres => {
                let snap = Store::connect_snapshot(tmp, false).await?;
                snap.migrate(meta.taken_at).await?;
                let mut from = self.read().await?;
                execute!(
                    from,
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                )?;
                let tables = from.catalog().await?;
                let mut to = snap.begin().await?;
                let into = to.catalog().await?;
                for table in &tables {
                    let Some(target) = into.iter().find(|t| t.name == table.name) else {
                        continue;
                    };
                    let columns = shared_columns(table, target);
                    let rows = from.table_rows(&table.name, &columns).await?;
                    // The snapshot has no self-reference problem: SQLite checks foreign keys
                    // per statement, so defer them to the commit.
                    execute!(to, "PRAGMA defer_foreign_keys = ON")?;
                    to.insert_rows(&table.name, &columns, &rows).await?;
                }
                write_meta(&mut to, meta).await?;
                to.commit().await?;
                from.rollback().await?;
                snap.close().await;
            }
        }
        Ok(())
    }

    /// Whether every data table is empty (or there are none yet).
    pub async fn is_empty(&self) -> Result<bool> {
        Ok(self.first_non_empty().await?.is_none())
    }

    async fn first_non_empty(&self) -> Result<Option<String>> {
        let mut tx = self.read().await?;
        for table in tx.catalog().await? {
            let sql = format!("SELECT EXISTS (SELECT 1 FROM {})", quote(&table.name));
            if scalar!(tx, fetch_one, bool, &sql)? {
                return Ok(Some(table.name));
            }
        }
        Ok(None)
    }

    /// Every row of every data table, sorted, for comparing two databases.
    pub async fn contents(&self) -> Result<Contents> {
        let mut tx = self.read().await?;
        if tx.dialect() == Dialect::Postgres {
            execute!(
                tx,
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
            )?;
        }
        let mut out = Contents::new();
        for table in tx.catalog().await? {
            let mut rows = tx.table_rows(&table.name, &table.columns).await?;
            rows.sort_by_key(|r| format!("{r:?}"));
            out.insert(table.name, rows);
        }
        tx.rollback().await?;
        Ok(out)
    }

    /// Restores the snapshot at `path` into this database, which must be empty unless
    /// `force` (then every Roster table in it is dropped first). Migrates the database to
    /// this binary's schema; one transaction writes every row.
    pub async fn restore_from(&self, path: &Path, force: bool) -> Result<RestoreReport> {
        let meta = read_meta(path).await?;
        let known = crate::migrate::latest_version();
        if meta.schema_version > known {
            return Err(SnapshotError::NewerSchema {
                snapshot: meta.schema_version,
                known,
            });
        }
        if let Some(table) = self.first_non_empty().await? {
            if !force {
                return Err(SnapshotError::NotEmpty { table });
            }
            self.drop_everything().await?;
        }
        // The snapshot may be of an older schema: bring a private copy of it up to date.
        let work = tempdir_file(path)?;
        std::fs::copy(path, &work.0).map_err(io(path))?;
        let snap = Store::connect_snapshot(&work.0, false).await?;
        snap.migrate(meta.taken_at).await?;
        self.migrate(meta.taken_at).await?;

        let mut from = snap.read().await?;
        let tables = from.catalog().await?;
        let mut to = self.begin().await?;
        if to.dialect() == Dialect::Sqlite {
            execute!(to, "PRAGMA defer_foreign_keys = ON")?;
        }
        let into = to.catalog().await?;
        let mut counts = BTreeMap::new();
        for table in &tables {
            let Some(target) = into.iter().find(|t| t.name == table.name) else {
                continue;
            };
            let columns = shared_columns(table, target);
            let mut rows = from.table_rows(&table.name, &columns).await?;
            let later: Vec<usize> = SECOND_PASS
                .iter()
                .filter(|(t, _)| *t == table.name)
                .filter_map(|(_, c)| columns.iter().position(|x| x.name == *c))
                .collect();
            let full = if later.is_empty() {
                Vec::new()
            } else {
                rows.clone()
            };
            for row in &mut rows {
                for &i in &later {
                    row[i] = Value::Null;
                }
            }
            let target_kinds: Vec<Column> = columns
                .iter()
                .map(|c| {
                    target
                        .columns
                        .iter()
                        .find(|t| t.name == c.name)
                        .cloned()
                        .unwrap_or_else(|| c.clone())
                })
                .collect();
            to.insert_rows(&table.name, &target_kinds, &rows).await?;
            for (_, column) in SECOND_PASS.iter().filter(|(t, _)| *t == table.name) {
                let t = Table {
                    name: table.name.clone(),
                    columns: target_kinds.clone(),
                };
                to.set_second_pass(&t, column, &full).await?;
            }
            counts.insert(table.name.clone(), rows.len() as u64);
        }
        to.commit().await?;
        from.rollback().await?;
        snap.close().await;
        drop(work);
        Ok(RestoreReport { meta, rows: counts })
    }

    /// Drops every Roster table (and the audit trigger function), for `restore --force`.
    async fn drop_everything(&self) -> Result<()> {
        let mut tx = self.begin().await?;
        let mut tables = tx.catalog().await?;
        tables.reverse();
        for t in &tables {
            let sql = match tx.dialect() {
                Dialect::Postgres => format!("DROP TABLE IF EXISTS {} CASCADE", quote(&t.name)),
                Dialect::Sqlite => format!("DROP TABLE IF EXISTS {}", quote(&t.name)),
            };
            execute!(tx, &sql)?;
        }
        execute!(tx, "DROP TABLE IF EXISTS roster_migrations")?;
        if tx.dialect() == Dialect::Postgres {
            execute!(
                tx,
                "DROP FUNCTION IF EXISTS roster_audit_is_append_only() CASCADE"
            )?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The source's columns the target also has, in the source's order.
fn shared_columns(source: &Table, target: &Table) -> Vec<Column> {
    source
        .columns
        .iter()
        .filter(|c| target.columns.iter().any(|t| t.name == c.name))
        .cloned()
        .collect()
}

async fn write_meta(tx: &mut Tx, meta: &SnapshotMeta) -> Result<()> {
    execute!(
        tx,
        "CREATE TABLE roster_snapshot (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
    )?;
    for (name, value) in [
        ("format", "1".to_owned()),
        ("roster_version", meta.roster_version.clone()),
        ("schema_version", meta.schema_version.to_string()),
        ("key_ids", meta.key_ids.join(",")),
        ("source", meta.source.clone()),
        ("taken_at", meta.taken_at.to_rfc3339()),
    ] {
        execute!(
            tx,
            "INSERT INTO roster_snapshot (name, value) VALUES ($1, $2)",
            name,
            value
        )?;
    }
    Ok(())
}

/// Reads a snapshot's metadata without changing the file.
pub async fn read_meta(path: &Path) -> Result<SnapshotMeta> {
    if !path.is_file() {
        return Err(SnapshotError::Io {
            path: path.to_owned(),
            cause: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        });
    }
    let not = || SnapshotError::NotASnapshot(path.to_owned());
    let store = Store::connect_snapshot(path, true)
        .await
        .map_err(|_| not())?;
    let rows: Vec<(String, String)> = {
        let mut tx = store.read().await?;
        let found = match &mut tx.inner {
            crate::db::TxInner::Sqlite(c) => {
                sqlx::query_as::<_, (String, String)>(&format!(
                    "SELECT name, value FROM {META_TABLE}"
                ))
                .fetch_all(&mut **c)
                .await
            }
            _ => return Err(not()),
        };
        tx.rollback().await?;
        found.map_err(|_| not())?
    };
    store.close().await;
    let map: BTreeMap<String, String> = rows.into_iter().collect();
    let get = |k: &str| map.get(k).cloned().ok_or_else(not);
    Ok(SnapshotMeta {
        roster_version: get("roster_version")?,
        schema_version: get("schema_version")?.parse().map_err(|_| not())?,
        key_ids: get("key_ids")?
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        source: get("source")?,
        taken_at: DateTime::parse_from_rfc3339(&get("taken_at")?)
            .map_err(|_| not())?
            .with_timezone(&Utc),
    })
}

/// A private working file for a restore, removed when dropped.
struct WorkFile(PathBuf);

impl Drop for WorkFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.0.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(p));
        }
    }
}

fn tempdir_file(snapshot: &Path) -> Result<WorkFile> {
    let dir = std::env::temp_dir();
    let name = format!(
        "roster-restore-{}-{}.db",
        std::process::id(),
        Uuid::now_v7().simple()
    );
    let path = dir.join(name);
    if !dir.is_dir() {
        return Err(SnapshotError::Io {
            path: snapshot.to_owned(),
            cause: std::io::Error::new(std::io::ErrorKind::NotFound, "no temporary directory"),
        });
    }
    Ok(WorkFile(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_both_catalogs() {
        for (declared, kind) in [
            ("UUID", Kind::Uuid),
            ("uuid", Kind::Uuid),
            ("TIMESTAMPTZ", Kind::Time),
            ("timestamp with time zone", Kind::Time),
            ("DATE", Kind::Date),
            ("date", Kind::Date),
            ("BOOLEAN", Kind::Bool),
            ("boolean", Kind::Bool),
            ("BLOB", Kind::Bytes),
            ("bytea", Kind::Bytes),
            ("BIGINT", Kind::Int),
            ("integer", Kind::Int),
            ("double precision", Kind::Float),
            ("TEXT", Kind::Text),
            ("text", Kind::Text),
        ] {
            assert_eq!(Kind::of(declared), kind, "{declared}");
        }
    }
}
