//! A minimal tracing subscriber that records every event, so tests can read what boot logged.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Events recorded by [`Capture`]: level and `message field=value ...`.
pub type Log = Arc<Mutex<Vec<(Level, String)>>>;

/// A minimal tracing subscriber that records every event, so tests can read what boot logged.
pub struct Capture(Log);

struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = Line(String::new());
        event.record(&mut line);
        if let Ok(mut log) = self.0.lock() {
            log.push((*event.metadata().level(), line.0));
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

pub fn capture() -> (Log, tracing::subscriber::DefaultGuard) {
    let log = Log::default();
    let guard = tracing::subscriber::set_default(Capture(log.clone()));
    (log, guard)
}

pub fn lines(log: &Log, level: Level, containing: &str) -> Vec<String> {
    log.lock()
        .map(|l| {
            l.iter()
                .filter(|(lv, text)| *lv == level && text.contains(containing))
                .map(|(_, text)| text.clone())
                .collect()
        })
        .unwrap_or_default()
}
