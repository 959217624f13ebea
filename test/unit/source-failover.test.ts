import { describe, expect, it } from 'vitest';
import { FerryError } from '../../src/api/errors.js';
import { leaseMsFor, pickLeader } from '../../src/kafka/leader.js';
import type { OutMessage } from '../../src/kafka/producer.js';
import type { ReadRecord } from '../../src/kafka/read-topic.js';
import {
  claimKey,
  claimMessage,
  EPOCH_HEADER,
  epochOf,
  highestEpoch,
  latestClaim,
  stampEpoch,
} from '../../src/offsets/leader-epoch.js';
import { decodeSourceOffset } from '../../src/offsets/source-offsets.js';
import { fencedTransport, type LeaderTerm } from '../../src/runtime/source/fenced-transport.js';
import type { SourceTransport } from '../../src/runtime/source/transport.js';

describe('leader election: who gets partition 0', () => {
  it('the highest running epoch wins, then a member claiming, then the smallest id', () => {
    const none = { epoch: null, holding: false };
    expect(pickLeader([])).toBeNull();
    expect(
      pickLeader([
        { memberId: 'b', claim: none },
        { memberId: 'a', claim: null },
      ]),
    ).toBe('a');
    expect(
      pickLeader([
        { memberId: 'a', claim: none },
        { memberId: 'b', claim: { epoch: null, holding: true } },
      ]),
    ).toBe('b');
    // A stale instance rejoining with its old epoch loses to the current one.
    expect(
      pickLeader([
        { memberId: 'a', claim: { epoch: 3, holding: false } },
        { memberId: 'z', claim: { epoch: 4, holding: false } },
        { memberId: 'm', claim: { epoch: null, holding: true } },
      ]),
    ).toBe('z');
  });

  it('the lease keeps a quarter of the session timeout (at least 1 s) in hand', () => {
    expect(leaseMsFor(6000)).toBe(4500);
    expect(leaseMsFor(10_000)).toBe(7500);
    expect(leaseMsFor(3000)).toBe(2000);
  });
});

const rec = (key: string, value: string | null, offset = 0): ReadRecord => ({
  partition: 0,
  offset: String(offset),
  key,
  value,
});

describe('leader epochs in the offsets topic', () => {
  it('claims and stored positions carry the epoch; the highest of the source counts', () => {
    const claim = claimMessage('p', 'p', { epoch: 2, instance: 'b', at: 1000 });
    expect(claim.key).toBe(claimKey('p'));
    expect(claim.headers?.[EPOCH_HEADER]).toBe('2');
    expect(epochOf(claim.value as string)).toBe(2);
    const records = [
      rec('p', '{"phase":"stream","position":{},"epoch":1}'),
      rec(claimKey('p'), claim.value as string),
      rec('other', '{"phase":"stream","position":{},"epoch":9}'),
      rec('p', null),
    ];
    expect(highestEpoch(records, 'p')).toBe(2);
    expect(highestEpoch([], 'p')).toBe(0);
    expect(latestClaim(records, 'p')).toEqual({ epoch: 2, instance: 'b', at: 1000 });
    expect(latestClaim(records, 'other')).toBeNull();
    expect(epochOf('not json')).toBeNull();
  });

  it('stamps data records with a header and stored positions inside their value', () => {
    const data: OutMessage = { topic: 'p.db.t', key: '{"id":1}', value: '{"op":"c"}' };
    expect(stampEpoch(data, 3, 'p')).toEqual({ ...data, headers: { [EPOCH_HEADER]: '3' } });
    const stored: OutMessage = { topic: 'p.__offsets', key: 'p', value: '{"phase":"stream","position":{"x":1}}' };
    const stamped = stampEpoch(stored, 3, 'p');
    expect(decodeSourceOffset(stamped.value as string).epoch).toBe(3);
    expect(stampEpoch({ ...stored, value: null }, 3, 'p').value).toBeNull();
  });
});

/** An in-memory offsets topic behind a SourceTransport. */
function fakeTransport(offsets: ReadRecord[], sent: OutMessage[][]): SourceTransport {
  return {
    ensureTopics: async () => undefined,
    partitionCount: async () => 1,
    readTopic: async () => [...offsets],
    endOffset: async () => BigInt(offsets.length),
    send: async (messages) => {
      sent.push(messages);
      for (const m of messages)
        if (m.topic === 'p.__offsets') offsets.push(rec(m.key as string, m.value as string | null, offsets.length));
    },
    close: async () => undefined,
  };
}

describe('fenced transport', () => {
  const term = (holds: () => boolean) => {
    let ended: string | null = null;
    const t: LeaderTerm & { reason: () => string | null } = {
      pipeline: 'p',
      sourceId: 'p',
      epoch: 2,
      holds: () => ended === null && holds(),
      ended: () => ended !== null,
      end: (r) => {
        ended = r;
      },
      reason: () => ended,
    };
    return t;
  };
  const store: OutMessage = { topic: 'p.__offsets', key: 'p', value: '{"phase":"stream","position":{}}' };
  const event: OutMessage = { topic: 'p.db.t', key: '{"id":1}', value: '{"op":"c"}' };

  it('stamps what it sends and stores while the term holds', async () => {
    const offsets = [rec(claimKey('p'), '{"leader":{"epoch":2}}')];
    const sent: OutMessage[][] = [];
    const t = fencedTransport(
      fakeTransport(offsets, sent),
      term(() => true),
    );
    await t.send([event, store]);
    await t.send([store]);
    expect(sent).toHaveLength(2);
    expect(sent[0]![0]!.headers?.[EPOCH_HEADER]).toBe('2');
    expect(epochOf(offsets.at(-1)!.value)).toBe(2);
  });

  it('waits while the lease is paused, sends nothing once the term ended', async () => {
    const sent: OutMessage[][] = [];
    let holding = true;
    const tt = term(() => holding);
    const t = fencedTransport(fakeTransport([], sent), tt);
    await t.send([event]);
    holding = false;
    const paused = t.send([event]);
    await new Promise((r) => setTimeout(r, 120));
    expect(sent).toHaveLength(1);
    holding = true; // a heartbeat renewed the lease
    await paused;
    expect(sent).toHaveLength(2);
    holding = false;
    const lost = t.send([event]);
    tt.end('the partition went to another instance');
    await expect(lost).rejects.toMatchObject({ code: 'FERRY_FENCED' });
    await expect(t.ensureTopics([])).rejects.toBeInstanceOf(FerryError);
    expect(sent).toHaveLength(2);
  });

  it('stores nothing when a newer epoch is in the offsets topic, and ends the term', async () => {
    const offsets = [rec(claimKey('p'), '{"leader":{"epoch":2}}')];
    const sent: OutMessage[][] = [];
    const tt = term(() => true);
    const t = fencedTransport(fakeTransport(offsets, sent), tt);
    await t.send([store]);
    offsets.push(rec(claimKey('p'), '{"leader":{"epoch":3}}', offsets.length));
    await t.send([event]); // no store in it: no epoch check needed
    await expect(t.send([event, store])).rejects.toMatchObject({ code: 'FERRY_FENCED' });
    expect(sent).toHaveLength(2);
    expect(tt.reason()).toMatch(/epoch 3/);
    await expect(t.send([event])).rejects.toMatchObject({ code: 'FERRY_FENCED' });
  });
});
