//! `make bench`, the hosted build's half (#18 item 4): serves `site/` (`make dist`) from a
//! sub-path as a static host does (gzip for text and wasm, `Cache-Control: max-age=600`, as GitHub
//! Pages sends), opens it in headless Chromium with the network throttled through the DevTools
//! protocol (`Network.emulateNetworkConditions`: 20 Mbit/s down, 40 ms latency), and measures
//!
//! - the first visit (a fresh profile): time to interactive, and the bytes the host sent for
//!   the requests made before it;
//! - a second visit (same profile, service worker in control): the same, and which files were
//!   downloaded again;
//! - an offline start (host down, browser offline): time to interactive;
//! - each wasm module's size, raw and gzip.
//!
//! "Interactive" is what the issue calls it: the rank slider shows the compressed model's test
//! accuracy and the drawing pad is on the page; the page marks that moment
//! (`performance.mark`). Bytes are counted at the host, so that the workers' and the service
//! worker's requests count too (the page's Resource Timing sees only its own); a response counts
//! in full when its request came before the page was interactive.
//! Writes `target/bench/site.json`. A benchmark: nothing fails on a slow number.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Browser, flag};

const PREFIX: &str = "/sub/mnist-lab";
/// 20 Mbit/s in bytes per second, and the round-trip latency, as the issue sets them.
const DOWN_BYTES_PER_S: f64 = 20e6 / 8.0;
const LATENCY_MS: f64 = 40.0;

/// One response the host sent.
#[derive(Debug, Clone)]
struct Served {
    /// When the request came, in ms since the Unix epoch (the browser's clock is the same).
    at: f64,
    path: String,
    bytes: usize,
}

/// A static host for `site/` under [`PREFIX`] that logs what it sends and can go down.
struct Host {
    root: PathBuf,
    log: Mutex<Vec<Served>>,
    down: AtomicBool,
    gzipped: Mutex<HashMap<PathBuf, Arc<Vec<u8>>>>,
}

fn content_type(path: &Path) -> (&'static str, bool) {
    // (type, compressed by the host): text and wasm, as GitHub Pages does; .gz files are already.
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => ("text/html; charset=utf-8", true),
        "js" => ("text/javascript", true),
        "wasm" => ("application/wasm", true),
        "css" => ("text/css", true),
        "json" | "sha256" => ("application/json", true),
        "svg" => ("image/svg+xml", true),
        "png" => ("image/png", false),
        "gz" => ("application/gzip", false),
        _ => ("application/octet-stream", false),
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).expect("gzip in memory");
    gz.finish().expect("gzip in memory")
}

impl Host {
    fn start(root: PathBuf) -> (Arc<Host>, String) {
        let host = Arc::new(Host {
            root,
            log: Mutex::new(Vec::new()),
            down: AtomicBool::new(false),
            gzipped: Mutex::new(HashMap::new()),
        });
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let h = host.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let h = h.clone();
                std::thread::spawn(move || {
                    let _ = h.handle(stream);
                });
            }
        });
        (host, url)
    }

    fn handle(&self, stream: TcpStream) -> std::io::Result<()> {
        if self.down.load(Ordering::SeqCst) {
            return Ok(()); // a host that is gone: the connection closes without an answer
        }
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let mut accepts_gzip = false;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 || h == "\r\n" {
                break;
            }
            let lower = h.to_ascii_lowercase();
            if lower.starts_with("accept-encoding:") && lower.contains("gzip") {
                accepts_gzip = true;
            }
        }
        let target = line.split_whitespace().nth(1).unwrap_or("/");
        let full = target.split('?').next().unwrap_or("/");
        let rel = full.strip_prefix(PREFIX).map(|r| r.trim_start_matches('/'));
        let mut out = stream;
        let file = match rel {
            Some(r) if !r.split('/').any(|c| c == "..") => {
                let f = self.root.join(if r.is_empty() { "index.html" } else { r });
                if f.is_dir() { f.join("index.html") } else { f }
            }
            _ => PathBuf::new(),
        };
        let Ok(raw) = std::fs::read(&file) else {
            write!(
                out,
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )?;
            return out.flush();
        };
        let (kind, compress) = content_type(&file);
        let (body, encoding) = if compress && accepts_gzip {
            let mut cache = self.gzipped.lock().unwrap();
            let gz = cache.entry(file.clone()).or_insert_with(|| Arc::new(gzip(&raw))).clone();
            (gz, "Content-Encoding: gzip\r\n")
        } else {
            (Arc::new(raw), "")
        };
        write!(
            out,
            "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\n{encoding}Content-Length: {}\r\nCache-Control: max-age=600\r\nConnection: close\r\n\r\n",
            body.len()
        )?;
        self.log.lock().unwrap().push(Served {
            at: epoch_ms(),
            path: full.to_string(),
            bytes: body.len(),
        });
        out.write_all(&body)?;
        out.flush()
    }

    /// What was sent for the requests that came between `from` and `to` (epoch ms).
    fn between(&self, from: f64, to: f64) -> Vec<Served> {
        self.log.lock().unwrap().iter().filter(|s| s.at >= from && s.at < to).cloned().collect()
    }
}

/// Throttles the page's network (or takes it offline) through the DevTools protocol.
fn network(b: &Browser, offline: bool) {
    b.cdp("Network.enable", json!({}));
    b.cdp(
        "Network.emulateNetworkConditions",
        json!({
            "offline": offline,
            "latency": LATENCY_MS,
            "downloadThroughput": DOWN_BYTES_PER_S,
            "uploadThroughput": DOWN_BYTES_PER_S,
        }),
    );
}

fn epoch_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1e3)
        .unwrap_or(0.0)
}

/// Opens the page and waits until the slider shows its accuracy and the pad is there; then
/// reads the moment the page marked (`performance.mark("mnist-lab-interactive")`, when the
/// slider's first accuracy came): ms since navigation, and the same moment in epoch ms.
fn open_until_interactive(b: &Browser, secs: u64) -> Option<(f64, f64)> {
    b.open(&format!("{PREFIX}/"));
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        let v = b.js(
            "const a = document.querySelector('[data-testid=factorized-accuracy]');
             const pad = document.querySelector('[data-testid=draw-pad]');
             const mark = performance.getEntriesByName('mnist-lab-interactive')[0];
             return a && pad && mark && a.textContent.trim().endsWith('%')
               ? [mark.startTime, performance.timeOrigin + mark.startTime] : null",
            vec![],
        );
        if let Some([ms, at]) = v.as_array().map(|a| [a[0].as_f64(), a[1].as_f64()]) {
            return Some((ms?, at?));
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    None
}

/// A visit's numbers: time to interactive and the host's responses to requests made before it.
fn visit(host: &Host, b: &Browser, what: &str) -> Value {
    let start = epoch_ms();
    let Some((ms, at)) = open_until_interactive(b, 300) else {
        eprintln!("[site] {what}: not interactive within 300 s");
        return json!({"interactive_ms": null, "note": "not interactive within 300 s"});
    };
    let before = host.between(start, at);
    let bytes: usize = before.iter().map(|s| s.bytes).sum();
    let files: Vec<Value> =
        before.iter().map(|s| json!({"path": s.path, "bytes": s.bytes})).collect();
    // The GAN panel's preview comes from a worker, which loads the workers' module once the
    // first screen works: how long after navigation the canvas shows.
    let end = Instant::now() + Duration::from_secs(300);
    let mut preview = None;
    while preview.is_none() && Instant::now() < end {
        preview = b
            .js(
                "return document.querySelector('[data-testid=gan-canvas]') ? performance.now() : null",
                vec![],
            )
            .as_f64();
        std::thread::sleep(Duration::from_millis(25));
    }
    eprintln!(
        "[site] {what}: interactive in {ms:.0} ms, {bytes} bytes in {} responses; GAN preview at {preview:?} ms",
        files.len()
    );
    json!({"interactive_ms": ms, "bytes_before_interactive": bytes, "responses": files, "gan_preview_ms": preview})
}

/// Each wasm module's size as shipped and gzipped (the host's compression level).
fn module_sizes(site: &Path) -> Value {
    let mut rows = Vec::new();
    for entry in std::fs::read_dir(site).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.ends_with("_bg.wasm") {
            continue;
        }
        let raw = std::fs::read(entry.path()).unwrap_or_default();
        let module = if name.starts_with("mnist-lab-worker") { "workers" } else { "page" };
        rows.push(json!({"module": module, "file": name, "raw_bytes": raw.len(), "gzip_bytes": gzip(&raw).len()}));
    }
    json!(rows)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = flag(&args, "--out").unwrap_or_else(|| "target/bench/site.json".into());
    let site = Path::new(env!("CARGO_MANIFEST_DIR")).join("site");
    assert!(site.join("sw.js").is_file(), "build the hosted site first: make dist");
    let (host, url) = Host::start(site.clone());
    let b = Browser::new(&url);
    network(&b, false);
    let first = visit(&host, &b, "first visit");
    // The service worker caches the shell and the first screen's files as it installs; the
    // second visit is measured once it controls the page.
    let sw = (0..600).find(|_| {
        let v = b.js(
            "return navigator.serviceWorker.controller ? navigator.serviceWorker.controller.state : null",
            vec![],
        );
        if v.as_str() == Some("activated") {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
        false
    });
    let second = visit(&host, &b, "second visit");
    host.down.store(true, Ordering::SeqCst);
    network(&b, true);
    let offline = visit(&host, &b, "offline start");
    let results = json!({
        "throttle": {"down_mbit_s": DOWN_BYTES_PER_S * 8.0 / 1e6, "latency_ms": LATENCY_MS},
        "modules": module_sizes(&site),
        "first_visit": first,
        "service_worker_in_control": sw.is_some(),
        "second_visit": second,
        "offline": offline,
    });
    if let Some(dir) = Path::new(&out).parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&out, serde_json::to_string_pretty(&results).unwrap())
        .expect("write the results");
    println!("wrote {out}");
}
