/**
 * High availability: Sharedcare on a primary with a synchronous streaming standby, both throwaway
 * clusters of this test's own. Under intake and record opens, the primary is killed with kill -9,
 * the standby promoted and the old primary rebuilt as the new standby, ten times (with figures:
 * `npm run bench:failover`). Every write Sharedcare acknowledged must be on the last primary.
 */
import { describe, expect, it } from 'vitest';
import { runFailoverDrill } from './failover-drill.ts';
import { clustersUnavailable } from './pg-cluster.ts';

const unavailable = clustersUnavailable();
if (unavailable) console.warn(`[failover test] skipped: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('failover on a primary with a synchronous standby', () => {
  it('loses no acknowledged write over ten failovers, and fails in-flight requests cleanly', async () => {
    const r = await runFailoverDrill({ failovers: 10 });
    console.info(
      `[failover test] ${r.cycles.length} failovers; acknowledged: ${r.ingestsAcknowledged} ingests, ${r.opensAcknowledged} opens, ${r.messagesAcknowledged} HL7 v2 messages; ` +
        `lost: ${r.ingestsLost.length + r.openAuditsLost.length + r.messagesLost.length}; kill to first read (ms): ${r.cycles.map((c) => c.killToFirstRead).join(', ')}`,
    );
    expect(r.cycles).toHaveLength(10);
    // no write answered 200 is missing from the new primary: intake, and the audit of every open
    expect(r.ingestsAcknowledged).toBeGreaterThan(0);
    expect(r.opensAcknowledged).toBeGreaterThan(0);
    expect(r.ingestsLost).toEqual([]);
    expect(r.openAuditsLost).toEqual([]);
    // nor any HL7 v2 message answered AA over MLLP; the others got a negative ACK or none
    expect(r.messagesAcknowledged).toBeGreaterThan(0);
    expect(r.messagesLost).toEqual([]);
    // while no primary answered, requests got a 503 OperationOutcome, never a 500 or silence
    expect(r.unclean).toEqual([]);
    expect(r.refusals['503'] ?? 0).toBeGreaterThan(0);
    // the server reconnected by itself each time, and is still the same process
    for (const c of r.cycles) expect(c.killToReady).toBeGreaterThanOrEqual(c.killToNotReady);
    expect(r.serverSurvived).toBe(true);
    // its log says what failed, never whose record
    expect(r.leakedLines).toEqual([]);
  }, 900_000);
});
