// An ES module whose handler is its default export (esmdefault.default).
export default async function () {
  return { form: "export default" };
}
