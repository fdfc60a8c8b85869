//! Times and counts a job's training steps, chunk by chunk: wall-clock milliseconds per step,
//! split into warm-up (the first chunk, and any that compiled a new pipeline) and steady state,
//! and the WebGPU work per step (dispatches, submits, uploads, readbacks, pipelines) that the
//! wrappers in `static/worker-boot.js` count. One meter for the classifier and the GAN loops.

use crate::app::env::now_ms;
use crate::app::worker::protocol::{GpuCounts, StepCost};
use crate::lab::core::kernels::{Kernel, launches};

/// The worker's WebGPU counters now (none where the browser has no WebGPU).
fn gpu_counts() -> Option<GpuCounts> {
    let counts = js_sys::Reflect::get(&js_sys::global(), &"__mnistLabGpu".into()).ok()?;
    if counts.is_undefined() || counts.is_null() {
        return None;
    }
    let get = |name: &str| {
        js_sys::Reflect::get(&counts, &name.into()).ok().and_then(|v| v.as_f64()).unwrap_or(0.0)
    };
    Some(GpuCounts {
        dispatches: get("dispatches"),
        submits: get("submits"),
        uploads: get("uploads"),
        upload_bytes: get("upload_bytes"),
        readbacks: get("readbacks"),
        pipelines: get("pipelines"),
        kernels: Kernel::ALL.into_iter().map(|k| launches(k) as f64).sum(),
    })
}

/// A job's step meter.
pub struct StepMeter {
    /// Count the WebGPU work (the job runs on WebGPU).
    gpu: bool,
    job_start: Option<GpuCounts>,
    chunk_start: (f64, Option<GpuCounts>),
    chunks: usize,
    steady: (f64, usize),
    warmup: (f64, usize),
    cost: StepCost,
}

impl StepMeter {
    /// A meter for a job on WebGPU (`gpu`) or the CPU.
    pub fn new(gpu: bool) -> Self {
        let now = gpu_counts().filter(|_| gpu);
        StepMeter {
            gpu,
            job_start: now,
            chunk_start: (now_ms(), now),
            chunks: 0,
            steady: (0.0, 0),
            warmup: (0.0, 0),
            cost: StepCost::default(),
        }
    }

    /// A chunk of steps begins.
    pub(crate) fn begin(&mut self) {
        self.chunk_start = (now_ms(), gpu_counts().filter(|_| self.gpu));
    }

    /// The chunk of `steps` steps has ended: its milliseconds per step, and the job's cost so far.
    pub(crate) fn end(&mut self, steps: usize) -> (f64, StepCost) {
        let steps = steps.max(1);
        let ms = now_ms() - self.chunk_start.0;
        let (per_step, pipelines) = match (gpu_counts().filter(|_| self.gpu), self.chunk_start.1) {
            (Some(now), Some(before)) => (
                Some(now.per_step(&before, steps)),
                self.job_start.map(|s| now.pipelines - s.pipelines).unwrap_or(0.0),
            ),
            _ => (None, 0.0),
        };
        (ms / steps as f64, self.record(ms, steps, per_step, pipelines))
    }

    /// Adds a chunk: `ms` for `steps` steps, their work per step, and the pipelines the job has
    /// compiled so far. The first chunk, and any that compiled a pipeline, are warm-up.
    pub fn record(
        &mut self,
        ms: f64,
        steps: usize,
        per_step: Option<GpuCounts>,
        pipelines: f64,
    ) -> StepCost {
        let compiled = per_step.is_some_and(|c| c.pipelines > 0.0);
        let bucket = if self.chunks == 0 || compiled { &mut self.warmup } else { &mut self.steady };
        bucket.0 += ms;
        bucket.1 += steps.max(1);
        if per_step.is_some() && (!compiled || self.cost.gpu.is_none()) {
            self.cost.gpu = per_step;
        }
        self.chunks += 1;
        self.cost.pipelines = pipelines;
        let mean = |(total, n): (f64, usize)| (n > 0).then(|| total / n as f64);
        self.cost.steady_ms = mean(self.steady);
        self.cost.steady_steps = self.steady.1;
        self.cost.warmup_ms = mean(self.warmup);
        self.cost.warmup_steps = self.warmup.1;
        self.cost
    }
}
