//! `destructive` (DS101, DS102, DS103): changes that lose data. Errors, as
//! in Atlas. Dropping a virtual generated column loses nothing and is not
//! reported.

use super::{and_list, bare, dropped_columns, key, schema_of, Ctx, Diag};
use crate::text::go_quote;
use sqlparser::ast::{ObjectType, Statement};

const NAME: &str = "destructive";

/// Reports dropped schemas, tables and columns.
pub(super) fn check(cx: &Ctx, s: &Statement, out: &mut Vec<Diag>) {
    match s {
        Statement::Drop { object_type: ObjectType::Schema, names, .. } => {
            for n in names {
                let k = key(n);
                if cx.model.schema_created_here(&k) {
                    continue;
                }
                let message = match cx.model.tables_in_schema(&k) {
                    0 => format!("Dropping schema {}", go_quote(&bare(n))),
                    1 => format!("Dropping non-empty schema {} with 1 table", go_quote(&bare(n))),
                    t => format!("Dropping non-empty schema {} with {t} tables", go_quote(&bare(n))),
                };
                out.push(Diag::error(
                    "DS101",
                    NAME,
                    message,
                    "make sure nothing in the schema is still needed (back it up first), then add '-- atlas:nolint DS101' above the statement",
                ));
            }
        }
        Statement::Drop { object_type: ObjectType::Table, names, .. } => {
            for n in names {
                if cx.model.created_here(&key(n)) || schema_of(n).is_some_and(|sc| cx.dropped_schemas.contains(&sc)) {
                    continue;
                }
                out.push(Diag::error(
                    "DS102",
                    NAME,
                    format!("Dropping table {}", go_quote(&bare(n))),
                    "make sure no client reads the table and its data is backed up or no longer needed, then add '-- atlas:nolint DS102' above the statement",
                ));
            }
        }
        Statement::AlterTable(at) => {
            let t = key(&at.name);
            if cx.model.created_here(&t) {
                return;
            }
            // A column added by this file holds no data yet; a virtual
            // generated one holds none at all.
            let dropped: Vec<String> = dropped_columns(at)
                .filter(|c| {
                    let k = c.value.to_lowercase();
                    !cx.model.added_here(&t, &k) && !cx.model.column(&t, &k).is_some_and(|c| c.virtual_)
                })
                .map(|c| c.value.clone())
                .collect();
            let message = match dropped.len() {
                0 => return,
                1 => format!("Dropping non-virtual column {}", and_list(&dropped)),
                _ => format!("Dropping non-virtual columns {}", and_list(&dropped)),
            };
            out.push(Diag::error(
                "DS103",
                NAME,
                message,
                "stop reading and writing the column in an earlier release and back up its data, then add '-- atlas:nolint DS103' above the statement",
            ));
        }
        _ => {}
    }
}
