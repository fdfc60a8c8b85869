//! Drops the symbol names from the browser binaries: the name section was 6.6 MB of the page's
//! 34 MB wasm (1.2 MB of its 5.6 MB gzip) and serves only DevTools stack traces, while every user
//! downloads it. A link argument of our binaries only: burn's build is untouched, and the wasm
//! tests keep their names.
///
/// `cube_kernels`: our GPU kernels (src/lab/core/kernels/) are built where burn runs on a CubeCL
/// device — WebGPU in the workers' module, Vulkan through wgpu natively — so that both driver
/// stacks run them and their tests (#34).
fn main() {
    let wasm = std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32");
    if wasm {
        println!("cargo:rustc-link-arg-bins=--strip-all");
    }
    let feature = |name: &str| std::env::var_os(format!("CARGO_FEATURE_{name}")).is_some();
    println!("cargo::rustc-check-cfg=cfg(cube_kernels)");
    if (wasm && feature("WEBGPU")) || (!wasm && feature("VULKAN")) {
        println!("cargo:rustc-cfg=cube_kernels");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
