import fc from 'fast-check';

/** The subset of OpenAPI 3.0 / JSON Schema that the generated document uses. */
export interface JsonSchema {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minimum?: number;
  /** OpenAPI 3.0: true makes `minimum` itself invalid. */
  exclusiveMinimum?: boolean;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  nullable?: boolean;
  default?: unknown;
  example?: unknown;
}

export type Mode = 'valid' | 'boundary' | 'malformed';

export class SchemaResolver {
  constructor(private readonly schemas: Record<string, JsonSchema>) {}

  resolve(schema: JsonSchema | undefined): JsonSchema {
    let s = schema ?? {};
    for (let i = 0; i < 20 && s.$ref; i++) {
      const name = s.$ref.replace('#/components/schemas/', '');
      s = this.schemas[name] ?? {};
    }
    return s;
  }
}

const twoDecimals = (lo: number, hi: number): fc.Arbitrary<number> =>
  fc
    .integer({ min: Math.ceil(lo * 100), max: Math.floor(Math.min(hi, 1e13) * 100) })
    .map((cents) => cents / 100);

const NUMBER_BOUNDARIES = [
  0,
  -0,
  -1,
  -0.01,
  0.001,
  0.005,
  0.01,
  0.015,
  0.999,
  1,
  1.005,
  99.995,
  1e9,
  1e12,
  1e12 + 0.01,
  1e13,
  1e15,
  9007199254740991,
  1e21,
  1.7976931348623157e308,
  5e-324,
  2147483647,
  2147483648,
  -2147483649,
  123.456,
];

const WEIRD_STRINGS = [
  '',
  ' ',
  '\t\n',
  '\u0000',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '-1',
  '1e309',
  '0x10',
  "' OR 1=1 --",
  '"; DROP TABLE users; --',
  '\\',
  '%00',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀👍🏽',
  'مرحبا بالعالم',
  '\u202etxt.exe',
  '\ud800',
  'Ａｄｍｉｎ',
  '{"$gt":""}',
  '__proto__',
  'constructor',
];

export const weirdString = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(...WEIRD_STRINGS),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.nat({ max: 60_000 }).map((n) => 'x'.repeat(n)),
    fc.nat({ max: 8_000 }).map((n) => '😀'.repeat(n)),
  );

/** Values of the wrong JSON type (or shape) for any schema. */
export const wrongTypeValue = (schema: JsonSchema): fc.Arbitrary<unknown> => {
  const candidates: fc.Arbitrary<unknown>[] = [
    fc.constant(null),
    fc.constant([]),
    fc.constant({}),
    fc.array(fc.integer(), { minLength: 1, maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue(), { maxKeys: 3 }),
    fc.constant({ $gt: 0 }),
  ];
  if (schema.type !== 'string') candidates.push(weirdString(), fc.constant('1'), fc.constant('true'));
  if (schema.type !== 'number' && schema.type !== 'integer') {
    candidates.push(fc.double({ noNaN: true }), fc.integer(), fc.constant(0));
  }
  if (schema.type !== 'boolean') candidates.push(fc.boolean());
  return fc.oneof(...candidates);
};

const dateTime = (): fc.Arbitrary<string> =>
  fc
    .date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date(), noInvalidDate: true })
    .map((d) => d.toISOString());

/** A valid value of a (resolved) schema. */
export function validValue(r: SchemaResolver, schema0: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  const schema = r.resolve(schema0);
  if (schema.enum && schema.enum.length > 0) return fc.constantFrom(...schema.enum);
  const variants = schema.oneOf ?? schema.anyOf;
  if (variants && variants.length > 0) return fc.oneof(...variants.map((v) => validValue(r, v, depth + 1)));
  switch (schema.type) {
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: schema.minimum ?? 0, max: Math.min(schema.maximum ?? 1e6, 2 ** 31 - 1) });
    case 'number': {
      // the smallest valid value with 2 decimals
      const lo = schema.minimum === undefined ? 0.01 : schema.minimum + (schema.exclusiveMinimum ? 0.01 : 0);
      const hi = schema.maximum ?? 1e6;
      return fc.oneof(
        { arbitrary: twoDecimals(lo, Math.min(hi, lo + 10_000)), weight: 4 },
        { arbitrary: fc.integer({ min: Math.ceil(lo), max: Math.floor(Math.min(hi, 1e9)) }), weight: 2 },
        { arbitrary: fc.constantFrom(lo, hi), weight: 1 },
      );
    }
    case 'string': {
      if (schema.format === 'date-time') return dateTime();
      if (schema.format === 'email') {
        return fc.emailAddress().filter((e) => e.length <= (schema.maxLength ?? 254));
      }
      const minLength = schema.minLength ?? 0;
      const maxLength = Math.min(schema.maxLength ?? 40, 60);
      if (schema.pattern && schema.pattern !== '\\S') {
        // the pattern bounds the length itself: only a documented maxLength cuts it (a default
        // below the pattern's own length would filter out every value, and sampling never ends)
        const patternMax = schema.maxLength ?? Number.POSITIVE_INFINITY;
        return fc
          .stringMatching(new RegExp(schema.pattern))
          .filter((s) => s.length >= minLength && s.length <= patternMax);
      }
      return fc
        .string({ minLength: Math.max(minLength, 1), maxLength: Math.max(maxLength, Math.max(minLength, 1)) })
        .filter((s) => /\S/.test(s));
    }
    case 'array': {
      if (depth > 3) return fc.constant([]);
      return fc.array(validValue(r, schema.items ?? {}, depth + 1), { maxLength: 4 });
    }
    default: {
      if (!schema.properties) return fc.constant({});
      return validObject(r, schema, depth);
    }
  }
}

export function validObject(
  r: SchemaResolver,
  schema0: JsonSchema,
  depth = 0,
): fc.Arbitrary<Record<string, unknown>> {
  const schema = r.resolve(schema0);
  const props = schema.properties ?? {};
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [k, v] of Object.entries(props)) record[k] = validValue(r, v, depth + 1);
  const requiredKeys = (schema.required ?? []).filter((k) => k in props);
  return fc.record(record, { requiredKeys });
}

/** A boundary value of a (resolved) schema: edges of ranges and lengths, just inside or outside. */
export function boundaryValue(r: SchemaResolver, schema0: JsonSchema): fc.Arbitrary<unknown> {
  const schema = r.resolve(schema0);
  if (schema.enum && schema.enum.length > 0) {
    const strings = schema.enum.filter((e): e is string => typeof e === 'string');
    return fc.oneof(
      fc.constantFrom(...schema.enum),
      fc.constantFrom(...strings.map((s) => s.toUpperCase()), ...strings.map((s) => s.toLowerCase())),
      fc.constantFrom(...strings.map((s) => ` ${s}`), ...strings.map((s) => `${s}\u0000`)),
      fc.constant(''),
    );
  }
  switch (schema.type) {
    case 'number':
    case 'integer': {
      const edges = [...NUMBER_BOUNDARIES];
      for (const b of [schema.minimum, schema.maximum]) {
        if (b !== undefined) edges.push(b, b - 1, b + 1, b - 0.01, b + 0.01, b - 0.005, b + 0.005);
      }
      return fc.oneof(fc.constantFrom(...edges), fc.double({ noNaN: true, noDefaultInfinity: true }));
    }
    case 'string': {
      const lens = [0, 1];
      if (schema.minLength !== undefined) lens.push(schema.minLength - 1, schema.minLength);
      if (schema.maxLength !== undefined) lens.push(schema.maxLength, schema.maxLength + 1);
      const sized = fc
        .constantFrom(...lens.filter((n) => n >= 0))
        .chain((n) => fc.constantFrom('a'.repeat(n), 'é'.repeat(n), '😀'.repeat(n), ' '.repeat(n)));
      const dates =
        schema.format === 'date-time'
          ? [
              fc.constantFrom(
                '1970-01-01T00:00:00Z',
                '0001-01-01T00:00:00Z',
                '9999-12-31T23:59:59Z',
                '2100-01-01T00:00:00Z',
                '2024-02-30T00:00:00Z',
                '2024-01-01',
                '2024-01-01T00:00:00',
                '2024-01-01T00:00:00+14:00',
                '2024-01-01T00:00:00.123456789Z',
                '1712345678',
              ),
            ]
          : [];
      return fc.oneof(sized, weirdString(), ...dates);
    }
    case 'boolean':
      return fc.constantFrom(0, 1, 'true', 'false', 'yes', null);
    case 'array':
      return fc.oneof(
        fc.constant([]),
        fc.array(validValue(r, schema.items ?? {}), { minLength: 50, maxLength: 300 }),
        fc.array(boundaryValue(r, schema.items ?? {}), { maxLength: 5 }),
      );
    default:
      return fc.oneof(fc.constant({}), fc.constant(null), weirdString());
  }
}

/** Query-string values: strings always, valid or boundary or garbage. */
export function queryValue(r: SchemaResolver, schema0: JsonSchema, name: string, mode: Mode) {
  const schema = r.resolve(schema0);
  const isDate = name === 'from' || name === 'to';
  if (mode === 'valid') {
    if (isDate) {
      return fc.oneof(
        fc
          .date({ min: new Date('2024-01-01T00:00:00Z'), max: new Date(), noInvalidDate: true })
          .map((d) => d.toISOString().slice(0, 10)),
        dateTime(),
      );
    }
    return validValue(r, schema).map((v) => String(v));
  }
  if (mode === 'boundary') {
    if (isDate) {
      return fc.constantFrom(
        '1970-01-01',
        '0000-01-01',
        '9999-12-31',
        '2024-02-29',
        '2023-02-29',
        '2024-01-01T00:00:00+05:30',
        '2024-01-01T24:00:00Z',
        '2000-01-01',
        new Date(Date.now() + 86400_000 * 400).toISOString(),
        '2024-13-01',
      );
    }
    return boundaryValue(r, schema).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  }
  return fc.oneof(weirdString(), fc.constantFrom('[]', '{}', 'null', 'true', '1.5', '-0', '1e400', 'a,b'));
}
