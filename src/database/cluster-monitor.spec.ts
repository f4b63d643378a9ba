import type { Connection } from 'mysql2/promise';
import { chooseNode, FAILBACK_HOLD_MS, FAILURES_TO_LEAVE, type NodeView, probeNode } from './cluster-monitor';

const up = (since = 0): NodeView => ({ healthy: true, healthySince: since });
const down: NodeView = { healthy: false, healthySince: null };

describe('chooseNode', () => {
  const now = 100_000;

  it('stays on a healthy node', () => {
    expect(chooseNode(0, 0, [up(), up(), up()], now)).toBeNull();
  });

  it(`leaves the node in use after ${FAILURES_TO_LEAVE} failed probes in a row, for the first healthy one`, () => {
    expect(chooseNode(0, 1, [down, up(), up()], now)).toBeNull(); // one lost probe is not a loss
    expect(chooseNode(0, FAILURES_TO_LEAVE, [down, up(), up()], now)).toEqual({ to: 1, why: 'lost' });
    expect(chooseNode(0, FAILURES_TO_LEAVE, [down, down, up()], now)).toEqual({ to: 2, why: 'lost' });
    expect(chooseNode(2, FAILURES_TO_LEAVE, [down, up(), down], now)).toEqual({ to: 1, why: 'lost' });
  });

  it('stays when no node is healthy (the requests answer 503 until one is)', () => {
    expect(chooseNode(0, 10, [down, down, down], now)).toBeNull();
  });

  it('goes back to a node earlier in the list once it has stayed healthy for the hold', () => {
    expect(chooseNode(1, 0, [up(now - FAILBACK_HOLD_MS + 1), up(), up()], now)).toBeNull();
    expect(chooseNode(1, 0, [up(now - FAILBACK_HOLD_MS), up(), up()], now)).toEqual({ to: 0, why: 'back' });
    expect(chooseNode(2, 0, [down, up(now - FAILBACK_HOLD_MS), up()], now)).toEqual({ to: 1, why: 'back' });
    // never to a later node while the one in use is fine
    expect(chooseNode(0, 0, [up(), up(0), up(0)], now)).toBeNull();
  });

  it('does not fail back while the node in use is itself failing (that is a loss, decided by the count)', () => {
    expect(chooseNode(1, 1, [up(0), down, up()], now)).toBeNull();
  });
});

describe('probeNode', () => {
  const conn = (rows: { Variable_name: string; Value: string }[]): Connection =>
    ({ query: () => Promise.resolve([rows, []]) }) as unknown as Connection;
  const status = (ready: string, cluster: string, state: string) => [
    { Variable_name: 'wsrep_ready', Value: ready },
    { Variable_name: 'wsrep_cluster_status', Value: cluster },
    { Variable_name: 'wsrep_local_state_comment', Value: state },
  ];

  it('a node takes writes when ready, in the Primary component and Synced', async () => {
    expect(await probeNode(conn(status('ON', 'Primary', 'Synced')), 100)).toEqual({
      healthy: true,
      problem: null,
    });
  });

  it('not when it is not ready, cut off from the majority, a donor or joining', async () => {
    expect(await probeNode(conn(status('OFF', 'Primary', 'Synced')), 100)).toMatchObject({ healthy: false });
    expect(await probeNode(conn(status('ON', 'non-Primary', 'Synced')), 100)).toEqual({
      healthy: false,
      problem: 'non-Primary component',
    });
    expect(await probeNode(conn(status('ON', 'Primary', 'Donor/Desynced')), 100)).toEqual({
      healthy: false,
      problem: 'Donor/Desynced',
    });
    expect(await probeNode(conn(status('ON', 'Primary', 'Joined')), 100)).toMatchObject({ healthy: false });
  });

  it('a server without Galera is a plain server: healthy when it answers', async () => {
    expect(await probeNode(conn([]), 100)).toEqual({ healthy: true, problem: null });
  });
});
