/** The little of openapi-to-postmanv2 and newman that the Postman scripts use (neither ships types). */
declare module 'openapi-to-postmanv2' {
  export interface ConversionResult {
    result: boolean;
    reason?: string;
    output: { type: string; data: Record<string, unknown> }[];
  }
  export function convert(
    input: { type: 'string' | 'json'; data: string | object },
    options: Record<string, unknown>,
    callback: (err: Error | null, result: ConversionResult) => void,
  ): void;
}

declare module 'newman' {
  export interface RunSummary {
    run: {
      stats: Record<string, { total?: number; failed?: number }>;
      failures: { error: { name: string; message: string; test?: string }; source?: { name?: string } }[];
    };
  }
  export function run(
    options: Record<string, unknown>,
    callback: (err: Error | null, summary: RunSummary) => void,
  ): void;
}
