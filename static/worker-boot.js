// MNIST Lab's training worker (a module worker). It runs the page's own wasm module, whose URLs
// the page passes in the query string, so the browser downloads that module once for both.
const query = new URL(self.location.href).searchParams;
const glue = await import(query.get("js"));
await glue.default({ module_or_path: query.get("wasm") });
glue.worker_entry();
