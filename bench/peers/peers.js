// MNIST Lab's peer benchmark: the same 784-100-50-10 MLP training step (ReLU, softmax
// cross-entropy, Adam lr 1e-3, batch 128, float32) written the idiomatic way in another in-browser
// framework, timed and its WebGPU work counted on the same adapter as MNIST Lab's own numbers.
// `examples/bench_peers.rs` opens `index.html?framework=NAME` once per framework in a fresh
// browser and reads `window.__peerResult` (or `window.__peerError`).
//
// Every import is dynamic: the WebGPU counters below must wrap the prototypes before a framework
// module runs (static imports would be evaluated first).

// The counters, exactly as MNIST Lab's worker installs them (static/worker-boot.js).
const gpu = { dispatches: 0, submits: 0, uploads: 0, upload_bytes: 0, readbacks: 0, pipelines: 0 };
self.__peerGpu = gpu;
const wrap = (cls, name, count) => {
  const proto = self[cls]?.prototype;
  const inner = proto?.[name];
  if (typeof inner !== "function") return;
  proto[name] = function (...args) {
    count(...args);
    return inner.apply(this, args);
  };
};
const bytesOf = (data, offset, size) => {
  const unit = data?.BYTES_PER_ELEMENT ?? 1;
  if (size !== undefined) return size * unit;
  return (data?.byteLength ?? 0) - (offset ?? 0) * unit;
};
wrap("GPUComputePassEncoder", "dispatchWorkgroups", () => gpu.dispatches++);
wrap("GPUComputePassEncoder", "dispatchWorkgroupsIndirect", () => gpu.dispatches++);
wrap("GPUQueue", "submit", () => gpu.submits++);
wrap("GPUQueue", "writeBuffer", (_b, _at, data, offset, size) => {
  gpu.uploads++;
  gpu.upload_bytes += bytesOf(data, offset, size);
});
wrap("GPUDevice", "createBuffer", (desc) => {
  if (desc?.mappedAtCreation) {
    gpu.uploads++;
    gpu.upload_bytes += desc.size ?? 0;
  }
});
wrap("GPUBuffer", "mapAsync", () => gpu.readbacks++);
wrap("GPUDevice", "createComputePipeline", () => gpu.pipelines++);
wrap("GPUDevice", "createComputePipelineAsync", () => gpu.pipelines++);

const NM = "./node_modules/";
const SIZES = [784, 100, 50, 10];
const BATCH = 128;
const LR = 1e-3;
const BETA1 = 0.9;
const BETA2 = 0.999;
// optax's and PyTorch's default (TF.js would default to 1e-7): the same update in both.
const EPS = 1e-8;

const query = new URL(location.href).searchParams;
const framework = query.get("framework") ?? "jaxjs";
const warmupSteps = Number(query.get("warmup") ?? 5);
const steadySteps = Number(query.get("steps") ?? 30);

const status = (text) => {
  const el = document.getElementById("status");
  if (el) el.textContent = text;
};

// Console errors and warnings go into the result: they say why a backend fell back or failed.
const consoleLines = [];
for (const level of ["error", "warn"]) {
  const inner = console[level].bind(console);
  console[level] = (...args) => {
    if (consoleLines.length < 20) consoleLines.push(`${level}: ${args.map(String).join(" ").slice(0, 300)}`);
    inner(...args);
  };
}

const fail = (error) => {
  if (self.__peerResult || self.__peerError) return;
  const message = String(error?.stack ?? error?.message ?? error);
  self.__peerError = message;
  self.__peerResult = { error: message, framework, console: consoleLines };
  status(`failed: ${message}`);
};
self.addEventListener("error", (e) => fail(e.error ?? e.message));
self.addEventListener("unhandledrejection", (e) => fail(e.reason));

/** mulberry32: a seeded PRNG, so both frameworks start from the same weights and batch. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The shared problem: weights uniform in ±1/sqrt(fan_in) (PyTorch's nn.Linear), a batch of
 * pixels in [0, 1) and one-hot random labels. */
function problem() {
  const next = rng(42);
  const uniform = (n, bound) => Float32Array.from({ length: n }, () => (next() * 2 - 1) * bound);
  const layers = [];
  for (let i = 0; i < 3; i++) {
    const [fanIn, fanOut] = [SIZES[i], SIZES[i + 1]];
    const bound = 1 / Math.sqrt(fanIn);
    layers.push({ w: uniform(fanIn * fanOut, bound), b: uniform(fanOut, bound), fanIn, fanOut });
  }
  const x = Float32Array.from({ length: BATCH * SIZES[0] }, () => next());
  const y = new Float32Array(BATCH * 10);
  for (let r = 0; r < BATCH; r++) y[r * 10 + Math.floor(next() * 10)] = 1;
  return { layers, x, y };
}

const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
const round = (x, digits = 3) => (x == null ? null : Number(x.toFixed(digits)));

/** Runs `step()` (which resolves with the loss once it is read back) warm-up + steady times,
 * counting the WebGPU work of the steady steps only. `settle()` waits for every parameter after
 * the last step: `steady_total_ms` (steady wall time including it, per step) shows whether the
 * per-step loss readback left work unfinished (then it would exceed `steady_mean_ms`). */
async function measure(step, settle) {
  const warm = [];
  const losses = [];
  for (let i = 0; i < warmupSteps; i++) {
    status(`warm-up step ${i + 1}/${warmupSteps}`);
    const t = performance.now();
    losses.push(await step());
    warm.push(performance.now() - t);
  }
  const before = { ...gpu };
  const steady = [];
  const start = performance.now();
  for (let i = 0; i < steadySteps; i++) {
    if (i % 5 === 0) status(`step ${i + 1}/${steadySteps}`);
    const t = performance.now();
    losses.push(await step());
    steady.push(performance.now() - t);
  }
  const after = { ...gpu };
  await settle();
  const total = performance.now() - start;
  const per = (k) => round((after[k] - before[k]) / steadySteps, 2);
  return {
    warmup_ms: round(mean(warm)),
    warmup_steps_ms: warm.map((x) => round(x, 1)),
    steady_ms: round(median(steady)),
    steady_mean_ms: round(mean(steady)),
    steady_min_ms: round(Math.min(...steady)),
    steady_max_ms: round(Math.max(...steady)),
    steady_total_ms: round(total / steadySteps),
    warmup_steps: warmupSteps,
    steps: steadySteps,
    per_step: {
      dispatches: per("dispatches"),
      submits: per("submits"),
      uploads: per("uploads"),
      upload_bytes: per("upload_bytes"),
      readbacks: per("readbacks"),
    },
    pipelines: gpu.pipelines,
    pipelines_steady: after.pipelines - before.pipelines,
    loss_first: round(losses[0], 5),
    loss_last: round(losses[losses.length - 1], 5),
  };
}

async function version(pkg) {
  const r = await fetch(`${NM}${pkg}/package.json`);
  return (await r.json()).version;
}

/** jax-js: the whole step (value_and_grad + Adam on the 6 parameters) is one `jit`-ed function,
 * as a JAX user writes it; the Adam count lives on the device like optax's. Arrays are
 * reference-counted: every use of an array but its last goes through `.ref`. */
async function jaxjs(device) {
  const jax = await import(`${NM}@jax-js/jax/dist/index.js`);
  const { numpy: np, nn, jit, valueAndGrad, tree } = jax;
  const available = await jax.init(device);
  if (!available.includes(device)) throw new Error(`jax-js could not start ${device} (init gave ${available})`);
  jax.defaultDevice(device);

  const { layers, x: xData, y: yData } = problem();
  const names = ["1", "2", "3"];
  let params = {};
  let m = {};
  let v = {};
  layers.forEach((l, i) => {
    params[`w${names[i]}`] = np.array(l.w).reshape([l.fanIn, l.fanOut]);
    params[`b${names[i]}`] = np.array(l.b);
    m[`w${names[i]}`] = np.zeros([l.fanIn, l.fanOut]);
    m[`b${names[i]}`] = np.zeros([l.fanOut]);
    v[`w${names[i]}`] = np.zeros([l.fanIn, l.fanOut]);
    v[`b${names[i]}`] = np.zeros([l.fanOut]);
  });
  let count = np.zeros([]);
  const x = np.array(xData).reshape([BATCH, SIZES[0]]);
  const y = np.array(yData).reshape([BATCH, 10]);

  const loss = (p, x, y) => {
    const h1 = nn.relu(np.dot(x, p.w1).add(p.b1));
    const h2 = nn.relu(np.dot(h1, p.w2).add(p.b2));
    const logits = np.dot(h2, p.w3).add(p.b3);
    return nn.logSoftmax(logits).mul(y).sum().mul(-1 / BATCH);
  };

  const trainStep = jit((params, m, v, count, x, y) => {
    const [lossValue, grads] = valueAndGrad(loss)(tree.ref(params), x, y);
    const t = count.add(1);
    // Bias corrections 1 - beta^t, computed on the device from the step count.
    const bc1 = np.exp(t.ref.mul(Math.log(BETA1))).mul(-1).add(1);
    const bc2 = np.exp(t.ref.mul(Math.log(BETA2))).mul(-1).add(1);
    const newParams = {};
    const newM = {};
    const newV = {};
    for (const k of Object.keys(params)) {
      const g = grads[k];
      const mk = m[k].mul(BETA1).add(g.ref.mul(1 - BETA1));
      const vk = v[k].mul(BETA2).add(g.ref.mul(g).mul(1 - BETA2));
      const mHat = mk.ref.div(bc1.ref);
      const vHat = vk.ref.div(bc2.ref);
      newParams[k] = params[k].sub(mHat.mul(LR).div(np.sqrt(vHat).add(EPS)));
      newM[k] = mk;
      newV[k] = vk;
    }
    bc1.dispose();
    bc2.dispose();
    return [lossValue, newParams, newM, newV, t];
  });

  const step = async () => {
    let lossValue;
    [lossValue, params, m, v, count] = trainStep(params, m, v, count, x.ref, y.ref);
    return (await lossValue.data())[0];
  };
  const result = await measure(step, () => jax.blockUntilReady([params, m, v]));
  trainStep.dispose();
  tree.dispose([params, m, v, count, x, y]);
  return {
    name: `jax-js ${await version("@jax-js/jax")}`,
    backend: device,
    ...result,
    readback: "per step",
    notes: "one jit-ed function per step: valueAndGrad + Adam (hand-written, optax-style) on the 6 parameters; the batch stays on the device",
  };
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.appendChild(s);
  });
}

/** TensorFlow.js: `tf.variable`s, a closure computing the loss and `tf.train.adam().minimize`,
 * loaded from the UMD bundles as the TF.js README's script-tag setup does (the ES bundles import
 * bare module names and Node built-ins). */
async function tfjs(backend) {
  await loadScript(`${NM}@tensorflow/tfjs/dist/tf.min.js`);
  const tf = self.tf;
  if (backend === "webgpu") {
    await loadScript(`${NM}@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js`);
  } else if (backend === "wasm") {
    await loadScript(`${NM}@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js`);
    tf.wasm.setWasmPaths(new URL(`${NM}@tensorflow/tfjs-backend-wasm/dist/`, location.href).href);
  }
  const ok = await tf.setBackend(backend);
  await tf.ready();
  if (!ok || tf.getBackend() !== backend) {
    throw new Error(`TF.js could not start the ${backend} backend (it runs ${tf.getBackend()})`);
  }

  const { layers, x: xData, y: yData } = problem();
  const vars = layers.map((l) => ({
    w: tf.variable(tf.tensor2d(l.w, [l.fanIn, l.fanOut])),
    b: tf.variable(tf.tensor1d(l.b)),
  }));
  const x = tf.tensor2d(xData, [BATCH, SIZES[0]]);
  const y = tf.tensor2d(yData, [BATCH, 10]);
  const optimizer = tf.train.adam(LR, BETA1, BETA2, EPS);
  const lossFn = () => {
    const h1 = tf.relu(tf.add(tf.matMul(x, vars[0].w), vars[0].b));
    const h2 = tf.relu(tf.add(tf.matMul(h1, vars[1].w), vars[1].b));
    const logits = tf.add(tf.matMul(h2, vars[2].w), vars[2].b);
    return tf.losses.softmaxCrossEntropy(y, logits);
  };
  const step = async () => {
    const cost = optimizer.minimize(lossFn, true);
    const value = (await cost.data())[0];
    cost.dispose();
    return value;
  };
  // Reading any tensor waits for all work queued before it (one queue, in order).
  const result = await measure(step, () => vars[2].b.data());
  const tensors = tf.memory().numTensors;
  optimizer.dispose();
  tf.dispose([x, y, ...vars.flatMap((p) => [p.w, p.b])]);
  const flags = {
    webgl: () => `WebGL renderer: ${webglRenderer()}`,
    wasm: () => `SIMD ${tf.env().getBool("WASM_HAS_SIMD_SUPPORT")}, threads ${tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT")}`,
  };
  return {
    name: `TF.js ${tf.version.tfjs}`,
    backend,
    ...result,
    readback: "per step",
    notes: `tf.variable + tf.train.adam(...).minimize; the batch stays on the device; ${tensors} live tensors after the run${flags[backend] ? `; ${flags[backend]()}` : ""}`,
  };
}

/** What TF.js's WebGL backend runs on (SwiftShader's GL here, not the WebGPU adapter). */
function webglRenderer() {
  const gl = document.createElement("canvas").getContext("webgl2");
  const ext = gl?.getExtension("WEBGL_debug_renderer_info");
  return gl ? gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER) : "none";
}

/** The adapter in the words MNIST Lab's banner uses (src/app/backend.rs: its info fields). */
async function adapterName() {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) return null;
  const info = adapter.info ?? {};
  const parts = ["vendor", "architecture", "device", "description"].map((k) => info[k]).filter(Boolean);
  return parts.length ? parts.join(" ") : "unnamed adapter";
}

const FRAMEWORKS = {
  jaxjs: () => jaxjs("webgpu"),
  "jaxjs-wasm": () => jaxjs("wasm"),
  "tfjs-webgpu": () => tfjs("webgpu"),
  "tfjs-webgl": () => tfjs("webgl"),
  "tfjs-wasm": () => tfjs("wasm"),
  "tfjs-cpu": () => tfjs("cpu"),
};

async function main() {
  const run = FRAMEWORKS[framework];
  if (!run) throw new Error(`unknown framework ${framework}; one of ${Object.keys(FRAMEWORKS)}`);
  status(`loading ${framework}`);
  const t = performance.now();
  const result = await run();
  const adapter = await adapterName();
  // The WebGPU counters say nothing about the other backends.
  const gpuBackend = result.backend === "webgpu";
  self.__peerResult = {
    key: framework,
    ...result,
    per_step: gpuBackend ? result.per_step : null,
    pipelines: gpuBackend ? result.pipelines : null,
    pipelines_steady: gpuBackend ? result.pipelines_steady : null,
    cross_origin_isolated: self.crossOriginIsolated,
    total_ms: round(performance.now() - t, 0),
    adapter,
    user_agent: navigator.userAgent,
    console: consoleLines,
  };
  status(`done: ${result.steady_ms} ms per step`);
}

main().catch(fail);
