import { Module } from '@nestjs/common';
import { PasswordHasher } from './password-hasher';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';

/** Credentials and sessions, without the HTTP flows: lets the users module revoke sessions. */
@Module({
  providers: [PasswordHasher, SessionsRepository, SessionsService],
  exports: [PasswordHasher, SessionsService, SessionsRepository],
})
export class AuthCoreModule {}
