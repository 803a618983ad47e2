/**
 * Fastify's schema compilers (Ajv and fast-json-stringify, about 90 modules) are loaded when an
 * instance is created unless compilers are given. Gatehouse declares no route schema, so these
 * stand in: they are never called, and if a schema is ever added they say so at start rather
 * than skip validation.
 */
const refuse = (what: string) => () => {
  throw new Error(`Gatehouse's Fastify instances compile no ${what} schemas; validate in the handler instead`);
};

export const noSchemaCompilers = {
  compilersFactory: {
    buildValidator: () => refuse('validation'),
    buildSerializer: () => refuse('response'),
  },
};
