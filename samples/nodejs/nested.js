// A handler reached through nested properties (nested.deep.er.handler).
exports.deep = { er: { handler: async () => ({ form: "nested property" }) } };
