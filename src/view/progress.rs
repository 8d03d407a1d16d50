//! A live apply, as the hook's progress events ([`Event`]) arrive: which
//! statements ran (and how long each took), which one runs, which one
//! failed and why.
//!
//! [`ApplyProgress::new`] lays out every file and statement of the plan
//! the user confirmed, so the page shows the whole run from the start and
//! each event marks a statement in place. The hook's own plan (`planned`,
//! computed under its lock) replaces the counts when it arrives. Events
//! about files or statements the progress does not know, or that arrive
//! twice, change nothing: the view follows the stream, it never trusts it.

use crate::hook::{Event, Failure};
use crate::plan::Plan;
use crate::report::{escape_into as esc, go_duration, highlight_sql};
use std::fmt::Write;

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressState {
    /// Nothing heard from the hook yet.
    Waiting,
    /// The hook planned and is running statements.
    Running,
    /// The run finished without an error.
    Succeeded,
    /// The run stopped on an error.
    Failed,
}

impl ProgressState {
    /// The state's name, as in `data-state`.
    fn as_str(self) -> &'static str {
        match self {
            ProgressState::Waiting => "waiting",
            ProgressState::Running => "running",
            ProgressState::Succeeded => "succeeded",
            ProgressState::Failed => "failed",
        }
    }
}

/// A statement's state.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Mark {
    /// Applied by an earlier attempt; this run skips it.
    Skipped,
    /// Not run yet.
    Pending,
    /// Ran, in this many nanoseconds.
    Done(u64),
    /// Failed with the database's message.
    Failed(String),
}

#[derive(Clone, Debug)]
struct StmtProgress {
    /// Its text, highlighted once (events re-render the page often).
    html: String,
    /// The 1-based line it starts on (0: unknown).
    line: usize,
    mark: Mark,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FileState {
    Pending,
    Running,
    Done,
    Failed,
}

#[derive(Clone, Debug)]
struct FileProgress {
    name: String,
    statements: Vec<StmtProgress>,
    state: FileState,
    duration_ns: Option<u64>,
    /// An error of the file that is not a statement's (a bad header, a
    /// revision write).
    error: Option<String>,
}

impl FileProgress {
    /// Marks the first `skip` statements skipped and the others, unless
    /// they already ran or failed, pending.
    fn set_skip(&mut self, skip: usize) {
        for (i, s) in self.statements.iter_mut().enumerate() {
            match (&s.mark, i < skip) {
                (Mark::Pending, true) => s.mark = Mark::Skipped,
                (Mark::Skipped, false) => s.mark = Mark::Pending,
                _ => {}
            }
        }
    }
}

/// The progress of one apply; see the module documentation.
#[derive(Clone, Debug)]
pub struct ApplyProgress {
    target: String,
    files: Vec<FileProgress>,
    state: ProgressState,
    dry_run: bool,
    /// Why the run stopped (the `error` event's, or the report's).
    error: Option<String>,
    /// Whether `finished` arrived: the run is over, later events change nothing.
    finished: bool,
}

impl ApplyProgress {
    /// The progress of applying `plan` on `target`, before any event: every
    /// file and statement of the plan pending (or skipped, where the plan
    /// resumes a file).
    pub fn new(plan: &Plan, target: &str) -> ApplyProgress {
        let files = plan
            .files
            .iter()
            .map(|f| {
                let mut fp = FileProgress {
                    name: f.name.clone(),
                    statements: f
                        .statements
                        .iter()
                        .map(|s| StmtProgress { html: highlight_sql(&s.text), line: s.line, mark: Mark::Pending })
                        .collect(),
                    state: FileState::Pending,
                    duration_ns: None,
                    error: None,
                };
                fp.set_skip(f.skip);
                fp
            })
            .collect();
        ApplyProgress {
            target: target.to_string(),
            files,
            state: ProgressState::Waiting,
            dry_run: false,
            error: None,
            finished: false,
        }
    }

    fn file_mut(&mut self, name: &str) -> Option<&mut FileProgress> {
        self.files.iter_mut().find(|f| f.name == name)
    }

    /// Takes one event of the hook's stream. Once `finished` arrived,
    /// nothing changes any more.
    pub fn on_event(&mut self, e: &Event) {
        if self.finished {
            return;
        }
        match e {
            Event::Planned { dry_run, files, .. } => {
                self.dry_run = *dry_run;
                let mut old = std::mem::take(&mut self.files);
                self.files = files
                    .iter()
                    .map(|info| {
                        let mut f = match old.iter().position(|f| f.name == info.name) {
                            Some(i) => old.swap_remove(i),
                            None => FileProgress {
                                name: info.name.clone(),
                                statements: Vec::new(),
                                state: FileState::Pending,
                                duration_ns: None,
                                error: None,
                            },
                        };
                        // The hook's plan is the one that runs: its count
                        // wins (statements only it knows have no text).
                        f.statements.resize_with(info.statements, || StmtProgress {
                            html: String::new(),
                            line: 0,
                            mark: Mark::Pending,
                        });
                        f.set_skip(info.skip);
                        f
                    })
                    .collect();
                self.run();
            }
            Event::FileStarted { file, .. } => {
                if let Some(f) = self.file_mut(file) {
                    if f.state == FileState::Pending {
                        f.state = FileState::Running;
                    }
                    self.run();
                }
            }
            Event::StatementDone { file, statement, line, duration_ns } => {
                let Some(f) = self.file_mut(file) else { return };
                let Some(s) = statement.checked_sub(1).and_then(|i| f.statements.get_mut(i)) else { return };
                if matches!(s.mark, Mark::Pending | Mark::Skipped) {
                    s.mark = Mark::Done(*duration_ns);
                }
                if s.line == 0 {
                    s.line = *line;
                }
                if f.state == FileState::Pending {
                    f.state = FileState::Running;
                }
                self.run();
            }
            Event::FileDone { file, duration_ns } => {
                if let Some(f) = self.file_mut(file) {
                    if f.state != FileState::Failed {
                        f.state = FileState::Done;
                        f.duration_ns = Some(*duration_ns);
                    }
                }
            }
            Event::Error(failure) => self.fail(failure),
            Event::Finished { report } => {
                self.dry_run |= report.dry_run;
                self.state = match &report.error {
                    Some(e) => {
                        self.error.get_or_insert_with(|| e.clone());
                        ProgressState::Failed
                    }
                    None => ProgressState::Succeeded,
                };
                self.finished = true;
            }
        }
    }

    /// The run is under way (unless it already ended).
    fn run(&mut self) {
        if self.state == ProgressState::Waiting {
            self.state = ProgressState::Running;
        }
    }

    fn fail(&mut self, failure: &Failure) {
        let message = if failure.message.is_empty() { failure.error.clone() } else { failure.message.clone() };
        let file = failure.file.as_deref().and_then(|name| self.files.iter_mut().find(|f| f.name == name));
        if let Some(f) = file {
            f.state = FileState::Failed;
            let stmt =
                failure.statement.as_ref().and_then(|s| s.index.checked_sub(1)).and_then(|i| f.statements.get_mut(i));
            match stmt {
                Some(s) => s.mark = Mark::Failed(message),
                None => f.error = Some(message),
            }
        }
        self.error = Some(if failure.error.is_empty() { failure.message.clone() } else { failure.error.clone() });
        self.state = ProgressState::Failed;
    }

    /// Where the run stands.
    pub fn state(&self) -> ProgressState {
        self.state
    }

    /// Statements that ran.
    pub fn done(&self) -> usize {
        self.files.iter().flat_map(|f| &f.statements).filter(|s| matches!(s.mark, Mark::Done(_))).count()
    }

    /// Statements this run runs (skipped ones excluded).
    pub fn total(&self) -> usize {
        self.files.iter().flat_map(|f| &f.statements).filter(|s| s.mark != Mark::Skipped).count()
    }

    /// The run as HTML: `<section class="st-progress" data-state="…">`
    /// with a counter and a `<progress>`, then each file with its
    /// statements marked `st-done`, `st-running`, `st-pending`,
    /// `st-failed` or `st-skipped`, durations and the failure message.
    pub fn html(&self) -> String {
        let (done, total) = (self.done(), self.total());
        let html_len: usize = self.files.iter().flat_map(|f| &f.statements).map(|s| s.html.len() + 96).sum();
        let mut out = String::with_capacity(1024 + html_len);
        let _ = write!(out, "<section class=\"st-progress\" data-state=\"{}\"><h2>", self.state.as_str());
        let status = match (self.state, self.dry_run) {
            (ProgressState::Waiting, _) => "Waiting for ",
            (ProgressState::Running, _) => "Applying to ",
            (ProgressState::Succeeded, true) => "Dry run (nothing executed) on ",
            (ProgressState::Succeeded, false) => "Applied to ",
            (ProgressState::Failed, _) => "Failed on ",
        };
        out.push_str(status);
        esc(&mut out, &self.target);
        let _ = write!(
            out,
            "</h2><p class=\"st-count\">{done} of {total} statements</p><progress max=\"{total}\" value=\"{done}\">{done} of {total}</progress>"
        );
        if let Some(e) = &self.error {
            out.push_str("<p class=\"st-error\" role=\"alert\">");
            esc(&mut out, e);
            out.push_str("</p>");
        }
        for f in &self.files {
            let (class, state) = match f.state {
                FileState::Pending => ("st-file", "pending"),
                FileState::Running => ("st-file st-running", "running"),
                FileState::Done => ("st-file st-done", "done"),
                FileState::Failed => ("st-file st-failed", "failed"),
            };
            let _ = write!(out, "<article class=\"{class}\" data-state=\"{state}\"><h3>");
            esc(&mut out, &f.name);
            let _ = write!(out, "</h3><p class=\"st-took\">{state}");
            if let Some(ns) = f.duration_ns {
                let _ = write!(out, ", {}", go_duration(i64::try_from(ns).unwrap_or(i64::MAX)));
            }
            out.push_str("</p><ol class=\"st-statements\">");
            // The statement under way: the first pending one of a running file.
            let running = (self.state == ProgressState::Running && f.state == FileState::Running)
                .then(|| f.statements.iter().position(|s| s.mark == Mark::Pending))
                .flatten();
            for (i, s) in f.statements.iter().enumerate() {
                let (class, took) = match &s.mark {
                    Mark::Skipped => ("st-skipped", "skipped".to_string()),
                    Mark::Pending if running == Some(i) => ("st-running", "running".to_string()),
                    Mark::Pending => ("st-pending", String::new()),
                    Mark::Done(ns) => ("st-done", go_duration(i64::try_from(*ns).unwrap_or(i64::MAX))),
                    Mark::Failed(_) => ("st-failed", "failed".to_string()),
                };
                let _ = write!(out, "<li class=\"{class}\"><span class=\"st-took\">");
                match (s.line, took.is_empty()) {
                    (0, _) => out.push_str(&took),
                    (line, true) => {
                        let _ = write!(out, "line {line}");
                    }
                    (line, false) => {
                        let _ = write!(out, "line {line} · {took}");
                    }
                }
                let _ = write!(out, "</span><pre><code>{}</code></pre>", s.html);
                if let Mark::Failed(m) = &s.mark {
                    out.push_str("<p class=\"st-error\">");
                    esc(&mut out, m);
                    out.push_str("</p>");
                }
                out.push_str("</li>");
            }
            out.push_str("</ol>");
            if let Some(e) = &f.error {
                out.push_str("<p class=\"st-error\">");
                esc(&mut out, e);
                out.push_str("</p>");
            }
            out.push_str("</article>");
        }
        out.push_str("</section>");
        out
    }
}
