// MNIST Lab's training worker (a module worker). It runs the page's own wasm module, whose URLs
// the page passes in the query string, so the browser downloads that module once for both.
const query = new URL(self.location.href).searchParams;
const url = (name) => {
  const u = new URL(query.get(name) ?? "", self.location.href);
  if (u.origin !== self.location.origin) throw new Error(`worker-boot.js loads only this site's module, not ${u}`);
  return u.href;
};
const glue = await import(url("js"));
await glue.default({ module_or_path: url("wasm") });
glue.worker_entry();
