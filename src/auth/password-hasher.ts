import { createHash } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import * as bcrypt from 'bcrypt';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

/**
 * bcrypt reads at most 72 bytes, and a 128-character password may hold 512: every byte must count,
 * so bcrypt gets the password's SHA-256 (base64, 44 bytes) instead.
 */
function prehash(password: string): string {
  return createHash('sha256').update(password, 'utf8').digest('base64');
}

/** bcrypt with the configured cost; also answers "wrong user" in the same time as "wrong password". */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  private dummyHash: Promise<string> | null = null;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Computed up front so even the first unknown-user login costs the same as the others. */
  async onModuleInit(): Promise<void> {
    this.dummyHash ??= bcrypt.hash('timing-equaliser-not-a-password', this.config.auth.bcryptRounds);
    await this.dummyHash;
  }

  hash(password: string): Promise<string> {
    return bcrypt.hash(prehash(password), this.config.auth.bcryptRounds);
  }

  /** Compares against `hash`, or against a dummy hash of the same cost when there is no user. */
  async verify(password: string, hash: string | null): Promise<boolean> {
    if (hash === null) {
      this.dummyHash ??= bcrypt.hash('timing-equaliser-not-a-password', this.config.auth.bcryptRounds);
      await bcrypt.compare(password, await this.dummyHash);
      return false;
    }
    return bcrypt.compare(prehash(password), hash);
  }
}
