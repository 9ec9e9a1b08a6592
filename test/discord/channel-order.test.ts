import { describe, expect, it } from 'vitest';
import { ChannelOrder } from '../../src/discord/channel-order.js';

describe('ChannelOrder', () => {
  it('lets a channel’s messages go on one after another, each once the one before is done; other channels do not wait', async () => {
    const order = new ChannelOrder();
    const seen: string[] = [];
    const first = order.take('a');
    const second = order.take('a');
    const elsewhere = order.take('b');
    void second.ready.then(() => seen.push('a2'));
    await elsewhere.ready;
    seen.push('b1');
    await first.ready;
    seen.push('a1');
    expect(seen).toEqual(['b1', 'a1']);
    first.done();
    await second.ready;
    expect(seen).toEqual(['b1', 'a1', 'a2']);
    second.done();
    elsewhere.done();
  });

  it('a message stuck past the limit stops holding the next one up', async () => {
    const order = new ChannelOrder(50);
    order.take('a');
    let ready = false;
    const next = order.take('a');
    void next.ready.then(() => {
      ready = true;
    });
    await next.ready;
    expect(ready).toBe(true);
  });
});
