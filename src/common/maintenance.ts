import { Injectable } from '@nestjs/common';

/**
 * Whether this instance is in maintenance (a restore is replacing every table). While it is, the app
 * answers every other request with 503 MAINTENANCE (see app.factory.ts), so no write can land between
 * the restore's safety backup and its commit, and nobody reads a half-replaced database.
 */
@Injectable()
export class MaintenanceState {
  private depth = 0;
  private readonly replacedListeners: (() => void)[] = [];

  get active(): boolean {
    return this.depth > 0;
  }

  async during<T>(fn: () => Promise<T>): Promise<T> {
    this.depth += 1;
    try {
      return await fn();
    } finally {
      this.depth -= 1;
    }
  }

  /** Registers what must be forgotten when the database is replaced (in-process caches). */
  onDataReplaced(listener: () => void): void {
    this.replacedListeners.push(listener);
  }

  /** Called by a restore after its commit, before maintenance ends. */
  dataReplaced(): void {
    for (const listener of this.replacedListeners) listener();
  }
}

/** Seconds a client is told to wait (Retry-After) during maintenance. */
export const MAINTENANCE_RETRY_SECONDS = 30;
