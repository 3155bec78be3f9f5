import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { WritePipeline } from '../../../src/engine/one-way/write-pipeline.js';

function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** Whether `promise` has settled after the event loop has turned (every answer in flight is in). */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await nextTurn();
  return done;
}

/** A pipeline whose first batch deferred two parts: one that fails and one still running. */
async function oneFailingOneSlow(message: string) {
  const pipeline = new WritePipeline();
  const failing = deferred();
  const slow = deferred();
  await pipeline.start(async () => {
    WritePipeline.defer(failing.promise);
    WritePipeline.defer(slow.promise);
  });
  failing.reject(new Error(message));
  return { pipeline, slow };
}

describe('WritePipeline', () => {
  it('starts the next batch while a deferred part of the one before is still running', async () => {
    const pipeline = new WritePipeline();
    const tail = deferred();
    await pipeline.start(async () => void WritePipeline.defer(tail.promise));
    let started = false;
    await pipeline.start(async () => void (started = true));
    await nextTurn();
    expect(started).toBe(true);
    const settling = pipeline.settle();
    expect(await settled(settling)).toBe(false);
    tail.resolve();
    await settling;
  });

  it('starts no batch after a deferred part failed, and throws its error once every other part has ended', async () => {
    const { pipeline, slow } = await oneFailingOneSlow('state database lost');
    let started = false;
    const next = pipeline.start(async () => void (started = true));
    expect(await settled(next)).toBe(false); // waits for the slow part: nothing of the pipeline may still run when the error leaves it
    slow.resolve();
    await expect(next).rejects.toThrow('state database lost');
    expect(started).toBe(false);
    await expect(pipeline.settle()).rejects.toThrow('state database lost');
  });

  it('throws a failed batch from the next start only once the parts it deferred have ended', async () => {
    const pipeline = new WritePipeline();
    const slow = deferred();
    await pipeline.start(async () => {
      WritePipeline.defer(slow.promise);
      throw new Error('target lost');
    });
    const next = pipeline.start(async () => {});
    expect(await settled(next)).toBe(false);
    slow.resolve();
    await expect(next).rejects.toThrow('target lost');
  });

  it('settles every deferred part before it throws the first failure', async () => {
    const { pipeline, slow } = await oneFailingOneSlow('first');
    const settling = pipeline.settle();
    expect(await settled(settling)).toBe(false);
    slow.resolve();
    await expect(settling).rejects.toThrow('first');
  });
});

describe('WritePipeline with two batches in flight', () => {
  it('hands a batch on while the one before is writing, and starts it only once that one has ended', async () => {
    const pipeline = new WritePipeline(2);
    const first = deferred();
    const order: string[] = [];
    await pipeline.start(async () => {
      order.push('first started');
      await first.promise;
      order.push('first ended');
    });
    await pipeline.start(async () => void order.push('second started')); // returns at once: one batch is in flight
    await nextTurn();
    expect(order).toEqual(['first started']);
    const third = pipeline.start(async () => void order.push('third started'));
    expect(await settled(third)).toBe(false); // two in flight: waits for the first
    first.resolve();
    await third;
    await pipeline.settle();
    expect(order).toEqual(['first started', 'first ended', 'second started', 'third started']);
  });

  it('does not start a batch waiting in line after the one before it failed, and throws that failure', async () => {
    const pipeline = new WritePipeline(2);
    const first = deferred();
    await pipeline.start(() => first.promise);
    let started = false;
    await pipeline.start(async () => void (started = true));
    first.reject(new Error('target lost'));
    await expect(pipeline.start(async () => void (started = true))).rejects.toThrow('target lost');
    await expect(pipeline.settle()).rejects.toThrow('target lost');
    expect(started).toBe(false);
  });

  it('does not start a batch waiting in line after a deferred part failed', async () => {
    const pipeline = new WritePipeline(2);
    const failing = deferred();
    const writing = deferred();
    await pipeline.start(async () => {
      WritePipeline.defer(failing.promise);
      await writing.promise;
    });
    let started = false;
    await pipeline.start(async () => void (started = true));
    failing.reject(new Error('state database lost'));
    await nextTurn();
    writing.resolve();
    await expect(pipeline.settle()).rejects.toThrow('state database lost');
    expect(started).toBe(false);
  });
});
