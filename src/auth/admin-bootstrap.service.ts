import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { AuditEvent } from '../audit/audit-events';
import { AuditService } from '../audit/audit.service';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { TransactionRunner } from '../database/transaction-runner';
import { UsersService } from '../users/users.service';
import { PasswordHasher } from './password-hasher';
import { SessionsService } from './sessions.service';

export type CreateAdminOutcome = 'created' | 'promoted';

/** Creates the first admin: from ADMIN_USER_NAME/ADMIN_PASSWORD at start-up, or `npm run admin:create`. */
@Injectable()
export class AdminBootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminBootstrapService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly audit: AuditService,
    private readonly tx: TransactionRunner,
    private readonly sessions: SessionsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const boot = this.config.adminBootstrap;
    // an admin who is suspended or banned cannot act: with no active admin left, bootstrap again
    if (!boot || (await this.users.countActiveAdmins()) > 0) return;
    const existing = await this.users.findByUserName(boot.userName);
    if (existing) {
      this.logger.warn(
        `ADMIN_USER_NAME "${boot.userName}" already exists as a user; not promoting it. Use npm run admin:create.`,
      );
      return;
    }
    await this.createOrPromote(boot.userName, boot.password, 'bootstrap');
    this.logger.log(`created the first admin "${boot.userName}" from ADMIN_USER_NAME`);
  }

  /** Creates an admin, or promotes (and re-passwords) an existing user. */
  async createOrPromote(userName: string, password: string, source: string): Promise<CreateAdminOutcome> {
    if (!/^[A-Za-z0-9_.-]{3,30}$/.test(userName)) throw new Error('user name must be 3-30 of [A-Za-z0-9_.-]');
    if (password.length < 8 || password.length > 128) throw new Error('password must be 8-128 characters');
    const hash = await this.hasher.hash(password);
    return this.tx.run(async (m) => {
      const existing = await this.users.findByUserName(userName, m);
      let outcome: CreateAdminOutcome;
      let id: number;
      if (existing) {
        await this.users.promoteToAdmin(existing.id, hash, m);
        // a new password: whatever sessions the account had end here
        await this.sessions.revokeAllForUser(existing.id, 'ADMIN_CREATE', m);
        outcome = 'promoted';
        id = existing.id;
      } else {
        id = (await this.users.create({ userName, passwordHash: hash, role: 'ADMIN' }, m)).id;
        outcome = 'created';
      }
      await this.audit.record(
        {
          event: AuditEvent.ADMIN_CREATE,
          action: `admin ${outcome}`,
          success: true,
          actor: null,
          targetUserId: id,
          metadata: { source, user_name: userName },
        },
        m,
      );
      return outcome;
    });
  }
}
