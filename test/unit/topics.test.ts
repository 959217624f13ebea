import { describe, expect, it } from 'vitest';
import { dataTopic, dlqTopic, isDataTopic, offsetsTopic, schemasTopic, topicPart } from '../../src/kafka/topics.js';

describe('topic naming', () => {
  it('names data topics <pipeline>.<db>.<table>', () => {
    expect(dataTopic('shop-move', 'shop', 'orders')).toBe('shop-move.shop.orders');
  });

  it('names internal topics with a double underscore and the DLQ .dlq', () => {
    expect(offsetsTopic('p')).toBe('p.__offsets');
    expect(schemasTopic('p')).toBe('p.__schemas');
    expect(dlqTopic('p')).toBe('p.dlq');
  });

  it('replaces characters Kafka forbids and appends a hash so different names never collide', () => {
    const a = topicPart('order items');
    const b = topicPart('order_items');
    const c = topicPart('order"items');
    expect(a).toMatch(/^order_items_[0-9a-f]{8}$/);
    expect(b).toBe('order_items');
    expect(new Set([a, b, c]).size).toBe(3);
    expect(topicPart('tëst')).toMatch(/^t_st_[0-9a-f]{8}$/);
  });

  it('keeps topic names within 249 characters', () => {
    const t = dataTopic('p', 'd'.repeat(200), 't'.repeat(200));
    expect(t.length).toBeLessThanOrEqual(249);
    expect(t).not.toBe(dataTopic('p', 'd'.repeat(200), `${'t'.repeat(199)}u`));
  });

  it('tells data topics from internal ones', () => {
    expect(isDataTopic('p', 'p.shop.orders')).toBe(true);
    expect(isDataTopic('p', 'p.__offsets')).toBe(false);
    expect(isDataTopic('p', 'p.dlq')).toBe(false);
    expect(isDataTopic('p', 'q.shop.orders')).toBe(false);
  });
});
