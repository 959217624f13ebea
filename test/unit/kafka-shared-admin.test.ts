import type { Admin, Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { SharedAdmin } from '../../src/kafka/admin.js';

/** A Kafka whose admin clients count connects and disconnects. */
function fakeKafka() {
  const made: Array<{ connects: number; disconnects: number }> = [];
  const kafka = {
    admin: () => {
      const counts = { connects: 0, disconnects: 0 };
      made.push(counts);
      return {
        connect: async () => {
          counts.connects++;
        },
        disconnect: async () => {
          counts.disconnects++;
        },
        listTopics: async () => ['a'],
      } as unknown as Admin;
    },
  } as unknown as Kafka;
  return { kafka, made };
}

describe('SharedAdmin', () => {
  it('connects one admin client for repeated calls and disconnects it on close', async () => {
    const { kafka, made } = fakeKafka();
    const shared = new SharedAdmin(kafka);
    for (let i = 0; i < 5; i++) expect(await shared.use((a) => a.listTopics())).toEqual(['a']);
    expect(made).toEqual([{ connects: 1, disconnects: 0 }]);
    await shared.close();
    expect(made).toEqual([{ connects: 1, disconnects: 1 }]);
    await expect(shared.use((a) => a.listTopics())).rejects.toThrow(/closed/);
  });

  it('drops the client after a failed call and connects a new one for the next', async () => {
    const { kafka, made } = fakeKafka();
    const shared = new SharedAdmin(kafka);
    await shared.use((a) => a.listTopics());
    await expect(
      shared.use(async () => {
        throw new Error('broker gone');
      }),
    ).rejects.toThrow('broker gone');
    await Promise.resolve();
    expect(made[0]).toEqual({ connects: 1, disconnects: 1 });
    expect(await shared.use((a) => a.listTopics())).toEqual(['a']);
    expect(made).toHaveLength(2);
    expect(made[1]).toEqual({ connects: 1, disconnects: 0 });
  });

  it('keeps a client that another call is still using connected until that call ends', async () => {
    const { kafka, made } = fakeKafka();
    const shared = new SharedAdmin(kafka);
    let release!: () => void;
    const slow = shared.use(async (a) => {
      await new Promise<void>((r) => {
        release = r;
      });
      return a.listTopics();
    });
    await expect(
      shared.use(async () => {
        throw new Error('not there yet');
      }),
    ).rejects.toThrow('not there yet');
    expect(made[0]).toEqual({ connects: 1, disconnects: 0 });
    release();
    expect(await slow).toEqual(['a']);
    await new Promise((r) => setImmediate(r));
    expect(made[0]).toEqual({ connects: 1, disconnects: 1 });
  });
});
