//! End-to-end test support: a static file server for `dist/` on 127.0.0.1 and a small WebDriver
//! client driving Debian's headless Chromium (with WebGPU from SwiftShader) through chromedriver.

#![allow(dead_code)] // each test binary and example that includes this module uses a part of it

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The shortest deadline [`Browser::wait_for`] allows.
const MIN_WAIT_S: u64 = 30;

/// Serves `root` on an ephemeral loopback port; returns the base URL. Runs for the whole test
/// process (threads die with it).
pub fn serve_dir(root: PathBuf) -> String {
    serve_dir_at(root, "")
}

/// Serves `root` under the URL prefix `prefix` (e.g. `/sub/app`), as a static host serves a
/// project page; anything outside the prefix is a 404. Returns the base URL (without prefix).
pub fn serve_dir_at(root: PathBuf, prefix: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let root = root.clone();
            std::thread::spawn(move || {
                let _ = handle(stream, &root, prefix);
            });
        }
    });
    format!("http://{addr}")
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript",
        "wasm" => "application/wasm",
        "css" => "text/css",
        "json" => "application/json",
        "png" => "image/png",
        "gz" => "application/gzip",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// The value after `name` in a benchmark example's arguments (`--out FILE`). The examples are
/// dev tools with two or three flags each; the CLI proper uses clap.
pub fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

/// Every request the test servers answered: (ms since the Unix epoch, path), for tests that
/// assert what was fetched when (the browser's `performance.timeOrigin` is on the same clock).
static REQUESTS: std::sync::Mutex<Vec<(f64, String)>> = std::sync::Mutex::new(Vec::new());

/// The requests answered so far (see [`REQUESTS`]).
pub fn requests() -> Vec<(f64, String)> {
    REQUESTS.lock().unwrap().clone()
}

fn epoch_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1e3)
        .unwrap_or(0.0)
}

fn handle(stream: TcpStream, root: &Path, prefix: &str) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
    }
    let target = line.split_whitespace().nth(1).unwrap_or("/");
    let full = target.split('?').next().unwrap_or("/");
    REQUESTS.lock().unwrap().push((epoch_ms(), full.to_string()));
    let inside = full.strip_prefix(prefix).filter(|rest| rest.is_empty() || rest.starts_with('/'));
    let path = inside.unwrap_or("/..").trim_start_matches('/');
    let mut file = root.join(if path.is_empty() { "index.html" } else { path });
    if file.is_dir() {
        file = file.join("index.html");
    }
    let mut out = stream;
    // Servers that lie about their files, for the download bounds' tests: one announces 3 GB,
    // one announces 1000 bytes and sends 100.
    if let Some(lie) = path.strip_prefix("__lie/") {
        let (announced, sent) =
            if lie.starts_with("huge") { (3_000_000_000u64, 64) } else { (1000, 100) };
        write!(
            out,
            "HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\nContent-Length: {announced}\r\nConnection: close\r\n\r\n"
        )?;
        out.write_all(&vec![0u8; sent])?;
        return Ok(());
    }
    // A stand-in for the app's wasm glue, for worker-boot.js's origin check: it tries to fetch
    // from another origin and posts what happened.
    if path == "__probe/fetch-elsewhere.js" {
        let body = "export default async function () {}\n\
export function worker_entry() {\n\
  fetch('https://example.invalid/data.gz').then(() => postMessage('fetched'), e => postMessage('refused: ' + e.message));\n\
}\n";
        write!(
            out,
            "HTTP/1.1 200 OK\r\nContent-Type: text/javascript\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
        return Ok(());
    }
    let safe = !path.split('/').any(|c| c == "..");
    match std::fs::read(&file) {
        Ok(body) if safe => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                content_type(&file),
                body.len()
            )?;
            out.write_all(&body)?;
        }
        _ => {
            let body = b"not found";
            write!(
                out,
                "HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            out.write_all(body)?;
        }
    }
    out.flush()
}

/// The crate's `dist/` (built by `make test` with trunk before this test runs).
pub fn dist_dir() -> PathBuf {
    let dir = std::env::var_os("MNIST_LAB_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("dist"));
    assert!(
        dir.join("index.html").is_file(),
        "{} has no index.html: build the page first (`make test` runs `trunk build --release`)",
        dir.display()
    );
    dir
}

/// Where screenshots go, for humans to look at.
pub fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("e2e");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(600)))
        .build()
        .into()
}

/// One chromedriver for the whole test binary, ended with it. It is started from a thread that
/// lives as long as the process, and the kernel kills it when that thread ends
/// (`PR_SET_PDEATHSIG`), so a failed or interrupted run leaves no chromedriver behind (a
/// `static` is never dropped). It picks its own port (`--port=0`) and says which: no other
/// process can take the port between our choosing it and chromedriver binding it.
fn driver() -> &'static str {
    static DRIVER: OnceLock<String> = OnceLock::new();
    DRIVER.get_or_init(|| {
        let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut command = Command::new(&bin);
            command.arg("--port=0").stdout(Stdio::piped()).stderr(Stdio::null());
            // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                use std::os::unix::process::CommandExt;
                command.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            let mut child = match command.spawn() {
                Ok(child) => child,
                Err(e) => {
                    let _ = tx.send(Err(format!(
                        "could not start {bin} ({e}); `make test` installs chromium-driver"
                    )));
                    return;
                }
            };
            let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
            // "ChromeDriver was started successfully on port 41269." (an earlier line says port 0)
            let port = lines.by_ref().map_while(Result::ok).find_map(|line| {
                let (_, rest) = line.split_once("started successfully on port ")?;
                rest.trim_end_matches('.').trim().parse::<u16>().ok()
            });
            let _ = tx.send(port.ok_or_else(|| format!("{bin} exited without naming its port")));
            // Drain its log so the pipe never fills, then stay: this thread's end kills it.
            lines.for_each(drop);
            loop {
                std::thread::park();
            }
        });
        let port = rx.recv().expect("the driver thread answers").unwrap_or_else(|e| panic!("{e}"));
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while agent().get(format!("{url}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not answer on {url}");
            std::thread::sleep(Duration::from_millis(100));
        }
        url
    })
}

/// A browser session (one fresh Chromium profile), closed on drop.
pub struct Browser {
    base: String,
    /// Base URL of the served `dist/`.
    pub site: String,
    profile: PathBuf,
}

/// A WebDriver element reference.
#[derive(Clone, Debug)]
pub struct Element(String);

/// The WebDriver id of an element, to pass it to `Browser::js` as an argument.
pub fn element_id(e: &Element) -> &str {
    &e.0
}

impl Browser {
    /// Starts headless Chromium with WebGPU enabled and opens nothing yet.
    pub fn new(site: &str) -> Browser {
        let profile = std::env::temp_dir().join(format!(
            "mnist-lab-e2e-{}-{}",
            std::process::id(),
            free_port()
        ));
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless", "--no-sandbox", "--enable-unsafe-webgpu", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                         "--window-size=1280,1800", format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let v = post(&format!("{}/session", driver()), caps);
        let id = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {v}"))
            .to_string();
        let b =
            Browser { base: format!("{}/session/{id}", driver()), site: site.to_string(), profile };
        b.cmd("timeouts", json!({"script": 600_000, "pageLoad": 120_000, "implicit": 0}));
        b
    }

    fn cmd(&self, path: &str, body: Value) -> Value {
        post(&format!("{}/{path}", self.base), body)
    }

    fn get(&self, path: &str) -> Value {
        let mut resp = agent().get(format!("{}/{path}", self.base)).call().expect("WebDriver GET");
        let v: Value = resp.body_mut().read_json().expect("WebDriver JSON");
        v["value"].clone()
    }

    /// Sets the window's size (headless: the viewport's), e.g. a phone's 390×844.
    pub fn set_window(&self, width: u32, height: u32) {
        self.cmd("window/rect", json!({"width": width, "height": height}));
    }

    /// Opens a page of the site, e.g. `/?backend=cpu`.
    pub fn open(&self, path: &str) {
        self.cmd("url", json!({"url": format!("{}{}", self.site, path)}));
    }

    /// Runs JavaScript in the page and returns its result.
    pub fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.cmd("execute/sync", json!({"script": script, "args": args}))
    }

    /// A Chrome DevTools Protocol command (profiling, tracing) through chromedriver.
    pub fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.cmd("goog/cdp/execute", json!({"cmd": cmd, "params": params}))
    }

    /// The first element matching a `data-testid`, if any.
    pub fn find(&self, testid: &str) -> Option<Element> {
        let v = self.cmd(
            "element",
            json!({"using": "css selector", "value": format!("[data-testid=\"{testid}\"]")}),
        );
        // A hit is `{"element-6066-…": id}`; a miss is `{"error": "no such element", …}`.
        v.get("element-6066-11e4-a52e-4f735466cecf")?.as_str().map(|s| Element(s.to_string()))
    }

    /// Waits up to `secs` for `pred` to hold, polling; panics with `what` and the last value.
    pub fn wait_for<T: std::fmt::Debug>(
        &self,
        secs: u64,
        what: &str,
        mut probe: impl FnMut(&Browser) -> Option<T>,
    ) -> T {
        // A deadline bounds a hang; it is not a speed claim. On a loaded 2-core machine a page
        // update can take seconds while a worker saturates both cores, so none is shorter than
        // `MIN_WAIT_S` (a test that passes returns as soon as its event happens).
        let secs = secs.max(MIN_WAIT_S);
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(v) = probe(self) {
                return v;
            }
            if Instant::now() > deadline {
                self.screenshot(&format!("timeout-{}", what.replace(' ', "-")));
                panic!(
                    "timed out after {secs}s waiting for {what}; page text:\n{}",
                    self.text_of_page()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Text of an element found by `data-testid` (empty when missing).
    pub fn text(&self, testid: &str) -> String {
        self.js(
            "const e = document.querySelector(`[data-testid=\"${arguments[0]}\"]`); return e ? e.innerText : '';",
            vec![json!(testid)],
        )
        .as_str()
        .unwrap_or("")
        .to_string()
    }

    /// Text of the first element matching a CSS selector (empty when missing).
    pub fn text_in(&self, selector: &str) -> String {
        self.js(
            "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';",
            vec![json!(selector)],
        )
        .as_str()
        .unwrap_or("")
        .to_string()
    }

    /// An attribute of an element found by a CSS selector (`None` when missing).
    pub fn attr(&self, selector: &str, name: &str) -> Option<String> {
        self.js(
            "const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null;",
            vec![json!(selector), json!(name)],
        )
        .as_str()
        .map(str::to_string)
    }

    /// The whole page's visible text (for failure messages).
    pub fn text_of_page(&self) -> String {
        self.js("return document.body ? document.body.innerText : ''", vec![])
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Shows the view an element lives in, as a user would before touching it: when its view
    /// (`[data-view]`) is hidden, clicks that view's tab (`view-NAME`) and waits until it shows.
    /// Only elements in hidden views move the page; a tab that does not show its view fails.
    pub fn reveal(&self, e: &Element) {
        let hidden = self.js(
            "const v = arguments[0].closest('[data-view]'); return v && v.hidden ? v.dataset.view : null;",
            vec![json!({"element-6066-11e4-a52e-4f735466cecf": e.0})],
        );
        let Some(view) = hidden.as_str() else { return };
        let tab = self
            .find(&format!("view-{view}"))
            .unwrap_or_else(|| panic!("no tab for the view {view}"));
        self.cmd(&format!("element/{}/click", tab.0), json!({}));
        self.wait_for(10, &format!("the {view} view"), |b| {
            b.js(
                "const v = document.querySelector(`[data-view=\"${arguments[0]}\"]`); return !!v && !v.hidden;",
                vec![json!(view)],
            )
            .as_bool()
            .filter(|shown| *shown)
        });
    }

    /// Clicks an element (after showing its view).
    pub fn click(&self, e: &Element) {
        self.reveal(e);
        let v = self.cmd(&format!("element/{}/click", e.0), json!({}));
        assert!(v.is_null() || v.get("error").is_none(), "WebDriver refused the click: {v}");
    }

    /// Types into an element (after showing its view; a file input takes a path).
    pub fn send_keys(&self, e: &Element, text: &str) {
        self.reveal(e);
        let v = self.cmd(&format!("element/{}/value", e.0), json!({"text": text}));
        assert!(v.is_null() || v.get("error").is_none(), "WebDriver refused the keys: {v}");
    }

    /// Draws a stroke through `points` (offsets from the element's centre) with a pointer of
    /// `kind` ("mouse", "pen" or "touch"), via WebDriver's pointer actions.
    pub fn stroke(&self, e: &Element, kind: &str, points: &[(i64, i64)]) {
        self.reveal(e);
        let origin = json!({"element-6066-11e4-a52e-4f735466cecf": e.0});
        let mut actions = vec![
            json!({"type": "pointerMove", "duration": 0, "origin": origin, "x": points[0].0, "y": points[0].1}),
            json!({"type": "pointerDown", "button": 0}),
        ];
        for &(x, y) in &points[1..] {
            actions.push(
                json!({"type": "pointerMove", "duration": 30, "origin": origin, "x": x, "y": y}),
            );
        }
        actions.push(json!({"type": "pointerUp", "button": 0}));
        self.cmd("actions", json!({"actions": [{"type": "pointer", "id": "p1", "parameters": {"pointerType": kind}, "actions": actions}]}));
    }

    /// Focuses an element (after showing its view) and presses `keys` on the keyboard, one
    /// after the other (WebDriver key codes, e.g. "\u{E014}" for ArrowRight), as real key events.
    pub fn press_keys(&self, e: &Element, keys: &str) {
        self.reveal(e);
        self.js("arguments[0].focus()", vec![json!({"element-6066-11e4-a52e-4f735466cecf": e.0})]);
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|k| {
                [
                    json!({"type": "keyDown", "value": k.to_string()}),
                    json!({"type": "keyUp", "value": k.to_string()}),
                ]
            })
            .collect();
        self.cmd("actions", json!({"actions": [{"type": "key", "id": "k1", "actions": actions}]}));
    }

    /// Sets an `<input>`'s value and fires `input`, as a user dragging a slider would.
    pub fn set_input(&self, testid: &str, value: &str) {
        self.js(
            "const e = document.querySelector(`[data-testid=\"${arguments[0]}\"]`); e.value = arguments[1]; \
             e.dispatchEvent(new Event('input', {bubbles: true}));",
            vec![json!(testid), json!(value)],
        );
    }

    /// True when the element is enabled.
    pub fn enabled(&self, e: &Element) -> bool {
        self.get(&format!("element/{}/enabled", e.0)).as_bool().unwrap_or(false)
    }

    /// Saves a PNG screenshot under `target/e2e/NAME.png`.
    pub fn screenshot(&self, name: &str) {
        if let Some(b64) = self.get("screenshot").as_str() {
            let _ =
                std::fs::write(screenshot_dir().join(format!("{name}.png")), base64_decode(b64));
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = agent().delete(&self.base).call();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn post(url: &str, body: Value) -> Value {
    let mut resp =
        agent().post(url).send_json(&body).unwrap_or_else(|e| panic!("WebDriver POST {url}: {e}"));
    let mut text = String::new();
    resp.body_mut().as_reader().read_to_string(&mut text).expect("WebDriver body");
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("WebDriver sent non-JSON ({e}): {text}"));
    v["value"].clone()
}

/// Standard base64 (no external crate for one screenshot).
fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for v in s.bytes().filter_map(val) {
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// Frame timing on the page's main thread over `secs` seconds: gaps between animation frames and
/// the browser's own long-task entries (the Long Tasks API: tasks over 50 ms). A measurement
/// window, shared by the e2e test (which bounds the longest task) and `make bench` (frame gaps).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Frames {
    pub frames: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub long_tasks: usize,
    pub longest_task_ms: f64,
}

pub fn measure_frames(b: &Browser, secs: u64) -> Frames {
    b.js(
        "const gaps = [], long = [], run = (window.__run = (window.__run || 0) + 1);
         window.__gaps = gaps; window.__long = long;
         new PerformanceObserver(l => { for (const e of l.getEntries()) long.push(e.duration); }).observe({type: 'longtask'});
         let last = performance.now();
         const tick = t => { gaps.push(t - last); last = t; if (window.__run === run) requestAnimationFrame(tick); };
         requestAnimationFrame(tick);",
        vec![],
    );
    // A measurement window (frames counted over `secs`), not a wait standing in for an event.
    std::thread::sleep(Duration::from_secs(secs));
    let v = b.js("return [window.__gaps.slice(1), window.__long]", vec![]);
    let mut gaps: Vec<f64> = v[0].as_array().unwrap().iter().filter_map(|x| x.as_f64()).collect();
    let long: Vec<f64> = v[1].as_array().unwrap().iter().filter_map(|x| x.as_f64()).collect();
    gaps.sort_by(|a, b| a.total_cmp(b));
    let pick = |q: f64| {
        gaps.get(((gaps.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(f64::NAN)
    };
    Frames {
        frames: gaps.len(),
        p50_ms: pick(0.5),
        p99_ms: pick(0.99),
        max_ms: gaps.last().copied().unwrap_or(f64::NAN),
        long_tasks: long.len(),
        longest_task_ms: long.iter().copied().fold(0.0, f64::max),
    }
}
