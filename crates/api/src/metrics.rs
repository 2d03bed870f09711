//! A small Prometheus registry: request counts and latency histograms per route,
//! requests in flight, uptime. Route patterns (not raw paths) keep label sets bounded,
//! and a request on a known route allocates nothing here.

use actix_web::http::Method;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Counts for one method on one route.
#[derive(Default)]
struct Series {
    by_status: Vec<(u16, u64)>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Counters shared by every worker.
pub struct Metrics {
    started: Instant,
    in_flight: AtomicI64,
    routes: Mutex<HashMap<String, Vec<(Method, Series)>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: Instant::now(),
            in_flight: AtomicI64::new(0),
            routes: Mutex::default(),
        }
    }
}

impl Metrics {
    /// A request started.
    pub fn begin(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// A request finished.
    pub fn finish(&self, method: &Method, route: &str, status: u16, elapsed: Duration) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        let Ok(mut routes) = self.routes.lock() else {
            return;
        };
        let methods = match routes.get_mut(route) {
            Some(m) => m,
            None => routes.entry(route.to_owned()).or_default(),
        };
        let series = match methods.iter().position(|(m, _)| m == method) {
            Some(i) => &mut methods[i].1,
            None => {
                methods.push((method.clone(), Series::default()));
                let last = methods.len() - 1;
                &mut methods[last].1
            }
        };
        match series.by_status.iter_mut().find(|(s, _)| *s == status) {
            Some((_, n)) => *n += 1,
            None => series.by_status.push((status, 1)),
        }
        let secs = elapsed.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                series.buckets[i] += 1;
            }
        }
        series.count += 1;
        series.sum += secs;
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP unionhall_uptime_seconds Seconds since the process started."
        );
        let _ = writeln!(out, "# TYPE unionhall_uptime_seconds gauge");
        let _ = writeln!(
            out,
            "unionhall_uptime_seconds {}",
            self.started.elapsed().as_secs()
        );
        let _ = writeln!(
            out,
            "# HELP unionhall_http_requests_in_flight Requests being served."
        );
        let _ = writeln!(out, "# TYPE unionhall_http_requests_in_flight gauge");
        let _ = writeln!(
            out,
            "unionhall_http_requests_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        let Ok(routes) = self.routes.lock() else {
            return out;
        };
        let mut sorted: Vec<_> = routes.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        let _ = writeln!(
            out,
            "# HELP unionhall_http_requests_total Requests served, by method, route and status."
        );
        let _ = writeln!(out, "# TYPE unionhall_http_requests_total counter");
        for (route, methods) in &sorted {
            for (method, series) in methods.iter() {
                for (status, n) in &series.by_status {
                    let _ = writeln!(
                        out,
                        "unionhall_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "# HELP unionhall_http_request_duration_seconds Request latency, by method and route."
        );
        let _ = writeln!(
            out,
            "# TYPE unionhall_http_request_duration_seconds histogram"
        );
        for (route, methods) in &sorted {
            for (method, s) in methods.iter() {
                let labels = format!("method=\"{method}\",route=\"{route}\"");
                for (i, bound) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "unionhall_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                        s.buckets[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "unionhall_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                    s.count
                );
                let _ = writeln!(
                    out,
                    "unionhall_http_request_duration_seconds_sum{{{labels}}} {}",
                    s.sum
                );
                let _ = writeln!(
                    out,
                    "unionhall_http_request_duration_seconds_count{{{labels}}} {}",
                    s.count
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_route_method_and_status() {
        let m = Metrics::default();
        m.begin();
        m.finish(&Method::GET, "/v1/orgs", 200, Duration::from_millis(3));
        m.begin();
        m.finish(&Method::GET, "/v1/orgs", 200, Duration::from_millis(30));
        m.begin();
        m.finish(&Method::POST, "/v1/orgs", 422, Duration::from_millis(1));
        let text = m.render();
        assert!(text.contains(
            "unionhall_http_requests_total{method=\"GET\",route=\"/v1/orgs\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "unionhall_http_requests_total{method=\"POST\",route=\"/v1/orgs\",status=\"422\"} 1"
        ));
        assert!(text.contains(
            "unionhall_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/orgs\",le=\"0.005\"} 1"
        ));
        assert!(text.contains("unionhall_http_requests_in_flight 0"));
    }
}
