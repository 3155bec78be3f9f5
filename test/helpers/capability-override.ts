import type { Connector, ConnectorCapabilities, Row, Session, SideReader, TableReader, TableWriter } from '../../src/engine/connector.js';

/**
 * A TEST-ONLY capability override: wraps a real connector so that its sessions declare the given
 * capabilities instead of their own, while the real server still answers every call. With
 * `orderedScan: false`, key-ordered streams (scans, target and side hashes) are also handed out of
 * key order (a fixed shuffle), as an HTTP API or a file would: an engine that still merge-joined
 * them would miss and duplicate rows instead of passing by luck.
 */
export interface CapabilityOverride extends Connector {
  /** How many key-ordered streams were handed out of order. */
  readonly scrambled: number;
}

export function withCapabilityOverride(connector: Connector, override: Partial<ConnectorCapabilities>): CapabilityOverride {
  const stats = { scrambled: 0 };
  const scramble = (rows: AsyncIterable<Row>): AsyncIterable<Row> => {
    if (override.orderedScan !== false) return rows;
    stats.scrambled++;
    return outOfOrder(rows);
  };
  return {
    kind: connector.kind,
    what: connector.what,
    get scrambled() {
      return stats.scrambled;
    },
    async open(): Promise<Session> {
      const session = await connector.open();
      return overriding(session, {
        capabilities: { ...session.capabilities, ...override },
        reader: (plan) => scrambledReader(session.reader(plan), scramble),
        writer: (plan) => scrambledWriter(session.writer(plan), scramble),
        sideReader: (side) => scrambledSide(session.sideReader(side), scramble),
      });
    },
  };
}

type Scramble = (rows: AsyncIterable<Row>) => AsyncIterable<Row>;

/** `target` with some members replaced; every other call goes to the real object. */
function overriding<T extends object>(target: T, members: Partial<T>): T {
  return new Proxy(target, {
    get(real, property, receiver) {
      if (Object.prototype.hasOwnProperty.call(members, property)) return members[property as keyof T];
      const value = Reflect.get(real, property, receiver);
      return typeof value === 'function' ? value.bind(real) : value;
    },
  });
}

function scrambledReader(reader: TableReader, scramble: Scramble): TableReader {
  return overriding(reader, { scan: (withValues: boolean) => scramble(reader.scan(withValues)) });
}

function scrambledWriter(writer: TableWriter, scramble: Scramble): TableWriter {
  return overriding(writer, { streamHashes: () => scramble(writer.streamHashes()) });
}

function scrambledSide(side: SideReader, scramble: Scramble): SideReader {
  return overriding(side, { streamHashes: () => scramble(side.streamHashes()) });
}

/** The rows in a fixed order that is not key order: odd positions backwards, then even positions. Test tables are small. */
async function* outOfOrder(rows: AsyncIterable<Row>): AsyncGenerator<Row> {
  const all: Row[] = [];
  for await (const row of rows) all.push(row);
  const odd = all.filter((_, i) => i % 2 === 1).reverse();
  const even = all.filter((_, i) => i % 2 === 0);
  yield* [...odd, ...even];
}
