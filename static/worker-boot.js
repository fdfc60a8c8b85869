// MNIST Lab's training worker (a module worker). It runs the workers' wasm module (with the
// WebGPU stack the page's module leaves out), whose URLs the page passes in the query string:
// every worker loads the same file, so the browser downloads it once.
const query = new URL(self.location.href).searchParams;
const url = (name) => {
  const u = new URL(query.get(name) ?? "", self.location.href);
  if (u.origin !== self.location.origin) throw new Error(`worker-boot.js loads only this site's module, not ${u}`);
  return u.href;
};

// Counts the WebGPU work the worker does (compute dispatches, queue submits, uploads and their
// bytes, readbacks, pipelines compiled), so each training step can report what it cost: on a
// real GPU a small step is bound by dispatches and round trips, not by FLOPs. The wrappers are
// installed before burn creates its device; the worker reads `self.__mnistLabGpu` per chunk.
const gpu = { dispatches: 0, submits: 0, uploads: 0, upload_bytes: 0, readbacks: 0, pipelines: 0 };
self.__mnistLabGpu = gpu;
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
wrap("GPUQueue", "writeBuffer", (_buffer, _at, data, offset, size) => {
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

// Everything the worker fetches comes from this site (its data sets and models): a URL on another
// origin is refused here, whatever the page's policy allows (the page's <meta> CSP does not
// govern workers; see docs/hosting.md for the HTTP header that does).
const siteFetch = self.fetch.bind(self);
self.fetch = (input, init) => {
  const u = new URL(input instanceof Request ? input.url : String(input), self.location.href);
  if (u.origin !== self.location.origin) {
    return Promise.reject(new TypeError(`the training worker fetches only this site's files, not ${u}`));
  }
  return siteFetch(input, init);
};

const glue = await import(url("js"));
await glue.default({ module_or_path: url("wasm") });
glue.worker_entry();
