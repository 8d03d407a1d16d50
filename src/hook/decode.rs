//! A sans-IO decoder of the apply stream: the caller feeds the response
//! body's chunks as they arrive, wherever they are cut, and gets the
//! complete [`Event`]s out; at the end of the body, [`Decoder::end`] says
//! whether the stream was whole (it ended with `finished`).

use super::events::{Deployment, Event};
use crate::error::Error;
use crate::report::ApplyReport;
use serde::Deserialize;

/// The last event of a whole stream: the report, and the deployment the
/// server recorded the run as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finished {
    /// The core's apply report (`error` is set when the run failed).
    pub report: ApplyReport,
    /// What the server recorded the run as (absent if the server did not
    /// say).
    pub deployment: Option<Deployment>,
}

/// The `deployment` the server appends to the `finished` line.
#[derive(Deserialize)]
struct Tail {
    #[serde(default)]
    deployment: Option<Deployment>,
}

/// Decodes an NDJSON apply stream. Errors are sticky: once a line is not
/// an event, every later call returns the same error.
#[derive(Debug, Default)]
pub struct Decoder {
    /// The bytes of the line not yet ended by `\n`.
    partial: Vec<u8>,
    /// Lines completed so far.
    lines: usize,
    finished: Option<Finished>,
    error: Option<Box<Error>>,
}

impl Decoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Takes the next chunk of the body and returns the events it
    /// completes, in order. Blank lines are skipped. A line that is not an
    /// event, or a line after `finished`, is an error (code
    /// `invalid-event`) naming its line number.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<Event>, Box<Error>> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let mut events = Vec::new();
        let mut rest = chunk;
        while let Some(i) = memchr::memchr(b'\n', rest) {
            let (head, tail) = rest.split_at(i);
            rest = &tail[1..];
            self.partial.extend_from_slice(head);
            let line = std::mem::take(&mut self.partial);
            self.lines += 1;
            match self.line(&line) {
                Ok(Some(e)) => events.push(e),
                Ok(None) => {}
                Err(e) => {
                    self.error = Some(e.clone());
                    return Err(e);
                }
            }
        }
        self.partial.extend_from_slice(rest);
        Ok(events)
    }

    /// Ends the stream: the `finished` event's report and deployment, an
    /// event on a last line without a newline included. A stream that
    /// ended before `finished` is an error (code `stream-ended`): the
    /// connection was lost, and the run may have gone on on the server; a
    /// last line that is not an event then is one the connection cut.
    pub fn end(mut self) -> Result<(Vec<Event>, Finished), Box<Error>> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut events = Vec::new();
        let mut cut = None;
        if !self.partial.is_empty() {
            let partial = preview(&self.partial);
            match self.feed(b"\n") {
                Ok(e) => events = e,
                Err(_) if self.finished.is_none() => cut = Some(partial),
                Err(e) => return Err(e),
            }
        }
        match self.finished {
            Some(f) => Ok((events, f)),
            None => Err(Box::new(Error {
                code: "stream-ended",
                message: "the apply stream ended before finished: the connection was lost; check the target's revisions and GET /v1/deployments".into(),
                file: None,
                line: None,
                column: None,
                detail: Some(match cut {
                    Some(line) => format!("{} lines received, the last one cut: {line}", self.lines - 1),
                    None => format!("{} lines received", self.lines),
                }),
                hint: "the run may have gone on on the server: read the target's revisions (strata status --hook) and the deployment (GET /v1/deployments?target=…) before applying again".into(),
            })),
        }
    }

    /// Whether `finished` arrived.
    pub fn is_finished(&self) -> bool {
        self.finished.is_some()
    }

    /// The `finished` event's report and deployment, once it arrived.
    pub fn finished(&self) -> Option<&Finished> {
        self.finished.as_ref()
    }

    /// One complete line (without its `\n`).
    fn line(&mut self, line: &[u8]) -> Result<Option<Event>, Box<Error>> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        let n = self.lines;
        let invalid = |message: String| {
            Box::new(Error {
            code: "invalid-event",
            message,
            file: None,
            line: Some(n),
            column: None,
            detail: Some(preview(line)),
            hint: "the server did not send an apply event stream (application/x-ndjson); check the hook URL and that the server is strata-server".into(),
        })
        };
        if self.finished.is_some() {
            return Err(invalid(format!("line {n} of the apply stream comes after finished")));
        }
        let event: Event = serde_json::from_slice(line)
            .map_err(|e| invalid(format!("line {n} of the apply stream is not an event: {e}")))?;
        if let Event::Finished { report } = &event {
            let tail: Tail = serde_json::from_slice(line)
                .map_err(|e| invalid(format!("line {n} of the apply stream has a bad deployment: {e}")))?;
            self.finished = Some(Finished { report: (**report).clone(), deployment: tail.deployment });
        }
        Ok(Some(event))
    }
}

/// The start of a line, for an error's detail.
fn preview(line: &[u8]) -> String {
    let s = String::from_utf8_lossy(line);
    match s.char_indices().nth(120) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.into_owned(),
    }
}
