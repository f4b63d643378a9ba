import { cursorOf, notificationEventId, otherEventId } from './stream-ids';

describe('stream event ids', () => {
  it('carry the notification cursor, whichever event was last', () => {
    expect(cursorOf(notificationEventId(42))).toBe(42);
    expect(cursorOf(otherEventId(42, 7))).toBe(42);
    expect(cursorOf(otherEventId(0, 1))).toBe(0);
    expect(cursorOf(' 17 ')).toBe(17);
  });

  it('refuse what is not one of ours', () => {
    for (const bad of ['', '-', 'abc', '1-2-3', '-5', '1.5', '12-', '9999999999999999', '1e3']) {
      expect(cursorOf(bad)).toBeNull();
    }
  });
});
