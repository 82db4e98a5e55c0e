//! Unit tests for `diff`.

use super::*;
use crate::schema::{ColumnDefault, FkAction};

fn col(name: &str, sql_type: &str, nullable: bool) -> Column {
    Column {
        name: name.into(),
        sql_type: sql_type.into(),
        nullable,
        default: None,
        identity: false,
        renamed_from: None,
    }
}

fn id() -> Column {
    Column {
        identity: true,
        ..col("id", "BIGINT", false)
    }
}

fn hinted(mut c: Column, from: &str) -> Column {
    c.renamed_from = Some(from.into());
    c
}

fn table(name: &str, columns: Vec<Column>) -> Table {
    let has_id = columns.iter().any(|c| c.name == "id");
    Table {
        name: name.into(),
        columns,
        primary_key: if has_id { vec!["id".into()] } else { vec![] },
        ..Table::default()
    }
}

fn schema(tables: Vec<Table>) -> Schema {
    Schema {
        tables: tables.into_iter().map(|t| (t.name.clone(), t)).collect(),
    }
}

fn texts(changes: &[Change]) -> Vec<String> {
    changes.iter().map(|c| c.to_string()).collect()
}

fn users() -> Table {
    table(
        "users",
        vec![id(), col("email", "TEXT", false), col("bio", "TEXT", true)],
    )
}

fn fk(name: &str, column: &str, ref_table: &str) -> ForeignKey {
    ForeignKey {
        name: name.into(),
        columns: vec![column.into()],
        ref_table: ref_table.into(),
        ref_columns: vec!["id".into()],
        on_delete: FkAction::NoAction,
    }
}

fn posts(ref_table: &str) -> Table {
    let mut t = table("posts", vec![id(), col("user_id", "BIGINT", false)]);
    t.foreign_keys = vec![fk("fk_posts_user_id", "user_id", ref_table)];
    t
}

fn one_column(c: Column) -> Schema {
    schema(vec![table("users", vec![c])])
}

#[test]
fn table_added_and_dropped() {
    let (empty, full) = (schema(vec![]), schema(vec![users()]));
    let up = diff(&empty, &full);
    assert_eq!(up, vec![Change::TableAdded(users())]);
    assert_eq!(texts(&up), ["table users added"]);
    assert_eq!(up[0].is_destructive(), None);
    let down = diff(&full, &empty);
    assert_eq!(texts(&down), ["table users dropped"]);
    assert_eq!(
        down[0].is_destructive(),
        Some("drops the table and every row in it")
    );
    assert_eq!(diff(&full, &full), vec![]);
}

#[test]
fn table_rename_needs_a_hint() {
    let old = schema(vec![Table {
        name: "people".into(),
        ..users()
    }]);
    let renamed = Table {
        renamed_from: Some("people".into()),
        ..users()
    };
    let with_hint = diff(&old, &schema(vec![renamed]));
    assert_eq!(
        with_hint,
        vec![Change::TableRenamed {
            from: "people".into(),
            to: "users".into(),
            keeps_primary_key: true
        }]
    );
    assert_eq!(texts(&with_hint), ["table users renamed from people"]);
    let without = diff(&old, &schema(vec![users()]));
    assert_eq!(
        texts(&without),
        ["table people dropped", "table users added"]
    );
}

#[test]
fn stale_or_conflicting_table_hints_are_ignored() {
    let hinted_users = Table {
        renamed_from: Some("people".into()),
        ..users()
    };
    // Already renamed in the snapshot: nothing to do.
    assert_eq!(
        diff(&schema(vec![users()]), &schema(vec![hinted_users.clone()])),
        vec![]
    );
    // The hinted source still exists in the models: a new table, not a rename.
    let people = Table {
        name: "people".into(),
        ..users()
    };
    let changes = diff(
        &schema(vec![people.clone()]),
        &schema(vec![people, hinted_users]),
    );
    assert_eq!(texts(&changes), ["table users added"]);
}

#[test]
fn column_rename_needs_a_hint() {
    let old = schema(vec![table(
        "users",
        vec![id(), col("biography", "TEXT", true)],
    )]);
    let new = |bio: Column| {
        schema(vec![table(
            "users",
            vec![id(), bio, col("nickname", "TEXT", true)],
        )])
    };
    let with_hint = diff(&old, &new(hinted(col("bio", "TEXT", true), "biography")));
    assert_eq!(
        texts(&with_hint),
        [
            "column users.bio renamed from biography",
            "column users.nickname added"
        ]
    );
    assert_eq!(
        with_hint[0],
        Change::ColumnRenamed {
            table: "users".into(),
            from: "biography".into(),
            to: "bio".into()
        }
    );
    assert_eq!(
        with_hint[1],
        Change::ColumnAdded {
            table: "users".into(),
            column: col("nickname", "TEXT", true)
        }
    );
    let without = diff(&old, &new(col("bio", "TEXT", true)));
    assert_eq!(
        texts(&without),
        [
            "column users.bio added",
            "column users.nickname added",
            "column users.biography dropped"
        ]
    );
    assert_eq!(
        without[2].is_destructive(),
        Some("drops the column and the data it holds")
    );
}

#[test]
fn renames_carry_keys_indexes_and_references_along() {
    let mut people = table("people", vec![id(), col("biography", "TEXT", true)]);
    people.indexes = vec![Index {
        name: "ix_bio".into(),
        columns: vec!["biography".into()],
    }];
    people.uniques = vec![UniqueConstraint {
        name: "uq_bio".into(),
        columns: vec!["biography".into()],
    }];
    let mut users = table(
        "users",
        vec![
            hinted(id(), "id"),
            hinted(col("bio", "TEXT", true), "biography"),
        ],
    );
    users.renamed_from = Some("people".into());
    users.indexes = vec![Index {
        name: "ix_bio".into(),
        columns: vec!["bio".into()],
    }];
    users.uniques = vec![UniqueConstraint {
        name: "uq_bio".into(),
        columns: vec!["bio".into()],
    }];
    let changes = diff(
        &schema(vec![people, posts("people")]),
        &schema(vec![users, posts("users")]),
    );
    assert_eq!(
        texts(&changes),
        [
            "table users renamed from people",
            "column users.bio renamed from biography"
        ]
    );
}

#[test]
fn renamed_primary_key_column_is_not_a_key_change() {
    let old = schema(vec![table("users", vec![id()])]);
    let mut t = table(
        "users",
        vec![hinted(
            Column {
                name: "user_id".into(),
                ..id()
            },
            "id",
        )],
    );
    t.primary_key = vec!["user_id".into()];
    assert_eq!(
        texts(&diff(&old, &schema(vec![t]))),
        ["column users.user_id renamed from id"]
    );
}

#[test]
fn type_changes_and_what_narrows() {
    let retype = |from: &str, to: &str| {
        diff(
            &one_column(col("bio", from, true)),
            &one_column(col("bio", to, true)),
        )
    };
    let changes = retype("TEXT", "VARCHAR(80)");
    assert_eq!(
        texts(&changes),
        ["column users.bio type TEXT -> VARCHAR(80)"]
    );
    assert_eq!(
        changes[0],
        Change::ColumnTypeChanged {
            table: "users".into(),
            old: col("bio", "TEXT", true),
            new: col("bio", "VARCHAR(80)", true)
        }
    );
    assert_eq!(retype("varchar(80)", "VARCHAR (80)"), vec![]);
    let narrowing = "narrows the type: values that do not fit make it fail or lose data";
    for (from, to) in [
        ("TEXT", "VARCHAR(80)"),
        ("BIGINT", "INTEGER"),
        ("INTEGER", "SMALLINT"),
        ("VARCHAR(80)", "VARCHAR(40)"),
        ("DOUBLE PRECISION", "REAL"),
        ("TEXT", "INTEGER"),
        ("INTEGER", "TEXT"),
        ("TEXT", "VARCHAR"),
    ] {
        assert_eq!(
            retype(from, to)[0].is_destructive(),
            Some(narrowing),
            "{from} -> {to}"
        );
    }
    for (from, to) in [
        ("SMALLINT", "INTEGER"),
        ("SMALLINT", "BIGINT"),
        ("INTEGER", "BIGINT"),
        ("REAL", "DOUBLE PRECISION"),
        ("VARCHAR(40)", "VARCHAR(80)"),
        ("VARCHAR(80)", "TEXT"),
        ("VARCHAR(80)", "VARCHAR"),
        ("VARCHAR", "TEXT"),
    ] {
        assert_eq!(retype(from, to)[0].is_destructive(), None, "{from} -> {to}");
    }
}

#[test]
fn nullability_changes() {
    let (nullable, required) = (
        one_column(col("bio", "TEXT", true)),
        one_column(col("bio", "TEXT", false)),
    );
    let tighten = diff(&nullable, &required);
    assert_eq!(texts(&tighten), ["column users.bio now NOT NULL"]);
    assert_eq!(
        tighten[0].is_destructive(),
        Some("makes the column NOT NULL: it fails if any row holds NULL")
    );
    let loosen = diff(&required, &nullable);
    assert_eq!(texts(&loosen), ["column users.bio now nullable"]);
    assert_eq!(loosen[0].is_destructive(), None);
}

#[test]
fn default_changes() {
    let with = |d: Option<ColumnDefault>| {
        one_column(Column {
            default: d,
            ..col("bio", "TEXT", true)
        })
    };
    let a = with(Some(ColumnDefault::String("a".into())));
    let b = with(Some(ColumnDefault::Expression("now()".into())));
    assert_eq!(
        texts(&diff(&with(None), &a)),
        ["column users.bio default added"]
    );
    assert_eq!(texts(&diff(&a, &b)), ["column users.bio default changed"]);
    assert_eq!(
        texts(&diff(&a, &with(None))),
        ["column users.bio default removed"]
    );
    assert_eq!(diff(&a, &b)[0].is_destructive(), None);
}

#[test]
fn identity_and_primary_key_changes() {
    let plain = schema(vec![table("users", vec![col("id", "BIGINT", false)])]);
    let identity = schema(vec![table("users", vec![id()])]);
    assert_eq!(
        texts(&diff(&plain, &identity)),
        ["column users.id identity added"]
    );
    assert_eq!(
        texts(&diff(&identity, &plain)),
        ["column users.id identity removed"]
    );

    let mut keyless = table("users", vec![id()]);
    keyless.primary_key.clear();
    let changes = diff(&schema(vec![keyless]), &identity);
    assert_eq!(texts(&changes), ["primary key of users changed"]);
    assert_eq!(
        changes[0],
        Change::PrimaryKeyChanged {
            table: "users".into(),
            old: vec![],
            new: vec!["id".into()]
        }
    );
}

#[test]
fn index_unique_and_foreign_key_changes() {
    let mut indexed = users();
    indexed.indexes = vec![Index {
        name: "ix_users_email".into(),
        columns: vec!["email".into()],
    }];
    indexed.uniques = vec![UniqueConstraint {
        name: "uq_users_email".into(),
        columns: vec!["email".into()],
    }];
    let plain = schema(vec![
        users(),
        table("posts", vec![id(), col("user_id", "BIGINT", false)]),
    ]);
    let keyed = schema(vec![indexed, posts("users")]);
    assert_eq!(
        texts(&diff(&plain, &keyed)),
        [
            "foreign key fk_posts_user_id on posts added",
            "unique uq_users_email on users added",
            "index ix_users_email on users added",
        ]
    );
    assert_eq!(
        texts(&diff(&keyed, &plain)),
        [
            "foreign key fk_posts_user_id on posts dropped",
            "index ix_users_email on users dropped",
            "unique uq_users_email on users dropped",
        ]
    );
    // A changed foreign key is a drop and an add.
    let mut cascading = posts("users");
    cascading.foreign_keys[0].on_delete = FkAction::Cascade;
    let changes = diff(
        &schema(vec![users(), posts("users")]),
        &schema(vec![users(), cascading.clone()]),
    );
    assert_eq!(
        changes,
        vec![
            Change::ForeignKeyAdded {
                table: "posts".into(),
                foreign_key: cascading.foreign_keys[0].clone()
            },
            Change::ForeignKeyDropped {
                table: "posts".into(),
                foreign_key: posts("users").foreign_keys[0].clone()
            },
        ]
    );
}

#[test]
fn foreign_keys_into_a_changing_primary_key_are_rebuilt() {
    let mut unique_id = users();
    unique_id.primary_key.clear();
    unique_id.uniques = vec![UniqueConstraint {
        name: "uq_users_id".into(),
        columns: vec!["id".into()],
    }];
    let keyed = schema(vec![users(), posts("users")]);
    let unkeyed = schema(vec![unique_id, posts("users")]);
    let fk_moves = [
        "foreign key fk_posts_user_id on posts added",
        "foreign key fk_posts_user_id on posts dropped",
    ];
    let up = texts(&diff(&keyed, &unkeyed));
    assert_eq!(up[..2], fk_moves);
    assert_eq!(
        up[2..],
        [
            "unique uq_users_id on users added",
            "primary key of users changed"
        ]
    );
    assert_eq!(texts(&diff(&unkeyed, &keyed))[..2], fk_moves);
    // A key change elsewhere leaves the foreign key alone.
    let mut other = posts("users");
    other.primary_key.clear();
    let changes = diff(&keyed, &schema(vec![users(), other]));
    assert_eq!(texts(&changes), ["primary key of posts changed"]);
}

#[test]
fn added_not_null_column_without_default_is_flagged() {
    let base = schema(vec![table("users", vec![id()])]);
    let add = |c: Column| diff(&base, &schema(vec![table("users", vec![id(), c])]));
    let required = add(col("name", "TEXT", false));
    assert_eq!(texts(&required), ["column users.name added"]);
    assert_eq!(
        required[0].is_destructive(),
        Some(
            "adds a NOT NULL column without a default: it fails on a table that has rows \
                 (give it a default or make it nullable)"
        )
    );
    let defaulted = Column {
        default: Some(ColumnDefault::Number("0".into())),
        ..col("n", "INTEGER", false)
    };
    assert_eq!(add(defaulted)[0].is_destructive(), None);
    assert_eq!(add(col("nickname", "TEXT", true))[0].is_destructive(), None);
    assert_eq!(
        add(Column {
            name: "seq".into(),
            ..id()
        })[0]
            .is_destructive(),
        None
    );
}

// ---- consistency of diff, invert and the data they carry ----

/// Applies changes to a schema the way PostgreSQL would (renames carry keys, indexes and
/// references along), in the phase order the renderer uses: removals before renames.
fn apply(mut s: Schema, changes: &[Change]) -> Schema {
    let before: BTreeMap<String, String> = changes
        .iter()
        .filter_map(|c| match c {
            Change::TableRenamed { from, to, .. } => Some((to.clone(), from.clone())),
            _ => None,
        })
        .collect();
    let pre = |t: &str| before.get(t).cloned().unwrap_or_else(|| t.to_string());
    for c in changes {
        if let Change::TableDropped(t) = c {
            s.tables.remove(&t.name);
            continue;
        }
        let Some(t) = s.tables.get_mut(&pre(c.table())) else {
            continue;
        };
        match c {
            Change::ColumnDropped { column, .. } => t.columns.retain(|x| x.name != column.name),
            Change::IndexDropped { index, .. } => t.indexes.retain(|x| x.name != index.name),
            Change::UniqueDropped { unique, .. } => t.uniques.retain(|x| x.name != unique.name),
            Change::ForeignKeyDropped { foreign_key, .. } => {
                t.foreign_keys.retain(|x| x.name != foreign_key.name)
            }
            _ => {}
        }
    }
    for c in changes {
        if let Change::TableRenamed { from, to, .. } = c {
            let mut t = s.tables.remove(from).expect("renamed table exists");
            t.name = to.clone();
            s.tables.insert(to.clone(), t);
            for other in s.tables.values_mut() {
                for k in other
                    .foreign_keys
                    .iter_mut()
                    .filter(|k| &k.ref_table == from)
                {
                    k.ref_table = to.clone();
                }
            }
        }
    }
    for c in changes {
        if let Change::ColumnRenamed { table, from, to } = c {
            let swap = |cols: &mut Vec<String>| {
                cols.iter_mut()
                    .filter(|c| *c == from)
                    .for_each(|c| *c = to.clone())
            };
            for other in s.tables.values_mut() {
                for k in other
                    .foreign_keys
                    .iter_mut()
                    .filter(|k| &k.ref_table == table)
                {
                    swap(&mut k.ref_columns);
                }
            }
            let t = s.tables.get_mut(table).expect("table exists");
            t.columns
                .iter_mut()
                .filter(|c| &c.name == from)
                .for_each(|c| c.name = to.clone());
            swap(&mut t.primary_key);
            t.indexes.iter_mut().for_each(|i| swap(&mut i.columns));
            t.uniques.iter_mut().for_each(|u| swap(&mut u.columns));
            t.foreign_keys.iter_mut().for_each(|k| swap(&mut k.columns));
        }
    }
    for c in changes {
        if let Change::TableAdded(t) = c {
            s.tables.insert(t.name.clone(), t.clone());
            continue;
        }
        let Some(t) = s.tables.get_mut(c.table()) else {
            continue;
        };
        let find = |t: &mut Table, name: &str| -> usize {
            t.columns
                .iter()
                .position(|c| c.name == name)
                .expect("column exists")
        };
        match c {
            Change::ColumnAdded { column, .. } => t.columns.push(column.clone()),
            Change::ColumnTypeChanged { new, .. } => {
                let i = find(t, &new.name);
                t.columns[i].sql_type = new.sql_type.clone();
            }
            Change::NullabilityChanged { new, .. } => {
                let i = find(t, &new.name);
                t.columns[i].nullable = new.nullable;
            }
            Change::DefaultChanged { new, .. } => {
                let i = find(t, &new.name);
                t.columns[i].default = new.default.clone();
            }
            Change::IdentityChanged { new, .. } => {
                let i = find(t, &new.name);
                t.columns[i].identity = new.identity;
            }
            Change::PrimaryKeyChanged { new, .. } => t.primary_key = new.clone(),
            Change::IndexAdded { index, .. } => t.indexes.push(index.clone()),
            Change::UniqueAdded { unique, .. } => t.uniques.push(unique.clone()),
            Change::ForeignKeyAdded { foreign_key, .. } => t.foreign_keys.push(foreign_key.clone()),
            _ => {}
        }
    }
    s
}

/// Hints stripped and every list sorted, so schemas compare by content.
fn normal(s: &Schema) -> Schema {
    let tables = s
        .tables
        .values()
        .map(|t| {
            let mut t = without_hints(t);
            t.columns.sort_by(|a, b| a.name.cmp(&b.name));
            t.indexes.sort_by(|a, b| a.name.cmp(&b.name));
            t.uniques.sort_by(|a, b| a.name.cmp(&b.name));
            t.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
            (t.name.clone(), t)
        })
        .collect();
    Schema { tables }
}

/// Schema pairs (old, new) covering every kind of change, renames included.
fn pairs() -> Vec<(Schema, Schema)> {
    let mut full_users = users();
    full_users.indexes = vec![Index {
        name: "ix_users_email".into(),
        columns: vec!["email".into()],
    }];
    full_users.uniques = vec![UniqueConstraint {
        name: "uq_users_email".into(),
        columns: vec!["email".into()],
    }];
    let full = schema(vec![full_users.clone(), posts("users")]);

    let mut v2 = table(
        "users",
        vec![
            id(),
            col("email", "VARCHAR(200)", true),
            Column {
                default: Some(ColumnDefault::String("it's".into())),
                ..col("bio", "TEXT", false)
            },
            col("nickname", "TEXT", true),
        ],
    );
    v2.primary_key = vec!["id".into(), "bio".into()];
    v2.indexes = vec![Index {
        name: "ix_users_email".into(),
        columns: vec!["email".into(), "bio".into()],
    }];
    v2.uniques = vec![UniqueConstraint {
        name: "uq_users_nickname".into(),
        columns: vec!["nickname".into()],
    }];
    let mut posts_v2 = posts("users");
    posts_v2.columns[0].identity = false;
    posts_v2.foreign_keys[0].on_delete = FkAction::SetNull;

    let mut people = full_users.clone();
    people.name = "people".into();
    people.columns[2].name = "biography".into();
    let mut renamed = full_users.clone();
    renamed.renamed_from = Some("people".into());
    renamed.columns[2] = hinted(col("bio", "TEXT", true), "biography");
    let old_users = table("users", vec![id(), col("legacy", "TEXT", true)]);

    let mut unique_id = users();
    unique_id.primary_key.clear();
    unique_id.uniques = vec![UniqueConstraint {
        name: "uq_users_id".into(),
        columns: vec!["id".into()],
    }];

    let xy = schema(vec![table(
        "t",
        vec![col("x", "TEXT", true), col("y", "INTEGER", true)],
    )]);
    let y_to_x = schema(vec![table(
        "t",
        vec![hinted(col("x", "INTEGER", true), "y")],
    )]);

    vec![
        (schema(vec![]), full.clone()),
        (full.clone(), schema(vec![v2.clone(), posts_v2.clone()])),
        (
            schema(vec![people, old_users, posts("people")]),
            schema(vec![renamed, posts("users")]),
        ),
        (xy, y_to_x),
        (
            schema(vec![users(), posts("users")]),
            schema(vec![unique_id, posts("users")]),
        ),
    ]
}

#[test]
fn changes_lead_from_old_to_new_and_invert_leads_back() {
    for (i, (a, b)) in pairs().into_iter().enumerate() {
        let changes = diff(&a, &b);
        assert!(!changes.is_empty(), "pair {i}");
        assert_eq!(
            normal(&apply(a.clone(), &changes)),
            normal(&b),
            "pair {i}: up"
        );
        assert_eq!(
            normal(&apply(b.clone(), &invert(&changes))),
            normal(&a),
            "pair {i}: down"
        );
        assert_eq!(
            invert(&invert(&changes)),
            changes,
            "pair {i}: double inversion"
        );
        assert_eq!(diff(&a, &a), vec![], "pair {i}");
    }
}

#[test]
fn without_hints_the_reverse_diff_is_the_inverse() {
    for (i, (a, b)) in pairs().into_iter().enumerate() {
        let (a, b) = (normal(&a), normal(&b));
        let sorted = |changes: Vec<Change>| {
            let mut v: Vec<String> = changes.iter().map(|c| format!("{c:?}")).collect();
            v.sort();
            v
        };
        assert_eq!(
            sorted(invert(&diff(&a, &b))),
            sorted(diff(&b, &a)),
            "pair {i}"
        );
    }
}

#[test]
fn diff_is_deterministic() {
    for (a, b) in pairs() {
        let first = diff(&a, &b);
        for _ in 0..10 {
            assert_eq!(diff(&a, &b), first);
        }
    }
    let (a, b) = pairs().swap_remove(1);
    assert_eq!(
        texts(&diff(&a, &b)),
        [
            "foreign key fk_posts_user_id on posts added",
            "column posts.id identity removed",
            "foreign key fk_posts_user_id on posts dropped",
            "column users.nickname added",
            "unique uq_users_nickname on users added",
            "index ix_users_email on users added",
            "column users.email type TEXT -> VARCHAR(200)",
            "column users.email now nullable",
            "column users.bio now NOT NULL",
            "column users.bio default added",
            "primary key of users changed",
            "index ix_users_email on users dropped",
            "unique uq_users_email on users dropped",
        ]
    );
}

#[test]
fn canonical_type_borrows_exactly_what_is_canonical_already() {
    let inputs = [
        "BIGINT",
        "TEXT",
        "TEXT[]",
        "VARCHAR(80)",
        "NUMERIC(10,2)",
        "DOUBLE PRECISION",
        "TIMESTAMP WITH TIME ZONE",
        "bigint",
        "Text",
        "numeric(10, 2)",
        "NUMERIC (10,2)",
        "NUMERIC( 10,2)",
        "NUMERIC(10 ,2)",
        "NUMERIC(10,2 )",
        " BIGINT",
        "BIGINT ",
        "DOUBLE  PRECISION",
        "DOUBLE\tPRECISION",
        "A\u{b}B",
        "A\u{c}B",
        "A\rB",
        "A\nB",
        "DOUBLE\u{a0}PRECISION",
        "É",
        "TEXT\u{1f}",
        "",
        " ",
        "(",
        "( )",
        "A) B",
        "A (",
        ", A",
        "A ,",
        "X ) Y",
        "CHAR(1) []",
        "INT, X",
        "INT ,X",
    ];
    for input in inputs {
        let canonical = canonical_type(input);
        assert_eq!(canonical, spell_type(input), "{input:?}");
        assert_eq!(
            matches!(canonical, Cow::Borrowed(_)),
            spell_type(input) == input && input.is_ascii(),
            "{input:?}"
        );
    }
}

#[test]
fn unchanged_columns_compare_their_types_canonically() {
    let old = schema(vec![table(
        "items",
        vec![id(), col("price", "numeric(10, 2)", false)],
    )]);
    let new = schema(vec![table(
        "items",
        vec![id(), col("price", "NUMERIC(10,2)", false)],
    )]);
    assert_eq!(diff(&old, &new), vec![]);
    let wider = schema(vec![table(
        "items",
        vec![id(), col("price", "NUMERIC(12,2)", false)],
    )]);
    assert_eq!(
        texts(&diff(&new, &wider)),
        ["column items.price type NUMERIC(10,2) -> NUMERIC(12,2)"]
    );
}
