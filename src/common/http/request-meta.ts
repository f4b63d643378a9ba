import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

/** Who/where a request came from, for audit rows; plain data so services stay HTTP-free. */
export interface RequestMeta {
  method: string | null;
  path: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

/** The parts of a raw request that request metadata is read from. */
export interface RawRequest {
  id?: string;
  method?: string;
  url?: string;
  ip?: string;
  routeOptions?: { url?: string };
  headers?: Record<string, string | string[] | undefined>;
}

/** A request target without its query string. */
export function pathOf(url: string | undefined): string {
  const target = url ?? '';
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
}

export function requestMetaOf(req: RawRequest | undefined): RequestMeta {
  const ua = req?.headers?.['user-agent'];
  const url = req?.url ?? null;
  return {
    method: req?.method ?? null,
    path: url === null ? null : pathOf(url).slice(0, 500),
    ip: req?.ip ?? null,
    userAgent: typeof ua === 'string' ? ua.slice(0, 500) : null,
    requestId: req?.id ?? null,
  };
}

export const NO_REQUEST: RequestMeta = {
  method: null,
  path: null,
  ip: null,
  userAgent: null,
  requestId: null,
};

export const ReqMeta = createParamDecorator((_d: unknown, ctx: ExecutionContext): RequestMeta =>
  requestMetaOf(ctx.switchToHttp().getRequest<RawRequest>()),
);
