import { Module } from '@nestjs/common';
import { PasswordCheckService } from './password-check.service';
import { PasswordChecksRepository } from './password-checks.repository';
import { PasswordHasher } from './password-hasher';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';

/** Credentials and sessions, without the HTTP flows: lets the users module revoke sessions. */
@Module({
  providers: [
    PasswordHasher,
    PasswordChecksRepository,
    PasswordCheckService,
    SessionsRepository,
    SessionsService,
  ],
  exports: [PasswordHasher, PasswordCheckService, SessionsService, SessionsRepository],
})
export class AuthCoreModule {}
