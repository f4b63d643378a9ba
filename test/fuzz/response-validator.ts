import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { JsonSchema } from './schema-arbitraries';

export interface OpenApiResponse {
  description?: string;
  content?: Record<string, { schema?: JsonSchema }>;
}

export interface OpenApiParameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: JsonSchema;
}

export interface OpenApiOperation {
  operationId?: string;
  parameters?: OpenApiParameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonSchema }> };
  responses: Record<string, OpenApiResponse>;
  security?: Record<string, string[]>[];
}

export interface OpenApiDocument {
  openapi: string;
  info: { version: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

/** The contract's error body: {error, code, statusCode, details?: [{field, message}]}. */
const contractError = (status: number): Record<string, unknown> => ({
  type: 'object',
  required: ['error', 'code', 'statusCode'],
  properties: {
    error: { type: 'string', minLength: 1 },
    code: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$' },
    statusCode: { type: 'integer', const: status },
    details: {
      type: 'array',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: { field: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
});

/** Rewrites local refs so they resolve against the document registered under the id "openapi". */
function rebase(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebase);
  if (schema && typeof schema === 'object') {
    const obj = schema as Record<string, unknown>;
    // OpenAPI 3.0 `nullable` next to allOf/$ref (how @nestjs/swagger writes a nullable DTO): read it, like
    // client generators do, as "this schema or null" (ajv would otherwise apply allOf to null too).
    if (obj.nullable === true && (obj.allOf || obj.$ref)) {
      const rest = { ...obj };
      delete rest.nullable;
      return { anyOf: [{ type: 'null' }, rebase(rest)] };
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(schema)) {
      out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `openapi${v}` : rebase(v);
    }
    return out;
  }
  return schema;
}

export type Verdict =
  | { kind: 'documented'; ok: true }
  | { kind: 'documented' | 'error-shape'; ok: false; errors: string }
  | { kind: 'error-shape'; ok: true }
  | { kind: 'undocumented-2xx' | 'no-schema-2xx' | 'vacuous-2xx'; ok: false; errors: string };

export class ResponseValidator {
  private readonly ajv: Ajv;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(private readonly doc: OpenApiDocument) {
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: 'openapi', components: rebase(doc.components ?? {}) });
  }

  private compiled(key: string, schema: unknown): ValidateFunction {
    let fn = this.cache.get(key);
    if (!fn) {
      fn = this.ajv.compile(rebase(schema) as Record<string, unknown>);
      this.cache.set(key, fn);
    }
    return fn;
  }

  /** The documented JSON schema of (path, method, status), or null. */
  documented(path: string, method: string, status: number): JsonSchema | null | 'no-status' {
    const op = this.doc.paths[path]?.[method.toLowerCase()];
    const res = op?.responses[String(status)];
    if (!res) return 'no-status';
    return res.content?.['application/json']?.schema ?? null;
  }

  isVacuous(schema: JsonSchema): boolean {
    const resolved = schema.$ref
      ? this.doc.components?.schemas?.[schema.$ref.replace('#/components/schemas/', '')]
      : schema;
    if (!resolved) return true;
    if (resolved.type === 'object' && !resolved.properties && !resolved.allOf && !resolved.oneOf) return true;
    if (resolved.type === 'array' && !resolved.items) return true;
    return Object.keys(resolved).length === 0;
  }

  validate(path: string, method: string, status: number, body: unknown): Verdict {
    const documented = this.documented(path, method, status);
    if (status >= 400 || status < 200) {
      const schema = documented !== null && documented !== 'no-status' ? documented : null;
      const fn = schema
        ? this.compiled(`${path} ${method} ${status}`, schema)
        : this.compiled(`error ${status}`, contractError(status));
      const shape = this.compiled(`error ${status}`, contractError(status));
      const ok = fn(body) && shape(body);
      return ok
        ? { kind: 'error-shape', ok: true }
        : { kind: 'error-shape', ok: false, errors: this.ajv.errorsText(fn.errors ?? shape.errors) };
    }
    if (documented === 'no-status') {
      return { kind: 'undocumented-2xx', ok: false, errors: `status ${status} is not documented` };
    }
    if (documented === null) {
      return { kind: 'no-schema-2xx', ok: false, errors: `status ${status} has no application/json schema` };
    }
    const fn = this.compiled(`${path} ${method} ${status}`, documented);
    if (!fn(body)) return { kind: 'documented', ok: false, errors: this.ajv.errorsText(fn.errors) };
    if (this.isVacuous(documented)) {
      return { kind: 'vacuous-2xx', ok: false, errors: `schema ${JSON.stringify(documented)} says nothing` };
    }
    return { kind: 'documented', ok: true };
  }
}
