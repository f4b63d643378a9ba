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
  documentErrors(doc);
  return doc;
}

type Operation = {
  parameters?: unknown[];
  requestBody?: unknown;
  responses: Record<string, { description: string; content?: unknown }>;
};

/** Every error response carries the one error body; inputs can always be refused with a 400. */
function documentErrors(doc: OpenAPIObject): void {
  const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } } };
  for (const item of Object.values(doc.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const op = (item as Record<string, Operation | undefined>)[method];
      if (!op) continue;
      if ((op.requestBody || (op.parameters?.length ?? 0) > 0) && !op.responses['400']) {
        op.responses['400'] = { description: 'VALIDATION_FAILED: see details[] for each field' };
      }
      for (const [status, res] of Object.entries(op.responses)) {
        if (Number(status) >= 400 && !res.content) res.content = errorContent;
      }
    }
  }
}
