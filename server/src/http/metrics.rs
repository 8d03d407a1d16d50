//! Prometheus metrics and the per-request log line.
//!
//! Requests are counted by route template (`/v1/dirs/{dir}/tags/{tag}`,
//! never the raw path), method and status, with a duration histogram per
//! route and method; bytes in and out, versions created and tag moves are
//! counters. `GET /metrics` renders them as Prometheus text.

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::BodyExt;
use hyper::body::Body as _;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

/// Upper bounds of the duration histogram, seconds.
const BUCKETS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

const METHODS: [&str; 7] = ["GET", "HEAD", "PUT", "POST", "OPTIONS", "DELETE", "OTHER"];

fn method_index(m: &Method) -> usize {
    match *m {
        Method::GET => 0,
        Method::HEAD => 1,
        Method::PUT => 2,
        Method::POST => 3,
        Method::OPTIONS => 4,
        Method::DELETE => 5,
        _ => 6,
    }
}

#[derive(Default)]
struct Stats {
    statuses: Mutex<BTreeMap<u16, u64>>,
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

/// The server's counters.
#[derive(Default)]
pub struct Metrics {
    routes: RwLock<HashMap<Arc<str>, Arc<[Stats; METHODS.len()]>>>,
    /// Request body bytes read.
    pub bytes_in: AtomicU64,
    /// Response body bytes written.
    pub bytes_out: AtomicU64,
    /// Versions created (not the idempotent repeats).
    pub versions_created: AtomicU64,
    /// Tag moves.
    pub tag_moves: AtomicU64,
    /// Blobs stored (new to a directory).
    pub blobs_stored: AtomicU64,
    /// Deployment reports recorded.
    pub deployments_recorded: AtomicU64,
}

impl Metrics {
    fn stats(&self, route: &str) -> Arc<[Stats; METHODS.len()]> {
        if let Some(s) = self.routes.read().unwrap_or_else(|e| e.into_inner()).get(route) {
            return s.clone();
        }
        let mut w = self.routes.write().unwrap_or_else(|e| e.into_inner());
        w.entry(Arc::from(route)).or_default().clone()
    }

    fn record(&self, route: &str, method: &Method, status: u16, seconds: f64) {
        let all = self.stats(route);
        let s = &all[method_index(method)];
        *s.statuses.lock().unwrap_or_else(|e| e.into_inner()).entry(status).or_default() += 1;
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            s.buckets[i].fetch_add(1, Relaxed);
        }
        s.count.fetch_add(1, Relaxed);
        s.sum_nanos.fetch_add((seconds * 1e9) as u64, Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let routes: Vec<(Arc<str>, Arc<[Stats; METHODS.len()]>)> = {
            let r = self.routes.read().unwrap_or_else(|e| e.into_inner());
            let mut v: Vec<_> = r.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        };
        out.push_str("# HELP strata_http_requests_total HTTP requests by route template, method and status.\n");
        out.push_str("# TYPE strata_http_requests_total counter\n");
        for (route, all) in &routes {
            for (m, s) in METHODS.iter().zip(all.iter()) {
                for (status, n) in s.statuses.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                    let _ = writeln!(
                        out,
                        "strata_http_requests_total{{route=\"{}\",method=\"{m}\",status=\"{status}\"}} {n}",
                        escape(route)
                    );
                }
            }
        }
        out.push_str("# HELP strata_http_request_duration_seconds Time to the response head, by route and method.\n");
        out.push_str("# TYPE strata_http_request_duration_seconds histogram\n");
        for (route, all) in &routes {
            for (m, s) in METHODS.iter().zip(all.iter()) {
                let count = s.count.load(Relaxed);
                if count == 0 {
                    continue;
                }
                let labels = format!("route=\"{}\",method=\"{m}\"", escape(route));
                let mut cumulative = 0;
                for (b, n) in BUCKETS.iter().zip(s.buckets.iter()) {
                    cumulative += n.load(Relaxed);
                    let _ = writeln!(
                        out,
                        "strata_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {cumulative}"
                    );
                }
                let _ = writeln!(out, "strata_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}");
                let _ = writeln!(
                    out,
                    "strata_http_request_duration_seconds_sum{{{labels}}} {}",
                    s.sum_nanos.load(Relaxed) as f64 / 1e9
                );
                let _ = writeln!(out, "strata_http_request_duration_seconds_count{{{labels}}} {count}");
            }
        }
        for (name, help, v) in [
            ("strata_http_request_bytes_total", "Request body bytes read.", &self.bytes_in),
            ("strata_http_response_bytes_total", "Response body bytes written.", &self.bytes_out),
            ("strata_versions_created_total", "Versions created.", &self.versions_created),
            ("strata_tag_moves_total", "Tag moves.", &self.tag_moves),
            ("strata_blobs_stored_total", "Blobs stored (new to a directory).", &self.blobs_stored),
            ("strata_deployments_recorded_total", "Deployment reports recorded.", &self.deployments_recorded),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}", v.load(Relaxed));
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Middleware: counts the request and its bytes, times it, logs it.
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let path_for_log = tracing::enabled!(tracing::Level::INFO).then(|| req.uri().path().to_string());
    let req = if req.body().is_end_stream() {
        req
    } else {
        let m = metrics.clone();
        req.map(|b| {
            Body::new(b.map_frame(move |f| {
                if let Some(d) = f.data_ref() {
                    m.bytes_in.fetch_add(d.len() as u64, Relaxed);
                }
                f
            }))
        })
    };
    let response = next.run(req).await;
    let elapsed = start.elapsed();
    let status = response.status().as_u16();
    let route_str = route.as_ref().map_or("unmatched", |r| r.as_str());
    metrics.record(route_str, &method, status, elapsed.as_secs_f64());
    if let Some(path) = path_for_log {
        tracing::info!(
            method = %method,
            path = %path,
            route = route_str,
            status,
            micros = elapsed.as_micros() as u64,
            "request"
        );
    }
    match response.body().size_hint().exact() {
        Some(n) => {
            metrics.bytes_out.fetch_add(n, Relaxed);
            response
        }
        None => {
            let m = metrics.clone();
            response.map(|b| {
                Body::new(b.map_frame(move |f| {
                    if let Some(d) = f.data_ref() {
                        m.bytes_out.fetch_add(d.len() as u64, Relaxed);
                    }
                    f
                }))
            })
        }
    }
}
