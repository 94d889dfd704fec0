//! The twin migrations build the same schema: `migrations/sqlite` and `migrations/postgres` hold
//! the same file names, and a fresh database of each backend, once migrated, has the same tables,
//! columns (in order, with a portable type class, nullability and primary-key position), unique
//! constraints and named indexes. Each backend's catalogue is read into one [`Schema`], flattened
//! into comparable facts, and compared fact by fact; the differences that exist in released
//! migrations (which are immutable) are listed in [`KNOWN_DIFFERENCES`] with their reason, so any
//! new difference fails and a fixed one must leave the list.
//!
//! Normalisation, and why:
//! - Types become a class (integer, text, blob, real) by SQLite's own affinity rules on one side
//!   and by PostgreSQL's type name on the other: the code reads values through sqlx's `Any`
//!   driver, which only knows these classes, so `SMALLINT` and `BIGINT` are the same thing to it.
//!   Anything else is kept by name, never equal to a portable class.
//! - sqlx's `_sqlx_migrations` table is skipped: each backend's migrator owns it, and it is not
//!   ours.
//! - Primary keys are recorded as each column's position in the key, not as an index: SQLite
//!   backs them with an internal `sqlite_autoindex_*` index (or none at all for an `INTEGER
//!   PRIMARY KEY` or a `WITHOUT ROWID` table), PostgreSQL with a `<table>_pkey` index.
//! - A primary-key column counts as NOT NULL on SQLite too. PostgreSQL makes every key column
//!   NOT NULL; SQLite, for backwards compatibility, lets a rowid table's non-integer key column
//!   hold NULL unless it is declared NOT NULL, and `pragma_table_info` then reports it nullable.
//!   The twin files declare the same column (`id TEXT PRIMARY KEY`); the gap is the engine's, not
//!   the migrations', and the code always writes an id.
//! - `UNIQUE` constraints are compared by their column lists: their index names are generated and
//!   differ (`sqlite_autoindex_users_1` against `users_email_key`).
//! - Named indexes (`CREATE INDEX`) are compared by name: key columns in order, included columns
//!   (PostgreSQL's `INCLUDE`; SQLite has none), uniqueness and whether they are partial. A partial
//!   index's predicate is compared by presence, not by text: PostgreSQL stores it rewritten
//!   (`state = ANY (ARRAY['pending'::text, …])`), and matching the two spellings would need a SQL
//!   parser. Sort direction is not compared (no index of ours uses `DESC`).
//! - Foreign keys, `CHECK` constraints and defaults are not compared.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use ichiba::config::database_config;
use ichiba::db::Db;
use sqlx::AnyPool;

use crate::helpers::TestApp;

/// A difference between the backends that released migrations already contain; the comment above
/// each entry says why it is harmless. Each entry must match a reported difference exactly, both
/// sides included.
struct Known {
    subject: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

/// The differences between today's twin migrations. Nothing may be added here to make a new
/// migration pass: a new migration must create the same schema on both backends.
const KNOWN_DIFFERENCES: &[Known] = &[
    // 0007_search_planning: the covering index for the search planner. PostgreSQL keys it on `id`
    // and carries the filter and sort columns as INCLUDE columns; SQLite has no INCLUDE, so the
    // same columns are key columns after `id`. `id` is the primary key, so both order entries
    // the same way and both answer a lookup by id from the index alone.
    Known {
        subject: "listings index listings_search_keys",
        sqlite: "(id, status, seller_id, category, price_yen, rating_avg_milli, seller_rank, \
                 score_micros, created_at_ms)",
        postgres: "(id) INCLUDE (status, seller_id, category, price_yen, rating_avg_milli, \
                   seller_rank, score_micros, created_at_ms)",
    },
];

// ---------------------------------------------------------------------------------------------
// The description both backends are read into.

/// The portable class of a column's type.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TypeClass {
    Integer,
    Text,
    Blob,
    Real,
    /// Not one of the portable classes; the backend's type name.
    Other(String),
}

impl TypeClass {
    /// SQLite's column affinity rules (section 3.1 of "Datatypes In SQLite"), in their order.
    fn of_sqlite(declared: &str) -> TypeClass {
        let t = declared.to_ascii_uppercase();
        if t.contains("INT") {
            TypeClass::Integer
        } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
            TypeClass::Text
        } else if t.contains("BLOB") || t.is_empty() {
            TypeClass::Blob
        } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
            TypeClass::Real
        } else {
            TypeClass::Other(format!("numeric affinity ({declared})"))
        }
    }

    /// PostgreSQL's `information_schema.columns.data_type`.
    fn of_postgres(data_type: &str) -> TypeClass {
        match data_type {
            "smallint" | "integer" | "bigint" => TypeClass::Integer,
            "text" | "character varying" | "character" => TypeClass::Text,
            "bytea" => TypeClass::Blob,
            "real" | "double precision" => TypeClass::Real,
            other => TypeClass::Other(other.to_string()),
        }
    }
}

impl fmt::Display for TypeClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeClass::Integer => f.write_str("integer"),
            TypeClass::Text => f.write_str("text"),
            TypeClass::Blob => f.write_str("blob"),
            TypeClass::Real => f.write_str("real"),
            TypeClass::Other(name) => write!(f, "non-portable {name}"),
        }
    }
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    class: TypeClass,
    not_null: bool,
    /// 1-based position in the table's primary key.
    primary_key: Option<i64>,
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.class)?;
        f.write_str(if self.not_null { " NOT NULL" } else { " NULL" })?;
        if let Some(p) = self.primary_key {
            write!(f, " PRIMARY KEY #{p}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default)]
struct Index {
    columns: Vec<String>,
    included: Vec<String>,
    unique: bool,
    partial: bool,
}

impl fmt::Display for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.unique {
            f.write_str("UNIQUE ")?;
        }
        write!(f, "({})", self.columns.join(", "))?;
        if !self.included.is_empty() {
            write!(f, " INCLUDE ({})", self.included.join(", "))?;
        }
        if self.partial {
            f.write_str(" PARTIAL")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default)]
struct Table {
    columns: Vec<Column>,
    unique_constraints: BTreeSet<Vec<String>>,
    indexes: BTreeMap<String, Index>,
}

impl Table {
    /// Records an index by its origin in the catalogue, spelled as SQLite spells it: `pk` the
    /// primary key (recorded on its columns instead), `u` a `UNIQUE` constraint (recorded by its
    /// columns), anything else a `CREATE INDEX` (recorded by name).
    fn add_index(&mut self, name: String, origin: &str, index: Index) {
        match origin {
            "pk" => {}
            "u" => {
                self.unique_constraints.insert(index.columns);
            }
            _ => {
                self.indexes.insert(name, index);
            }
        }
    }
}

/// An index's key columns as read from the catalogue (an expression has no column name).
fn key_columns(columns: Vec<(Option<String>,)>) -> Vec<String> {
    columns
        .into_iter()
        .map(|(c,)| c.unwrap_or_else(|| "<expression>".to_string()))
        .collect()
}

/// One backend's schema, normalised (see the module comment).
#[derive(Debug, Clone, Default)]
struct Schema {
    tables: BTreeMap<String, Table>,
}

impl Schema {
    /// The schema as facts: a subject (`users.email`, `users index users_by_x`, …) and how it
    /// reads. Two schemas are equal when their facts are.
    fn facts(&self) -> BTreeMap<String, String> {
        let mut facts = BTreeMap::new();
        for (name, table) in &self.tables {
            facts.insert(name.clone(), "table".to_string());
            let order: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
            facts.insert(format!("{name} column order"), order.join(", "));
            for column in &table.columns {
                facts.insert(format!("{name}.{}", column.name), column.to_string());
            }
            for columns in &table.unique_constraints {
                facts.insert(
                    format!("{name} unique ({})", columns.join(", ")),
                    "constraint".to_string(),
                );
            }
            for (index, def) in &table.indexes {
                facts.insert(format!("{name} index {index}"), def.to_string());
            }
        }
        facts
    }
}

/// One fact that reads differently on the two backends (`absent` where a backend lacks it).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Difference {
    subject: String,
    sqlite: String,
    postgres: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: sqlite={} postgres={}",
            self.subject, self.sqlite, self.postgres
        )
    }
}

const ABSENT: &str = "absent";

/// Every fact that differs, in subject order.
fn compare(sqlite: &Schema, postgres: &Schema) -> Vec<Difference> {
    let (s, p) = (sqlite.facts(), postgres.facts());
    let subjects: BTreeSet<&String> = s.keys().chain(p.keys()).collect();
    subjects
        .into_iter()
        .filter_map(|subject| {
            let a = s.get(subject).map_or(ABSENT, String::as_str);
            let b = p.get(subject).map_or(ABSENT, String::as_str);
            (a != b).then(|| Difference {
                subject: subject.clone(),
                sqlite: a.to_string(),
                postgres: b.to_string(),
            })
        })
        .collect()
}

/// What the allow-list does not explain: differences not on it, and entries on it that no longer
/// match a difference (fixed, or changed into another difference).
fn unexplained<'a>(
    differences: &'a [Difference],
    known: &'a [Known],
) -> (Vec<&'a Difference>, Vec<&'a Known>) {
    let matches = |d: &Difference, k: &Known| {
        d.subject == k.subject && d.sqlite == k.sqlite && d.postgres == k.postgres
    };
    let new = differences
        .iter()
        .filter(|d| !known.iter().any(|k| matches(d, k)))
        .collect();
    let stale = known
        .iter()
        .filter(|k| !differences.iter().any(|d| matches(d, k)))
        .collect();
    (new, stale)
}

/// The failure report: differences off the allow-list and stale entries on it; empty when the
/// schemas differ by the known differences exactly.
fn report(sqlite: &Schema, postgres: &Schema, known: &[Known]) -> String {
    let differences = compare(sqlite, postgres);
    let (new, stale) = unexplained(&differences, known);
    let mut report = String::new();
    if !new.is_empty() {
        report.push_str("the twin migrations build different schemas:\n");
        for d in &new {
            report.push_str(&format!("  {d}\n"));
        }
    }
    if !stale.is_empty() {
        report.push_str("known differences that no longer hold (remove them from the list):\n");
        for k in &stale {
            report.push_str(&format!(
                "  {}: sqlite={} postgres={}\n",
                k.subject, k.sqlite, k.postgres
            ));
        }
    }
    report
}

/// What can be checked on one backend alone: the schema exists, every column has a portable type
/// class, every table has a primary key, and every named index is on columns of its table.
fn assert_portable(backend: &str, schema: &Schema) {
    assert!(
        schema.tables.contains_key("users") && schema.tables.contains_key("orders"),
        "{backend}: the migrated schema lacks its core tables: {:?}",
        schema.tables.keys().collect::<Vec<_>>()
    );
    let mut problems = Vec::new();
    for (name, table) in &schema.tables {
        for column in &table.columns {
            if let TypeClass::Other(_) = column.class {
                problems.push(format!("{name}.{}: {}", column.name, column.class));
            }
        }
        if table.columns.iter().all(|c| c.primary_key.is_none()) {
            problems.push(format!("{name}: no primary key"));
        }
        let names: BTreeSet<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        for (index, def) in &table.indexes {
            for column in def.columns.iter().chain(&def.included) {
                if !names.contains(column.as_str()) {
                    problems.push(format!("{name} index {index}: not a column: {column}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{backend}: {}", problems.join("\n  "));
}

// ---------------------------------------------------------------------------------------------
// Reading the catalogues (through the app's own `Any` pool; PostgreSQL's catalogue types are cast
// to text and bigint, the only kinds the `Any` driver decodes).

async fn read_sqlite(pool: &AnyPool) -> Schema {
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND substr(name, 1, 7) <> 'sqlite_' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .expect("sqlite tables");
    let mut schema = Schema::default();
    for (name,) in tables {
        let mut table = Table::default();
        let columns: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid",
        )
        .bind(&name)
        .fetch_all(pool)
        .await
        .expect("sqlite columns");
        for (column, declared, not_null, pk) in columns {
            table.columns.push(Column {
                name: column,
                class: TypeClass::of_sqlite(&declared),
                // A key column is NOT NULL as on PostgreSQL (see the module comment).
                not_null: not_null != 0 || pk > 0,
                primary_key: (pk > 0).then_some(pk),
            });
        }
        // origin: `c` CREATE INDEX, `u` a UNIQUE constraint, `pk` the primary key.
        let indexes: Vec<(String, i64, String, i64)> =
            sqlx::query_as("SELECT name, \"unique\", origin, partial FROM pragma_index_list($1)")
                .bind(&name)
                .fetch_all(pool)
                .await
                .expect("sqlite indexes");
        for (index, unique, origin, partial) in indexes {
            let columns: Vec<(Option<String>,)> =
                sqlx::query_as("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(&index)
                    .fetch_all(pool)
                    .await
                    .expect("sqlite index columns");
            let def = Index {
                columns: key_columns(columns),
                included: Vec::new(),
                unique: unique != 0,
                partial: partial != 0,
            };
            table.add_index(index, &origin, def);
        }
        schema.tables.insert(name, table);
    }
    schema
}

async fn read_postgres(pool: &AnyPool) -> Schema {
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
         AND table_name <> '_sqlx_migrations' ORDER BY table_name",
    )
    .fetch_all(pool)
    .await
    .expect("postgres tables");
    let mut schema = Schema::default();
    for (name,) in tables {
        let mut table = Table::default();
        let key: Vec<(String, i64)> = sqlx::query_as(
            "SELECT a.attname::text, k.pos::int8 FROM pg_index i \
             JOIN pg_class t ON t.oid = i.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, pos) \
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
             WHERE n.nspname = current_schema() AND t.relname = $1 AND i.indisprimary",
        )
        .bind(&name)
        .fetch_all(pool)
        .await
        .expect("postgres primary key");
        let key: BTreeMap<String, i64> = key.into_iter().collect();
        let columns: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT column_name::text, data_type::text, is_nullable::text \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 \
             ORDER BY ordinal_position",
        )
        .bind(&name)
        .fetch_all(pool)
        .await
        .expect("postgres columns");
        for (column, data_type, nullable) in columns {
            table.columns.push(Column {
                primary_key: key.get(&column).copied(),
                name: column,
                class: TypeClass::of_postgres(&data_type),
                not_null: nullable == "NO",
            });
        }
        // origin as SQLite spells it: `pk` the primary key, `u` a UNIQUE constraint, `c` CREATE
        // INDEX.
        let indexes: Vec<(String, i64, i64, i64, String)> = sqlx::query_as(
            "SELECT ic.relname::text, \
                    (CASE WHEN i.indisunique THEN 1 ELSE 0 END)::int8, \
                    (CASE WHEN i.indpred IS NOT NULL THEN 1 ELSE 0 END)::int8, \
                    i.indnkeyatts::int8, \
                    COALESCE((SELECT CASE c.contype WHEN 'p' THEN 'pk' ELSE 'u' END \
                              FROM pg_constraint c \
                              WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid \
                              AND c.contype IN ('p', 'u')), 'c') \
             FROM pg_index i \
             JOIN pg_class ic ON ic.oid = i.indexrelid \
             JOIN pg_class t ON t.oid = i.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE n.nspname = current_schema() AND t.relname = $1",
        )
        .bind(&name)
        .fetch_all(pool)
        .await
        .expect("postgres indexes");
        for (index, unique, partial, key_count, origin) in indexes {
            let columns: Vec<(Option<String>,)> = sqlx::query_as(
                "SELECT a.attname::text FROM pg_index i \
                 JOIN pg_class ic ON ic.oid = i.indexrelid \
                 JOIN pg_namespace n ON n.oid = ic.relnamespace \
                 CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, pos) \
                 LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
                 WHERE n.nspname = current_schema() AND ic.relname = $1 ORDER BY k.pos",
            )
            .bind(&index)
            .fetch_all(pool)
            .await
            .expect("postgres index columns");
            let mut columns = key_columns(columns);
            let split = usize::try_from(key_count)
                .expect("key column count")
                .min(columns.len());
            let included = columns.split_off(split);
            let def = Index {
                columns,
                included,
                unique: unique != 0,
                partial: partial != 0,
            };
            table.add_index(index, &origin, def);
        }
        schema.tables.insert(name, table);
    }
    schema
}

/// A freshly migrated SQLite database's schema, by the app's own connect and migrate.
async fn sqlite_schema() -> Schema {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = database_config(None, dir.path()).expect("sqlite config");
    let db = Db::connect(&config, 1).await.expect("sqlite opens");
    db.migrate().await.expect("sqlite migrates");
    let schema = read_sqlite(db.pool()).await;
    db.close().await;
    schema
}

fn migration_names(backend: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    std::fs::read_dir(&dir)
        .expect("migrations directory")
        .map(|e| {
            e.expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The tests.

#[test]
fn every_migration_has_a_twin_of_the_same_name() {
    let sqlite = migration_names("sqlite");
    let postgres = migration_names("postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(
        sqlite, postgres,
        "migrations/sqlite and migrations/postgres must match"
    );
}

#[tokio::test]
async fn the_sqlite_and_postgres_migrations_build_the_same_schema() {
    let sqlite = sqlite_schema().await;
    assert_portable("sqlite", &sqlite);
    // On SQLite alone: the SQLite side of every known difference still reads as listed.
    let facts = sqlite.facts();
    for known in KNOWN_DIFFERENCES {
        assert_eq!(
            facts.get(known.subject).map_or(ABSENT, String::as_str),
            known.sqlite,
            "the SQLite side of the known difference {}",
            known.subject
        );
    }

    let app = TestApp::spawn().await;
    if !app.on_postgres() {
        println!(
            "schema: comparing SQLite with PostgreSQL needs ICHIBA_TEST_POSTGRES_URL; \
             checked the SQLite schema alone"
        );
        return;
    }
    let postgres = read_postgres(app.state.db.pool()).await;
    assert_portable("postgres", &postgres);
    let report = report(&sqlite, &postgres, KNOWN_DIFFERENCES);
    assert!(report.is_empty(), "{report}");
}

/// A small schema for the comparator's own tests.
fn orders_schema() -> Schema {
    let column = |name: &str, class: TypeClass, not_null: bool, primary_key: Option<i64>| Column {
        name: name.to_string(),
        class,
        not_null,
        primary_key,
    };
    let mut table = Table {
        columns: vec![
            column("id", TypeClass::Text, true, Some(1)),
            column("state", TypeClass::Text, true, None),
            column("due_at_ms", TypeClass::Integer, false, None),
        ],
        ..Table::default()
    };
    table.indexes.insert(
        "orders_by_state".to_string(),
        Index {
            columns: vec!["state".to_string(), "due_at_ms".to_string()],
            ..Index::default()
        },
    );
    let mut schema = Schema::default();
    schema.tables.insert("orders".to_string(), table);
    schema
}

#[test]
fn the_comparison_reports_a_changed_type_a_changed_nullability_and_a_missing_index() {
    let sqlite = orders_schema();
    assert_eq!(compare(&sqlite, &orders_schema()), Vec::<Difference>::new());

    let mut postgres = orders_schema();
    let table = postgres.tables.get_mut("orders").expect("orders");
    table.columns[1].class = TypeClass::Integer;
    table.columns[2].not_null = true;
    table.indexes.clear();

    let lines: Vec<String> = compare(&sqlite, &postgres)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        lines,
        [
            "orders index orders_by_state: sqlite=(state, due_at_ms) postgres=absent",
            "orders.due_at_ms: sqlite=integer NULL postgres=integer NOT NULL",
            "orders.state: sqlite=text NOT NULL postgres=integer NOT NULL",
        ]
    );
}

#[test]
fn a_difference_off_the_allow_list_is_new_and_an_entry_without_its_difference_is_stale() {
    let sqlite = orders_schema();
    let mut postgres = orders_schema();
    let table = postgres.tables.get_mut("orders").expect("orders");
    table.columns[1].class = TypeClass::Integer;
    table.indexes.clear();
    let differences = compare(&sqlite, &postgres);
    let known = [
        Known {
            subject: "orders index orders_by_state",
            sqlite: "(state, due_at_ms)",
            postgres: ABSENT,
        },
        Known {
            subject: "orders.due_at_ms",
            sqlite: "integer NULL",
            postgres: "integer NOT NULL",
        },
    ];

    let (new, stale) = unexplained(&differences, &known);
    let new: Vec<String> = new.iter().map(ToString::to_string).collect();
    assert_eq!(
        new,
        ["orders.state: sqlite=text NOT NULL postgres=integer NOT NULL"]
    );
    let stale: Vec<&str> = stale.iter().map(|k| k.subject).collect();
    assert_eq!(stale, ["orders.due_at_ms"]);

    assert_eq!(
        report(&sqlite, &postgres, &known),
        "the twin migrations build different schemas:\n\
         \x20 orders.state: sqlite=text NOT NULL postgres=integer NOT NULL\n\
         known differences that no longer hold (remove them from the list):\n\
         \x20 orders.due_at_ms: sqlite=integer NULL postgres=integer NOT NULL\n"
    );
}

#[test]
fn both_backends_type_names_fall_into_the_portable_classes() {
    let sqlite = [
        ("BIGINT", TypeClass::Integer),
        ("SMALLINT", TypeClass::Integer),
        ("TEXT", TypeClass::Text),
        ("VARCHAR(20)", TypeClass::Text),
        ("BLOB", TypeClass::Blob),
        ("", TypeClass::Blob),
        ("DOUBLE PRECISION", TypeClass::Real),
        (
            "BOOLEAN",
            TypeClass::Other("numeric affinity (BOOLEAN)".to_string()),
        ),
    ];
    let postgres = [
        ("bigint", TypeClass::Integer),
        ("smallint", TypeClass::Integer),
        ("text", TypeClass::Text),
        ("bytea", TypeClass::Blob),
        ("double precision", TypeClass::Real),
        ("boolean", TypeClass::Other("boolean".to_string())),
    ];
    let check = |class_of: fn(&str) -> TypeClass, cases: &[(&str, TypeClass)]| {
        for (name, class) in cases {
            assert_eq!(class_of(name), *class, "{name}");
        }
    };
    check(TypeClass::of_sqlite, &sqlite);
    check(TypeClass::of_postgres, &postgres);
}
