//! Telling a CPU-emulated GPU adapter from a real one, by the names browsers report, and the
//! faster of two backends from a measurement.

/// True for software WebGPU adapters (SwiftShader, llvmpipe, …): they emulate the GPU on the
/// CPU and are far slower than burn's Flex CPU backend, so the page prefers Flex on them.
pub fn is_software_adapter(name: &str) -> bool {
    let n = name.to_lowercase();
    ["swiftshader", "llvmpipe", "lavapipe", "softpipe", "software", "basic render"]
        .iter()
        .any(|s| n.contains(s))
}

/// Which backend a job runs on after timing a few of its steps on both, and why, in words.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedChoice {
    /// True: WebGPU; false: the CPU.
    pub webgpu: bool,
    /// E.g. "measured WebGPU 3.1 ms/step vs CPU 4.8 ms/step → WebGPU".
    pub why: String,
}

/// The faster of WebGPU (`gpu_ms` per step, `Err` when its steps failed) and the CPU
/// (`cpu_ms`). A tie or an unusable WebGPU timing keeps the CPU: it cannot be lost like a GPU
/// and leaves the GPU to the rest of the machine.
pub fn faster_backend(gpu_ms: Result<f64, String>, cpu_ms: f64) -> TimedChoice {
    let ms = |v: f64| if v < 10.0 { format!("{v:.1}") } else { format!("{v:.0}") };
    match gpu_ms {
        Ok(g) if g.is_finite() && g > 0.0 && cpu_ms.is_finite() => {
            let webgpu = g < cpu_ms;
            TimedChoice {
                webgpu,
                why: format!(
                    "measured WebGPU {} ms/step vs CPU {} ms/step → {}",
                    ms(g),
                    ms(cpu_ms),
                    if webgpu { "WebGPU" } else { "CPU" }
                ),
            }
        }
        Ok(g) => TimedChoice {
            webgpu: false,
            why: format!("measured WebGPU {g} ms/step vs CPU {cpu_ms} ms/step: unusable → CPU"),
        },
        Err(e) => TimedChoice {
            webgpu: false,
            why: format!("WebGPU failed while being measured ({e}) → CPU"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_faster_backend_wins_and_says_why() {
        let c = faster_backend(Ok(3.07), 4.8);
        assert!(c.webgpu);
        assert_eq!(c.why, "measured WebGPU 3.1 ms/step vs CPU 4.8 ms/step → WebGPU");
        let c = faster_backend(Ok(291.0), 2.7);
        assert!(!c.webgpu);
        assert_eq!(c.why, "measured WebGPU 291 ms/step vs CPU 2.7 ms/step → CPU");
        // A tie, a broken timing or a failed GPU keeps the CPU.
        assert!(!faster_backend(Ok(5.0), 5.0).webgpu);
        assert!(!faster_backend(Ok(f64::NAN), 5.0).webgpu);
        assert!(!faster_backend(Ok(0.0), 5.0).webgpu);
        assert!(!faster_backend(Ok(1.0), f64::INFINITY).webgpu);
        let failed = faster_backend(Err("device lost".into()), 5.0);
        assert!(!failed.webgpu && failed.why.contains("device lost"), "{}", failed.why);
    }

    #[test]
    fn known_software_adapters_are_recognised() {
        assert!(is_software_adapter("google swiftshader SwiftShader Device (Subzero)"));
        assert!(is_software_adapter("mesa llvmpipe (LLVM 15.0.6, 256 bits)"));
        assert!(!is_software_adapter("nvidia ampere NVIDIA GeForce RTX 3080"));
        assert!(!is_software_adapter("apple metal-3"));
    }
}
