//! Log lines on stderr without a write system call per request: lines go
//! through a bounded channel to one thread that writes them in batches
//! (and flushes whenever it has caught up). A full channel makes the
//! logging task wait: no line is dropped.

use std::io::Write;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError};
use std::sync::{Mutex, OnceLock};
use tracing_subscriber::fmt::MakeWriter;

/// Lines in flight at most.
const CAPACITY: usize = 16 * 1024;

enum Msg {
    Line(Vec<u8>),
    Flush(SyncSender<()>),
}

/// A [`MakeWriter`] whose lines are written by a background thread.
#[derive(Clone)]
pub struct Stderr {
    tx: SyncSender<Msg>,
}

static SENDER: OnceLock<Mutex<Option<SyncSender<Msg>>>> = OnceLock::new();

impl Stderr {
    /// Starts the writer thread (once per process).
    pub fn start() -> Stderr {
        let (tx, rx) = sync_channel(CAPACITY);
        let spawned = std::thread::Builder::new().name("strata-logs".into()).spawn(move || run(rx));
        if spawned.is_ok() {
            let _ = SENDER.set(Mutex::new(Some(tx.clone())));
        }
        Stderr { tx }
    }
}

fn run(rx: Receiver<Msg>) {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stderr());
    let handle = |m: Msg, out: &mut std::io::BufWriter<std::io::Stderr>| match m {
        Msg::Line(l) => {
            let _ = out.write_all(&l);
        }
        Msg::Flush(ack) => {
            let _ = out.flush();
            let _ = ack.send(());
        }
    };
    while let Ok(m) = rx.recv() {
        handle(m, &mut out);
        loop {
            match rx.try_recv() {
                Ok(m) => handle(m, &mut out),
                Err(TryRecvError::Empty) => {
                    let _ = out.flush();
                    break;
                }
                Err(TryRecvError::Disconnected) => {
                    let _ = out.flush();
                    return;
                }
            }
        }
    }
    let _ = out.flush();
}

/// Waits until every line logged so far is written.
pub fn flush() {
    let tx = SENDER.get().and_then(|m| m.lock().ok().and_then(|g| g.clone()));
    if let Some(tx) = tx {
        let (ack, done) = sync_channel(1);
        if tx.send(Msg::Flush(ack)).is_ok() {
            let _ = done.recv();
        }
    }
}

/// One log line, sent when dropped.
pub struct Line {
    buf: Vec<u8>,
    tx: SyncSender<Msg>,
}

impl Write for Line {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            let _ = self.tx.send(Msg::Line(std::mem::take(&mut self.buf)));
        }
    }
}

impl<'a> MakeWriter<'a> for Stderr {
    type Writer = Line;
    fn make_writer(&'a self) -> Line {
        Line { buf: Vec::with_capacity(256), tx: self.tx.clone() }
    }
}
