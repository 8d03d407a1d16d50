//! Atlas's text output, byte for byte (colours off).

use super::{go_duration, ApplyReport, SetReport};
use crate::plan::{Plan, Status};
use std::fmt::Write;

/// Atlas's `indent_ln`: every line after the first is indented by `n`
/// spaces.
fn indent_ln(s: &str, n: usize) -> String {
    s.replace('\n', &format!("\n{}", " ".repeat(n)))
}

fn plural(n: usize) -> &'static str {
    if n > 1 {
        "s"
    } else {
        ""
    }
}

/// Go's `End.Sub(Start)` where an unset end is Go's zero time: the minimum
/// duration, as Atlas prints it.
fn elapsed(start: i64, end: Option<i64>) -> String {
    match end {
        Some(e) => go_duration(e.saturating_sub(start)),
        None => go_duration(i64::MIN),
    }
}

/// The header line of an apply (`MigrateApply.Header`).
fn header(pending: usize, target: &str, current: Option<&str>) -> String {
    let mut s = format!("Migrating to version {target}");
    if let Some(c) = current.filter(|c| !c.is_empty()) {
        s.push_str(" from ");
        s.push_str(c);
    }
    let _ = write!(s, " ({pending} migrations in total):");
    s
}

/// Atlas's `migrate apply` text log (spec §6.11).
///
/// ```
/// use strata::report::{apply_text, ApplyReport};
/// assert_eq!(apply_text(&ApplyReport::default()), "No migration files to execute\n");
/// ```
pub fn apply_text(r: &ApplyReport) -> String {
    if r.pending.is_empty() {
        return "No migration files to execute\n".into();
    }
    let mut out = header(r.pending.len(), r.target.as_deref().unwrap_or(""), r.current.as_deref());
    out.push('\n');
    for f in &r.applied {
        out.push('\n');
        let _ = writeln!(out, "  -- migrating version {}", f.version);
        for s in &f.statements {
            let _ = writeln!(out, "    -> {}", indent_ln(&s.text, 7));
        }
        match &f.error {
            Some(e) => {
                let _ = writeln!(out, "    {}", e.text);
            }
            None => {
                let _ = writeln!(out, "  -- ok ({})", elapsed(f.start, f.end));
            }
        }
    }
    if r.applied.is_empty() {
        out.push('\n');
        if let Some(e) = &r.error {
            let _ = writeln!(out, "    {e}");
        }
    }
    out.push('\n');
    out.push_str("  -------------------------\n");
    // Go ints: an error attached to a file that logged no statement (a
    // scan error of the next file) makes the ok count go down.
    let (mut ok_f, mut bad_f, mut ok_s, mut bad_s) = (0usize, 0usize, 0isize, 0usize);
    for f in &r.applied {
        ok_s += f.statements.len() as isize;
        if f.error.is_some() {
            bad_f += 1;
            // The failing statement was logged before it ran.
            ok_s -= 1;
            bad_s += 1;
        } else {
            ok_f += 1;
        }
    }
    let mut lines = vec![elapsed(r.start, r.end)];
    match (ok_f, bad_f) {
        (0, 0) => {}
        (o, 0) => lines.push(format!("{o} migration{}", plural(o))),
        (0, b) => lines.push(format!("{b} migration{} with errors", plural(b))),
        (o, b) => lines.push(format!("{o} migration{} ok, {b} with errors", plural(o))),
    }
    let s_plural = |n: isize| if n > 1 { "s" } else { "" };
    if ok_s > 0 && bad_s > 0 {
        lines.push(format!("{ok_s} sql statement{} ok, {bad_s} with errors", s_plural(ok_s)));
    } else if ok_s > 0 {
        lines.push(format!("{ok_s} sql statement{}", s_plural(ok_s)));
    } else if bad_s > 0 {
        lines.push(format!("{bad_s} sql statement{} with errors", plural(bad_s)));
    }
    for l in lines {
        let _ = writeln!(out, "  -- {l}");
    }
    out
}

/// Atlas's `migrate status` text (spec §6.12).
pub fn status_text(s: &Status) -> String {
    let mut out = String::from("Migration Status:");
    match s.status.as_str() {
        "OK" => out.push_str(" OK"),
        "PENDING" => out.push_str(" PENDING"),
        _ => {}
    }
    let partial = s.total > 0;
    let _ = write!(out, "\n  -- Current Version: {}", s.current);
    if partial {
        let _ = write!(out, " ({} statements applied)", s.count);
    }
    out.push_str("\n  -- Next Version:    ");
    if s.next.is_empty() {
        out.push_str("UNKNOWN");
    } else {
        out.push_str(&s.next);
        if s.from_checkpoint {
            out.push_str(" (checkpoint)");
        }
    }
    if partial {
        let _ = write!(out, " ({} statements left)", s.total as i64 - s.count as i64);
    }
    let _ = write!(out, "\n  -- Executed Files:  {}", s.applied.len());
    if partial {
        out.push_str(" (last one partially)");
    }
    let _ = write!(out, "\n  -- Pending Files:   {}", s.pending.len() + s.out_of_order.len());
    if !s.out_of_order.is_empty() {
        if s.pending.is_empty() {
            out.push_str(" (out of order)");
        } else {
            let _ = write!(out, " ({} out of order)", s.out_of_order.len());
        }
    }
    if partial {
        let _ = write!(out, "\n\nLast migration attempt had errors:\n  -- SQL:   {}\n  -- ERROR: {}", s.sql, s.error);
    } else if !s.out_of_order.is_empty() && !s.error.is_empty() {
        let _ = write!(out, "\n\n  ERROR: {}", s.error);
    }
    out.push('\n');
    out
}

/// Atlas's `migrate set` text (spec §6.9).
pub fn set_text(r: &SetReport) -> String {
    if r.changes.is_empty() {
        return String::new();
    }
    let mut out = match &r.current {
        None => format!("All revisions deleted ({} in total):\n", r.changes.len()),
        Some(c) => {
            let set = r.changes.iter().filter(|c| c.op == "set").count();
            let removed = r.changes.len() - set;
            let mut parts = Vec::new();
            if set > 0 {
                parts.push(format!("{set} set"));
            }
            if removed > 0 {
                parts.push(format!("{removed} removed"));
            }
            format!("Current version is {c} ({}):\n", parts.join(", "))
        }
    };
    out.push('\n');
    let mut changes: Vec<_> = r.changes.iter().collect();
    changes.sort_by(|a, b| a.version.cmp(&b.version));
    for c in changes {
        let sign = if c.op == "set" { '+' } else { '-' };
        let _ = write!(out, "  {sign} {}", c.version);
        if !c.description.is_empty() {
            let _ = write!(out, " ({})", c.description);
        }
        out.push('\n');
    }
    out.push('\n');
    out
}

/// A plan in the style of Atlas's apply log: the header, each file with
/// the statements that will run, then a summary with the digest. Files
/// that resume say where; a file the run will stop at shows the error.
pub fn plan_text(p: &Plan) -> String {
    let mut out = String::new();
    if let Some(b) = &p.baseline {
        let _ = writeln!(out, "Baseline: version {} will be recorded as applied\n", b.version);
    }
    if p.files.is_empty() {
        out.push_str("No migration files to execute\n");
        return out;
    }
    out.push_str(&header(p.files.len(), p.target.as_deref().unwrap_or(""), p.current.as_deref()));
    out.push('\n');
    for f in &p.files {
        out.push('\n');
        let _ = write!(out, "  -- migrating version {}", f.version);
        let mut notes = vec![format!("tx: {}", f.tx_mode.as_str())];
        notes.extend(super::file_notes(f));
        let _ = writeln!(out, " ({})", notes.join(", "));
        for s in f.pending_statements() {
            let _ = writeln!(out, "    -> {}", indent_ln(&s.text, 7));
        }
        if let Some(e) = &f.error {
            let _ = writeln!(out, "    error: {e}");
        }
    }
    out.push('\n');
    out.push_str("  -------------------------\n");
    let n = p.files.len();
    let _ = writeln!(out, "  -- {n} migration{}", plural(n));
    let s = p.statement_count();
    let _ = writeln!(out, "  -- {s} sql statement{}", plural(s));
    let _ = writeln!(out, "  -- digest {}", p.digest);
    out
}
