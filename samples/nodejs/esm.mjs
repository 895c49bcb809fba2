// An ES module handler (esm.handler) whose module awaits at its top level:
// the runtime must finish the import before it takes the handler.
const ready = await new Promise((resolve) => setTimeout(() => resolve(true), 10));

export const handler = async () => ({
  form: ready ? "ES module (.mjs) with top-level await" : "imported before the top-level await settled",
});
