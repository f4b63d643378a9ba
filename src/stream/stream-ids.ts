/**
 * Event ids of GET /stream. A notification's id is its own id; every other event's id is
 * `<newest notification id sent before it>-<sequence>`. So whichever event a client saw last, the
 * number before the dash is where its notifications stopped, and a reconnect with that id as
 * Last-Event-ID gets exactly the notifications it missed.
 */
export function notificationEventId(notificationId: number): string {
  return String(notificationId);
}

export function otherEventId(cursor: number, seq: number): string {
  return `${cursor}-${seq}`;
}

const ID = /^(\d{1,15})(?:-\d{1,15})?$/;

/** The notification cursor an event id carries, or null when it is not one of ours. */
export function cursorOf(eventId: string): number | null {
  const m = ID.exec(eventId.trim());
  return m ? Number(m[1]) : null;
}
