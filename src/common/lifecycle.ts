import { Injectable } from '@nestjs/common';

/** Where this instance is in its life: `draining` once a shutdown began (readiness then says no). */
@Injectable()
export class Lifecycle {
  draining = false;
}
