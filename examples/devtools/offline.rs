//! The hosted build's offline copy (#18 item 3): `harden-dist` fills in the service worker's
//! manifest — the shell's files and version, every data and model file's SHA-256 (the data
//! sets' from `scripts/data.sha256`, checked against the files shipped), the first screen's
//! files to cache at install — and registers the worker from `init.js`, with a banner that
//! says when the page runs offline. The worker itself is `static/sw.js`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use mnist_lab::lab::core::error::{LabError, LabResult};
use mnist_lab::lab::core::hex::encode as hex;

/// Where the manifest goes in `sw.js`: the whole line is rewritten, so a second run replaces it.
const MANIFEST_LINE: &str = "const MANIFEST = ";

/// The first screen's files (the pretrained classifier, MNIST's test set for the slider, the
/// previews, the dense generator): cached when the worker installs, so that a second visit opens
/// offline although the first fetched them before the worker was in control.
const FIRST: [&str; 7] = [
    "data/mnist/t10k-images-idx3-ubyte.gz",
    "data/mnist/t10k-labels-idx1-ubyte.gz",
    "data/mnist/preview.json",
    "data/fashion-mnist/preview.json",
    "models/mlp-784-100-50-10.safetensors",
    "models/mlp-784-100-50-10.history.json",
    "models/gan-dense-generator.safetensors",
];

/// Appended once to `init.js`.
const REGISTER: &str = "\n// Offline copy (the hosted build's service worker, sw.js) and the banner saying when the page runs from it.
// Registered once the first screen works (the page fires mnist-lab-interactive), so that its
// install's downloads (the workers' module among them) never compete with the first screen's.
if ('serviceWorker' in navigator) {
  addEventListener('mnist-lab-interactive', () => {
    navigator.serviceWorker.register('./sw.js').catch(e => console.warn('MNIST Lab: no offline copy:', e));
  }, { once: true });
}
const mnistLabOffline = () => {
  let banner = document.querySelector('[data-testid=offline-banner]');
  if (navigator.onLine) { if (banner) banner.remove(); return; }
  if (banner) return;
  banner = document.createElement('div');
  banner.dataset.testid = 'offline-banner';
  banner.className = 'offline-banner';
  banner.setAttribute('role', 'status');
  banner.textContent = 'Offline: MNIST Lab runs from this browser\\'s copy. Everything opened here before works; a data set never downloaded on this browser cannot load until you are back online.';
  document.body.prepend(banner);
};
addEventListener('online', mnistLabOffline);
addEventListener('offline', mnistLabOffline);
mnistLabOffline();
";

#[derive(Serialize)]
struct Hash {
    sha256: String,
    gzip: bool,
}

#[derive(Serialize)]
struct Manifest {
    version: String,
    shell: Vec<String>,
    hashes: BTreeMap<String, Hash>,
    first: Vec<String>,
}

fn err(msg: String) -> LabError {
    LabError::InvalidConfig(msg)
}

fn read(path: &Path) -> LabResult<Vec<u8>> {
    std::fs::read(path).map_err(|e| err(format!("cannot read {}: {e}", path.display())))
}

/// Every file under `dir`, as paths relative to `root` with `/` separators.
fn files_under(root: &Path, dir: &str, out: &mut Vec<String>) -> LabResult<()> {
    let path = root.join(dir);
    let entries = std::fs::read_dir(&path)
        .map_err(|e| err(format!("cannot list {}: {e}", path.display())))?;
    for e in entries.flatten() {
        let rel = format!("{dir}/{}", e.file_name().to_string_lossy());
        if e.path().is_dir() {
            files_under(root, &rel, out)?;
        } else {
            out.push(rel);
        }
    }
    Ok(())
}

/// `data.sha256`'s lines ("<hex>  mnist/train-images-idx3-ubyte") by path.
fn data_sums(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once("  "))
        .map(|(sum, path)| (path.trim().to_string(), sum.trim().to_string()))
        .collect()
}

/// Fills in `dir/sw.js`'s manifest and registers it from `dir/init.js` (both idempotent).
pub fn offline_copy(dir: &Path, data_sha256: &Path) -> LabResult<()> {
    let sums = data_sums(&String::from_utf8_lossy(&read(data_sha256)?));
    let mut hashes = BTreeMap::new();
    let mut files = Vec::new();
    for sub in ["data", "models"] {
        if dir.join(sub).is_dir() {
            files_under(dir, sub, &mut files)?;
        }
    }
    for rel in files {
        let bytes = read(&dir.join(&rel))?;
        let listed = rel.strip_prefix("data/").and_then(|r| r.strip_suffix(".gz"));
        let hash = match listed {
            Some(name) => {
                let sum = sums.get(name).ok_or_else(|| {
                    err(format!("{rel} is not listed in {}", data_sha256.display()))
                })?;
                let mut raw = Vec::new();
                flate2::read::GzDecoder::new(&bytes[..])
                    .read_to_end(&mut raw)
                    .map_err(|e| err(format!("{rel} does not decompress: {e}")))?;
                if hex(&Sha256::digest(&raw)) != *sum {
                    return Err(err(format!(
                        "{rel} does not match {} (run `make data`)",
                        data_sha256.display()
                    )));
                }
                Hash { sha256: sum.clone(), gzip: true }
            }
            None => Hash { sha256: hex(&Sha256::digest(&bytes)), gzip: false },
        };
        hashes.insert(rel, hash);
    }
    // The shell: the site's top-level files (page, start-up script, wasm and its glue, styles,
    // the workers' boot script); its version is their content's hash.
    let mut shell = Vec::new();
    let mut version = Sha256::new();
    let mut top: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| err(format!("cannot list {}: {e}", dir.display())))?
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n != "sw.js" && n != "_headers")
        .collect();
    top.sort();
    let init = dir.join("init.js");
    let mut init_js = String::from_utf8_lossy(&read(&init)?).to_string();
    if !init_js.contains("serviceWorker") {
        init_js.push_str(REGISTER);
        std::fs::write(&init, &init_js).map_err(|e| err(format!("cannot write init.js: {e}")))?;
    }
    for name in top {
        version.update(name.as_bytes());
        version.update(read(&dir.join(&name))?);
        shell.push(name);
    }
    let first = FIRST.iter().filter(|f| hashes.contains_key(**f)).map(|f| f.to_string()).collect();
    let manifest = Manifest { version: hex(&version.finalize()[..8]), shell, hashes, first };
    let sw = dir.join("sw.js");
    let text = String::from_utf8_lossy(&read(&sw)?).to_string();
    let json = serde_json::to_string(&manifest).expect("a manifest serialises");
    let mut replaced = false;
    let out: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with(MANIFEST_LINE) {
                replaced = true;
                format!("{MANIFEST_LINE}{json};")
            } else {
                l.to_string()
            }
        })
        .collect();
    if !replaced {
        return Err(err(format!("{} has no `{MANIFEST_LINE}…` line", sw.display())));
    }
    std::fs::write(&sw, out.join("\n") + "\n").map_err(|e| err(format!("cannot write sw.js: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn site(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("mnist-lab-offline-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("data/mnist")).unwrap();
        std::fs::create_dir_all(dir.join("models")).unwrap();
        std::fs::write(dir.join("index.html"), "<html></html>").unwrap();
        std::fs::write(dir.join("init.js"), "import init from './x.js';\n").unwrap();
        std::fs::write(dir.join("sw.js"), "'use strict';\nconst MANIFEST = {/* MANIFEST */};\n")
            .unwrap();
        std::fs::write(dir.join("data/mnist/t10k-labels-idx1-ubyte.gz"), gz(b"labels")).unwrap();
        std::fs::write(dir.join("models/m.safetensors"), b"weights").unwrap();
        let sums = format!("{}  mnist/t10k-labels-idx1-ubyte\n", hex(&Sha256::digest(b"labels")));
        std::fs::write(dir.join("sums"), sums).unwrap();
        dir
    }

    fn manifest(dir: &Path) -> serde_json::Value {
        let sw = std::fs::read_to_string(dir.join("sw.js")).unwrap();
        let line = sw.lines().find(|l| l.starts_with(MANIFEST_LINE)).unwrap();
        serde_json::from_str(line[MANIFEST_LINE.len()..].trim_end_matches(';')).unwrap()
    }

    #[test]
    fn the_manifest_lists_the_shell_and_every_file_with_its_hash() {
        let dir = site("manifest");
        offline_copy(&dir, &dir.join("sums")).unwrap();
        let m = manifest(&dir);
        assert_eq!(m["shell"], serde_json::json!(["index.html", "init.js", "sums"]));
        let labels = &m["hashes"]["data/mnist/t10k-labels-idx1-ubyte.gz"];
        assert_eq!(labels["gzip"], true);
        assert_eq!(labels["sha256"], hex(&Sha256::digest(b"labels")));
        assert_eq!(m["hashes"]["models/m.safetensors"]["sha256"], hex(&Sha256::digest(b"weights")));
        assert_eq!(m["first"], serde_json::json!(["data/mnist/t10k-labels-idx1-ubyte.gz"]));
        let init = std::fs::read_to_string(dir.join("init.js")).unwrap();
        assert!(init.contains("register('./sw.js')") && init.contains("offline-banner"));
        // Idempotent, and a changed shell is a new version.
        let version = m["version"].clone();
        offline_copy(&dir, &dir.join("sums")).unwrap();
        assert_eq!(manifest(&dir)["version"], version);
        assert_eq!(std::fs::read_to_string(dir.join("init.js")).unwrap(), init);
        std::fs::write(dir.join("index.html"), "<html>v2</html>").unwrap();
        offline_copy(&dir, &dir.join("sums")).unwrap();
        assert_ne!(manifest(&dir)["version"], version);
    }

    #[test]
    fn a_data_file_that_does_not_match_data_sha256_is_refused() {
        let dir = site("refused");
        std::fs::write(dir.join("data/mnist/t10k-labels-idx1-ubyte.gz"), gz(b"altered")).unwrap();
        let e = offline_copy(&dir, &dir.join("sums")).unwrap_err().to_string();
        assert!(e.contains("does not match") && e.contains("make data"), "{e}");
        std::fs::write(dir.join("data/mnist/extra.gz"), gz(b"x")).unwrap();
        std::fs::write(dir.join("data/mnist/t10k-labels-idx1-ubyte.gz"), gz(b"labels")).unwrap();
        let e = offline_copy(&dir, &dir.join("sums")).unwrap_err().to_string();
        assert!(e.contains("extra.gz is not listed"), "{e}");
    }
}
