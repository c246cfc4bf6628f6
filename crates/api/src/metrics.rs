//! Prometheus text metrics: request counts by method, route and status, and
//! a latency histogram by route. Route labels are route *patterns*
//! (`/api/v1/houses/{id}`), so cardinality stays bounded.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

use actix_web::http::Method;

const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

#[derive(Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
}

/// The process's request metrics.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    /// Records one finished request.
    pub fn record(&self, method: &Method, route: &str, status: u16, elapsed: Duration) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        // Clients can send any method name; only the standard ones become
        // label values, so the series count stays bounded.
        let method = match *method {
            Method::GET
            | Method::HEAD
            | Method::POST
            | Method::PUT
            | Method::PATCH
            | Method::DELETE
            | Method::OPTIONS => method.as_str(),
            _ => "OTHER",
        };
        *inner
            .requests
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let seconds = elapsed.as_secs_f64();
        let histogram = inner.latency.entry(route.to_owned()).or_default();
        histogram.count += 1;
        histogram.sum += seconds;
        for (bucket, bound) in histogram.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let Ok(inner) = self.inner.lock() else {
            return out;
        };
        out.push_str("# HELP wuye_http_requests_total HTTP requests answered.\n");
        out.push_str("# TYPE wuye_http_requests_total counter\n");
        for ((method, route, status), count) in &inner.requests {
            let _ = writeln!(
                out,
                "wuye_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {count}",
                escape(route)
            );
        }
        out.push_str("# HELP wuye_http_request_duration_seconds Time to answer a request.\n");
        out.push_str("# TYPE wuye_http_request_duration_seconds histogram\n");
        for (route, histogram) in &inner.latency {
            let route = escape(route);
            for (bound, count) in BUCKETS.iter().zip(histogram.buckets) {
                let _ = writeln!(
                    out,
                    "wuye_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "wuye_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(
                out,
                "wuye_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                histogram.sum
            );
            let _ = writeln!(
                out,
                "wuye_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                histogram.count
            );
        }
        out
    }
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_cumulative_buckets() {
        let metrics = Metrics::default();
        metrics.record(
            &Method::GET,
            "/api/v1/houses/{id}",
            200,
            Duration::from_millis(3),
        );
        metrics.record(
            &Method::GET,
            "/api/v1/houses/{id}",
            200,
            Duration::from_millis(30),
        );
        let text = metrics.render();
        assert!(text.contains(
            "wuye_http_requests_total{method=\"GET\",route=\"/api/v1/houses/{id}\",status=\"200\"} 2"
        ));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"0.05\"} 2"));
        assert!(text.contains("_count{route=\"/api/v1/houses/{id}\"} 2"));
    }
}
