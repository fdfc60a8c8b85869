//! Telling a CPU-emulated GPU adapter from a real one, by the names browsers report.

/// True for software WebGPU adapters (SwiftShader, llvmpipe, …): they emulate the GPU on the
/// CPU and are far slower than burn's Flex CPU backend, so the page prefers Flex on them.
pub fn is_software_adapter(name: &str) -> bool {
    let n = name.to_lowercase();
    ["swiftshader", "llvmpipe", "lavapipe", "softpipe", "software", "basic render"]
        .iter()
        .any(|s| n.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_software_adapters_are_recognised() {
        assert!(is_software_adapter("google swiftshader SwiftShader Device (Subzero)"));
        assert!(is_software_adapter("mesa llvmpipe (LLVM 15.0.6, 256 bits)"));
        assert!(!is_software_adapter("nvidia ampere NVIDIA GeForce RTX 3080"));
        assert!(!is_software_adapter("apple metal-3"));
    }
}
