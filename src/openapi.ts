import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error', 'code', 'statusCode'],
  properties: {
    error: { type: 'string', description: 'A sentence for a person; show it first.' },
    code: { type: 'string', description: 'Machine code, e.g. VALIDATION_FAILED, RATE_LIMITED.' },
    statusCode: { type: 'integer' },
    details: {
      type: 'array',
      items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

/** The OpenAPI document, from the controllers and DTOs (the Swagger CLI plugin fills in the schemas). */
export function buildOpenApiDocument(app: INestApplication, version: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Exchange Rate & P2P Marketplace API')
    .setDescription(
      'USD/LBP exchange-rate tracking and peer-to-peer trading. Errors are ' +
        '`{error, code, statusCode, details?}`; lists are arrays with the total in `X-Total-Count`.',
    )
    .setVersion(version)
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'bearer')
    .build();
  const doc = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (controllerKey: string, methodKey: string) => `${controllerKey}_${methodKey}`,
  });
  doc.components = doc.components ?? {};
  doc.components.schemas = { ...(doc.components.schemas ?? {}), ErrorResponse: ERROR_SCHEMA };
  documentParameters(doc);
  documentErrors(doc);
  nullableEnums(doc.components.schemas);
  return doc;
}

/**
 * Path parameters are read by IdParam (raw, so the pipe cannot coerce them), which Swagger cannot see:
 * each `{name}` is declared here as a positive integer. The Idempotency-Key header is documented once,
 * optional (by @Idempotent); the lower-case copy Swagger derives from the parameter decorator goes.
 */
function documentParameters(doc: OpenAPIObject): void {
  for (const { path, op } of operations(doc)) {
    const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    const params = ((op.parameters ?? []) as { name?: string; in?: string }[]).filter(
      (p) => !(p.in === 'header' && p.name === 'idempotency-key'),
    );
    for (const name of names) {
      if (!params.some((p) => p.in === 'path' && p.name === name)) {
        params.unshift({
          name,
          in: 'path',
          required: true,
          schema: { type: 'integer', minimum: 1, maximum: 2147483647 },
        } as { name: string; in: string });
      }
    }
    op.parameters = params;
  }
}

/** A nullable enum lists null among its values too (OpenAPI 3.0: `nullable` does not extend `enum`). */
function nullableEnums(schemas: Record<string, unknown> | undefined): void {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const o = node as { nullable?: boolean; enum?: unknown[] };
    if (o.nullable === true && Array.isArray(o.enum) && !o.enum.includes(null)) o.enum = [...o.enum, null];
    Object.values(o).forEach(visit);
  };
  visit(schemas);
}

/** Every operation of the document with its path and method. */
function operations(doc: OpenAPIObject): { path: string; method: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    (['get', 'put', 'post', 'delete', 'patch'] as const).flatMap((method) => {
      const op = (item as Record<string, Operation | undefined>)[method];
      return op ? [{ path, method, op }] : [];
    }),
  );
}

type Operation = {
  parameters?: unknown[];
  requestBody?: unknown;
  responses: Record<string, { description: string; content?: unknown }>;
};

/** Responses every operation of a kind can give, whatever its controller declares. */
const COMMON_ERRORS: {
  status: string;
  applies: (method: string, path: string) => boolean;
  description: string;
}[] = [
  {
    status: '400',
    applies: () => true,
    description:
      'VALIDATION_FAILED (details[] names each field), INVALID_JSON, BAD_REQUEST (e.g. a malformed id or URL)',
  },
  {
    status: '404',
    applies: (_m, path) => path.includes('{'),
    description: 'NOT_FOUND (or a more precise code): no such object, or not yours',
  },
  {
    status: '413',
    applies: (m) => m === 'post' || m === 'put' || m === 'patch',
    description: 'PAYLOAD_TOO_LARGE: the body is over BODY_LIMIT_BYTES',
  },
  {
    status: '415',
    applies: (m) => m === 'post' || m === 'put' || m === 'patch',
    description: 'UNSUPPORTED_MEDIA_TYPE: send application/json',
  },
  {
    status: '503',
    applies: (_m, path) => path !== '/health',
    description: 'MAINTENANCE: a restore is running; retry after Retry-After seconds',
  },
];

/** Every error response carries the one error body; the common refusals are listed on every operation. */
function documentErrors(doc: OpenAPIObject): void {
  const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } } };
  for (const { path, method, op } of operations(doc)) {
    for (const e of COMMON_ERRORS) {
      if (e.applies(method, path) && !op.responses[e.status]) {
        op.responses[e.status] = { description: e.description };
      }
    }
    for (const [status, res] of Object.entries(op.responses)) {
      if (Number(status) >= 400 && !res.content) res.content = errorContent;
    }
  }
}
