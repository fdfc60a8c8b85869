//! Drops the symbol names from the browser binaries: the name section was 6.6 MB of the page's
//! 34 MB wasm (1.2 MB of its 5.6 MB gzip) and serves only DevTools stack traces, while every user
//! downloads it. A link argument of our binaries only: burn's build is untouched, and the wasm
//! tests keep their names.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-bins=--strip-all");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
