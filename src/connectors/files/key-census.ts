import { hash } from 'node:crypto';
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DenseKeyLines, keyByteLength, MAX_LINE, NO_ROOM, readLine, recordBytes, writeLine, writeRecord } from '../../util/dense-key-lines.js';

/**
 * A key longer than this many bytes (as `DenseKeyLines` stores it) is counted by its SHA-256 digest,
 * so that every record fits a set's chunk whatever the budget.
 */
const LONG_KEY = 256;
/** A digest's record: a byte no stored key begins with (UTF-8's layout never writes 0xff), then the digest. */
const DIGEST_MARK = 0xff;
const DIGEST_BYTES = 1 + 32;
const LONGEST_RECORD = recordBytes(LONG_KEY);
/** Bytes a partition buffers before they are written. */
const WRITE_BUFFER = 1 << 15;
const READ_BUFFER = 1 << 20;
/** Partitions one pass writes at most (their buffers are alive together); a bigger file splits them again. */
const MAX_PARTITIONS = 256;
/** Splits of a split partition, at most: only keys whose two hashes both collide stay together that long. */
const MAX_DEPTH = 6;
/** Runs of repeats kept apart at most (each is an open file and a buffer while read): more are merged into one. */
const MAX_RUNS = 32;
/** Bytes of a run read at a time. */
const RUN_READ_BUFFER = 1 << 13;

/**
 * A seeded FNV-1a of a record's key bytes, finished by a mixer of other constants than
 * `DenseKeyLines`' own hash (a partition's keys still spread over its slots): each depth of
 * partitioning draws other bits.
 */
function partitionHash(from: Uint8Array, at: number, seed: number): number {
  const keyBytes = (from[at]! << 8) | from[at + 1]!;
  let hash = (0x811c9dc5 ^ Math.imul(seed + 1, 0x9e3779b9)) >>> 0;
  for (let i = at + 2; i < at + 2 + keyBytes; i++) hash = Math.imul(hash ^ from[i]!, 0x01000193);
  hash ^= hash >>> 15;
  hash = Math.imul(hash, 0x2c1b3c6d);
  hash ^= hash >>> 12;
  hash = Math.imul(hash, 0x297a2d39);
  hash ^= hash >>> 15;
  return hash >>> 0;
}

/** Records (`writeRecord`'s layout) spread over `count` files by `partitionHash`, each file in the order given. */
class Partitions {
  readonly paths: string[];
  readonly keys: number[];
  readonly bytes: number[];
  /** The longest record of each partition. */
  readonly longest: number[];
  private readonly buffers: Uint8Array[];
  private readonly filled: number[];
  private readonly files: (number | undefined)[];

  constructor(
    dir: string,
    name: string,
    private readonly count: number,
    private readonly seed: number,
  ) {
    this.paths = Array.from({ length: count }, (_, i) => join(dir, `${name}-${i}`));
    this.keys = new Array<number>(count).fill(0);
    this.bytes = new Array<number>(count).fill(0);
    this.longest = new Array<number>(count).fill(0);
    this.buffers = Array.from({ length: count }, () => new Uint8Array(0));
    this.filled = new Array<number>(count).fill(0);
    this.files = new Array<number | undefined>(count).fill(undefined);
  }

  /** Adds the record at `at` in `from`; answers its length. */
  add(from: Uint8Array, at: number): number {
    const length = recordBytes((from[at]! << 8) | from[at + 1]!);
    const part = Math.floor((partitionHash(from, at, this.seed) * this.count) / 2 ** 32);
    if (this.filled[part]! + length > this.buffers[part]!.length) this.flush(part);
    this.buffers[part]!.set(from.subarray(at, at + length), this.filled[part]!);
    this.filled[part]! += length;
    this.keys[part]!++;
    this.bytes[part]! += length;
    if (length > this.longest[part]!) this.longest[part] = length;
    return length;
  }

  private flush(part: number): void {
    // A buffer is made on its first record: a partition that gets none costs nothing.
    if (this.buffers[part]!.length === 0) this.buffers[part] = new Uint8Array(WRITE_BUFFER);
    if (this.filled[part] === 0) return;
    this.files[part] ??= openSync(this.paths[part]!, 'w');
    writeSync(this.files[part]!, this.buffers[part]!, 0, this.filled[part]!);
    this.filled[part] = 0;
  }

  /** Writes what the buffers hold and closes the files. */
  finish(): void {
    for (let part = 0; part < this.count; part++) {
      this.flush(part);
      this.buffers[part] = new Uint8Array(0);
      if (this.files[part] !== undefined) closeSync(this.files[part]!);
      this.files[part] = undefined;
    }
  }

  /** Closes the files (after a failure; the caller removes the directory). */
  close(): void {
    for (const file of this.files) if (file !== undefined) closeSync(file);
    this.files.fill(undefined);
  }
}

/** Calls `each` with every record of the file at `path`, in order (a record's bytes at `at` in `from`, valid during the call). */
function forEachRecord(path: string, each: (from: Uint8Array, at: number) => boolean): void {
  const file = openSync(path, 'r');
  try {
    const buffer = new Uint8Array(READ_BUFFER);
    let held = 0;
    for (;;) {
      const read = readSync(file, buffer, held, buffer.length - held, null);
      held += read;
      let at = 0;
      while (at + 2 <= held) {
        const length = recordBytes((buffer[at]! << 8) | buffer[at + 1]!);
        if (at + length > held) break;
        if (!each(buffer, at)) return;
        at += length;
      }
      if (read === 0) return;
      buffer.copyWithin(0, at, held);
      held -= at;
    }
  } finally {
    closeSync(file);
  }
}

/** The lines found repeated in one partition, with their first lines, in line order: pairs of 4-byte numbers in a file. */
class RunWriter {
  private file?: number;
  private readonly buffer = new Uint8Array(WRITE_BUFFER);
  private filled = 0;
  /** Whether a repeat was added. */
  found = false;

  constructor(readonly path: string) {}

  add(line: number, first: number): void {
    this.found = true;
    if (this.filled + 8 > this.buffer.length) this.flush();
    this.filled = writeLine(first, this.buffer, writeLine(line, this.buffer, this.filled));
  }

  private flush(): void {
    this.file ??= openSync(this.path, 'w');
    writeSync(this.file, this.buffer, 0, this.filled);
    this.filled = 0;
  }

  finish(): void {
    if (!this.found) return;
    this.flush();
    this.close();
  }

  close(): void {
    if (this.file !== undefined) closeSync(this.file);
    this.file = undefined;
  }

  /** Forgets what was written (its partition is split instead). */
  discard(): void {
    this.close();
    this.filled = 0;
    try {
      unlinkSync(this.path);
    } catch {
      // never written
    }
  }
}

const uint32At = (from: Uint8Array, at: number) => from[at]! * 2 ** 24 + ((from[at + 1]! << 16) | (from[at + 2]! << 8) | from[at + 3]!);

/** One run of repeats read forward. */
class RunReader {
  line = 0;
  first = 0;
  private readonly buffer = new Uint8Array(RUN_READ_BUFFER);
  private held = 0;
  private at = 0;
  private file: number | undefined;

  constructor(path: string) {
    this.file = openSync(path, 'r');
  }

  /** Reads the next pair into `line` and `first`; false at the end (the file closed). */
  next(): boolean {
    if (this.at + 8 > this.held) {
      if (this.file === undefined) return false;
      this.held = readSync(this.file, this.buffer, 0, this.buffer.length, null);
      this.at = 0;
      if (this.held < 8) {
        this.close();
        return false;
      }
    }
    this.line = uint32At(this.buffer, this.at);
    this.first = uint32At(this.buffer, this.at + 4);
    this.at += 8;
    return true;
  }

  close(): void {
    if (this.file !== undefined) closeSync(this.file);
    this.file = undefined;
  }
}

/**
 * The census's answer: every line whose key came on an earlier line, with that first line. Asked in
 * ascending line order (`firstOf`), it reads the runs of repeats forward, merged by a heap of their
 * next lines, so memory holds a buffer per run, not the repeats.
 */
export class RepeatedLines {
  private readonly heap: RunReader[] = [];

  /** `dir`: the census's directory, removed on `close`. */
  constructor(
    private readonly dir: string | undefined,
    runs: string[],
  ) {
    try {
      for (const path of runs) {
        const run = new RunReader(path);
        if (run.next()) this.push(run);
      }
    } catch (error) {
      this.closeRuns();
      throw error;
    }
  }

  /** The line `line`'s key first came on, or 0 when it came first on `line`. Lines asked must ascend. */
  firstOf(line: number): number {
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.line > line) return 0;
      const answer = top.line === line ? top.first : 0;
      if (top.next()) this.sift(0);
      else this.removeTop();
      if (answer !== 0) return answer;
    }
  }

  /** Gives every repeat, in line order. */
  drain(each: (line: number, first: number) => void): void {
    for (let top = this.heap[0]; top !== undefined; top = this.heap[0]) {
      each(top.line, top.first);
      if (top.next()) this.sift(0);
      else this.removeTop();
    }
  }

  /** Closes the runs and removes the census's directory. */
  async close(): Promise<void> {
    this.closeRuns();
    if (this.dir !== undefined) await rm(this.dir, { recursive: true, force: true });
  }

  closeRuns(): void {
    for (const run of this.heap) run.close();
    this.heap.length = 0;
  }

  private push(run: RunReader): void {
    this.heap.push(run);
    for (let i = this.heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (this.heap[parent]!.line <= this.heap[i]!.line) break;
      [this.heap[parent], this.heap[i]] = [this.heap[i]!, this.heap[parent]!];
      i = parent;
    }
  }

  private removeTop(): void {
    const last = this.heap.pop()!;
    if (this.heap.length === 0) return;
    this.heap[0] = last;
    this.sift(0);
  }

  private sift(i: number): void {
    const heap = this.heap;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < heap.length && heap[left]!.line < heap[least]!.line) least = left;
      if (right < heap.length && heap[right]!.line < heap[least]!.line) least = right;
      if (least === i) return;
      [heap[least], heap[i]] = [heap[i]!, heap[least]!];
      i = least;
    }
  }
}

/** Takes the keys of a file's rows, in file order, into the census's partitions (pass 1). */
export class CensusKeys {
  private readonly record = new Uint8Array(LONGEST_RECORD);

  constructor(private readonly partitions: Partitions) {}

  add(key: string, line: number): void {
    if (line > MAX_LINE) throw new Error(`a file of more than ${MAX_LINE} lines cannot have its keys checked`);
    const keyBytes = keyByteLength(key);
    if (keyBytes <= LONG_KEY) {
      writeRecord(key, keyBytes, line, this.record, 0);
    } else {
      // Counted by the digest of its bytes as stored (lone surrogates included).
      const bytes = new Uint8Array(recordBytes(keyBytes));
      writeRecord(key, keyBytes, line, bytes, 0);
      const digest = hash('sha256', bytes.subarray(2, 2 + keyBytes), 'buffer');
      this.record[0] = 0;
      this.record[1] = DIGEST_BYTES;
      this.record[2] = DIGEST_MARK;
      this.record.set(digest, 3);
      writeLine(line, this.record, 2 + DIGEST_BYTES);
    }
    this.partitions.add(this.record, 0);
  }
}

/**
 * A key census of one file: which lines repeat a key of an earlier line, and which line that was,
 * found with bounded memory and no database. `fill` reads the file's rows and gives each key and its
 * line (in file order) to a `CensusKeys`; the keys are spread by a hash over partition files in a
 * directory next to `plain`, as many as the file's size suggests for each to fit `budgetBytes` in a
 * `DenseKeyLines`. Each partition is then loaded in line order into one; a partition too big for it
 * is split again by other hash bits. The repeats are kept in files too; the answer reads them
 * forward. The directory goes with the answer's `close`, or at once when the census fails.
 */
export async function takeKeyCensus(plain: string, fileBytes: number, budget: number, fill: (keys: CensusKeys) => Promise<void>): Promise<RepeatedLines> {
  // A set's chunks (a quarter of its budget, rounded down to a power of two) must hold the longest record.
  const budgetBytes = Math.max(budget, 8 * LONGEST_RECORD);
  const dir = await mkdtemp(join(dirname(plain), 'census-'));
  let partitions: Partitions | undefined;
  try {
    // About one budget of file text per partition: its keys take a fraction of the text they came in.
    const count = Math.min(MAX_PARTITIONS, Math.max(2, Math.ceil(fileBytes / budgetBytes)));
    partitions = new Partitions(dir, 'p', count, 0);
    await fill(new CensusKeys(partitions));
    partitions.finish();
    const runs: string[] = [];
    for (let part = 0; part < count; part++) {
      censusOf(partitions, part, budgetBytes, 0, runs);
      // Pass 2 reads and writes synchronously: other work of the process gets a turn between partitions.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return new RepeatedLines(dir, runs);
  } catch (error) {
    partitions?.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** The repeats of one partition into a run file added to `runs` (when there are any); the partition's file is removed. */
function censusOf(partitions: Partitions, part: number, budgetBytes: number, depth: number, runs: string[]): void {
  const path = partitions.paths[part]!;
  const bytes = partitions.bytes[part]!;
  if (bytes === 0) return;
  // Counted by its records, a partition may look too big when many of them repeat a key (a repeat
  // takes no room); once split, the part of it that still looks too big is tried anyway.
  const fits = DenseKeyLines.holds(budgetBytes, partitions.keys[part]!, bytes, partitions.longest[part]!);
  if ((fits || depth > 0) && loadWhole(path, budgetBytes, runs)) {
    unlinkSync(path);
    return;
  }
  if (depth === MAX_DEPTH) throw new Error(`the keys of a file could not be split to fit ${budgetBytes} bytes`);
  const count = Math.min(MAX_PARTITIONS, Math.max(2, Math.ceil((2 * bytes) / budgetBytes)));
  const split = new Partitions(dirname(path), basename(path), count, depth + 1);
  try {
    forEachRecord(path, (from, at) => (split.add(from, at), true));
    split.finish();
  } finally {
    split.close();
  }
  unlinkSync(path);
  for (let sub = 0; sub < count; sub++) censusOf(split, sub, budgetBytes, depth + 1, runs);
}

/** Loads a partition into one set; false (nothing kept) when it does not fit after all. */
function loadWhole(path: string, budgetBytes: number, runs: string[]): boolean {
  const set = new DenseKeyLines(budgetBytes);
  const run = new RunWriter(`${path}.repeats`);
  let fits = true;
  try {
    forEachRecord(path, (from, at) => {
      const first = set.addRecord(from, at);
      if (first === NO_ROOM) return (fits = false);
      if (first !== 0) run.add(readLine(from, at, (from[at]! << 8) | from[at + 1]!), first);
      return true;
    });
  } catch (error) {
    run.close();
    throw error;
  }
  if (!fits) {
    run.discard();
    return false;
  }
  run.finish();
  if (run.found) runs.push(run.path);
  if (runs.length >= MAX_RUNS) runs.splice(0, runs.length, mergeRuns(runs, `${path}.merged.repeats`));
  return true;
}

/** Merges runs of repeats into one at `into` (in line order), removing them; answers `into`. */
function mergeRuns(runs: string[], into: string): string {
  const merged = new RunWriter(into);
  const reading = new RepeatedLines(undefined, runs);
  try {
    reading.drain((line, first) => merged.add(line, first));
    merged.finish();
  } finally {
    reading.closeRuns();
    merged.close();
  }
  for (const run of runs) unlinkSync(run);
  return into;
}
