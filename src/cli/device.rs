//! `--device`: which of burn's backends a command runs on. Flex (pure-Rust CPU) is always
//! built; Vulkan, CUDA and burn's CubeCL CPU backend are cargo features (see Cargo.toml), so
//! the default build stays the fast Flex-only one. A device this binary lacks, or that the
//! machine cannot open, is a sentence naming the feature and the driver it needs.

use burn::tensor::Device;
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};

use crate::lab::core::error::{LabError, LabResult};

/// The backends `--device` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceArg {
    // burn's Flex backend on the CPU (rayon + SIMD), always built.
    Flex,
    // burn's CubeCL CPU backend (MLIR/LLVM kernels): the `cpu` feature.
    Cpu,
    // A Vulkan GPU through wgpu (SPIR-V kernels): the `vulkan` feature.
    Vulkan,
    // An NVIDIA GPU through CUDA: the `cuda` feature.
    Cuda,
}

impl DeviceArg {
    /// The flag's value, as typed.
    pub fn flag(self) -> &'static str {
        match self {
            DeviceArg::Flex => "flex",
            DeviceArg::Cpu => "cpu",
            DeviceArg::Vulkan => "vulkan",
            DeviceArg::Cuda => "cuda",
        }
    }
}

/// The `--device` flag shared by every command that computes.
#[derive(Debug, Clone, Args)]
pub struct DeviceFlag {
    /// The backend: flex (the CPU, always built), or cpu / vulkan / cuda where this binary was
    /// built with that cargo feature (`cargo build --release --features vulkan`).
    #[arg(long = "device", value_enum, default_value_t = DeviceArg::Flex)]
    pub device: DeviceArg,
}

/// An opened device and what to call it in reports ("Vulkan: llvmpipe (LLVM 15.0.6, 256 bits)").
#[derive(Clone)]
pub struct Opened {
    pub device: Device,
    pub name: String,
}

/// Opens `arg`'s device once per process (burn registers a wgpu runtime only once) and checks
/// that it computes, so a missing driver is reported here rather than as a panic mid-run.
pub fn open(arg: DeviceArg) -> LabResult<Opened> {
    match arg {
        DeviceArg::Flex => Ok(Opened { device: Device::flex(), name: "Flex CPU".into() }),
        DeviceArg::Vulkan => vulkan(),
        DeviceArg::Cuda => cuda(),
        DeviceArg::Cpu => cpu(),
    }
}

/// The error for a backend this binary was built without.
#[allow(dead_code)] // unused in a build with every feature
fn not_built(arg: DeviceArg, needs: &str) -> LabError {
    LabError::Device(format!(
        "this mnist-lab was built without the `{0}` feature, so --device {0} is unavailable: \
         rebuild with `cargo build --release --features {0}` ({needs})",
        arg.flag()
    ))
}

const VULKAN_NEEDS: &str = "at run time it needs a Vulkan driver: on Debian `libvulkan1` with \
    your GPU vendor's driver, or `mesa-vulkan-drivers` for lavapipe, a CPU one";
const CUDA_NEEDS: &str = "its build downloads an LLVM bundle from GitHub (cubecl-cuda compiles \
    kernels with LLVM's NVPTX back end); at run time it needs an NVIDIA GPU with NVIDIA's driver \
    (libcuda.so) and NVRTC (libnvrtc.so, from the CUDA toolkit)";
const CPU_NEEDS: &str = "its build downloads an LLVM bundle from GitHub, so it needs a network \
    that reaches GitHub at build time";

#[cfg(feature = "vulkan")]
fn vulkan() -> LabResult<Opened> {
    use std::sync::OnceLock;

    use burn::tensor::wgpu::WgpuBackend;
    static OPENED: OnceLock<Result<Opened, String>> = OnceLock::new();
    OPENED
        .get_or_init(|| {
            let (device, setup) = Device::wgpu_options()
                .graphics_api(WgpuBackend::Vulkan)
                .init_with_setup()
                .map_err(|e| format!("no Vulkan device could be opened ({e}); {VULKAN_NEEDS}"))?;
            let info = setup.adapter.get_info();
            let opened =
                Opened { device, name: format!("Vulkan: {} ({})", info.name, info.driver) };
            probe(&opened.device)
                .map_err(|e| format!("the Vulkan device failed ({e}); {VULKAN_NEEDS}"))?;
            Ok(opened)
        })
        .clone()
        .map_err(LabError::Device)
}

#[cfg(not(feature = "vulkan"))]
fn vulkan() -> LabResult<Opened> {
    Err(not_built(DeviceArg::Vulkan, VULKAN_NEEDS))
}

#[cfg(feature = "cuda")]
fn cuda() -> LabResult<Opened> {
    let device = Device::cuda(0);
    probe(&device).map_err(|e| LabError::Device(format!("no CUDA device ({e}); {CUDA_NEEDS}")))?;
    Ok(Opened { device, name: "CUDA: device 0".into() })
}

#[cfg(not(feature = "cuda"))]
fn cuda() -> LabResult<Opened> {
    Err(not_built(DeviceArg::Cuda, CUDA_NEEDS))
}

#[cfg(feature = "cpu")]
fn cpu() -> LabResult<Opened> {
    let device = Device::cpu();
    probe(&device).map_err(|e| LabError::Device(format!("the CubeCL CPU device failed ({e})")))?;
    Ok(Opened { device, name: "CubeCL CPU (MLIR)".into() })
}

#[cfg(not(feature = "cpu"))]
fn cpu() -> LabResult<Opened> {
    Err(not_built(DeviceArg::Cpu, CPU_NEEDS))
}

/// One small computation read back: burn opens GPU runtimes lazily and panics when the driver
/// is missing, so the panic is caught here, once, and turned into the caller's sentence.
#[allow(dead_code)] // unused in the Flex-only build
fn probe(device: &Device) -> Result<(), String> {
    use burn::tensor::Tensor;
    let device = device.clone();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {})); // the message comes back through catch_unwind
    let result = std::panic::catch_unwind(move || {
        let t = Tensor::<1>::from_floats([1.0, 2.0, 3.0], &device);
        t.sum().into_data().try_to_vec::<f32>().map(|v| v[0])
    });
    std::panic::set_hook(hook);
    match result {
        Ok(Ok(6.0)) => Ok(()),
        Ok(Ok(v)) => Err(format!("1 + 2 + 3 came back as {v}")),
        Ok(Err(e)) => Err(format!("{e:?}")),
        Err(panic) => Err(panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "it panicked".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flex_always_opens_and_computes() {
        let opened = open(DeviceArg::Flex).unwrap();
        assert_eq!(opened.name, "Flex CPU");
        probe(&opened.device).unwrap();
    }

    #[cfg(not(any(feature = "cuda", feature = "cpu")))]
    #[test]
    fn a_backend_not_built_names_its_feature_and_driver() {
        let e = open(DeviceArg::Cuda).err().unwrap().to_string();
        assert!(e.contains("--features cuda") && e.contains("libcuda.so"), "{e}");
        let e = open(DeviceArg::Cpu).err().unwrap().to_string();
        assert!(e.contains("--features cpu") && e.contains("GitHub"), "{e}");
    }
}
